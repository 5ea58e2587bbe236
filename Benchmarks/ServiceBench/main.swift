// LedgerService on SQLite without HTTP (issue D): how fast durable pushes go. Release mode:
//
//     swift run -c release service-bench [ACTIONS]    # default 20,000 actions
//
// The end-to-end benchmark (the server binary over loopback, 1,000,000 actions) is
// still to come; this measures the storage and merge path it stands on.
import Foundation
import LedgerCore
import LedgerService
import LedgerTestSupport
import SQLiteLedgerStorage
import SyncProtocol

let count = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 20_000
let traffic = try FieldWorkload(.init(seed: 7, jobs: 10_000, devices: 50, actions: count, gapMillisMax: 30_000, pullEvery: 20,
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

let clock = ContinuousClock()
let setup = changeSets(traffic.setup.map(\.action), size: 100)
let setupTime = try clock.measure { for set in setup { _ = try service.push(set, company: company) } }
// Devices push their own actions in 100-action change sets, one device after another (the
// log order differs from the workload's, so outcomes may too; the work per action is the same).
let pushes = traffic.byDevice.flatMap { changeSets($0, size: 100) }
var pushed = 0
let pushTime = try clock.measure { for set in pushes { pushed += try service.push(set, company: company).outcomes.count } }
func rate(_ n: Int, _ d: Duration) -> Int { Int(Double(n) / (Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)) }
print("service-bench: SQLite (WAL, synchronous FULL), one commit per change set")
print("setup: \(traffic.setup.count) office actions in \(setup.count) change sets: \(rate(traffic.setup.count, setupTime)) actions/s")
print("devices: \(pushed) actions in \(pushes.count) change sets of up to 100: \(rate(pushed, pushTime)) actions/s")
