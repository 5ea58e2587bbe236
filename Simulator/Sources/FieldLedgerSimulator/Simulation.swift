import Foundation
import LedgerCore

/// What one world did and whether its invariants held.
public struct SimulationResult: Sendable {
    public let parameters: SimulationParameters
    /// Outcome counts, in a fixed order.
    public let counts: [(name: String, value: Int)]
    /// Faults injected, by name (sorted).
    public let faults: [(name: String, value: Int)]
    /// SHA-256 of every event of the run and the final state: equal for equal seeds.
    public let traceHash: String
    /// The server's ledger digest at the end (empty when the run stopped early).
    public let finalState: String
    /// The first broken invariant, or nil.
    public let failure: SimulationFailure?

    public var passed: Bool { failure == nil }

    /// The command that runs this world again.
    public var reproduce: String {
        var command = "swift run fieldledger-sim --seed \(parameters.seed)"
        let drawn = SimulationParameters(seed: parameters.seed)
        if parameters.steps != drawn.steps { command += " --steps \(parameters.steps)" }
        if parameters.roles.count != drawn.roles.count { command += " --devices \(parameters.roles.count)" }
        return command
    }

    /// The report: parameters first, then counts, faults, the hashes and the verdict.
    public var lines: [String] {
        var lines = ["seed \(parameters.seed)"] + parameters.summary.map { "  " + $0 }
        lines.append("counts: " + counts.map { "\($0.name) \($0.value)" }.joined(separator: ", "))
        lines.append("faults injected: " + (faults.isEmpty ? "none" : faults.map { "\($0.name) \($0.value)" }.joined(separator: ", ")))
        lines.append("final state \(finalState.isEmpty ? "-" : finalState)")
        lines.append("trace \(traceHash)")
        if let failure {
            lines.append("FAILED \(failure.step.map { "at step \($0)" } ?? "at the end"): \(failure.invariant): \(failure.explanation)")
            lines.append("reproduce: \(reproduce)")
        } else {
            lines.append("PASSED")
        }
        return lines
    }
}

/// Runs worlds.
public enum Simulation {
    /// Runs the world of `parameters` in a fresh directory under `directory` (removed after),
    /// and checks its invariants throughout and at the end.
    public static func run(_ parameters: SimulationParameters, directory: String = defaultDirectory) async -> SimulationResult {
        let home = directory + "/fieldledger-sim-\(ProcessInfo.processInfo.processIdentifier)-\(parameters.seed)-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: home) }
        var failure: SimulationFailure?
        var world: World?
        do {
            try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
            let made = try World(parameters, directory: home)
            world = made
            try await made.run()
        } catch let broken as InvariantBroken {
            failure = broken.failure
        } catch {
            failure = SimulationFailure(invariant: "harness", explanation: "the world could not go on: \(error)", step: world?.step)
        }
        if let world { world.server.service.close() }
        guard let world else {
            return SimulationResult(parameters: parameters, counts: [], faults: [], traceHash: "", finalState: "", failure: failure)
        }
        let state = failure == nil ? ((try? world.server.service.projectedLedger(company: world.company).stateDigest).map(hexString) ?? "") : ""
        var trace = world.trace
        trace.update(Array(state.utf8))
        let c = world.counts
        let acknowledged = world.devices.reduce(0) { total, device in total + ((try? device.replica.outbox().filter { $0.status == .acknowledged }.count) ?? 0) }
        let rejected = world.devices.reduce(0) { total, device in total + ((try? device.replica.outbox().filter { $0.status == .rejected }.count) ?? 0) }
        let ledger = try? world.server.service.projectedLedger(company: world.company)
        let reviewCases = ledger.map { $0.companyReviewCases.count + $0.jobs.reduce(0) { $0 + $1.sync.reviewCases.count } } ?? 0
        let counts: [(String, Int)] = [
            ("actions attempted", c.attempted), ("refused on the device", c.refusedOnDevice), ("committed locally", c.committedLocally),
            ("portal payments", c.portalPayments), ("acknowledged", acknowledged), ("in the ledger", world.log.count),
            ("duplicates absorbed", c.duplicatesAbsorbed), ("review cases", reviewCases), ("rejections shown", rejected),
            ("syncs", c.syncs), ("syncs failed", c.syncsFailed), ("crashes", c.crashes), ("server restarts", c.serverRestarts),
        ]
        return SimulationResult(parameters: parameters, counts: counts, faults: world.faultCounts.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                                traceHash: hexString(trace.finalize()), finalState: state, failure: failure)
    }

    /// Where worlds keep their files: memory-backed when the machine has it (every commit is
    /// still a real SQLite commit; only the disk's flush is skipped).
    public static var defaultDirectory: String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: "/dev/shm", isDirectory: &isDirectory), isDirectory.boolValue,
           FileManager.default.isWritableFile(atPath: "/dev/shm") {
            return "/dev/shm"
        }
        return NSTemporaryDirectory()
    }
}
