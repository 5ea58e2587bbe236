import Foundation
import GRDB
import GRDBSQLite
import LedgerCore
import Synchronization

/// Who a replica is: one device of one user, bound to a server by its token.
public struct DeviceIdentity: Hashable, Sendable {
    public let company: String
    public let replica: ReplicaID
    public let actor: Actor
    /// The server's address as given at set-up (for example `https://office.example.com`).
    public let server: String
    public let token: String
    /// Plain HTTP to another machine was allowed explicitly at set-up.
    public let allowInsecure: Bool

    /// Makes an identity.
    public init(company: String, replica: ReplicaID, actor: Actor, server: String, token: String, allowInsecure: Bool = false) {
        self.company = company
        self.replica = replica
        self.actor = actor
        self.server = server
        self.token = token
        self.allowInsecure = allowInsecure
    }

    /// The transport to this device's server.
    public func transport() throws -> HTTPSyncTransport {
        try HTTPSyncTransport(server: server, token: token, allowInsecure: allowInsecure)
    }
}

/// Where an action a device made stands.
public enum OutboxStatus: Int, Sendable, Hashable {
    /// Made here, not yet answered by the server.
    case pending = 0
    /// The server logged it (applied, booked with an exception, or parked for review).
    case acknowledged = 1
    /// The server refused it; it stays visible and never holds back the actions after it.
    case rejected = 2
}

/// An action in the outbox with what the server said of it.
public struct OutboxEntry: Hashable, Sendable {
    public let action: Action
    public let status: OutboxStatus
    /// The server's outcome, once it answered.
    public let outcome: Outcome?
    /// The device's wall clock when the action was made, in milliseconds.
    public let madeAtMillis: Int64
}

/// A device's sync state at a glance (`fieldledger status`).
public struct SyncStatus: Hashable, Sendable {
    public let pending: Int
    public let acknowledged: Int
    public let rejected: Int
    /// How long the oldest pending action has waited, in milliseconds (nil when none waits).
    public let oldestPendingAgeMillis: Int64?
    /// The last log sequence this device folded.
    public let lastConfirmedSequence: UInt64
}

/// A device's replica of its company's ledger in a SQLite file: the state confirmed by the
/// server's log, the cursor into that log, and the outbox of actions made here. It works
/// fully offline; `sync(over:)` meets the server.
///
/// Every action is checked by the same core rules as on the server before it is queued, and
/// the action and its outbox entry are written in one transaction. The view shown to people
/// is the confirmed state with the actions the log has not brought back yet replayed on top.
///
/// Jobs are read from the file when something needs them (an action on a job, a page that
/// touches it, a view of the whole company), not when the replica opens: a large company's
/// replica holds tens of thousands of jobs and most commands touch one (decision 0017).
public final class FieldReplica: @unchecked Sendable {
    public let path: String
    public let identity: DeviceIdentity
    let database: DatabaseQueue
    /// Guards everything below, which mirrors the file.
    let lock = NSLock()
    /// The company-wide part and the jobs read from the file or folded so far: a working set
    /// of the confirmed state, which `apply` on the core treats as the whole company for
    /// actions on those jobs.
    var confirmed: Ledger
    /// Jobs looked up in the file (found or not) or folded: their state in `confirmed` is current.
    var loaded = Set<JobID>()
    /// Every job of the file is in `confirmed`.
    var allLoaded = false
    /// `ClientLimits.jobsInMemoryMax`, lowered by tests to reach the unloading.
    var jobsInMemoryMax = ClientLimits.jobsInMemoryMax
    /// `ClientLimits.jobsPerThreadMin`, lowered by tests to reach the encoding and decoding on
    /// several threads.
    var jobsPerThreadMin = ClientLimits.jobsPerThreadMin
    /// `ClientLimits.digestJobsPerThreadMin`, lowered by tests to check a checkpoint's job
    /// digests on several threads.
    var digestJobsPerThreadMin = ClientLimits.digestJobsPerThreadMin

    var cursor: UInt64
    /// The cursor the file holds: `cursor` runs ahead of it while a sync folds pages not stored yet.
    var storedCursor: UInt64 = 0
    var logDigest: [UInt8]
    var clock: HybridLogicalClock
    /// The highest counter this device has given an action.
    var counter: UInt64
    /// The highest of this device's counters the folded log holds.
    var foldedOwn: UInt64
    /// Actions the log has not brought back yet, oldest first (rejected ones included).
    var unfolded: [OutboxEntry]
    /// The view, kept between actions so that recording one costs one job's work, not a replay
    /// of every pending action (nil when it must be rebuilt: after a sync changed either side).
    var cachedView: Ledger?
    /// Folded by the sync under way, not stored yet (`save()`).
    var unsaved = Unsaved()

    private init(path: String, identity: DeviceIdentity, database: DatabaseQueue) throws {
        self.path = path
        self.identity = identity
        self.database = database
        (confirmed, cursor, logDigest, clock, counter, foldedOwn, unfolded) = try database.read { db in try Self.readState(db, path: path) }
        storedCursor = cursor
    }

    /// What a replica holds in memory, as its file has it.
    private static func readState(_ db: Database, path: String) throws
        -> (Ledger, cursor: UInt64, logDigest: [UInt8], HybridLogicalClock, counter: UInt64, foldedOwn: UInt64, [OutboxEntry]) {
        guard let meta = try Row.fetchOne(db, sql: "SELECT * FROM replica") else {
            throw ClientError(.replicaUnusable, "The replica at \(path) has no identity; set it up again.")
        }
        let company = try Stored.decode(ConfirmedCompany.self, meta["company"])
        let ledger: Ledger
        do {
            ledger = try Ledger(settings: company.settings, companyReviewCases: company.reviewCases, jobs: [])
        } catch {
            throw ClientError(.replicaUnusable, "The replica at \(path) holds inconsistent settings (\(error.message)); set it up again.")
        }
        let foldedOwn = UInt64(meta["folded_own"] as Int64)
        let unfolded = try Row.fetchAll(db, sql: "SELECT * FROM outbox WHERE counter > ? ORDER BY counter", arguments: [Int64(foldedOwn)]).map(Stored.entry)
        return (ledger, UInt64(meta["cursor"] as Int64), Array(meta["log_digest"] as Data),
                HybridLogicalClock(last: HLCTimestamp(wallMillis: meta["clock_wall"], logical: UInt32(meta["clock_logical"] as Int64))),
                UInt64(meta["counter"] as Int64), foldedOwn, unfolded)
    }

    /// Forgets what pages folded since the last save: memory goes back to what the file holds.
    /// A page folded without a savepoint that fails halfway leaves jobs half-changed; the sync
    /// then pulls again from the stored cursor. Called with the lock held.
    func discardUnsaved() throws {
        (confirmed, cursor, logDigest, clock, counter, foldedOwn, unfolded) = try database.read { db in try Self.readState(db, path: path) }
        storedCursor = cursor
        loaded = []
        allLoaded = false
        cachedView = nil
        unsaved = Unsaved()
    }

    /// Creates a replica file at `path` for a device that has folded nothing yet. The company
    /// starts from the default settings, as the server creates companies (settings changes
    /// arrive through the log).
    public static func create(at path: String, identity: DeviceIdentity) throws -> FieldReplica {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw ClientError(.replicaExists, "A replica already exists at \(path); use it, or choose another home for a second device.")
        }
        let database = try openDatabase(path)
        let empty = try Ledger()
        try database.write { db in
            try db.execute(sql: """
                INSERT INTO replica (id, company_id, replica, user_id, role, server, token, allow_insecure, company, cursor, log_digest, clock_wall, clock_logical, counter, folded_own)
                VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, 0, 0, 0, 0)
                """, arguments: [identity.company, Data(identity.replica.bytes), identity.actor.user.rawValue, identity.actor.role.rawValue, identity.server,
                                 identity.token, identity.allowInsecure,
                                 Stored.encode(ConfirmedCompany(settings: empty.settings, reviewCases: empty.companyReviewCases)), Data(LogDigest.empty)])
        }
        return try FieldReplica(path: path, identity: identity, database: database)
    }

    /// Opens the replica file at `path`.
    public static func open(at path: String) throws -> FieldReplica {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ClientError(.replicaUnusable, "There is no replica at \(path); set this device up first.")
        }
        let database = try openDatabase(path)
        let identity = try database.read { db -> DeviceIdentity in
            guard let row = try Row.fetchOne(db, sql: "SELECT company_id, replica, user_id, role, server, token, allow_insecure FROM replica") else {
                throw ClientError(.replicaUnusable, "The replica at \(path) has no identity; set it up again.")
            }
            guard let role = Role(rawValue: row["role"]), let replica = ReplicaID(bytes: Array(row["replica"] as Data)) else {
                throw ClientError(.replicaUnusable, "The replica at \(path) has a damaged identity; set it up again.")
            }
            return DeviceIdentity(company: row["company_id"], replica: replica, actor: Actor(user: try UserID(row["user_id"] as String), role: role),
                                  server: row["server"], token: row["token"], allowInsecure: row["allow_insecure"])
        }
        return try FieldReplica(path: path, identity: identity, database: database)
    }

    private static func openDatabase(_ path: String) throws -> DatabaseQueue {
        do {
            var configuration = Configuration()
            // The device acknowledges nothing to anyone, but a payment recorded on site must
            // survive the phone dying a second later.
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
                // A commit appends to the write-ahead log and syncs it once, where the rollback
                // journal synced two files and created and deleted one (decision 0024). The mode
                // stays in the file; a file system that cannot share memory keeps the journal,
                // just as durable.
                try db.execute(sql: "PRAGMA journal_mode = WAL")
            }
            // A second command on the same home waits for the first rather than failing at once.
            configuration.busyMode = .timeout(ClientLimits.busyTimeoutSeconds)
            let database = try DatabaseQueue(path: path, configuration: configuration)
            try ReplicaSchema.migrator.migrate(database)
            return database
        } catch let error as ClientError {
            throw error
        } catch {
            throw ClientError(.replicaUnusable, "The replica at \(path) cannot be opened (\(error)); check the path, or set the device up again.")
        }
    }

    /// Writes what this replica has committed to a new file at `path` (SQLite's online backup:
    /// a copy of the file alone would miss commits still in its write-ahead log).
    public func copy(to path: String) throws {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw ClientError(.replicaExists, "A file already exists at \(path); choose another path for the copy.")
        }
        try database.backup(to: try DatabaseQueue(path: path))
    }

    /// What people see of the whole company: the confirmed state with the actions the log has
    /// not brought back replayed on top (rejected ones left out). Reads every job.
    public var view: Ledger {
        get throws {
            try lock.withLock {
                try loadAll()
                return currentView()
            }
        }
    }

    /// The view of one job (nil when neither the file nor this device's actions have it).
    public func job(_ id: JobID) throws -> Job? {
        try lock.withLock {
            try load([id])
            return try? currentView().job(id)
        }
    }

    /// The jobs people call `number` in the view (a number is not unique across devices).
    public func jobs(numbered number: String) throws -> [Job] {
        try lock.withLock {
            // The file's numbers, and any job this device's own actions create or renumber.
            let stored = try database.read { db in
                try Data.fetchAll(db.cachedStatement(sql: "SELECT key FROM job_record WHERE number = ?"), arguments: [number]).map(Stored.jobID)
            }
            let candidates = Set(stored + unfolded.compactMap(\.action.touchedJob)).sorted()
            try load(candidates)
            let view = currentView()
            return candidates.compactMap { try? view.job($0) }.filter { $0.number == number }
        }
    }

    /// The company's settings as this device sees them.
    public var settings: CompanySettings { lock.withLock { currentView().settings } }

    /// Every installment still to collect in the view, for the outstanding-draws report: read
    /// from what is stored beside each job, except for jobs this device's pending actions or a
    /// sync under way changed, which come from the view.
    public func outstandingInstallments() throws -> [OutstandingInstallment] {
        try lock.withLock {
            let fresh = jobsNewerThanStored()
            var rows: [OutstandingInstallment] = []
            try database.read { db in
                // Room for a few installments per job up front: growing a hundred-thousand-row
                // array by doubling copied it (and touched fresh memory) a dozen times. Room not
                // used is never touched.
                let jobs = try Int.fetchOne(db, sql: "SELECT max(rowid) FROM job_record") ?? 0
                rows.reserveCapacity(jobs * ClientLimits.installmentsReservedPerJob)
                let cursor = try Row.fetchCursor(db, sql: "SELECT draws FROM job_record WHERE draws IS NOT NULL")
                while let row = try cursor.next() {
                    let start = rows.count
                    try row.withUnsafeData(atIndex: 0) { try Stored.installments($0, appendingTo: &rows) }
                    // A job's rows are all its own: the first names it.
                    if rows.count > start, fresh.contains(rows[start].jobID) { rows.removeSubrange(start...) }
                }
            }
            let ids = fresh.sorted()
            try load(ids)
            let view = currentView()
            for id in ids { if let job = try? view.job(id) { rows += Reports.outstandingInstallments(of: job) } }
            return rows
        }
    }

    /// The outstanding-draws table on `today`, built from what is stored beside each job as
    /// `outstandingInstallments()` reads it, but with the cells copied straight from the stored
    /// bytes (no value or `String` per installment): the report a large company's device prints.
    /// A large replica's records are gathered, ordered and written on several threads.
    public func outstandingDrawsTable(today: CalendarDate) throws -> CSVTable {
        try outstandingDrawsTable(today: today, threads: nil)
    }

    /// `outstandingDrawsTable(today:)` on `threads` threads if given, the records handed on
    /// `chunkRecords` at a time (tests split a small replica the way a large one is split).
    func outstandingDrawsTable(today: CalendarDate, threads: Int?, chunkRecords: Int = ClientLimits.reportChunkRecords) throws -> CSVTable {
        let (order, threads, settings) = try drawsRows(today: today, threads: threads, chunkRecords: chunkRecords)
        let rows = order.rowCount
        // The first part has room for every row: the others are appended to it, not all copied.
        let cells = inParallel(threads) { part in
            order.cells(rows: share(part, of: threads, count: rows), room: part == 0 ? rows : 0)
        }
        return order.table(settings: settings, parts: cells)
    }

    /// The outstanding-draws table's rows on `today`, in order, with the width of each column:
    /// a large table is written a batch of rows at a time from these (several batches at once),
    /// never held whole. Gathered as `outstandingDrawsTable(today:)` gathers them.
    public func outstandingDrawsRows(today: CalendarDate) throws -> Reports.DrawsTableOrder {
        try drawsRows(today: today, threads: nil, chunkRecords: ClientLimits.reportChunkRecords).order
    }

    /// The draws' rows in order, the threads that gathered them, and the settings they were
    /// gathered under.
    func drawsRows(today: CalendarDate, threads: Int?, chunkRecords: Int) throws -> (order: Reports.DrawsTableOrder, threads: Int, settings: CompanySettings) {
        try lock.withLock {
            let fresh = jobsNewerThanStored(), freshIDs = fresh.sorted()
            // The changed jobs' states are read before the records: the file has one reader at a time.
            let changed = try readStates(freshIDs)
            let jobs = try database.read { db in try Int.fetchOne(db, sql: "SELECT max(rowid) FROM job_record") ?? 0 }
            let threads = threads ?? threadCount(for: jobs, perThreadMin: ClientLimits.reportRecordsPerThreadMin)
            // The first thread reads the records a chunk at a time and hands each chunk on; every
            // thread (the first once it has read them all) gathers and orders the chunks it takes.
            // The last thread first gathers the changed jobs from the view, while the file is read.
            let chunks = RecordChunks(takers: threads - 1)
            let gathered = inParallel(threads) { part in
                // Untyped throws: Swift 6.3.1's optimizer crashes on typed-throws closures that
                // capture a gatherer (see `Stored.installments`).
                Result { () throws -> (Reports.DrawsTableGatherer, newer: (Reports.DrawsTableGatherer, CompanySettings)?) in
                    var newer: (Reports.DrawsTableGatherer, CompanySettings)?
                    if part == threads - 1 {
                        // Only this thread touches the working set meanwhile; the others read the file and the chunks.
                        try self.restore(changed)
                        let view = self.currentView()
                        var gatherer = Reports.DrawsTableGatherer(today: today, rows: 0)
                        for id in freshIDs { if let job = try? view.job(id) { gatherer.append(Reports.outstandingInstallments(of: job)) } }
                        gatherer.sort()
                        newer = (gatherer, view.settings)
                    }
                    if part == 0 { try self.readDrawsRecords(into: chunks, chunkRecords: chunkRecords) }
                    var gatherer = Reports.DrawsTableGatherer(today: today, rows: jobs / threads * ClientLimits.installmentsReservedPerJob)
                    while let chunk = chunks.next() {
                        for index in 0..<chunk.count { try chunk.withRecord(index) { try gatherer.append(record: $0, skip: fresh.contains) } }
                    }
                    gatherer.sort()
                    return (gatherer, newer)
                }
            }
            var parts: [Reports.DrawsTableGatherer] = [], newer: (Reports.DrawsTableGatherer, CompanySettings)?
            for result in gathered {
                do {
                    let (part, changed) = try result.get()
                    parts.append(part)
                    if let changed { newer = changed }
                } catch let error as JobRecord.Damaged {
                    throw ClientError(.replicaUnusable, "A job's stored draws do not read back (\(error)); the replica file is damaged. Set the device up again.")
                }
            }
            guard let (newerPart, settings) = newer else { preconditionFailure("the last thread gathers the changed jobs") }
            // Jobs the view has newer than the file: one more (small) part.
            parts.append(newerPart)
            return (Reports.DrawsTableOrder(merging: parts), threads, settings)
        }
    }

    /// Reads the stored draws records into `chunks`, `chunkRecords` at a time, and says when
    /// they are all read (also when reading fails), so that no thread waits for more.
    private func readDrawsRecords(into chunks: RecordChunks, chunkRecords: Int) throws {
        defer { chunks.finish() }
        try database.read { db in
            // SQLite's own calls, not a GRDB cursor: a row of GRDB's cost more than reading the
            // record (tens of milliseconds on 50,000 jobs).
            let statement = try db.makeStatement(sql: "SELECT draws FROM job_record WHERE draws IS NOT NULL")
            let raw = statement.sqliteStatement
            defer { sqlite3_reset(raw) }
            var chunk = StoredRecords(reserving: chunkRecords)
            while true {
                let code = sqlite3_step(raw)
                if code == SQLITE_DONE { break }
                guard code == SQLITE_ROW else {
                    throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
                }
                chunk.append(UnsafeRawBufferPointer(start: sqlite3_column_blob(raw, 0), count: Int(sqlite3_column_bytes(raw, 0))))
                if chunk.count == chunkRecords {
                    chunks.publish(chunk)
                    chunk = StoredRecords(reserving: chunkRecords)
                }
            }
            if chunk.count > 0 { chunks.publish(chunk) }
        }
    }

    /// Jobs whose stored outstanding installments are behind the view: this device's pending
    /// actions or a sync under way changed them. Call with the lock held.
    private func jobsNewerThanStored() -> Set<JobID> {
        Set(unfolded.filter { $0.status != .rejected }.compactMap(\.action.touchedJob)).union(unsaved.jobs)
    }

    /// The view over the jobs loaded so far, built once and kept; call with the lock held.
    func currentView() -> Ledger {
        if let cachedView { return cachedView }
        // The core's rules are per job (and company-wide): replaying only the actions on loaded
        // jobs and the company gives those jobs exactly as a replay of everything would.
        let actions = unfolded.filter { entry in
            entry.status != .rejected && entry.action.touchedJob.map { allLoaded || loaded.contains($0) } ?? true
        }.map(\.action)
        let view = confirmed.replaying(actions).view
        cachedView = view
        return view
    }

    /// Reads these jobs from the file into the confirmed working set, unless already there (a
    /// folded job not stored yet is newer than the file's); call with the lock held.
    func load(_ ids: [JobID]) throws { try restore(try readStates(ids)) }

    /// The stored states of those of `ids` not in the working set yet: `load`'s reading of the file.
    private func readStates(_ ids: [JobID]) throws -> (ids: [JobID], states: [Data]) {
        let missing = allLoaded ? [] : Set(ids).subtracting(loaded).sorted()
        guard !missing.isEmpty else { return ([], []) }
        var states: [Data] = []
        try database.read { db in
            for id in missing {
                if let state = try Data.fetchOne(db.cachedStatement(sql: "SELECT state FROM job_record WHERE key = ?"), arguments: [Stored.key(id)]) {
                    states.append(state)
                }
            }
        }
        return (missing, states)
    }

    /// Decodes what `readStates` read into the working set: the rest of `load`, which needs no file.
    private func restore(_ read: (ids: [JobID], states: [Data])) throws {
        guard !read.ids.isEmpty else { return }
        // The first pages of a long pull read thousands of jobs: decoded on every core.
        let threads = threadCount(for: read.states.count, perThreadMin: jobsPerThreadMin), states = read.states
        let found = try inParallel(threads) { part in
            Result(catching: { try states[share(part, of: threads, count: states.count)].map { try Stored.job($0) } })
        }.flatMap { try $0.get() }
        for job in found { confirmed.restore(job) }
        loaded.formUnion(read.ids)
        extendView(with: Set(read.ids), found)
    }

    /// Adds newly loaded jobs to the kept view by replaying only their own pending actions,
    /// rather than rebuilding it from every pending action (what made each payment on a large
    /// replica slower as the outbox grew). Exact only while no pending action is company-wide:
    /// then the view's settings are the confirmed ones, and each job's actions depend on
    /// nothing but the job and the settings. Otherwise the view is rebuilt when next asked for.
    private func extendView(with ids: Set<JobID>, _ jobs: [Job]) {
        guard var view = cachedView else { return }
        cachedView = nil
        let pending = unfolded.filter { $0.status != .rejected }
        guard !pending.contains(where: { $0.action.touchedJob == nil }) else { return }
        for job in jobs { view.restore(job) }
        for entry in pending where ids.contains(entry.action.touchedJob!) { _ = view.apply(entry.action) }
        cachedView = view
    }

    /// Reads every job of the file into the confirmed working set; call with the lock held.
    func loadAll() throws {
        guard !allLoaded else { return }
        try database.read { db in
            // Read in place: a large company's replica holds tens of thousands of jobs.
            let rows = try Row.fetchCursor(db, sql: "SELECT state FROM job_record")
            while let row = try rows.next() {
                let job = try row.withUnsafeData(atIndex: 0) { try Stored.job($0) }
                if !loaded.contains(job.id) { confirmed.restore(job) }
            }
        }
        allLoaded = true
        cachedView = nil
    }

    /// Lets go of the jobs read so far once they are all stored (after a save), so a long pull
    /// does not end up holding the whole company; call with the lock held.
    func unloadIfLarge() throws {
        guard unsaved.jobs.isEmpty, confirmed.jobCount > jobsInMemoryMax else { return }
        confirmed = try Ledger(settings: confirmed.settings, companyReviewCases: confirmed.companyReviewCases, jobs: [])
        loaded = []
        allLoaded = false
        cachedView = nil
    }

    /// How far this replica has folded the server's log, and the running log digest there
    /// (equal to the server's at that sequence when both folded the same log).
    public var confirmedPosition: (sequence: UInt64, logDigest: [UInt8]) {
        lock.withLock { (cursor, logDigest) }
    }

    /// The state the server's log confirms, as far as this device has folded it. Reads every job.
    public var confirmedLedger: Ledger {
        get throws {
            try lock.withLock {
                try loadAll()
                return confirmed
            }
        }
    }

    /// Makes an action, checks it against the view with the ledger rules, and queues it with
    /// its outbox entry in one transaction. Returns the action and its outcome on this device
    /// (applied, applied with an exception, or parked for the office to review). A refused
    /// action throws `actionRefused` and nothing is stored. When another process or handle changed
    /// the file since this one read it (another command, a sync), it throws `replicaChanged` and
    /// stores nothing: open the replica again and repeat.
    @discardableResult
    public func perform(_ payload: ActionPayload, job: JobID?, day: CalendarDate, wallMillis: Int64) throws -> (action: Action, outcome: Outcome) {
        try lock.withLock {
            var nextClock = clock
            let action = Action(dot: Dot(replica: identity.replica, counter: counter + 1), hlc: nextClock.tick(physicalMillis: wallMillis),
                                actor: identity.actor, job: job, seenSequence: cursor, businessDay: day, payload: payload)
            try load(action.touchedJob.map { [$0] } ?? [])
            // Taken out of the cache while it changes, so the change does not copy every job.
            var view = currentView()
            cachedView = nil
            let outcome = view.apply(action)
            if case .rejected(let error) = outcome {
                cachedView = view // a refused action changed nothing
                throw ClientError(.actionRefused, error.message)
            }
            try database.writeWithoutTransaction { db in
                try db.inTransaction(.immediate) {
                    // Another process on the same home (a second command, a sync) may have moved
                    // the replica on since this one read it: its counter would be taken twice,
                    // and this view may be stale. Nothing is written then; the command runs again.
                    guard let row = try Row.fetchOne(db, sql: "SELECT counter, cursor FROM replica"),
                          UInt64(row["counter"] as Int64) == counter, UInt64(row["cursor"] as Int64) == storedCursor else {
                        throw ClientError(.replicaChanged, "Another fieldledger command changed this device's replica while this one ran; nothing was recorded. Run the command again.")
                    }
                    try record(action, madeAt: wallMillis, clock: nextClock, in: db)
                    return .commit
                }
            }
            counter = action.dot.counter
            clock = nextClock
            unfolded.append(OutboxEntry(action: action, status: .pending, outcome: nil, madeAtMillis: wallMillis))
            cachedView = view
            return (action, outcome)
        }
    }

    private func record(_ action: Action, madeAt wallMillis: Int64, clock nextClock: HybridLogicalClock, in db: Database) throws {
        try db.execute(sql: "INSERT INTO outbox (counter, action, status, outcome, made_at) VALUES (?, ?, ?, NULL, ?)",
                       arguments: [Int64(action.dot.counter), Stored.encode(action), OutboxStatus.pending.rawValue, wallMillis])
        try db.execute(sql: "UPDATE replica SET counter = ?, clock_wall = ?, clock_logical = ?",
                       arguments: [Int64(action.dot.counter), nextClock.last.wallMillis, Int64(nextClock.last.logical)])
    }

    /// Every action made on this device, oldest first, with what the server said of it.
    public func outbox() throws -> [OutboxEntry] {
        try database.read { db in try Row.fetchAll(db, sql: "SELECT * FROM outbox ORDER BY counter").map(Stored.entry) }
    }

    /// Counts of the outbox by status, the oldest pending action's age, and the cursor.
    public func status(nowMillis: Int64) throws -> SyncStatus {
        try database.read { db in
            let counts = try Row.fetchAll(db, sql: "SELECT status, count(*) AS n, min(made_at) AS oldest FROM outbox GROUP BY status")
            func count(_ status: OutboxStatus) -> Int { counts.first { $0["status"] == status.rawValue }?["n"] ?? 0 }
            let oldest: Int64? = counts.first { $0["status"] == OutboxStatus.pending.rawValue }?["oldest"]
            return SyncStatus(pending: count(.pending), acknowledged: count(.acknowledged), rejected: count(.rejected),
                              oldestPendingAgeMillis: oldest.map { max(0, nowMillis - $0) }, lastConfirmedSequence: try Int64.fetchOne(db, sql: "SELECT cursor FROM replica").map(UInt64.init) ?? 0)
        }
    }
}

/// The company-wide part of the confirmed state.
struct ConfirmedCompany: Codable {
    let settings: CompanySettings
    let reviewCases: [ReviewCase]
}

/// Rows to values and back: canonical bytes, as on the server.
enum Stored {
    static func encode<T: Encodable>(_ value: T) -> Data { Data(CanonicalEncoding.bytes(of: value)) }

    static func decode<T: Decodable>(_ type: T.Type, _ data: Data?) throws -> T {
        guard let data, let value = try? CanonicalEncoding.decode(type, from: Array(data)) else {
            throw ClientError(.replicaUnusable, "A stored \(T.self) does not read back; the replica file is damaged. Set the device up again.")
        }
        return value
    }

    /// A job's row: its compact record (`JobRecord`), not its canonical bytes.
    static func record(_ job: Job) -> Data { Data(JobRecord.bytes(of: job)) }

    static func job(_ data: Data?) throws -> Job {
        guard let data else { throw ClientError(.replicaUnusable, "A stored job has no record; the replica file is damaged. Set the device up again.") }
        do {
            return try data.withUnsafeBytes { buffer throws(JobRecord.Damaged) in try JobRecord.job(from: buffer) }
        } catch {
            throw ClientError(.replicaUnusable, "A stored job does not read back (\(error)); the replica file is damaged. Set the device up again.")
        }
    }

    static func installments(_ data: Data?, appendingTo rows: inout [OutstandingInstallment]) throws {
        guard let data else { return }
        do {
            // An untyped closure: Swift 6.3.1's optimizer crashes inlining a typed-throws one
            // that captures `rows` here.
            try data.withUnsafeBytes { buffer in try JobRecord.installments(from: buffer, appendingTo: &rows) }
        } catch {
            throw ClientError(.replicaUnusable, "A job's stored draws do not read back (\(error)); the replica file is damaged. Set the device up again.")
        }
    }

    /// A job's row as stored, made before the transaction that writes it (possibly on another
    /// thread: a save after a long pull writes thousands of jobs).
    struct Encoded: Sendable {
        let key: Data
        let state: Data
        let number: String
        let draws: Data?

        init(_ job: Job) {
            let draws = Reports.outstandingInstallments(of: job)
            (key, state, number) = (Stored.key(job.id), Stored.record(job), job.number)
            self.draws = draws.isEmpty ? nil : Data(JobRecord.bytes(of: draws))
        }
    }

    /// Stores a job's row with what is kept beside it: its number (to find it by) and its
    /// outstanding installments (for the report).
    static func save(_ row: Encoded, in db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO job_record (key, state, number, draws) VALUES (?, ?, ?, ?)
            ON CONFLICT (key) DO UPDATE SET state = excluded.state, number = excluded.number, draws = excluded.draws
            """).execute(arguments: [row.key, row.state, row.number, row.draws])
    }

    /// A job's key in the file: its replica's 16 bytes and its counter as 8 bytes big-endian.
    static func key(_ id: JobID) -> Data {
        var bytes = id.dot.replica.bytes
        withUnsafeBytes(of: id.dot.counter.bigEndian) { bytes += $0 }
        return Data(bytes)
    }

    static func jobID(_ key: Data) throws -> JobID {
        let bytes = Array(key)
        guard bytes.count == 24, let replica = ReplicaID(bytes: bytes[0..<16]) else {
            throw ClientError(.replicaUnusable, "A stored job key is not one; the replica file is damaged. Set the device up again.")
        }
        return JobID(Dot(replica: replica, counter: bytes[16...].reduce(0) { $0 << 8 | UInt64($1) }))
    }

    static func entry(_ row: Row) throws -> OutboxEntry {
        guard let status = OutboxStatus(rawValue: row["status"]) else {
            throw ClientError(.replicaUnusable, "An outbox entry has an unknown status; the replica file is damaged.")
        }
        // Read by hand (the generic decoder was most of opening a replica with a few hundred
        // actions waiting).
        let outcome: Outcome? = try (row["outcome"] as Data?).map { data in
            try readBack(Outcome.self) { try CanonicalEncoding.decodeOutcome(Array(data)) }
        }
        guard let action = row["action"] as Data? else { throw ClientError(.replicaUnusable, "An outbox entry has no action; the replica file is damaged.") }
        return OutboxEntry(action: try readBack(Action.self) { try CanonicalEncoding.decodeAction(Array(action)) }, status: status, outcome: outcome,
                           madeAtMillis: row["made_at"])
    }

    private static func readBack<T>(_ type: T.Type, _ read: () throws -> T) throws -> T {
        guard let value = try? read() else {
            throw ClientError(.replicaUnusable, "A stored \(T.self) does not read back; the replica file is damaged. Set the device up again.")
        }
        return value
    }
}

/// The replica file's schema. Append-only: a shipped migration is never edited.
enum ReplicaSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: identity, confirmed state, outbox") { db in
            try db.execute(sql: """
                CREATE TABLE replica (
                  id INTEGER PRIMARY KEY CHECK (id = 1),
                  company_id TEXT NOT NULL,
                  replica BLOB NOT NULL CHECK (length(replica) = 16),
                  user_id TEXT NOT NULL,
                  role TEXT NOT NULL,
                  server TEXT NOT NULL,
                  token TEXT NOT NULL,
                  allow_insecure INTEGER NOT NULL CHECK (allow_insecure IN (0, 1)),
                  company BLOB NOT NULL,
                  cursor INTEGER NOT NULL CHECK (cursor >= 0),
                  log_digest BLOB NOT NULL CHECK (length(log_digest) = 32),
                  clock_wall INTEGER NOT NULL,
                  clock_logical INTEGER NOT NULL,
                  counter INTEGER NOT NULL CHECK (counter >= 0),
                  folded_own INTEGER NOT NULL CHECK (folded_own >= 0)
                );
                CREATE TABLE job (
                  id BLOB PRIMARY KEY,
                  state BLOB NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE outbox (
                  counter INTEGER PRIMARY KEY CHECK (counter > 0),
                  action BLOB NOT NULL,
                  status INTEGER NOT NULL CHECK (status IN (0, 1, 2)),
                  outcome BLOB,
                  made_at INTEGER NOT NULL
                );
                """)
        }
        // Jobs were stored as canonical bytes under their canonical id; compact records are
        // about a tenth the size and read tens of times faster, a 24-byte key in a rowid table
        // keeps the B-tree small, and the number and outstanding installments kept beside each
        // job serve commands that would otherwise read every job (decisions 0016, 0017).
        migrator.registerMigration("v2: jobs as compact records with their numbers and outstanding installments") { db in
            try db.execute(sql: """
                CREATE TABLE job_record (
                  key BLOB NOT NULL UNIQUE CHECK (length(key) = 24),
                  state BLOB NOT NULL,
                  number TEXT NOT NULL,
                  draws BLOB
                );
                CREATE INDEX job_by_number ON job_record (number);
                """)
            for state in try Data.fetchAll(db, sql: "SELECT state FROM job") {
                let job = try Stored.decode(Job.self, state)
                let draws = Reports.outstandingInstallments(of: job)
                try db.execute(sql: "INSERT INTO job_record (key, state, number, draws) VALUES (?, ?, ?, ?)",
                               arguments: [Stored.key(job.id), Data(JobRecord.bytes(of: job)), job.number, draws.isEmpty ? nil : Data(JobRecord.bytes(of: draws))])
            }
            try db.execute(sql: "DROP TABLE job")
        }
        return migrator
    }
}

/// Stored records copied out of the file one after another, to be read on another thread.
struct StoredRecords: Sendable {
    private var bytes: [UInt8] = []
    private var ends: [Int] = []

    /// Room for about `records` records of a typical size.
    init(reserving records: Int) {
        ends.reserveCapacity(records)
        bytes.reserveCapacity(records * Self.recordBytesGuess)
    }

    /// A little more than one job's outstanding installments take stored (181 bytes on the
    /// benchmark's replica): a guess too small copies the records once more as they grow.
    private static let recordBytesGuess = 200

    /// Records held.
    var count: Int { ends.count }

    mutating func append(_ record: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: record)
        ends.append(bytes.count)
    }

    /// Calls `body` with record `index`'s bytes.
    func withRecord<T>(_ index: Int, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        let start = index == 0 ? 0 : ends[index - 1]
        return try bytes.withUnsafeBytes { all in try body(UnsafeRawBufferPointer(rebasing: all[start..<ends[index]])) }
    }
}

/// Chunks of records handed from the thread that reads them to the threads that take them, each
/// chunk to one taker, in the order they were read.
final class RecordChunks: Sendable {
    private let state = Mutex<(chunks: [StoredRecords], taken: Int, finished: Bool)>(([], 0, false))
    /// Signalled once per chunk, and once per other taker when reading is over.
    private let ready = DispatchSemaphore(value: 0)
    private let takers: Int

    /// Chunks to be taken by the reading thread and `takers` others.
    init(takers: Int) { self.takers = takers }

    /// Hands a chunk on to whichever thread asks next.
    func publish(_ chunk: StoredRecords) {
        state.withLock { $0.chunks.append(chunk) }
        ready.signal()
    }

    /// Says no more chunks will come: every taker still waiting is woken.
    func finish() {
        state.withLock { $0.finished = true }
        for _ in 0..<takers { ready.signal() }
    }

    /// The next chunk no thread has taken, waiting for it to be read; nil once every chunk is
    /// taken and reading is over.
    func next() -> StoredRecords? {
        while true {
            let taken: StoredRecords?? = state.withLock { state in
                if state.taken < state.chunks.count {
                    // Released as taken: each chunk's bytes go once gathered.
                    var chunk = StoredRecords(reserving: 0)
                    swap(&chunk, &state.chunks[state.taken])
                    state.taken += 1
                    return .some(chunk)
                }
                return state.finished ? .some(nil) : nil
            }
            if let taken { return taken }
            ready.wait()
        }
    }
}

/// How many threads share `items` items of work: one per `perThreadMin` at least, no more than
/// the processors or `ClientLimits.reportThreadsMax`.
public func threadCount(for items: Int, perThreadMin: Int) -> Int {
    min(ClientLimits.reportThreadsMax, ProcessInfo.processInfo.activeProcessorCount, max(1, items / perThreadMin))
}

/// The indices of `count` items the `part`-th of `parts` threads takes (as even as they go).
func share(_ part: Int, of parts: Int, count: Int) -> Range<Int> { (count * part / parts)..<(count * (part + 1) / parts) }

/// `body(0)` to `body(count - 1)`, at once on up to `count` threads, their results in order.
public func inParallel<T: Sendable>(_ count: Int, _ body: @Sendable (Int) -> T) -> [T] {
    guard count > 1 else { return count == 1 ? [body(0)] : [] }
    let results = Mutex<[T?]>(Array(repeating: nil, count: count))
    DispatchQueue.concurrentPerform(iterations: count) { part in
        let result = body(part)
        results.withLock { $0[part] = result }
    }
    // Taken out of the lock's storage, so each result is held once (and can be grown in place).
    return results.withLock { stored in
        var taken: [T?] = []
        swap(&taken, &stored)
        return taken.map { $0! }
    }
}
