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
        case .sqlite: return try await body(.sqlite(path: Self.temporaryFile()))
        case .postgres: return try await PostgresServer.withDatabase { url in try await body(.postgres(url: url)) }
        }
    }

    /// `withSite` for synchronous tests.
    public func withSite<T>(_ body: (StorageSite) throws -> T) throws -> T {
        switch self {
        case .sqlite: return try body(.sqlite(path: Self.temporaryFile()))
        case .postgres: return try PostgresServer.withDatabase { url in try body(.postgres(url: url)) }
        }
    }

    /// A SQLite file's path in a new temporary directory of its own, named as the server binary
    /// names its file in a data directory (`FieldLedgerServer.databasePath`), so that a server
    /// started with `serverArguments` and `open()` use the same file.
    private static func temporaryFile() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fieldledger-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent("fieldledger.sqlite").path
    }
}

/// One ledger's storage place: a SQLite file, or a PostgreSQL database. Every `open()` is a new
/// storage on the same data, as a restarted or a second server process has.
public enum StorageSite: Sendable {
    case sqlite(path: String)
    case postgres(url: String)

    /// The SQLite file (nil on PostgreSQL), for the tests of SQLite itself.
    public var sqlitePath: String? {
        if case .sqlite(let path) = self { return path }
        return nil
    }

    /// How `fieldledger-server` is told to use this place: its data directory, or the database.
    public var serverArguments: [String] {
        switch self {
        case .sqlite(let path): return ["--data", URL(fileURLWithPath: path).deletingLastPathComponent().path]
        case .postgres(let url): return ["--database", url]
        }
    }

    /// Opens a storage on this place, running migrations as a starting server does.
    public func open() throws -> AnyServerStorage {
        switch self {
        case .sqlite(let path): return AnyServerStorage(try SQLiteLedgerStorage(path: path))
        case .postgres(let url): return AnyServerStorage(try PostgresLedgerStorage(url: url))
        }
    }
}
