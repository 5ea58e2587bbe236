// swift-tools-version:6.1
import PackageDescription

// The decoder fuzz target, kept apart so that neither libFuzzer nor the sanitizers reach the
// product graph. Build and run it with Fuzz/run.sh.
let package = Package(
    name: "FieldLedgerFuzz",
    dependencies: [.package(name: "FieldLedger", path: "..")],
    targets: [
        .executableTarget(
            name: "ProtocolFuzz",
            dependencies: [.product(name: "SyncProtocol", package: "FieldLedger")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
