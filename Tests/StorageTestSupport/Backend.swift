import Foundation
import LedgerService
import LedgerTestSupport
import PostgresLedgerStorage
import SQLiteLedgerStorage

/// The storages the service and server tests run against (issue G: every one of them on both).
public enum Backend: Sendable, CustomStringConvertible {
    case sqlite, postgres

    /// SQLite always; PostgreSQL where the tests can start one, or must (then a missing one fails
    /// loudly instead of dropping the cases).
    public static var all: [Backend] { PostgresServer.available || PostgresServer.required ? [.sqlite, .postgres] : [.sqlite] }

    /// Why the PostgreSQL cases are missing, for the tests that stand in for them.
    public static let skipReason = "PostgreSQL is not installed here, so the PostgreSQL cases are NOT RUN (set FIELDLEDGER_REQUIRE_POSTGRES=1 to make this a failure)"

    public var description: String { self == .sqlite ? "SQLite" : "PostgreSQL" }

    /// Runs `body` with a new, empty place of this kind to store a ledger in.
    public func withSite<T>(_ body: (StorageSite) async throws -> T) async throws -> T {
        switch self {
        case .sqlite: return try await body(StorageSite(sqliteDirectory: Self.temporaryDirectory()))
        case .postgres: return try await PostgresServer.withDatabase { url in try await body(StorageSite(postgresURL: url)) }
        }
    }

    /// `withSite` for synchronous tests.
    public func withSite<T>(_ body: (StorageSite) throws -> T) throws -> T {
        switch self {
        case .sqlite: return try body(StorageSite(sqliteDirectory: Self.temporaryDirectory()))
        case .postgres: return try PostgresServer.withDatabase { url in try body(StorageSite(postgresURL: url)) }
        }
    }

    private static func temporaryDirectory() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fieldledger-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }
}

/// One ledger's storage place: a SQLite file in a directory, or a PostgreSQL database. Every
/// `open()` is a new storage on the same data, as a restarted or a second server process has.
public struct StorageSite: Sendable {
    /// The SQLite file (nil on PostgreSQL).
    public let sqlitePath: String?
    /// The database URL (nil on SQLite).
    public let postgresURL: String?

    init(sqliteDirectory: String) {
        sqlitePath = URL(fileURLWithPath: sqliteDirectory).appendingPathComponent("ledger.sqlite").path
        postgresURL = nil
    }

    init(postgresURL: String) {
        sqlitePath = nil
        self.postgresURL = postgresURL
    }

    /// How `fieldledger-server` is told to use this place: its data directory, or the database.
    public var serverArguments: [String] {
        if let sqlitePath { return ["--data", URL(fileURLWithPath: sqlitePath).deletingLastPathComponent().path] }
        return ["--database", postgresURL!]
    }

    /// Opens a storage on this place, running migrations as a starting server does.
    public func open() throws -> AnyServerStorage {
        if let sqlitePath { return AnyServerStorage(try SQLiteLedgerStorage(path: sqlitePath)) }
        return AnyServerStorage(try PostgresLedgerStorage(url: postgresURL!))
    }
}
