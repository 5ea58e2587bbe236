import Foundation
import Testing

/// Guards DESIGN §1.3: the core imports nothing, reads no clock, draws no random number and
/// never lets dictionary order decide anything. A source scan is crude, but it fails loudly the
/// day someone reaches for `Date()` in the rules.
@Suite("LedgerCore stays pure")
struct PurityTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func coreSources() throws -> [(name: String, lines: [Substring])] {
        let directory = root.appendingPathComponent("Sources/LedgerCore")
        let enumerator = try #require(FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil))
        var files: [(String, [Substring])] = []
        for case let url as URL in enumerator where url.pathExtension == "swift" {
            files.append((url.lastPathComponent, try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)))
        }
        return files.sorted { $0.0 < $1.0 }
    }

    @Test("LedgerCore imports no module and uses no clock, randomness, process state or unstable hash")
    func noImpureAPIs() throws {
        let files = try Self.coreSources()
        #expect(files.count > 10, "the scan found the core's sources")
        let forbidden = ["Date()", ".random(", "random(in:", "SystemRandomNumberGenerator", "ContinuousClock", "SuspendingClock",
                         "DispatchTime", "ProcessInfo", "FileManager", "hashValue", ".shuffled()", "Task.sleep", "getenv"]
        var findings: [String] = []
        for (name, lines) in files {
            for (number, line) in lines.enumerated() {
                let code = line.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
                if code.trimmingCharacters(in: .whitespaces).hasPrefix("import ") { findings.append("\(name):\(number + 1) imports a module") }
                for token in forbidden where code.contains(token) { findings.append("\(name):\(number + 1) uses \(token)") }
                // Iterating a dictionary's keys or values is allowed only through an explicit sort;
                // subscripting them by an index from a lookup walks nothing.
                for accessor in [".keys", ".values"] where code.contains(accessor) && !code.contains("\(accessor).sorted") && !code.contains("\(accessor)[") {
                    findings.append("\(name):\(number + 1) walks a dictionary's \(accessor) without sorting")
                }
            }
        }
        #expect(findings.isEmpty, "\(findings)")
    }

    @Test("Package.swift gives LedgerCore no dependencies")
    func noDependencies() throws {
        let manifest = try String(contentsOf: Self.root.appendingPathComponent("Package.swift"), encoding: .utf8)
        // Its only setting is the simulator's planted-bug define (Simulator/README.md), never a dependency.
        let declaration = manifest.split(separator: "\n").filter { $0.contains(".target(name: \"LedgerCore\"") }
        #expect(declaration.count == 1, "LedgerCore must be declared once, on one line")
        #expect(declaration.allSatisfy { !$0.contains("dependencies") }, "LedgerCore must be declared with no dependencies: \(declaration)")
    }
}
