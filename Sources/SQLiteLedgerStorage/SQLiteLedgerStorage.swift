import Foundation
import GRDB
import GRDBSQLite
import LedgerCore
import LedgerService

/// Companies in one SQLite file: WAL, `synchronous = FULL`, so a write that returned is on disk.
///
/// The log is an append-only table keyed by (company, sequence), kept apart from the job
/// projections, which are keyed by job id and rewritten per push (DESIGN §6; issue D measured
/// that a random secondary index on the log drops appends from ~250k to ~19k rows/s). The
/// log's dot index grows at one end per replica, not at random.
public final class SQLiteLedgerStorage: LedgerStorage, AdminStorage {
    private let pool: DatabasePool
    private let checkpointer: Checkpointer

    /// Opens (creating if needed) the database at `path` and runs the migrations.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(SQLiteLimits.busyTimeoutSeconds)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            if !db.configuration.readonly {
                // A group commit's pages stay in memory until its commit instead of spilling
                // into the WAL halfway through.
                try db.execute(sql: "PRAGMA cache_size = -\(SQLiteLimits.writerCacheKiB)")
                // The checkpointer copies the WAL into the file beside the writer; the writer
                // only does it itself when that falls far behind.
                try db.execute(sql: "PRAGMA wal_autocheckpoint = \(SQLiteLimits.writerCheckpointPages)")
            }
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        // WAL with NORMAL may lose the last commits on power loss; a sync server must not.
        // Said again here because GRDB's WAL set-up runs after `prepareDatabase` and sets
        // NORMAL on the writer; the writer is opened once, so this holds for the pool's life.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        try Self.migrator.migrate(pool)
        checkpointer = try Checkpointer(path: path)
    }

    /// Append-only: a shipped migration is never edited; changes come as new ones.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: companies, log, replicas, job projections") { db in
            try db.execute(sql: """
                CREATE TABLE company (
                  key INTEGER PRIMARY KEY,
                  id TEXT NOT NULL UNIQUE CHECK (length(id) BETWEEN 1 AND 64),
                  initial_state BLOB NOT NULL,
                  state BLOB NOT NULL,
                  head INTEGER NOT NULL DEFAULT 0 CHECK (head >= 0),
                  log_digest BLOB NOT NULL CHECK (length(log_digest) = 32)
                );
                CREATE TABLE log (
                  company INTEGER NOT NULL REFERENCES company(key),
                  sequence INTEGER NOT NULL CHECK (sequence > 0),
                  replica BLOB NOT NULL CHECK (length(replica) = 16),
                  counter INTEGER NOT NULL CHECK (counter > 0),
                  entry BLOB NOT NULL,
                  body_digest BLOB NOT NULL CHECK (length(body_digest) = 32),
                  log_digest BLOB NOT NULL CHECK (length(log_digest) = 32),
                  PRIMARY KEY (company, sequence)
                ) WITHOUT ROWID;
                CREATE \(Self.dotIndexKind) INDEX log_dot ON log(company, replica, counter);
                CREATE TABLE replica (
                  company INTEGER NOT NULL REFERENCES company(key),
                  replica BLOB NOT NULL CHECK (length(replica) = 16),
                  highest INTEGER NOT NULL CHECK (highest > 0),
                  flagged INTEGER NOT NULL DEFAULT 0 CHECK (flagged IN (0, 1)),
                  PRIMARY KEY (company, replica)
                ) WITHOUT ROWID;
                CREATE TABLE job (
                  company INTEGER NOT NULL REFERENCES company(key),
                  id BLOB NOT NULL CHECK (length(id) = 24),
                  state BLOB NOT NULL,
                  PRIMARY KEY (company, id)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v2: users and device tokens") { db in
            try db.execute(sql: """
                CREATE TABLE user (
                  company INTEGER NOT NULL REFERENCES company(key),
                  id TEXT NOT NULL CHECK (length(id) BETWEEN 1 AND 64),
                  role INTEGER NOT NULL CHECK (role IN (0, 1, 2)),
                  PRIMARY KEY (company, id)
                ) WITHOUT ROWID;
                CREATE TABLE device (
                  token_hash BLOB PRIMARY KEY CHECK (length(token_hash) = 32),
                  company INTEGER NOT NULL REFERENCES company(key),
                  user_id TEXT NOT NULL,
                  role INTEGER NOT NULL CHECK (role IN (0, 1, 2)),
                  replica BLOB NOT NULL UNIQUE CHECK (length(replica) = 16),
                  revoked INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),
                  FOREIGN KEY (company, user_id) REFERENCES user(company, id)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v3: each company's server replica") { db in
            // Companies made before v3 get theirs on first use (SQLiteTransaction.serverReplica).
            try db.execute(sql: "ALTER TABLE company ADD COLUMN server_replica BLOB CHECK (server_replica IS NULL OR length(server_replica) = 16)")
        }
        migrator.registerMigration("v4: open review cases per company") { db in
            // Kept by every push; companies made before v4 had none open (the server was not in use).
            try db.execute(sql: "ALTER TABLE company ADD COLUMN open_review_cases INTEGER NOT NULL DEFAULT 0 CHECK (open_review_cases >= 0)")
        }
        migrator.registerMigration("v5: projections are a snapshot at a log sequence") { db in
            // Before v5 every push saved its jobs, so the stored projections were at the head.
            try db.execute(sql: """
                ALTER TABLE company ADD COLUMN projected_through INTEGER NOT NULL DEFAULT 0 CHECK (projected_through >= 0);
                UPDATE company SET projected_through = head;
                """)
        }
        migrator.registerMigration("v6: canonical bytes instead of JSON for entries, jobs and company state") { db in
            // A database from before v6 holds JSON (a company or two from trying the server out).
            func convert<T: Codable>(_ type: T.Type, table: String, column: String, keys: [String]) throws {
                let rows = try Row.fetchAll(db, sql: "SELECT \(keys.joined(separator: ", ")), \(column) AS value FROM \(table)")
                let update = try db.makeStatement(sql: "UPDATE \(table) SET \(column) = ? WHERE \(keys.map { "\($0) = ?" }.joined(separator: " AND "))")
                for row in rows {
                    let value = try JSONDecoder().decode(T.self, from: row["value"] as Data)
                    try update.execute(arguments: StatementArguments([Codec.encode(value).databaseValue] + keys.map { row[$0] as DatabaseValue }))
                }
            }
            try convert(CompanyState.self, table: "company", column: "state", keys: ["key"])
            try convert(CompanyState.self, table: "company", column: "initial_state", keys: ["key"])
            try convert(Job.self, table: "job", column: "state", keys: ["company", "id"])
            try convert(LogEntry.self, table: "log", column: "entry", keys: ["company", "sequence"])
        }
        migrator.registerMigration("v7: log digests over the action's digest and the outcome") { db in
            // Before v7 each running digest hashed the whole entry (Protocol/README.md §9 changed);
            // recomputed here in pages, never while a cursor is open on the rows being changed.
            let update = try db.makeStatement(sql: "UPDATE log SET log_digest = ? WHERE company = ? AND sequence = ?")
            for company in try Int64.fetchAll(db, sql: "SELECT key FROM company") {
                var digest = LogDigest.empty, after: Int64 = 0
                while true {
                    let rows = try Row.fetchAll(db, sql: "SELECT sequence, entry FROM log WHERE company = ? AND sequence > ? ORDER BY sequence LIMIT 5000",
                                                arguments: [company, after])
                    guard let last = rows.last else { break }
                    for row in rows {
                        digest = LogDigest.next(digest, try Codec.decode(LogEntry.self, row["entry"] as Data?))
                        try update.execute(arguments: [Data(digest), company, row["sequence"] as Int64])
                    }
                    after = last["sequence"]
                }
                try db.execute(sql: "UPDATE company SET log_digest = ? WHERE key = ?", arguments: [Data(digest), company])
            }
        }
        migrator.registerMigration("v8: job rows say how they hold the job") { db in
            // Rows from before v8 hold canonical bytes (format 0); snapshots now write the job's
            // record (format 1, decision 0022), and each row changes format when its job is next
            // stored. No CHECK on the column: a newer server's format must reach a clear error
            // (StoredJobFormat.job), not a constraint failure.
            try db.execute(sql: "ALTER TABLE job ADD COLUMN format INTEGER NOT NULL DEFAULT 0")
        }
        migrator.registerMigration("v9: snapshots in chunks: job rows say the log sequence they are folded through") { db in
            // Rows from before v9 were stored by whole snapshots, at or before the company's
            // projected_through: 0 says just that (nothing of the log is skipped for them on
            // replay). Snapshots now store their jobs in chunks, each at the head, and the
            // company says which snapshot a process took (decision 0038).
            try db.execute(sql: """
                ALTER TABLE job ADD COLUMN folded_through INTEGER NOT NULL DEFAULT 0 CHECK (folded_through >= 0);
                ALTER TABLE company ADD COLUMN snapshot_claimed INTEGER NOT NULL DEFAULT 0 CHECK (snapshot_claimed >= 0);
                """)
        }
        return migrator
    }

    /// The log's dot index refuses a dot logged twice, the last guard against counting an
    /// action twice (the planted bug of Simulator/README.md removes it along with the push rule).
    #if PLANT_NO_DEDUPE
    static let dotIndexKind = ""
    #else
    static let dotIndexKind = "UNIQUE"
    #endif

    public func createCompany(_ id: CompanyID, state: CompanyState, serverReplica: ReplicaID) throws {
        let blob = Codec.encode(state)
        try pool.write { db in
            guard try Int64.fetchOne(db, sql: "SELECT key FROM company WHERE id = ?", arguments: [id.rawValue]) == nil else {
                throw ServiceError(.conflict, "A company with the id '\(id)' already exists; choose another id.")
            }
            try db.execute(sql: "INSERT INTO company (id, initial_state, state, log_digest, server_replica) VALUES (?, ?, ?, ?, ?)",
                           arguments: [id.rawValue, blob, blob, Data(LogDigest.empty), Keys.replica(serverReplica)])
        }
    }

    public func companies() throws -> [CompanyID] {
        try pool.read { db in try String.fetchAll(db, sql: "SELECT id FROM company ORDER BY id").map { try CompanyID($0) } }
    }

    public func write<T>(_ body: (_ open: (CompanyID) throws -> any LedgerTransaction) throws -> T) throws -> T {
        defer { checkpointer.poke() }
        // What `pool.write` does, plus the release below on the writer's own queue.
        return try pool.writeWithoutTransaction { db in
            var result: T?
            defer {
                // Once committed every page in the writer's cache is clean, and the next group
                // writes at the log's end, not over these: keeping them only held memory (the
                // cache filled to its size on any busy server). The cache's size still bounds
                // one group's dirty pages (decision 0013).
                sqlite3_db_release_memory(db.sqliteConnection)
            }
            try db.inTransaction {
                result = try body { company in SQLiteTransaction(db: db, company: try Self.key(of: company, in: db)) }
                return .commit
            }
            return result!
        }
    }

    public func read<T>(_ company: CompanyID, _ body: (any LedgerTransaction) throws -> T) throws -> T {
        try pool.read { db in try body(SQLiteTransaction(db: db, company: try Self.key(of: company, in: db))) }
    }

    public func setUser(_ user: UserID, role: Role, company: CompanyID) throws {
        try pool.write { db in
            try db.execute(sql: "INSERT INTO user (company, id, role) VALUES (?, ?, ?) ON CONFLICT (company, id) DO UPDATE SET role = excluded.role",
                           arguments: [try Self.key(of: company, in: db), user.rawValue, StoredRoles.code(role)])
        }
    }

    public func users(company: CompanyID) throws -> [Actor] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, role FROM user WHERE company = ? ORDER BY id", arguments: [try Self.key(of: company, in: db)]).map { row in
                Actor(user: try UserID(row["id"] as String), role: try StoredRoles.role(row["role"]))
            }
        }
    }

    public func registerDevice(tokenHash: [UInt8], credential: DeviceCredential) throws {
        try pool.write { db in
            try db.execute(sql: "INSERT INTO device (token_hash, company, user_id, role, replica) VALUES (?, ?, ?, ?, ?)",
                           arguments: [Data(tokenHash), try Self.key(of: credential.company, in: db), credential.actor.user.rawValue,
                                       StoredRoles.code(credential.actor.role), Keys.replica(credential.replica)])
        }
    }

    public func device(tokenHash: [UInt8]) throws -> (credential: DeviceCredential, revoked: Bool)? {
        // Every request asks this: one statement, kept prepared, outside a transaction (a
        // single SELECT reads one snapshot).
        try pool.unsafeRead { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT company.id AS company, user_id, role, replica, revoked FROM device JOIN company ON company.key = device.company
                WHERE token_hash = ?
                """), arguments: [Data(tokenHash)]) else { return nil }
            let credential = DeviceCredential(company: try CompanyID(row["company"] as String),
                                              actor: Actor(user: try UserID(row["user_id"] as String), role: try StoredRoles.role(row["role"])),
                                              replica: try Keys.replicaID(row["replica"]))
            return (credential, (row["revoked"] as Int64) != 0)
        }
    }

    public func revokeDevice(replica: ReplicaID, company: CompanyID) throws -> Bool {
        try pool.write { db in
            try db.execute(sql: "UPDATE device SET revoked = 1 WHERE company = ? AND replica = ?",
                           arguments: [try Self.key(of: company, in: db), Keys.replica(replica)])
            return db.changesCount > 0
        }
    }

    private static func key(of company: CompanyID, in db: Database) throws -> Int64 {
        guard let key = try Int64.fetchOne(db, sql: "SELECT key FROM company WHERE id = ?", arguments: [company.rawValue]) else {
            throw ServiceError(.notFound, "There is no company '\(company)' on this server.")
        }
        return key
    }
}

/// One company's rows inside a GRDB transaction.
struct SQLiteTransaction: LedgerTransaction {
    let db: Database
    let company: Int64

    func initialCompanyState() throws -> CompanyState {
        try Codec.decode(CompanyState.self, try Data.fetchOne(db, sql: "SELECT initial_state FROM company WHERE key = ?", arguments: [company]))
    }

    func head() throws -> (sequence: UInt64, logDigest: [UInt8]) {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT head, log_digest FROM company WHERE key = ?"), arguments: [company]) else {
            throw ServiceError(.storageFailed, "The company's row vanished inside a transaction.")
        }
        let head: Int64 = row["head"]
        let digest: Data = row["log_digest"]
        return (UInt64(head), Array(digest))
    }

    func entries(after sequence: UInt64, limit: Int) throws -> [StoredEntry] {
        // Read through SQLite's own calls: GRDB's rows, each column copied into a `Data` first,
        // were most of the time a restarted server spends replaying the log (server-bench
        // restart profile, session 17).
        let raw = try db.cachedStatement(sql: """
            SELECT entry, body_digest, log_digest FROM log WHERE company = ? AND sequence > ? ORDER BY sequence LIMIT ?
            """).sqliteStatement
        defer { sqlite3_reset(raw) }
        try Self.check(sqlite3_bind_int64(raw, 1, company), db)
        try Self.check(sqlite3_bind_int64(raw, 2, Int64(clamping: sequence)), db)
        try Self.check(sqlite3_bind_int64(raw, 3, Int64(clamping: limit)), db)
        var entries: [StoredEntry] = []
        entries.reserveCapacity(min(max(limit, 0), ServiceLimits.replayPageEntries))
        while true {
            let code = sqlite3_step(raw)
            if code == SQLITE_DONE { return entries }
            guard code == SQLITE_ROW else { throw Self.failure(code, db) }
            let encoded = Self.blob(0, of: raw)
            entries.append(StoredEntry(entry: try Codec.entry(encoded), encoded: encoded, bodyDigest: Self.blob(1, of: raw), logDigest: Self.blob(2, of: raw)))
        }
    }

    /// Column `index` of the current row as bytes.
    private static func blob(_ index: Int32, of statement: OpaquePointer) -> [UInt8] {
        Array(UnsafeRawBufferPointer(start: sqlite3_column_blob(statement, index), count: Int(sqlite3_column_bytes(statement, index))))
    }

    /// A failed call as GRDB reports one.
    private static func failure(_ code: Int32, _ db: Database) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
    }

    /// Throws unless a bind succeeded: a parameter whose bind failed keeps the previous row's
    /// value, which the next step would write.
    private static func check(_ code: Int32, _ db: Database) throws {
        guard code == SQLITE_OK else { throw failure(code, db) }
    }

    func highestCounter(of replica: ReplicaID) throws -> UInt64 {
        let highest = try Int64.fetchOne(db.cachedStatement(sql: "SELECT highest FROM replica WHERE company = ? AND replica = ?"),
                                         arguments: [company, Keys.replica(replica)])
        return UInt64(highest ?? 0)
    }

    func serverReplica() throws -> ReplicaID {
        if let stored = try Data.fetchOne(db, sql: "SELECT server_replica FROM company WHERE key = ?", arguments: [company]) {
            return try Keys.replicaID(stored)
        }
        let replica = DeviceTokens.newReplica()
        try db.execute(sql: "UPDATE company SET server_replica = ? WHERE key = ?", arguments: [Keys.replica(replica), company])
        return replica
    }

    func lastHLC(of replica: ReplicaID) throws -> HLCTimestamp? {
        try Data.fetchOne(db.cachedStatement(sql: "SELECT entry FROM log WHERE company = ? AND replica = ? ORDER BY counter DESC LIMIT 1"),
                          arguments: [company, Keys.replica(replica)]).map { try Codec.entry(Array($0)).action.hlc }
    }

    func bodyDigest(of dot: Dot) throws -> [UInt8]? {
        try Data.fetchOne(db.cachedStatement(sql: "SELECT body_digest FROM log WHERE company = ? AND replica = ? AND counter = ?"),
                          arguments: [company, Keys.replica(dot.replica), Keys.integer(dot.counter)]).map(Array.init)
    }

    func append(_ entries: [StoredEntry]) throws {
        guard let last = entries.last else { return }
        let head = try head()
        for (offset, stored) in entries.enumerated() where stored.entry.sequence != head.sequence + UInt64(offset) + 1 {
            throw ServiceError(.storageFailed, "Log entries must continue the log without a gap (expected \(head.sequence + UInt64(offset) + 1), got \(stored.entry.sequence)).")
        }
        let insert = try db.cachedStatement(sql: """
            INSERT INTO log (company, sequence, replica, counter, entry, body_digest, log_digest) VALUES (?, ?, ?, ?, ?, ?, ?)
            """)
        // Bound through SQLite's own calls: GRDB's argument array copies each blob into a `Data`
        // and boxes every value, about a quarter of the cost of logging an entry (server-bench
        // profile, session 17).
        let raw = insert.sqliteStatement
        var highest: [ReplicaID: UInt64] = [:]
        // By index: `for stored in entries` copied each entry out, retaining and releasing its
        // action's strings and its three arrays (about 4% of the writer's time).
        for index in entries.indices {
            let dot = entries[index].entry.action.dot
            try Self.check(sqlite3_bind_int64(raw, 1, company), db)
            try Self.check(sqlite3_bind_int64(raw, 2, Keys.integer(entries[index].entry.sequence)), db)
            try Self.check(Self.bind(dot.replica.bytes, to: 3, of: raw), db)
            try Self.check(sqlite3_bind_int64(raw, 4, Keys.integer(dot.counter)), db)
            try Self.check(Self.bind(entries[index].encoded, to: 5, of: raw), db)
            try Self.check(Self.bind(entries[index].bodyDigest, to: 6, of: raw), db)
            try Self.check(Self.bind(entries[index].logDigest, to: 7, of: raw), db)
            let code = sqlite3_step(raw)
            sqlite3_reset(raw)
            guard code == SQLITE_DONE else { throw Self.failure(code, db) }
            highest[dot.replica] = max(highest[dot.replica] ?? 0, dot.counter)
        }
        let upsert = try db.cachedStatement(sql: """
            INSERT INTO replica (company, replica, highest) VALUES (?, ?, ?)
            ON CONFLICT (company, replica) DO UPDATE SET highest = max(highest, excluded.highest)
            """)
        for (replica, counter) in highest.sorted(by: { $0.key < $1.key }) {
            try upsert.execute(arguments: [company, Keys.replica(replica), Keys.integer(counter)])
        }
        try db.cachedStatement(sql: "UPDATE company SET head = ?, log_digest = ? WHERE key = ?")
            .execute(arguments: [Keys.integer(last.entry.sequence), Data(last.logDigest), company])
    }

    /// Binds `bytes` as a blob SQLite copies (SQLITE_TRANSIENT), so they need not outlive the
    /// call; returns SQLite's result code.
    private static func bind(_ bytes: [UInt8], to index: Int32, of statement: OpaquePointer) -> Int32 {
        bytes.withUnsafeBytes { buffer in
            // A zero-length blob still needs a non-null pointer, or SQLite stores NULL.
            sqlite3_bind_blob(statement, index, buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(buffer.count),
                              unsafeBitCast(-1, to: sqlite3_destructor_type.self))
        }
    }

    func flag(_ replica: ReplicaID) throws {
        try db.execute(sql: "UPDATE replica SET flagged = 1 WHERE company = ? AND replica = ?", arguments: [company, Keys.replica(replica)])
    }

    func projectedThrough() throws -> UInt64 {
        UInt64(try Int64.fetchOne(db, sql: "SELECT projected_through FROM company WHERE key = ?", arguments: [company]) ?? 0)
    }

    func storedOpenReviewCases() throws -> Int {
        try Int.fetchOne(db, sql: "SELECT open_review_cases FROM company WHERE key = ?", arguments: [company]) ?? 0
    }

    func snapshotClaimed() throws -> UInt64 {
        UInt64(try Int64.fetchOne(db, sql: "SELECT snapshot_claimed FROM company WHERE key = ?", arguments: [company]) ?? 0)
    }

    func claimSnapshot(through: UInt64) throws {
        try db.execute(sql: "UPDATE company SET snapshot_claimed = max(snapshot_claimed, ?) WHERE key = ?", arguments: [try Keys.integer(through), company])
    }

    func projections() throws -> (state: CompanyState, jobs: [(job: Job, through: UInt64)], openReviewCases: Int) {
        guard let row = try Row.fetchOne(db, sql: "SELECT state, open_review_cases FROM company WHERE key = ?", arguments: [company]) else {
            throw ServiceError(.storageFailed, "The company's row vanished inside a transaction.")
        }
        let jobs = try Row.fetchAll(db, sql: "SELECT format, state, folded_through FROM job WHERE company = ? ORDER BY id", arguments: [company]).map { row in
            (try StoredJobFormat.job(Array(row["state"] as Data), format: row["format"]), UInt64(row["folded_through"] as Int64))
        }
        return (try Codec.decode(CompanyState.self, row["state"]), jobs, row["open_review_cases"])
    }

    func saveJobs(_ jobs: [(id: JobID, record: [UInt8])], through: UInt64) throws {
        let upsert = try db.cachedStatement(sql: """
            INSERT INTO job (company, id, format, state, folded_through) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (company, id) DO UPDATE SET format = excluded.format, state = excluded.state, folded_through = excluded.folded_through
            WHERE excluded.folded_through >= job.folded_through
            """)
        let format = StoredJobFormat.record.rawValue, sequence = try Keys.integer(through)
        for job in jobs { try upsert.execute(arguments: [company, Keys.job(job.id), format, Data(job.record), sequence]) }
    }

    func saveProjections(_ snapshot: ProjectionSnapshot) throws {
        try saveJobs(snapshot.jobs, through: snapshot.through)
        try db.execute(sql: "UPDATE company SET state = ?, open_review_cases = ?, projected_through = ? WHERE key = ?",
                       arguments: [Codec.encode(snapshot.state), snapshot.openReviewCases, try Keys.integer(snapshot.through), company])
    }

    func deleteAllJobs() throws {
        try db.execute(sql: "DELETE FROM job WHERE company = ?", arguments: [company])
    }
}

/// How ids become keys: big-endian bytes, so SQLite orders them as the core does.
enum Keys {
    static func replica(_ replica: ReplicaID) -> Data { Data(replica.bytes) }

    static func replicaID(_ data: Data) throws -> ReplicaID {
        guard let replica = ReplicaID(bytes: data) else { throw ServiceError(.storageFailed, "A stored replica id is not 16 bytes.") }
        return replica
    }

    static func job(_ id: JobID) -> Data {
        var bytes = replica(id.dot.replica)
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: id.dot.counter >> UInt64(shift))) }
        return bytes
    }

    /// SQLite integers are signed 64-bit; counters and sequences past that are refused.
    static func integer(_ value: UInt64) throws -> Int64 {
        guard let signed = Int64(exactly: value) else {
            throw ServiceError(.invalidRequest, "A counter or sequence is beyond 2^63 - 1.")
        }
        return signed
    }
}

/// The stored form of entries, jobs and company state: their canonical bytes (decision 0012),
/// the bytes the digests hash, read back by `CanonicalEncoding.decode`.
enum Codec {
    static func encode<T: Encodable>(_ value: T) -> Data {
        Data(CanonicalEncoding.bytes(of: value))
    }

    static func decode<T: Decodable>(_ type: T.Type, _ data: Data?) throws -> T {
        guard let data else { throw ServiceError(.storageFailed, "A stored row is missing.") }
        return try decode(type, Array(data))
    }

    /// A log entry, through the core's hand-written reader (a pull reads thousands).
    static func entry(_ bytes: [UInt8]) throws -> LogEntry {
        do {
            return try CanonicalEncoding.decodeEntry(bytes)
        } catch {
            throw ServiceError(.storageFailed, "A stored LogEntry does not read back (\(error)); the database is damaged.")
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) throws -> T {
        do {
            return try CanonicalEncoding.decode(type, from: bytes)
        } catch {
            throw ServiceError(.storageFailed, "A stored \(T.self) does not read back (\(error)); the database is damaged.")
        }
    }
}

/// The SQLite storage's tuning, in one place.
public enum SQLiteLimits {
    /// Page cache of the writing connection, in KiB (SQLite's default is 2,000): room for the
    /// pages a group commit of `groupCommitActionsMax` actions dirties (~11 MB: a log row
    /// takes ~530 bytes, its dot ~30). A larger one only held log pages written once; the cache
    /// is now emptied after every commit anyway, so this bounds one group (decision 0013).
    public static let writerCacheKiB = 16_384
    /// WAL pages (4 KiB) after which the writer checkpoints on its own: only when the
    /// background checkpointer has fallen this far behind.
    public static let writerCheckpointPages = 16_384
    /// How long after a commit the background checkpointer runs; commits meanwhile share it.
    public static let checkpointDelayMillis = 50
    /// How long any connection waits for another's lock before failing: a commit, or a
    /// connection of another process (or an earlier start) closing and tidying the WAL.
    public static let busyTimeoutSeconds: TimeInterval = 30
}

/// Copies the write-ahead log into the database file on its own connection and thread, so
/// the writer's commits only append to the WAL (decision 0013). Passive checkpoints never wait
/// for or block the writer or readers; a failed one is simply retried after the next commit.
final class Checkpointer: @unchecked Sendable {
    private let connection: DatabaseQueue
    private let queue = DispatchQueue(label: "fieldledger-checkpoint", qos: .utility)
    private let lock = NSLock()
    private var scheduled = false

    init(path: String) throws {
        var configuration = Configuration()
        // Its first statement reads the schema; a connection closing elsewhere in the process
        // holds the file's lock for a moment then (the simulator met it once in 56,000 worlds).
        configuration.busyMode = .timeout(SQLiteLimits.busyTimeoutSeconds)
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        connection = try DatabaseQueue(path: path, configuration: configuration)
    }

    /// `PRAGMA` values of the checkpointing connection, for tests.
    func pragma(_ name: String) throws -> Int? {
        try connection.read { db in try Int.fetchOne(db, sql: "PRAGMA \(name)") }
    }

    /// A commit happened: checkpoint soon, unless a checkpoint is already due.
    func poke() {
        guard lock.withLock({ () -> Bool in
            defer { scheduled = true }
            return !scheduled
        }) else { return }
        // Weak: a storage let go closes its connections where it is let go, not 50 ms later on
        // this queue while the next one (a restart on the same file) is opening.
        queue.asyncAfter(deadline: .now() + .milliseconds(SQLiteLimits.checkpointDelayMillis)) { [weak self] in
            guard let self else { return }
            lock.withLock { scheduled = false }
            _ = try? connection.writeWithoutTransaction { try $0.checkpoint(.passive) }
        }
    }
}

extension SQLiteLedgerStorage {
    /// A `PRAGMA`'s value on the writer, on a reader and on the checkpointer, for tests.
    func pragma(_ name: String) throws -> (writer: Int?, reader: Int?, checkpointer: Int?) {
        (try pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA \(name)") },
         try pool.read { db in try Int.fetchOne(db, sql: "PRAGMA \(name)") },
         try checkpointer.pragma(name))
    }
}
