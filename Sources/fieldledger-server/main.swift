// The office sync server: `fieldledger-server serve`, and its administration from the shell.
import ArgumentParser
import Foundation
import Hummingbird
import Logging
import LedgerCore
import LedgerServer
import LedgerService
import PostgresLedgerStorage
import SyncProtocol

/// Where the data lives: a PostgreSQL database shared by several processes when a URL is given,
/// otherwise one SQLite file in the data directory.
struct DataOption: ParsableArguments {
    @Option(name: .long, help: "The data directory for the SQLite database (environment: FIELDLEDGER_DATA; default ./fieldledger-data).")
    var data: String = ProcessInfo.processInfo.environment["FIELDLEDGER_DATA"] ?? "fieldledger-data"
    @Option(name: .long, help: "A PostgreSQL database instead, shared by every server process: postgres://user:password@host:5432/db or postgres://user@/db?host=/socket/dir (environment: FIELDLEDGER_DATABASE).")
    var database: String?

    var databaseURL: String? { database ?? ProcessInfo.processInfo.environment["FIELDLEDGER_DATABASE"].flatMap { $0.isEmpty ? nil : $0 } }

    func server(snapshotLagEntries: UInt64 = ServiceLimits.snapshotLagEntries) throws -> FieldLedgerServer {
        guard let url = databaseURL else { return try FieldLedgerServer(dataDirectory: data, snapshotLagEntries: snapshotLagEntries) }
        return FieldLedgerServer(storage: try PostgresLedgerStorage(url: url), snapshotLagEntries: snapshotLagEntries)
    }

    /// Where the data is, for the start-up line: never the database password.
    var described: String {
        guard let url = databaseURL, var parts = URLComponents(string: url) else { return "data in \(data)" }
        if parts.password != nil { parts.password = "***" }
        return "database \(parts.string ?? "postgres")"
    }
}

@main
struct FieldLedgerServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fieldledger-server",
        abstract: "The FieldLedger office sync server.",
        subcommands: [Serve.self, Company.self, User.self, Token.self])

    /// The processor's SHA instructions for the log's digests, before anything hashes.
    static func main() async {
        HardwareSHA256.installIfAvailable()
        await main(nil)
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve sync and the office API over HTTP until SIGTERM or SIGINT.")

    @Option(help: "The address to listen on (environment: FIELDLEDGER_HOST).")
    var host: String = ProcessInfo.processInfo.environment["FIELDLEDGER_HOST"] ?? "127.0.0.1"
    @Option(help: "The port to listen on (environment: FIELDLEDGER_PORT).")
    var port: Int = ProcessInfo.processInfo.environment["FIELDLEDGER_PORT"].map { Int($0) ?? -1 } ?? 8080
    @Option(name: .customLong("tls-cert"), help: "A PEM certificate chain, leaf first, to serve HTTPS directly (environment: FIELDLEDGER_TLS_CERT).")
    var tlsCertificate: String?
    @Option(name: .customLong("tls-key"), help: "The certificate's unencrypted PEM private key (environment: FIELDLEDGER_TLS_KEY).")
    var tlsKey: String?
    @Option(help: "trace, debug, info (default), notice, warning, error or critical (environment: FIELDLEDGER_LOG_LEVEL). Pulls are logged at debug; no level logs amounts, names or tokens.")
    var logLevel: String = ProcessInfo.processInfo.environment["FIELDLEDGER_LOG_LEVEL"] ?? "info"
    @Option(name: .customLong("snapshot-every"), help: "Log entries between stored snapshots of the job projections: a restart replays at most this many, and each snapshot rewrites every job changed since the last (environment: FIELDLEDGER_SNAPSHOT_EVERY; default 1,000,000).")
    var snapshotEvery: UInt64 = ProcessInfo.processInfo.environment["FIELDLEDGER_SNAPSHOT_EVERY"].map { UInt64($0) ?? 0 } ?? ServiceLimits.snapshotLagEntries
    @Option(name: .customLong("release-idle-after"), help: "Seconds a company may go without a push or a read before this process releases its memory; its next request loads it again (environment: FIELDLEDGER_RELEASE_IDLE_AFTER; default 3600; 0: never).")
    var releaseIdleAfter: Double = ProcessInfo.processInfo.environment["FIELDLEDGER_RELEASE_IDLE_AFTER"].map { Double($0) ?? .nan } ?? ServerLimits.companyIdleSeconds
    @OptionGroup var data: DataOption

    var certificate: String? { tlsCertificate ?? ProcessInfo.processInfo.environment["FIELDLEDGER_TLS_CERT"] }
    var key: String? { tlsKey ?? ProcessInfo.processInfo.environment["FIELDLEDGER_TLS_KEY"] }

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("The log level is one of trace, debug, info, notice, warning, error, critical.")
        }
        // An environment value that does not parse arrives here as one these refuse, rather than
        // quietly becoming the default.
        guard (0...65_535).contains(port) else {
            throw ValidationError("--port (or FIELDLEDGER_PORT) is a TCP port, 0 to 65535 (0: any free one).")
        }
        guard snapshotEvery >= 1 else {
            throw ValidationError("--snapshot-every (or FIELDLEDGER_SNAPSHOT_EVERY) is a number of log entries, at least 1 (the default is 1000000).")
        }
        guard releaseIdleAfter >= 0, releaseIdleAfter.isFinite else {
            throw ValidationError("--release-idle-after (or FIELDLEDGER_RELEASE_IDLE_AFTER) is a number of seconds, 0 or more (0 never releases; the default is 3600).")
        }
        guard (certificate == nil) == (key == nil) else {
            throw ValidationError("Give both --tls-cert and --tls-key to serve HTTPS, or neither to serve HTTP (behind a TLS-terminating proxy).")
        }
    }

    func run() async throws {
        let server = try data.server(snapshotLagEntries: snapshotEvery)
        let tls = certificate.map { ServerTLS(certificatePath: $0, keyPath: key ?? "") }
        let scheme = tls == nil ? "http" : "https"
        var logger = Logger(label: "fieldledger")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let app = try server.application(host: host, port: port, tls: tls, logger: logger) { port in
            print("fieldledger-server listening on \(scheme)://\(host):\(port), \(data.described)")
            // Out now even into a pipe: supervisors and tests wait for this line to learn the port.
            fflush(nil)
        }
        let releasing = releaseIdleAfter > 0 ? server.releasingIdleCompanies(after: releaseIdleAfter) : nil
        // Hummingbird finishes the requests in flight (and their commits) before it stops.
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
        releasing?.cancel()
        server.service.close()
    }
}

struct Company: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage companies.", subcommands: [Create.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a company with the default progress-billing settings.")
        @Argument(help: "The company id: a-z, 0-9 and '-'.") var id: String
        @OptionGroup var data: DataOption

        func run() throws {
            try data.server().administration.createCompany(try CompanyID(id))
            print("created company \(id)")
        }
    }
}

struct User: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage users.", subcommands: [Add.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a user to a company, or change the user's role.")
        @Argument(help: "The company id.") var company: String
        @Argument(help: "The user id.") var user: String
        @Option(help: "technician, office or owner.") var role: String
        @OptionGroup var data: DataOption

        func run() throws {
            guard let parsed = Role(rawValue: role) else {
                throw ValidationError("The role must be technician, office or owner.")
            }
            try data.server().administration.setUser(try UserID(user), role: parsed, company: try CompanyID(company))
            print("user \(user) is \(role) in \(company)")
        }
    }
}

struct Token: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Issue and revoke device tokens.", subcommands: [Issue.self, Revoke.self])

    struct Issue: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue a token for a user's new device; it is printed once and stored hashed.")
        @Argument(help: "The company id.") var company: String
        @Argument(help: "The user id.") var user: String
        @OptionGroup var data: DataOption

        func run() throws {
            let issued = try data.server().administration.issueToken(company: try CompanyID(company), user: try UserID(user))
            print("token:   \(issued.token)")
            print("replica: \(issued.credential.replica)")
            print("Give the token to the device now; it cannot be shown again.")
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a device's token by its replica id.")
        @Argument(help: "The company id.") var company: String
        @Argument(help: "The device's replica id (a UUID).") var replica: String
        @OptionGroup var data: DataOption

        func run() throws {
            try data.server().administration.revoke(replica: try ReplicaID(uuidString: replica), company: try CompanyID(company))
            print("revoked device \(replica)")
        }
    }
}
