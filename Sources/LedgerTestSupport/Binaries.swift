import Foundation

/// The package's built executables (`fieldledger`, `fieldledger-server`, `fieldledger-sim`),
/// run by the tests as real processes.
public enum Binaries {
    /// Where the executable `name` was built.
    public static func url(_ name: String) -> URL {
        // The test runner sits in the build products directory (or one level below), beside the executables.
        let here = Bundle.main.bundleURL
        return [here, here.deletingLastPathComponent()].map { $0.appendingPathComponent(name) }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? here.appendingPathComponent(name)
    }

    /// Runs a binary to its end: its exit status, standard output and standard error.
    @discardableResult
    public static func run(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = url(name)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read before waiting: a full pipe would block the child.
        let output = out.fileHandleForReading.readDataToEndOfFile(), error = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: error, as: UTF8.self))
    }
}
