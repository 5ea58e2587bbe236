// swift-tools-version:6.1
import PackageDescription

// Dependency direction (see docs/ARCHITECTURE.md): LedgerCore depends on nothing. Later targets
// (SyncProtocol, LedgerService, storage adapters, the server and the client) stack on top of it.
// The simulator's self-test builds with one known bug planted (Simulator/README.md), for example
// FIELDLEDGER_PLANT=NO_DEDUPE swift build --product fieldledger-sim; never set otherwise.
let planted: [SwiftSetting] = Context.environment["FIELDLEDGER_PLANT"].map { [.define("PLANT_" + $0)] } ?? []

let package = Package(
    name: "FieldLedger",
    products: [
        .library(name: "LedgerCore", targets: ["LedgerCore"]),
        .library(name: "LedgerTestSupport", targets: ["LedgerTestSupport"]),
        .library(name: "SyncProtocol", targets: ["SyncProtocol"]),
        .library(name: "FieldClient", targets: ["FieldClient"]),
        .executable(name: "ledger-example", targets: ["ledger-example"]),
        .executable(name: "fieldledger-server", targets: ["fieldledger-server"]),
        .executable(name: "fieldledger", targets: ["fieldledger"]),
        .library(name: "FieldLedgerSimulator", targets: ["FieldLedgerSimulator"]),
        .executable(name: "fieldledger-sim", targets: ["fieldledger-sim"]),
    ],
    dependencies: [
        // Only the wire format uses it; LedgerCore stays dependency-free.
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        // The server's embedded storage.
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // The server's HTTP shell and command line.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // The server's structured logs (already in the graph through Hummingbird).
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // The end-to-end benchmark's HTTP client (already in the graph through HummingbirdTesting).
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // The scale-out storage: several server processes on one PostgreSQL (issue G).
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        // TLS to PostgreSQL (already in the graph through postgres-nio and HummingbirdTLS).
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // The pure rules: no package dependencies, no I/O, no clock, no randomness.
        .target(name: "LedgerCore", swiftSettings: planted),
        // The system zlib, for compression and CRC-32 of change sets.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // SHA-256 blocks with the processor's SHA instructions, installed into the core's
        // portable SHA-256 by each program at start (decision 0026).
        .target(name: "CSHA256"),
        .target(name: "CHeap"),
        // The wire format: envelope, limits, bounded decoding (sans I/O).
        .target(name: "SyncProtocol", dependencies: ["LedgerCore", "CZlib", "CSHA256", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        // Push and pull over a storage protocol (issue D), without HTTP.
        .target(name: "LedgerService", dependencies: ["LedgerCore", "SyncProtocol", "CHeap"]),
        // The default storage: one SQLite file through GRDB.
        .target(name: "SQLiteLedgerStorage", dependencies: [
            "LedgerService", "LedgerCore", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift"),
        ], swiftSettings: planted),
        // The scale-out storage: one PostgreSQL database shared by several server processes.
        .target(name: "PostgresLedgerStorage", dependencies: [
            "LedgerService", "LedgerCore", .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The office sync server's HTTP shell over LedgerService (issue D).
        // The reports by name, rendered as tables and JSON: shared by the server and the CLI.
        .target(name: "LedgerReports", dependencies: ["LedgerCore"]),
        .target(name: "LedgerServer", dependencies: [
            "LedgerReports",
            "LedgerService", "SQLiteLedgerStorage", "SyncProtocol", "LedgerCore",
            .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"), .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "fieldledger-server", dependencies: [
            "LedgerServer", "LedgerService", "SQLiteLedgerStorage", "PostgresLedgerStorage", "LedgerCore", "SyncProtocol",
            .product(name: "ArgumentParser", package: "swift-argument-parser"), .product(name: "Logging", package: "swift-log"),
        ]),
        // Seeded generators and fixtures shared by tests and, later, the simulator.
        // The device side: a replica in SQLite, the outbox, sync over a transport.
        .target(name: "FieldClient", dependencies: [
            "LedgerCore", "SyncProtocol", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ], swiftSettings: planted),
        // The field CLI; it links the server only for `fieldledger demo`'s embedded server.
        .executableTarget(name: "fieldledger", dependencies: [
            "FieldClient", "LedgerReports", "LedgerCore", "LedgerServer", "LedgerService", "SyncProtocol", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "LedgerTestSupport", dependencies: ["LedgerCore"]),
        // The simulator (issue F): seeded worlds of real replicas and the real service over an
        // in-memory network with faults; a library so the tests can run worlds.
        .target(name: "FieldLedgerSimulator", dependencies: [
            "FieldClient", "LedgerService", "SQLiteLedgerStorage", "SyncProtocol", "LedgerCore", "LedgerTestSupport",
            .product(name: "GRDB", package: "GRDB.swift"),
        ], path: "Simulator/Sources/FieldLedgerSimulator"),
        .executableTarget(name: "fieldledger-sim", dependencies: [
            "FieldLedgerSimulator", "LedgerCore", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Simulator/Sources/fieldledger-sim"),
        // Prints a worked example of the rules until the field CLI exists.
        .executableTarget(name: "ledger-example", dependencies: ["LedgerCore"]),
        // Release-mode benchmarks of the fold and the merge; never run by the tests. It uses no
        // package outside this one, so nothing reaches the product graph.
        .executableTarget(name: "ledger-bench", dependencies: ["LedgerCore", "LedgerTestSupport"], path: "Benchmarks/LedgerBench"),
        // Release-mode benchmark of the wire format's size and speed (issue C).
        .executableTarget(name: "protocol-bench", dependencies: ["SyncProtocol", "LedgerCore", "LedgerTestSupport"], path: "Benchmarks/ProtocolBench"),
        // Writes the wire format's preset dictionary (Protocol/README.md §3); run by hand.
        .executableTarget(name: "protocol-dictionary", dependencies: ["SyncProtocol", "LedgerCore", "LedgerTestSupport"], path: "Tools/ProtocolDictionary"),
        // Writes the seeded workload as JSON for the peers of issue H (Benchmarks/Peers).
        .executableTarget(name: "bench-workload", dependencies: ["LedgerCore", "LedgerTestSupport"], path: "Benchmarks/WorkloadExport"),
        // Release-mode benchmark of durable pushes through LedgerService on SQLite (issue D).
        .executableTarget(name: "service-bench", dependencies: ["CHeap", "LedgerService", "SQLiteLedgerStorage", "PostgresLedgerStorage", "SyncProtocol", "LedgerCore", "LedgerTestSupport"],
                          path: "Benchmarks/ServiceBench"),
        // Issue D's end-to-end benchmark: the fieldledger-server binary over loopback.
        .executableTarget(name: "client-bench", dependencies: [
            "FieldClient", "LedgerServer", "LedgerService", "SQLiteLedgerStorage", "SyncProtocol", "LedgerCore", "LedgerTestSupport",
        ], path: "Benchmarks/ClientBench"),
        .executableTarget(name: "server-bench", dependencies: [
            "LedgerServer", "LedgerService", "SQLiteLedgerStorage", "PostgresLedgerStorage", "SyncProtocol", "LedgerCore", "LedgerTestSupport",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ], path: "Benchmarks/ServerBench"),
        .testTarget(name: "LedgerCoreTests", dependencies: ["LedgerCore", "LedgerTestSupport"]),
        .testTarget(name: "SyncProtocolTests", dependencies: ["SyncProtocol", "LedgerCore", "LedgerTestSupport"]),
        .testTarget(name: "LedgerServerTests", dependencies: [
            "LedgerServer", "LedgerService", "StorageTestSupport", "SyncProtocol", "LedgerCore", "LedgerTestSupport",
            .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "FieldClientTests", dependencies: [
            "FieldClient", "LedgerReports", "LedgerServer", "LedgerService", "SQLiteLedgerStorage", "SyncProtocol", "LedgerCore", "LedgerTestSupport",
            .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .testTarget(name: "SimulatorTests", dependencies: ["FieldLedgerSimulator", "LedgerCore", "LedgerTestSupport"], path: "Simulator/Tests/SimulatorTests"),
        // The service and server tests' storages: SQLite, and PostgreSQL where the tests can start one.
        .target(name: "StorageTestSupport", dependencies: ["LedgerService", "SQLiteLedgerStorage", "PostgresLedgerStorage", "LedgerTestSupport"],
                path: "Tests/StorageTestSupport"),
        .testTarget(name: "LedgerServiceTests", dependencies: [
            "LedgerService", "SQLiteLedgerStorage", "StorageTestSupport", "SyncProtocol", "LedgerCore", "LedgerTestSupport", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        // Against a real PostgreSQL the tests start (LedgerTestSupport.PostgresServer).
        .testTarget(name: "PostgresStorageTests", dependencies: [
            "PostgresLedgerStorage", "LedgerService", "SQLiteLedgerStorage", "SyncProtocol", "LedgerCore", "LedgerTestSupport",
        ]),
    ],
    swiftLanguageModes: [.v6]
)
