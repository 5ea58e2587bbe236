import LedgerCore
import LedgerTestSupport
import Testing

@Suite("Counting open review cases per action")
struct OpenCaseCountTests {
    @Test("The deltas of applyCountingOpenCases add up to a recount after every action, office resolutions included")
    func deltasMatchARecount() throws {
        for seed in [31, 32, 33] as [UInt64] {
            let traffic = try FieldWorkload(.init(seed: seed, jobs: 12, devices: 4, actions: 400, gapMillisMax: 30_000, pullEvery: 9,
                                                  vocabulary: .init(userPrefix: "t", jobPrefix: "J-", invoicePrefix: "I-", department: "HVAC",
                                                                    installmentLabels: ["Final"], refundReason: "r", changeOrders: ["Vent"])))
            var ledger = try Ledger(), count = 0
            for entry in traffic.setup + traffic.entries {
                let (outcome, delta) = ledger.applyCountingOpenCases(entry.action, sequence: entry.sequence)
                #expect(outcome == entry.outcome)
                count += delta
                #expect(count == ledger.openReviewCases.count, "seed \(seed), entry \(entry.sequence)")
            }
            #expect(count > 0, "the workload must open cases for the count to mean anything")
            // Resolving one as the office takes it off the count (whichever resolution its kind takes).
            let open = try #require(ledger.openReviewCases.first)
            var resolved = false
            for (offset, resolution) in [Resolution.keepCurrent, .acknowledge].enumerated() where !resolved {
                let sequence = UInt64(traffic.setup.count + traffic.entries.count + offset + 1)
                let resolve = Action(dot: Dot(replica: traffic.officeReplica, counter: 1_000_000 + UInt64(offset)), hlc: HLCTimestamp(wallMillis: 9_999_999_999_999),
                                     actor: Actor(user: try UserID("toffice"), role: .office), job: open.job, seenSequence: sequence - 1,
                                     businessDay: Fixtures.date("2026-12-01"), payload: .resolveReviewCase(open.id, resolution, note: "seen"))
                let (outcome, delta) = ledger.applyCountingOpenCases(resolve, sequence: sequence)
                if outcome == .applied {
                    #expect(delta == -1)
                    resolved = true
                } else {
                    #expect(delta == 0, "a refused resolution leaves the count: \(outcome)")
                }
            }
            #expect(resolved)
        }
    }
}
