import Foundation
import LedgerCore
import LedgerService
import NIOSSL
import PostgresNIO

/// Companies in one PostgreSQL database, shared by several server processes (issue G).
///
/// Every write transaction locks its company's row first (`SELECT … FOR UPDATE`), so appends to
/// one company's log are serialized across processes and each sequence is assigned in commit
/// order: a pull never skips an entry that commits late. Companies lock separately, so pushes
/// to different companies proceed in parallel. The service's memory of a company is a cache it
/// checks against the stored head inside that lock (`CompanyMemory.catchUp`).
///
/// The storage protocol is synchronous; each call blocks its thread on a connection of its own
/// event loop group, never on the caller's.
public final class PostgresLedgerStorage: LedgerStorage, AdminStorage, @unchecked Sendable {
    private let configuration: PostgresConnection.Configuration
    private let group: MultiThreadedEventLoopGroup
    private let logger: Logger
    private let lock = NSLock()
    private var idle: [PostgresConnection] = []
    private var closed = false
    private var nextID = 0

    /// Connects to the database at a `postgres://` URL and applies the migrations it lacks.
    public convenience init(url: String) throws {
        try self.init(configuration: try PostgresURL.configuration(url))
    }

    /// Connects with a ready configuration and applies the migrations it lacks.
    public init(configuration: PostgresConnection.Configuration, logger: Logger = Logger(label: "fieldledger.postgres")) throws {
        self.configuration = configuration
        self.logger = logger
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            try PostgresMigrations.apply(self)
        } catch {
            close()
            throw error
        }
    }

    /// Closes every connection; later calls fail.
    public func close() {
        let connections = lock.withLock { () -> [PostgresConnection] in
            defer { idle = []; closed = true }
            return closed ? [] : idle
        }
        for connection in connections { try? connection.close().wait() }
        try? group.syncShutdownGracefully()
    }

    deinit { close() }

    // MARK: Connections

    /// Runs `body` on a connection of the pool (opened when none is idle); a closed connection
    /// is dropped rather than handed out again.
    func withSession<T>(_ body: (PostgresSession) throws -> T) throws -> T {
        let connection = try take()
        defer { give(connection) }
        return try body(PostgresSession(connection: connection, logger: logger))
    }

    private func take() throws -> PostgresConnection {
        while true {
            let candidate = try lock.withLock { () throws -> PostgresConnection? in
                guard !closed else { throw ServiceError(.storageFailed, "The PostgreSQL storage was closed; restart the server.") }
                return idle.popLast()
            }
            guard let candidate else { break }
            if !candidate.isClosed { return candidate }
        }
        let id = lock.withLock { () -> Int in
            nextID += 1
            return nextID
        }
        do {
            let connection = try PostgresConnection.connect(on: group.next(), configuration: configuration, id: id, logger: logger).wait()
            // A push is acknowledged after its commit: the commit must be flushed to disk, whatever
            // the database's default.
            _ = try connection.query("SET synchronous_commit = on", logger: logger).wait()
            return connection
        } catch {
            throw PostgresErrors.service(error, doing: "connect to the database")
        }
    }

    private func give(_ connection: PostgresConnection) {
        let keep = lock.withLock { () -> Bool in
            guard !closed, !connection.isClosed, idle.count < PostgresLimits.idleConnectionsMax else { return false }
            idle.append(connection)
            return true
        }
        if !keep { let _: EventLoopFuture<Void> = connection.close() }
    }

    /// Runs `body` between BEGIN and COMMIT (ROLLBACK when it throws).
    @discardableResult
    func transaction<T>(_ begin: PostgresQuery = "BEGIN", _ body: (PostgresSession) throws -> T) throws -> T {
        try withSession { session in
            try session.execute(begin)
            do {
                let value = try body(session)
                // COMMIT of a transaction an earlier statement aborted answers ROLLBACK, not an
                // error: without this check a caller that caught that statement's error would
                // take the rollback for a commit and acknowledge what was never stored.
                let tag = try session.command("COMMIT")
                guard tag == "COMMIT" else {
                    throw ServiceError(.storageFailed, "PostgreSQL rolled the transaction back (it answered \(tag) to COMMIT); nothing was stored, retry.")
                }
                return value
            } catch {
                _ = try? session.execute("ROLLBACK")
                throw error
            }
        }
    }

    // MARK: LedgerStorage

    public func createCompany(_ id: CompanyID, state: CompanyState, serverReplica: ReplicaID) throws {
        let blob = PostgresForm.bytes(PostgresForm.encode(state))
        let created = try transaction { session in
            try session.execute("""
                INSERT INTO company (id, initial_state, state, log_digest, server_replica)
                VALUES (\(id.rawValue), \(blob), \(blob), \(PostgresForm.bytes(LogDigest.empty)), \(PostgresForm.bytes(serverReplica.bytes)))
                ON CONFLICT (id) DO NOTHING
                """)
        }
        guard created == 1 else { throw ServiceError(.conflict, "A company with the id '\(id)' already exists; choose another id.") }
    }

    public var writersAtOnce: Int { PostgresLimits.writersAtOnce }

    public func companies() throws -> [CompanyID] {
        try withSession { session in
            try session.rows("SELECT id FROM company ORDER BY id").map { try CompanyID(try $0.decode(String.self)) }
        }
    }

    public func write<T>(_ body: (_ open: (CompanyID) throws -> any LedgerTransaction) throws -> T) throws -> T {
        try transaction { session in
            var opened: [PostgresTransaction] = []
            let value = try body { company in
                // Opening a company is a statement too: what the others kept back goes first.
                for tx in opened { try tx.flush() }
                // The row lock serializes this company's appends with every other process's, and
                // keeps the head read with it true until the commit.
                guard let row = try session.rows("SELECT key, head, log_digest FROM company WHERE id = \(company.rawValue) FOR UPDATE").first else {
                    throw ServiceError(.notFound, "There is no company '\(company)' on this server.")
                }
                let (key, head, digest) = try row.decode((Int64, Int64, ByteBuffer).self)
                let tx = PostgresTransaction(session: session, company: key,
                                             pending: PendingAppends(head: (UInt64(head), PostgresForm.array(digest))))
                opened.append(tx)
                return tx
            }
            for tx in opened { try tx.flush() }
            return value
        }
    }

    public func read<T>(_ company: CompanyID, _ body: (any LedgerTransaction) throws -> T) throws -> T {
        try transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { session in
            try body(PostgresTransaction(session: session, company: try Self.key(of: company, session)))
        }
    }

    // MARK: AdminStorage

    public func setUser(_ user: UserID, role: Role, company: CompanyID) throws {
        try transaction { session in
            try session.execute("""
                INSERT INTO company_user (company, id, role) VALUES (\(try Self.key(of: company, session)), \(user.rawValue), \(StoredRoles.code(role)))
                ON CONFLICT (company, id) DO UPDATE SET role = excluded.role
                """)
        }
    }

    public func users(company: CompanyID) throws -> [Actor] {
        try withSession { session in
            try session.rows("SELECT id, role FROM company_user WHERE company = \(try Self.key(of: company, session)) ORDER BY id").map { row in
                let (id, role) = try row.decode((String, Int64).self)
                return Actor(user: try UserID(id), role: try StoredRoles.role(role))
            }
        }
    }

    public func registerDevice(tokenHash: [UInt8], credential: DeviceCredential) throws {
        try transaction { session in
            try session.execute("""
                INSERT INTO device (token_hash, company, user_id, role, replica)
                VALUES (\(PostgresForm.bytes(tokenHash)), \(try Self.key(of: credential.company, session)), \(credential.actor.user.rawValue),
                        \(StoredRoles.code(credential.actor.role)), \(PostgresForm.bytes(credential.replica.bytes)))
                """)
        }
    }

    public func device(tokenHash: [UInt8]) throws -> (credential: DeviceCredential, revoked: Bool)? {
        try withSession { session in
            guard let row = try session.rows("""
                SELECT company.id, user_id, role, replica, revoked FROM device JOIN company ON company.key = device.company
                WHERE token_hash = \(PostgresForm.bytes(tokenHash))
                """).first else { return nil }
            let (company, user, role, replica, revoked) = try row.decode((String, String, Int64, ByteBuffer, Bool).self)
            let credential = DeviceCredential(company: try CompanyID(company), actor: Actor(user: try UserID(user), role: try StoredRoles.role(role)),
                                              replica: try PostgresForm.replica(replica))
            return (credential, revoked)
        }
    }

    public func revokeDevice(replica: ReplicaID, company: CompanyID) throws -> Bool {
        try transaction { session in
            try session.execute("""
                UPDATE device SET revoked = true WHERE company = \(try Self.key(of: company, session)) AND replica = \(PostgresForm.bytes(replica.bytes))
                """) > 0
        }
    }

    static func key(of company: CompanyID, _ session: PostgresSession) throws -> Int64 {
        guard let key = try session.rows("SELECT key FROM company WHERE id = \(company.rawValue)").first?.decode(Int64.self) else {
            throw ServiceError(.notFound, "There is no company '\(company)' on this server.")
        }
        return key
    }
}

/// The PostgreSQL storage's limits, in one place.
public enum PostgresLimits {
    /// Connections kept open between calls; more are opened while calls overlap.
    public static let idleConnectionsMax = 8
    /// Writes for different companies a service runs at once, each on a thread and connection
    /// of its own: a writer waits on the database for about half its time, which another
    /// company's writer fills (decision 0045). One company is always one writer's.
    public static let writersAtOnce = 4
    /// The advisory lock that lets one process at a time apply migrations.
    public static let migrationLockKey: Int64 = 0x4669_656C_644C_6467
}

/// One connection's statements, each waited for.
struct PostgresSession {
    let connection: PostgresConnection
    let logger: Logger

    func rows(_ query: PostgresQuery) throws -> [PostgresRow] {
        do {
            return try connection.query(query, logger: logger).wait().rows
        } catch {
            throw PostgresErrors.service(error, doing: "run a query")
        }
    }

    /// Runs a statement; returns its command tag (COMMIT answers ROLLBACK when it rolled back).
    func command(_ query: PostgresQuery) throws -> String {
        do {
            return try connection.query(query, logger: logger).wait().metadata.command
        } catch {
            throw PostgresErrors.service(error, doing: "run a statement")
        }
    }

    /// Runs a statement; returns the rows it changed.
    @discardableResult
    func execute(_ query: PostgresQuery) throws -> Int {
        do {
            return try connection.query(query, logger: logger).wait().metadata.rows ?? 0
        } catch {
            throw PostgresErrors.service(error, doing: "run a statement")
        }
    }
}

/// PostgreSQL's errors as the service's, keeping the SQLSTATE for the callers that care.
enum PostgresErrors {
    static func service(_ error: any Error, doing what: String) -> ServiceError {
        if let error = error as? ServiceError { return error }
        if let error = error as? PSQLError, error.serverInfo != nil {
            let state = error.serverInfo?[.sqlState]
            let message = error.serverInfo?[.message] ?? "\(error.code)"
            return ServiceError(.storageFailed, "PostgreSQL refused to \(what): \(message) (SQLSTATE \(state ?? "none")); check the database and the server's log.")
        }
        let reason = (error as? PSQLError).map { psql in "\(psql.code)" + (psql.underlying.map { ": \($0)" } ?? "") } ?? "\(error)"
        if (error as? PSQLError)?.underlying is NIOSSLError || reason.contains("CERTIFICATE_VERIFY_FAILED") {
            return ServiceError(.storageFailed, "Could not \(what): the TLS handshake failed (\(reason)); with sslmode=verify-ca or verify-full give the roots that signed the server's certificate as sslrootcert=/path/ca.pem.")
        }
        return ServiceError(.storageFailed, "Could not \(what) (\(reason)); check that PostgreSQL is running and the URL is right.")
    }
}

/// Byte strings bound as one `bytea[]`, each written straight from its array into the
/// statement's buffer. A `ByteBuffer` made for each (an object, an allocation and a copy, then
/// freed) was a quarter of a PostgreSQL writer's time at four of them per log entry.
struct ByteStrings: PostgresNonThrowingEncodable {
    private enum Source {
        case arrays([[UInt8]])
        case replicas([ReplicaID])
    }
    private let source: Source

    /// The arrays, each one element.
    init(_ arrays: [[UInt8]]) { source = .arrays(arrays) }
    /// Replica ids, each as its 16 bytes (`ReplicaID.bytes`).
    init(_ replicas: [ReplicaID]) { source = .replicas(replicas) }

    static var psqlType: PostgresDataType { .byteaArray }
    static var psqlFormat: PostgresFormat { .binary }

    /// PostgreSQL's binary array: dimensions, no nulls, the element type, the length and lower
    /// bound of the one dimension, then each element as its length and bytes.
    func encode<JSONEncoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        let count: Int
        switch source {
        case .arrays(let arrays): count = arrays.count
        case .replicas(let replicas): count = replicas.count
        }
        buffer.writeInteger(count == 0 ? 0 : 1, as: Int32.self)
        buffer.writeInteger(0, as: Int32.self)
        buffer.writeInteger(PostgresDataType.bytea.rawValue)
        guard count > 0 else { return }
        buffer.writeInteger(Int32(count))
        buffer.writeInteger(1, as: Int32.self)
        switch source {
        case .arrays(let arrays):
            for array in arrays {
                buffer.writeInteger(Int32(array.count))
                buffer.writeBytes(array)
            }
        case .replicas(let replicas):
            for replica in replicas {
                buffer.writeInteger(16, as: Int32.self)
                buffer.writeInteger(replica.high, endianness: .big)
                buffer.writeInteger(replica.low, endianness: .big)
            }
        }
    }
}

/// Bytes as bound and read: `bytea` through `ByteBuffer` (an `[UInt8]` would bind as an array).
enum PostgresForm {
    static func bytes(_ bytes: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: bytes) }

    static func array(_ buffer: ByteBuffer) -> [UInt8] { Array(buffer.readableBytesView) }

    static func replica(_ buffer: ByteBuffer) throws -> ReplicaID {
        guard let replica = ReplicaID(bytes: array(buffer)) else { throw ServiceError(.storageFailed, "A stored replica id is not 16 bytes.") }
        return replica
    }

    /// Big-endian bytes, so `bytea` orders jobs as the core does.
    static func job(_ id: JobID) -> ByteBuffer {
        var bytes = id.dot.replica.bytes
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: id.dot.counter >> UInt64(shift))) }
        return ByteBuffer(bytes: bytes)
    }

    /// Entries, jobs and company state are stored as their canonical bytes (decision 0012).
    static func encode<T: Encodable>(_ value: T) -> [UInt8] { CanonicalEncoding.bytes(of: value) }

    static func decode<T: Decodable>(_ type: T.Type, _ buffer: ByteBuffer) throws -> T {
        do {
            return try CanonicalEncoding.decode(type, from: array(buffer))
        } catch {
            throw ServiceError(.storageFailed, "A stored \(T.self) does not read back (\(error)); the database is damaged.")
        }
    }

    static func entry(_ bytes: [UInt8]) throws -> LogEntry {
        do {
            return try CanonicalEncoding.decodeEntry(bytes)
        } catch {
            throw ServiceError(.storageFailed, "A stored LogEntry does not read back (\(error)); the database is damaged.")
        }
    }

    /// `bigint` is signed 64-bit; counters and sequences past that are refused.
    static func integer(_ value: UInt64) throws -> Int64 {
        guard let signed = Int64(exactly: value) else { throw ServiceError(.invalidRequest, "A counter or sequence is beyond 2^63 - 1.") }
        return signed
    }
}

/// `postgres://user:password@host:port/database`; a `host` query item names a Unix socket
/// directory instead, and `sslmode` (`disable`, `prefer`: the default, `require`, `verify-ca`,
/// `verify-full`) and `sslrootcert` (a PEM file of roots to trust instead of the system's) set
/// TLS over TCP, as libpq reads them.
public enum PostgresURL {
    /// The connection settings a URL names, or a clear error.
    public static func configuration(_ url: String) throws -> PostgresConnection.Configuration {
        guard let parts = URLComponents(string: url), ["postgres", "postgresql"].contains(parts.scheme ?? "") else {
            throw ServiceError(.invalidRequest, "The database URL must look like postgres://user:password@host:5432/database.")
        }
        guard let user = parts.user, !user.isEmpty else {
            throw ServiceError(.invalidRequest, "The database URL names no user; write postgres://user@host/database.")
        }
        let database = parts.path.hasPrefix("/") ? String(parts.path.dropFirst()) : parts.path
        let items = Dictionary(parts.queryItems?.map { ($0.name, $0.value ?? "") } ?? [], uniquingKeysWith: { _, last in last })
        let port = parts.port ?? Int(items["port"] ?? "") ?? 5432
        if let socketDirectory = items["host"], socketDirectory.hasPrefix("/") {
            return .init(unixSocketPath: socketDirectory + "/.s.PGSQL.\(port)", username: user, password: parts.password,
                         database: database.isEmpty ? nil : database)
        }
        guard let host = parts.host, !host.isEmpty else {
            throw ServiceError(.invalidRequest, "The database URL names no host; write postgres://user@host:5432/database or ?host=/socket/directory.")
        }
        return .init(host: host, port: port, username: user, password: parts.password, database: database.isEmpty ? nil : database,
                     tls: try tls(mode: items["sslmode"] ?? "prefer", roots: items["sslrootcert"]))
    }

    /// What `sslmode` asks for. As in libpq, `prefer` and `require` encrypt without checking who
    /// answers; `verify-ca` checks the certificate's chain and `verify-full` also its host name.
    static func tls(mode: String, roots: String?) throws -> PostgresConnection.Configuration.TLS {
        var settings = TLSConfiguration.makeClientConfiguration()
        switch mode {
        case "disable": return .disable
        case "prefer", "require": settings.certificateVerification = .none
        case "verify-ca": settings.certificateVerification = .noHostnameVerification
        case "verify-full": settings.certificateVerification = .fullVerification
        default:
            throw ServiceError(.invalidRequest, "The database URL's sslmode must be disable, prefer, require, verify-ca or verify-full, not '\(mode)'.")
        }
        if let roots {
            guard FileManager.default.isReadableFile(atPath: roots) else {
                throw ServiceError(.invalidRequest, "The database URL's sslrootcert \(roots) cannot be read; give the path of a PEM file of the roots to trust.")
            }
            settings.trustRoots = .file(roots)
        }
        let context: NIOSSLContext
        do {
            context = try NIOSSLContext(configuration: settings)
        } catch {
            throw ServiceError(.invalidRequest, "The database URL's TLS settings do not load (\(error)); check sslrootcert.")
        }
        return mode == "prefer" ? .prefer(context) : .require(context)
    }
}
