// LedgerService on SQLite without HTTP (issue D): how fast durable pushes go. Release mode:
//
//     swift run -c release service-bench [ACTIONS]    # default 20,000 actions
//     swift run -c release service-bench [ACTIONS] --growth [--repeat K]   # the fixed push, grown and not
//     swift run -c release service-bench [ACTIONS] --replay     # a restart that replays the whole log
//     swift run -c release service-bench [ACTIONS] --release    # the company released as idle, then loaded again
//     ... --postgres                                            # on a PostgreSQL started for the run
//
// The end-to-end benchmark (the server binary over loopback, 1,000,000 actions) is
// server-bench; this measures the storage and merge path it stands on, without HTTP.
import CHeap
import Foundation
import LedgerCore
import LedgerService
import LedgerTestSupport
import PostgresLedgerStorage
import SQLiteLedgerStorage
import SyncProtocol

let count = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 20_000
/// `--growth`: after the load, server-bench's fixed 1,000-payment push timed in-process (no HTTP)
/// on the grown service and, alternating with it, on a service holding the setup's log alone.
let growth = CommandLine.arguments.contains("--growth")
/// `--repeat K`: then K more pushes on the grown service alone (for a profiler).
let repeats = CommandLine.arguments.firstIndex(of: "--repeat").flatMap { Int(CommandLine.arguments[$0 + 1]) } ?? 0
/// `--replay`: no snapshot after the load; a new service on the same storage then loads the
/// company, replaying the whole log (the worst case of a restart, decision 0012).
let replay = CommandLine.arguments.contains("--replay")
/// `--release`: after the load, the company is released as idle (decision 0046): the snapshot
/// that comes first, the process's resident memory before and after, and the next read's load.
let release = CommandLine.arguments.contains("--release")
// Each device syncs (pushes, then pulls) after every 100 of its actions, so all the actions of
// one 100-action change set carry the context the device had pulled before the first.
let setSize = 100
let traffic = try FieldWorkload(.init(seed: 7, jobs: 10_000, devices: 50, actions: count, gapMillisMax: 30_000, pullEvery: UInt64(setSize),
                                      vocabulary: .init(userPrefix: "tech-", jobPrefix: "J-", invoicePrefix: "HV-", department: "HVAC",
                                                        installmentLabels: ["Final Payment"], refundReason: "goodwill", changeOrders: ["Extra vent"])))
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("service-bench-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: directory) }
/// `--postgres`: on a PostgreSQL started for the run (as the tests start it) instead of SQLite.
let postgres = CommandLine.arguments.contains("--postgres") ? try PostgresServer() : nil
defer { postgres?.stop() }
let benchURL = try postgres?.makeDatabase("bench")
/// The storage named `name`: a SQLite file in the run's directory, or a database on that PostgreSQL.
func storage(_ name: String) throws -> AnyServerStorage {
    if let postgres {
        return AnyServerStorage(try PostgresLedgerStorage(url: name == "bench" ? benchURL! : try postgres.makeDatabase(name)))
    }
    return AnyServerStorage(try SQLiteLedgerStorage(path: directory.appendingPathComponent(name + ".sqlite").path))
}
let service = LedgerService(storage: try storage("bench"))
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
print("service-bench: " + (postgres == nil ? "SQLite (WAL, synchronous FULL)" : "PostgreSQL (durable commits)") + ", group commit of concurrent pushes")
print("setup: \(traffic.setup.count) office actions in \(setup.count) change sets: \(rate(traffic.setup.count, setupTime)) actions/s")
print("devices: \(pushed) actions from \(perDevice.count) devices at once in \(perDevice.map(\.count).reduce(0, +)) change sets of up to 100: \(rate(pushed, pushTime)) actions/s; \(rejected) rejected")
if growth { try await timeFixedPush() }
if release {
    /// The process's resident memory in MiB, from /proc.
    func residentMiB() -> Double {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Double(line.split(separator: " ").dropFirst().first ?? "0").map { $0 / 1024 } ?? 0
    }
    let before = residentMiB(), heapBefore = Double(cheap_bytes_in_use()) / 1_048_576
    // The first look asks for a snapshot at the head; a later one, once it is stored, releases.
    // The look that releases it also hands the memory back (malloc_trim): timed on its own.
    var releasingLook = Duration.zero
    let releaseTime = clock.measure {
        while true {
            let start = clock.now
            if service.releaseIdleCompanies(idleFor: 0) > 0 { releasingLook = clock.now - start; break }
            Thread.sleep(forTimeInterval: 0.01)
        }
    }
    let after = residentMiB(), heapAfter = Double(cheap_bytes_in_use()) / 1_048_576
    let reload = try clock.measure { _ = try service.projectedLedger(company: company) }
    print(String(format: "released as idle: resident %.0f MiB -> %.0f MiB (heap in use %.0f -> %.0f MiB), ", before, after, heapBefore, heapAfter) + "in \(releaseTime) with the snapshot first (the releasing look \(releasingLook)); the next read loaded it in \(reload) ("
          + String(format: "resident %.0f MiB)", residentMiB()))
}
if !replay {
    let snapshotTime = try clock.measure { try service.storeSnapshots() }
    print("snapshot of the projections (\(try service.projectedLedger(company: company).jobCount) jobs) at the head: \(snapshotTime)")
}

/// The fixed push of server-bench (1,000 one-dollar payments, one change set) on the workload's
/// jobs and on 1,000 jobs of the probe's own, on the grown service and on one holding the setup's
/// log alone, alternating; medians of 9 in ms and their ratio.
@MainActor func timeFixedPush() async throws {
    let baseline = LedgerService(storage: try storage("baseline"))
    defer { baseline.close() }
    try baseline.storage.createCompany(company, state: CompanyState(settings: CompanySettings()))
    for set in setup { _ = try baseline.push(set, company: company) }
    let day = try CalendarDate.parse("2026-11-01")
    var heads: [UInt64] = [0, 0]  // each service's head, from its answers
    let own = FieldWorkload.probeJobs(count: 1_000, replica: FieldWorkload.probeOfficeReplica, actor: traffic.setup[0].action.actor, seen: 0, day: day)
    for (index, target) in [baseline, service].enumerated() {
        for run in FieldWorkload.runs(own.actions, size: 200) {
            let response = try target.push(ChangeSet(replica: FieldWorkload.probeOfficeReplica, lastAppliedSequence: heads[index], appVersion: "bench", clock: run.last!.hlc, actions: run), company: company)
            precondition(response.outcomes.allSatisfy { $0 == Outcome.applied }, "the probe's jobs")
            heads[index] = response.serverSequence
        }
    }
    let jobs = traffic.jobs, probe = FieldWorkload.probeReplica, actor = FieldWorkload.probeActor
    var counters: [UInt64] = [0, 0], wall = (traffic.entries.last?.action.hlc.wallMillis ?? 0) + 1
    func push(_ index: Int, on targets: [JobID]) throws -> Double {
        let actions = FieldWorkload.probePayments(count: 1_000, replica: probe, actor: actor, counter: &counters[index], wallMillis: &wall, jobs: targets,
                                                  seen: heads[index], day: day)
        let set = ChangeSet(replica: probe, lastAppliedSequence: heads[index], appVersion: "bench", clock: actions.last!.hlc, actions: actions)
        let target = index == 0 ? baseline : service
        let start = clock.now
        let response = try target.push(set, company: company)
        let elapsed = clock.now - start
        heads[index] = response.serverSequence
        return Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
    }
    var times = [[Double]](repeating: [], count: 4)
    for _ in 0..<9 {
        times[0].append(try push(1, on: own.jobs)); times[1].append(try push(0, on: own.jobs))
        times[2].append(try push(1, on: jobs)); times[3].append(try push(0, on: jobs))
    }
    func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
    let m = times.map(median)
    print(String(format: "fixed push at log %d (baseline %d), ms: on the probe's own jobs %.2f (baseline %.2f, ÷ %.2f); on the workload's jobs %.2f (baseline %.2f, ÷ %.2f)",
                 heads[1], heads[0], m[0], m[1], m[0] / m[1], m[2], m[3], m[2] / m[3]))
    for _ in 0..<repeats { _ = try push(1, on: jobs) }
}
service.close()
if replay {
    let restarted = LedgerService(storage: try storage("bench"))
    let head = try restarted.head(company: company)  // read from storage, not a load
    let time = try clock.measure { _ = try restarted.projectedLedger(company: company) }
    print("restart with no snapshot: the company loaded by replaying its \(head)-entry log in \(time)")
    // A device catching up from nothing, in the largest pages a device may ask for.
    var cursor: UInt64 = 0, pages = 0
    let catchUp = try clock.measure {
        while cursor < head {
            cursor = try restarted.pull(company: company, after: cursor, limit: ServerSyncSession.pageEntriesMax).checkpoint.sequence
            pages += 1
        }
    }
    print("a device catching up on the whole log: \(pages) pages of up to \(ServerSyncSession.pageEntriesMax) in \(catchUp)")
    restarted.close()
}
