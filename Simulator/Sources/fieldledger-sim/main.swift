import ArgumentParser
import FieldLedgerSimulator
import Foundation
import LedgerCore

/// `fieldledger-sim`: runs seeded worlds of devices, faults and the server, and checks the
/// ledger's invariants (Simulator/README.md).
@main
struct FieldLedgerSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fieldledger-sim",
        abstract: "Run seeded worlds of devices and the sync server through faults, and check the ledger's invariants.",
        discussion: "Every world is decided by its seed: the same seed gives the same trace hash on any machine. A failure prints the command that reproduces it.")

    @Option(help: "Run this one seed and print its whole report.")
    var seed: UInt64?

    @Option(help: "Run the seeds A..B (inclusive), one summary line each and every failure in full.")
    var seeds: String?

    @Option(help: "Stop starting new seeds after this many minutes (with --seeds; open-ended when only this is given).")
    var minutes: Double?

    @Option(help: "Override the number of devices every world has (1–\(SimulationLimits.devicesMax)).")
    var devices: Int?

    @Option(help: "Override the number of safety-phase events every world runs.")
    var steps: Int?

    @Option(help: "Worlds run at once (default: the number of cores).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag(help: "Print every world's whole report, not one line each.")
    var verbose = false

    func validate() throws {
        if let devices, !(1...SimulationLimits.devicesMax).contains(devices) {
            throw ValidationError("--devices must be between 1 and \(SimulationLimits.devicesMax).")
        }
        if let steps, steps < 1 { throw ValidationError("--steps must be at least 1.") }
        if seed == nil && seeds == nil && minutes == nil { throw ValidationError("Give --seed N, --seeds A..B, or --minutes M.") }
        if jobs < 1 { throw ValidationError("--jobs must be at least 1.") }
    }

    func parameters(_ seed: UInt64) -> SimulationParameters {
        var parameters = SimulationParameters(seed: seed)
        if let devices { parameters.resize(devices: devices) }
        if let steps { parameters.steps = steps }
        return parameters
    }

    func run() async throws {
        if let seed {
            let result = await Simulation.run(parameters(seed))
            for line in result.lines { print(line) }
            if !result.passed { throw ExitCode(1) }
            return
        }
        var range: ClosedRange<UInt64> = 1...UInt64.max
        if let seeds {
            let parts = seeds.split(separator: ".", omittingEmptySubsequences: true)
            guard parts.count == 2, let low = UInt64(parts[0]), let high = UInt64(parts[1]), low <= high, seeds.contains("..") else {
                throw ValidationError("--seeds takes a range like 1..1000.")
            }
            range = low...high
        }
        let started = ContinuousClock.now
        let deadline = minutes.map { started + .milliseconds(Int64($0 * 60_000)) }
        var passed = 0, failed: [SimulationResult] = [], next = range.lowerBound, finished = false
        await withTaskGroup(of: SimulationResult.self) { group in
            func startNext() -> Bool {
                guard !finished, next <= range.upperBound, deadline.map({ ContinuousClock.now < $0 }) ?? true else { return false }
                let seed = next
                if next == range.upperBound { finished = true } else { next += 1 }
                group.addTask { await Simulation.run(parameters(seed)) }
                return true
            }
            for _ in 0..<jobs where !startNext() { break }
            for await result in group {
                if result.passed { passed += 1 } else { failed.append(result) }
                if verbose || !result.passed {
                    for line in result.lines { print(line) }
                } else {
                    print("seed \(result.parameters.seed) PASSED \(result.traceHash.prefix(16))")
                }
                _ = startNext()
            }
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print(String(format: "%d worlds in %.1f s (%.1f per minute on %d at once): %d passed, %d failed", passed + failed.count, seconds,
                     Double(passed + failed.count) / max(seconds, 0.001) * 60, jobs, passed, failed.count))
        for result in failed.sorted(by: { $0.parameters.seed < $1.parameters.seed }) {
            print("FAILED seed \(result.parameters.seed): \(result.failure!.invariant) — \(result.reproduce)")
        }
        if !failed.isEmpty { throw ExitCode(1) }
    }
}
