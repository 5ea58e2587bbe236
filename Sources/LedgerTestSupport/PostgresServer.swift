import Foundation
import Synchronization

/// A real PostgreSQL server for the tests: the distribution's binaries, a cluster in a fresh
/// temporary directory, listening on a Unix socket there (and, with TLS, on a loopback port that
/// takes only TLS connections), stopped and removed by `stop()`. As root it runs as the
/// `postgres` user (PostgreSQL refuses root).
public final class PostgresServer: @unchecked Sendable {
    /// The cluster's superuser, trusted over the socket.
    public static let user = "fieldledger"
    /// The socket's port number when nothing listens on TCP (it only names the socket file).
    public static let socketPort = 5432

    /// Where the binaries are, or why there are none.
    public static let binaries: Result<String, PostgresUnavailable> = findBinaries()

    /// Whether the tests can start a server here.
    public static var available: Bool { (try? binaries.get()) != nil }

    /// When set (CI sets it), a missing PostgreSQL fails the tests instead of skipping them.
    public static var required: Bool { ProcessInfo.processInfo.environment["FIELDLEDGER_REQUIRE_POSTGRES"] == "1" }

    public let directory: String
    /// The port: the loopback TCP port with TLS, else only the socket file's name.
    public let port: Int
    /// With TLS: the server's self-signed certificate (a client's root to trust), in PEM.
    public let certificatePath: String?
    private let bin: String
    private let runAs: String?
    private var running = true

    /// Starts a server in a new temporary directory; throws if it cannot. With `tlsPort` it also
    /// listens on 127.0.0.1 at that port, for TLS connections only, with a certificate for
    /// `localhost` and 127.0.0.1 made by `openssl`.
    public init(tlsPort: Int? = nil) throws {
        bin = try Self.binaries.get()
        runAs = getuid() == 0 ? "postgres" : nil
        port = tlsPort ?? Self.socketPort
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("fieldledger-pg-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if let runAs { try Self.run("/bin/chown", [runAs, directory], as: nil) }
        try Self.run(bin + "/initdb", ["-D", directory + "/data", "-U", Self.user, "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"], as: runAs)
        var options = "-k \(directory) -p \(port) -c max_connections=200"
        if tlsPort != nil {
            let certificate = directory + "/server.crt", key = directory + "/server.key"
            try Self.run("/usr/bin/openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                                              "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                                              "-keyout", key, "-out", certificate], as: runAs)
            try Self.run("/bin/chmod", ["600", key], as: runAs)
            // Over TCP only TLS is accepted (the socket stays open for createdb).
            try "local all all trust\nhostssl all all 127.0.0.1/32 trust\n".write(toFile: directory + "/pg_hba.conf", atomically: true, encoding: .utf8)
            if let runAs { try Self.run("/bin/chown", [runAs, directory + "/pg_hba.conf"], as: nil) }
            options += " -c listen_addresses=127.0.0.1 -c ssl=on -c ssl_cert_file=\(certificate) -c ssl_key_file=\(key) -c hba_file=\(directory)/pg_hba.conf"
            certificatePath = certificate
        } else {
            options += " -c listen_addresses="
            certificatePath = nil
        }
        // Durable settings stay on (fsync, synchronous_commit): the tests check what the server
        // acknowledges, and the storage relies on them.
        try Self.run(bin + "/pg_ctl", ["-D", directory + "/data", "-l", directory + "/server.log", "-w", "-t", "60", "-o", options, "start"], as: runAs)
    }

    /// A `postgres://` URL of a new database on this server: empty, or a copy of `template`
    /// (which nobody may be connected to).
    public func makeDatabase(_ name: String = "fl_" + UUID().uuidString.prefix(8).lowercased(), template: String? = nil) throws -> String {
        try Self.run(bin + "/createdb", ["-h", directory, "-p", "\(port)", "-U", Self.user] + (template.map { ["-T", $0] } ?? []) + [name], as: runAs)
        return "postgres://\(Self.user)@/\(name)?host=\(directory)&port=\(port)"
    }

    /// Stops the server and removes its directory.
    public func stop() {
        guard running else { return }
        running = false
        _ = try? Self.run(bin + "/pg_ctl", ["-D", directory + "/data", "-m", "fast", "-w", "stop"], as: runAs)
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit { stop() }

    /// Runs SQL on the database at `url` with `psql` (the tests' way to reach behind the storage).
    @discardableResult
    public static func execute(_ sql: String, url: String) throws -> String {
        try run(try binaries.get() + "/psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql], as: nil)
    }

    private static let shared = Mutex<(server: PostgresServer?, users: Int)>((nil, 0))

    /// Runs `body` with a new, empty database on a server shared by the tests running at the
    /// same moment: the first starts it, the last one out stops it (a server per test would
    /// spend a second of initdb on each).
    public static func withDatabase<T>(_ body: (String) async throws -> T) async throws -> T {
        let server = try lease()
        defer { release() }
        return try await body(try server.makeDatabase())
    }

    /// `withDatabase` for synchronous tests.
    public static func withDatabase<T>(_ body: (String) throws -> T) throws -> T {
        let server = try lease()
        defer { release() }
        return try body(try server.makeDatabase())
    }

    private static func lease() throws -> PostgresServer {
        try shared.withLock { state in
            let server = try state.server ?? PostgresServer()
            state = (server, state.users + 1)
            return server
        }
    }

    private static func release() {
        shared.withLock { state in
            state.users -= 1
            if state.users == 0 {
                state.server?.stop()
                state.server = nil
            }
        }
    }

    private static func findBinaries() -> Result<String, PostgresUnavailable> {
        let environment = ProcessInfo.processInfo.environment
        if let bin = environment["FIELDLEDGER_POSTGRES_BIN"] { return .success(bin) }
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted()
        for version in versions.reversed() where FileManager.default.isExecutableFile(atPath: "\(root)/\(version)/bin/initdb") {
            return .success("\(root)/\(version)/bin")
        }
        return .failure(PostgresUnavailable(message: "No PostgreSQL server binaries (initdb, pg_ctl) under \(root)/*/bin and FIELDLEDGER_POSTGRES_BIN is not set; install postgresql (README, Set-up)."))
    }

    /// Runs a program to its end, as `user` when given (through `setpriv`, which execs in place).
    /// Spawned and reaped by hand: Foundation's `Process` missed the exit of `runuser` around
    /// `pg_ctl start` (its child left a zombie and `waitUntilExit` never returned).
    @discardableResult
    private static func run(_ executable: String, _ arguments: [String], as user: String?) throws -> String {
        let command = user.map { ["/usr/bin/setpriv", "--reuid=\($0)", "--regid=\($0)", "--init-groups", "--"] } ?? []
        // From `/`: the test's working directory may be closed to the postgres user.
        let argv = ["/usr/bin/env", "-C", "/"] + command + [executable] + arguments
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("fieldledger-pg-run-\(UUID().uuidString.prefix(8)).txt").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var pid: pid_t = 0
        let cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, cArguments, environ)
        guard spawned == 0 else { throw PostgresUnavailable(message: "Could not start \(argv[0]) (errno \(spawned)).") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        // Exited normally with status 0 (the wait status's low 7 bits are 0 and the next 8 are 0).
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            throw PostgresUnavailable(message: "\(argv.joined(separator: " ")) failed (wait status \(status)): \(text)")
        }
        return text
    }
}

/// Why a PostgreSQL server could not be started.
public struct PostgresUnavailable: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
