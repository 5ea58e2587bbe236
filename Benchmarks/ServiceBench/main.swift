// LedgerService on SQLite without HTTP (issue D): how fast durable pushes go. Release mode:
//
//     swift run -c release service-bench [ACTIONS]    # default 20,000 actions
//
// The end-to-end benchmark (the server binary over loopback, 1,000,000 actions) is
// server-bench; this measures the storage and merge path it stands on, without HTTP.
import Foundation
import LedgerCore
import LedgerService
import LedgerTestSupport
import SQLiteLedgerStorage
import SyncProtocol

let count = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 20_000
// Each device syncs (pushes, then pulls) after every 100 of its actions, so all the actions of
// one 100-action change set carry the context the device had pulled before the first.
let setSize = 100
let traffic = try FieldWorkload(.init(seed: 7, jobs: 10_000, devices: 50, actions: count, gapMillisMax: 30_000, pullEvery: UInt64(setSize),
                                      vocabulary: .init(userPrefix: "tech-", jobPrefix: "J-", invoicePrefix: "HV-", department: "HVAC",
                                                        installmentLabels: ["Final Payment"], refundReason: "goodwill", changeOrders: ["Extra vent"])))
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("service-bench-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: directory) }
let service = LedgerService(storage: try SQLiteLedgerStorage(path: directory.appendingPathComponent("bench.sqlite").path))
let company = try CompanyID("bench")
try service.storage.createCompany(company, state: CompanyState(settings: CompanySettings()))

func changeSets(_ actions: [Action], size: Int) -> [ChangeSet] {
    FieldWorkload.runs(actions, size: size).map { run in
        ChangeSet(replica: run[0].dot.replica, lastAppliedSequence: run.last!.seenSequence, appVersion: "bench", clock: run.last!.hlc, actions: run)
    }
}

// The processor's SHA instructions, as the programs install them (FIELDLEDGER_SHA256=portable
// measures the core's own rounds instead).
print("SHA-256: " + (HardwareSHA256.installIfAvailable() ? "the processor's SHA instructions" : "the core's portable rounds"))
let clock = ContinuousClock()
let setup = changeSets(traffic.setup.map(\.action), size: 100)
let setupTime = try clock.measure { for set in setup { _ = try service.push(set, company: company) } }
// Every device pushes its own change sets one after another, all devices at once (so their
// pushes share group commits as on the server). A change set waits until the log holds its
// context, as a device can only have pulled what was logged; the log's order is then not the
// workload's, so outcomes differ from its model, but none is rejected for a context ahead of the
// log. Rejections are counted and printed all the same: the generator picks the payment a refund
// names and the installment an edit names from the ledger's newest state, which the device may not
// have pulled, so in this order a few of those name what is not logged yet (payment_unknown,
// installment_unknown), about 0.4% of the actions.
let perDevice = traffic.byDevice.map { changeSets($0, size: setSize) }
precondition(perDevice.joined().allSatisfy { set in set.actions.allSatisfy { $0.seenSequence == set.actions[0].seenSequence } })
let logHead = LogHead(UInt64(traffic.setup.count))
let pushStart = clock.now
let (pushed, rejected) = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
    for sets in perDevice {
        group.addTask {
            var count = 0, rejected = 0
            for set in sets {
                await logHead.wait(until: set.actions[0].seenSequence)
                let response = try await service.push(set, from: DeviceCredential(company: company, actor: set.actions[0].actor, replica: set.replica))
                await logHead.advance(to: response.serverSequence)
                count += response.outcomes.count
                rejected += response.outcomes.filter { if case .rejected = $0 { true } else { false } }.count
            }
            return (count, rejected)
        }
    }
    var total = (0, 0)
    for try await (count, rejected) in group { total = (total.0 + count, total.1 + rejected) }
    return total
}
let pushTime = clock.now - pushStart
func rate(_ n: Int, _ d: Duration) -> Int { Int(Double(n) / (Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)) }
print("service-bench: SQLite (WAL, synchronous FULL), group commit of concurrent pushes")
print("setup: \(traffic.setup.count) office actions in \(setup.count) change sets: \(rate(traffic.setup.count, setupTime)) actions/s")
print("devices: \(pushed) actions from \(perDevice.count) devices at once in \(perDevice.map(\.count).reduce(0, +)) change sets of up to 100: \(rate(pushed, pushTime)) actions/s; \(rejected) rejected")
let snapshotTime = try clock.measure { try service.storeSnapshots() }
print("snapshot of the projections (\(try service.projectedLedger(company: company).jobCount) jobs) at the head: \(snapshotTime)")
service.close()
