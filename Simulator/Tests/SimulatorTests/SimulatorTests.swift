import FieldLedgerSimulator
import Foundation
import LedgerCore
import LedgerTestSupport
import Testing

@Suite("The simulator")
struct SimulatorTests {
    /// Seeds that once failed, each with what it found; they run as ordinary tests, beside a few
    /// ordinary worlds so the list is never the only coverage here.
    static let regressions: [(seed: UInt64, found: String)] = [
        // The 100,000-seed run, two worlds at once: a server restart's new checkpointing
        // connection, which had no busy timeout, met the lock of the previous start's
        // connection closing on another thread ("database is locked"). Timing, not the seed,
        // made it fail, so alone it passed before the fix too; chasing it showed the server's
        // writer ran with synchronous = NORMAL (SQLiteConnectionTests).
        (28_652, "restart met a closing connection's lock"),
    ]
    static let ordinary: [UInt64] = [1, 2, 3]

    @Test("Regression seeds and a few ordinary worlds pass", arguments: regressions.map(\.seed) + ordinary)
    func regression(seed: UInt64) async {
        let result = await Simulation.run(SimulationParameters(seed: seed))
        #expect(result.passed, "\(result.lines.joined(separator: "\n"))")
    }

    @Test("The same seed gives the same trace in two separate processes, and in this one")
    func deterministic() async throws {
        let seed: UInt64 = 20_261_122
        let first = try Binaries.run("fieldledger-sim", ["--seed", "\(seed)"]), second = try Binaries.run("fieldledger-sim", ["--seed", "\(seed)"])
        let trace = { (output: String) in output.split(separator: "\n").first { $0.hasPrefix("trace ") }.map(String.init) }
        #expect(first.status == 0 && second.status == 0, "\(first.out)\n\(second.out)")
        #expect(trace(first.out) != nil)
        #expect(trace(first.out) == trace(second.out))
        #expect(first.out == second.out)
        let here = await Simulation.run(SimulationParameters(seed: seed))
        #expect(trace(first.out) == "trace \(here.traceHash)")
        // And another seed is another world.
        let other = await Simulation.run(SimulationParameters(seed: seed + 1))
        #expect(other.traceHash != here.traceHash)
    }

    @Test("Seeds derive worlds within bounds, with faults turned off in some (swarm testing)")
    func parameters() {
        let worlds = (1...400).map { SimulationParameters(seed: UInt64($0)) }
        #expect(worlds.allSatisfy { (1...SimulationLimits.devicesMax).contains($0.roles.count) && $0.roles.first == .office })
        #expect(worlds.allSatisfy { $0.skewMillis.count == $0.roles.count && $0.driftPPM.count == $0.roles.count })
        #expect(Set(worlds.map(\.roles.count)).count > 10, "device counts vary")
        #expect(worlds.contains { $0.roles.count > 20 })
        for index in FaultRates.none.named.indices {
            let rates = worlds.map { $0.faults.named[index].perMille }
            #expect(rates.contains(0) && rates.contains { $0 > 0 }, "\(FaultRates.none.named[index].name) is both on and off across seeds")
        }
        #expect(SimulationParameters(seed: 9) == SimulationParameters(seed: 9))
        var resized = SimulationParameters(seed: 9)
        resized.resize(devices: 12)
        #expect(resized.roles.count == 12 && resized.skewMillis.count == 12 && resized.roles.first == .office)
    }

    @Test("A failing world prints its invariant and the command that reproduces it")
    func failureReport() async {
        var parameters = SimulationParameters(seed: 5)
        parameters.steps = 3
        let result = await Simulation.run(parameters, directory: "/dev/null/not-a-directory")
        #expect(!result.passed)
        #expect(result.failure?.invariant == "harness")
        #expect(result.lines.last == "reproduce: swift run fieldledger-sim --seed 5 --steps 3")
    }
}
