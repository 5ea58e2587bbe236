// Issue D's end-to-end benchmark: the real `fieldledger-server` binary on a loopback port, 50
// devices pushing their actions in 100-action change sets, all at once, with durable commits.
// Release mode, after building the server in release too:
//
//     swift build -c release --product fieldledger-server
//     swift run -c release server-bench [ACTIONS]        # default 1,000,000
//     swift run -c release server-bench [ACTIONS] --postgres [--processes N]
//     swift run -c release server-bench [ACTIONS] --settle SECONDS   # quiet server before the probes
//     swift run -c release server-bench [ACTIONS] --postgres --processes N --companies K [--spread]
//
// With --postgres the server runs on a PostgreSQL the benchmark starts in a temporary directory
// (as the tests do; durable settings), and with --processes N as N server processes sharing it,
// the devices spread over them round-robin (issue G). With --companies K the load is split over
// K companies, each company's devices sent to one process (or with --spread to any), and only
// the ingest is measured: a deployment partitioned by company against one that is not.
//
// It prints actions per second end-to-end for each quarter of the load, the server's peak
// memory, and the time of a fixed 1,000-action push and pull as the log grows: at each point
// (quiet server, median of 9) the push on the workload's jobs, on 1,000 jobs of the probe's own
// whose payments do the same work at every size, on 1,000 more invoiced at one cent (each
// payment opens a customer-credit case, as on the workload's jobs once they are overpaid), and
// the pull of that push, each alternating with the same on a server just started on the
// setup's log, so the ratio compares two servers at the same moment (decision 0039). Then how
// long a graceful stop takes, and how long a restarted server takes to answer its first push.
import AsyncHTTPClient
import Foundation
import LedgerCore
import LedgerServer
import LedgerService
import LedgerTestSupport
import NIOCore
import PostgresLedgerStorage
import SQLiteLedgerStorage
import SyncProtocol
import Synchronization

let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String) -> String? {
    arguments.firstIndex(of: name).flatMap { arguments.indices.contains($0 + 1) ? arguments[$0 + 1] : nil }
}
let total = arguments.first.flatMap(Int.init) ?? 1_000_000
/// `--json FILE`: the figures for the suite's report (Benchmarks/compare), besides the text.
let jsonPath = option("--json")
/// `--devices N`: workload 5 of issue H instead: N devices at once, each pushing 10-action change
/// sets and pulling a page after each, against one server process.
let crowd = option("--devices").flatMap(Int.init)
/// `--pause-ms M`: how long each of those devices waits between one sync and the next (a phone
/// syncing continuously still waits for its next change); 0 makes every device hammer the server.
let pauseMillis = option("--pause-ms").flatMap(Int.init) ?? 1_000
/// `--settle S`: how long to wait after each quarter of the load before the fixed push and pull,
/// so that they meet a server whose background work (snapshot, checkpoints) is done.
let settleSeconds = option("--settle").flatMap(Double.init) ?? 0
let onPostgres = arguments.contains("--postgres")
let processCount = option("--processes").flatMap(Int.init) ?? 1
guard processCount == 1 || onPostgres else {
    print("server-bench: several processes share one PostgreSQL; add --postgres")
    exit(1)
}
/// `--companies K`: the ingest alone (no growth figures), the load split over K companies, each
/// with its own 50 devices and the same share of the workload (issue G's scale-out by company).
let companyCount = option("--companies").flatMap(Int.init) ?? 1
/// `--spread`: with several companies and processes, each device goes to any process (round
/// robin over all devices) instead of every device of a company to that company's process.
let spread = arguments.contains("--spread")
guard companyCount >= 1, companyCount == 1 || crowd == nil else {
    print("server-bench: --companies takes a count of at least 1, and not with --devices")
    exit(1)
}
let serverBinary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("fieldledger-server").path
guard FileManager.default.isExecutableFile(atPath: serverBinary) else {
    print("server-bench: build the server first: swift build -c release --product fieldledger-server")
    exit(1)
}
// The processor's SHA instructions, as the programs install them (FIELDLEDGER_SHA256=portable
// measures the core's own rounds instead).
print("SHA-256: " + (HardwareSHA256.installIfAvailable() ? "the processor's SHA instructions" : "the core's portable rounds"))
let clock = ContinuousClock()
func seconds(_ duration: Duration) -> Double { Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18 }
func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

// MARK: The workload, the company and the devices (set up in-process, not timed)

let generated = clock.now
let deviceCount = crowd ?? 50
let setSize = crowd == nil ? 100 : 10
// Each device syncs (pushes, then pulls) after every `setSize` of its actions, so all the actions
// of one change set carry the context the device pulled before the first of them.
/// Company `index`'s traffic: its share of the load, from a seed of its own (a replica belongs
/// to one company, so each company's devices are other replicas).
func makeTraffic(company index: Int) throws -> FieldWorkload {
    try FieldWorkload(.init(seed: 7 + UInt64(index), jobs: 10_000, devices: deviceCount, actions: total / companyCount, gapMillisMax: 30_000, pullEvery: UInt64(setSize),
                            vocabulary: .init(userPrefix: "tech-", jobPrefix: "J-", invoicePrefix: "HV-", department: "HVAC",
                                              installmentLabels: ["Final Payment"], refundReason: "goodwill", changeOrders: ["Extra vent"])))
}
let traffics = try (0..<companyCount).map { try makeTraffic(company: $0) }
let traffic = traffics[0]
print("server-bench: \(total) device actions from \(traffic.devices.count) devices on \(traffic.ledger.jobCount) jobs (generated in \(clock.now - generated))")

let dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("server-bench-\(UUID().uuidString)").path
try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
let postgres = onPostgres ? try PostgresServer() : nil
defer { postgres?.stop() }
let databaseURL = try postgres?.makeDatabase("bench")
/// Where the servers keep the ledger, as their command line says it.
let storageArguments = databaseURL.map { ["--database", $0] } ?? ["--data", dataDirectory]
let company = try CompanyID("bench")
/// The companies of `--companies`, the first the one the probes use; each holds the same setup.
let companies = try [company] + (1..<companyCount).map { try CompanyID("bench-\($0 + 1)") }
let probeReplica = FieldWorkload.probeReplica
let probeOffice = FieldWorkload.probeOfficeReplica
// 1,000 jobs of the probe's own, pushed after the workload's setup (not for the crowd): a push of
// payments there does the same work at every size of the log. (On the workload's jobs, which its
// payments overrun within the first quarter, each payment also opens a customer-credit case, so
// that push does more work later whatever the log's size.)
let ownJobsSetup = FieldWorkload.probeJobs(count: crowd == nil ? 1_000 : 0, replica: probeOffice, actor: traffic.setup[0].action.actor,
                                           seen: UInt64(traffic.setup.count), day: try CalendarDate.parse("2026-11-01"))
// And 1,000 invoiced at one cent: there every payment opens a customer-credit case at every size
// of the log, as on the workload's jobs once they are overpaid.
let overpaidSetup = FieldWorkload.probeJobs(count: crowd == nil ? 1_000 : 0, replica: probeOffice, actor: traffic.setup[0].action.actor,
                                            seen: UInt64(traffic.setup.count), day: try CalendarDate.parse("2026-11-01"),
                                            firstCounter: UInt64(ownJobsSetup.actions.count), invoiceMinor: 1, prefix: "C")
let probeActor = FieldWorkload.probeActor
/// A device's token: device `index` (the probe after the workload's devices) of company `company`.
func token(_ index: Int, company: Int = 0) -> String { "flt1_" + String(repeating: String(format: "%08x", company * 1_000 + index), count: 8) }
do {
    let storage = AnyServerStorage(try databaseURL.map { try PostgresLedgerStorage(url: $0) }
        ?? SQLiteLedgerStorage(path: FieldLedgerServer.databasePath(in: dataDirectory)))
    let administration = Administration(storage: storage)
    let service = LedgerService(storage: storage)
    for (companyIndex, (company, traffic)) in zip(companies, traffics).enumerated() {
        try administration.createCompany(company)
        var actors = traffic.byDevice.map { $0[0].actor }
        actors.append(probeActor)
        for actor in Set(actors).sorted(by: { $0.user.rawValue < $1.user.rawValue }) { try administration.setUser(actor.user, role: actor.role, company: company) }
        // The probe device is the first company's only (the probes time that company).
        for (index, replica) in (traffic.devices + (companyIndex == 0 ? [probeReplica] : [])).enumerated() {
            try storage.registerDevice(tokenHash: DeviceTokens.hash(token(index, company: companyIndex)),
                                       credential: DeviceCredential(company: company, actor: actors[index], replica: replica))
        }
        for run in FieldWorkload.runs(traffic.setup.map(\.action), size: 100) {
            _ = try service.push(ChangeSet(replica: run[0].dot.replica, lastAppliedSequence: run.last!.seenSequence, appVersion: "bench", clock: run.last!.hlc,
                                           actions: run), company: company)
        }
    }
    // 1,000 jobs of the probe's own, invoiced far above what its payments add up to: a push of
    // payments there does the same work at every size of the log. (On the workload's jobs, which
    // its payments overrun within the first quarter, each payment also opens a customer-credit
    // case, so that push does more work later whatever the log's size.) Then the 1,000 invoiced
    // at one cent, where every payment opens such a case from the start.
    for run in FieldWorkload.runs(ownJobsSetup.actions + overpaidSetup.actions, size: 200) {
        let response = try service.push(ChangeSet(replica: probeOffice, lastAppliedSequence: run[0].seenSequence, appVersion: "bench", clock: run.last!.hlc,
                                                  actions: run), company: company)
        precondition(response.outcomes.allSatisfy { $0 == .applied }, "the probe's jobs")
    }
    try service.storeSnapshots()
    service.close()
}
let jobs = traffic.jobs
let ownJobs = ownJobsSetup.jobs
let overpaidJobs = overpaidSetup.jobs
let setupCount = traffic.setup.count + ownJobsSetup.actions.count + overpaidSetup.actions.count

// The growth figures' baseline: the ledger as the setup left it, kept aside. At each point of the
// figures a fresh copy of it is served beside the growing server and every probe is timed on
// both, alternating, so a ratio compares two servers at the same moment. This host's speed
// drifts by ±20% within a run, which a ratio to a probe timed minutes earlier counts as growth
// (decision 0039).
let baselineDirectory = dataDirectory + "-baseline"
/// Runs `copy` until it succeeds (at most 50 times, 100 ms apart). The setup's storage lets go
/// of its connections after it is released: on PostgreSQL a template in use cannot be copied,
/// and on SQLite the last connection to close (a checkpoint may still be running) deletes the
/// write-ahead log that a copy begun meanwhile is reading.
func copyingOnceReleased(_ copy: () throws -> Void, undo: () -> Void = {}) async throws {
    var attempts = 0
    while true {
        do { try copy(); return } catch {
            undo()
            attempts += 1
            guard attempts < 50 else { throw error }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}
if crowd == nil && companyCount == 1 {
    if let postgres {
        try await copyingOnceReleased { _ = try postgres.makeDatabase("bench_baseline", template: "bench") }
    } else {
        try await copyingOnceReleased({ try FileManager.default.copyItem(atPath: dataDirectory, toPath: baselineDirectory) },
                                      undo: { try? FileManager.default.removeItem(atPath: baselineDirectory) })
    }
}
defer { try? FileManager.default.removeItem(atPath: baselineDirectory) }
/// A change set as the bytes a device sends, made before the clock starts, and the log sequence
/// its actions had seen: it goes once the log holds that (`LogHead`), as a device can only have
/// pulled what was logged.
struct Outgoing: Sendable {
    let context: UInt64
    let wire: [UInt8]
}
/// Each company's devices' change sets (the first company's are `outgoing`).
let outgoingByCompany: [[[Outgoing]]] = try traffics.map { traffic in
    try traffic.byDevice.map { actions in
        try FieldWorkload.runs(actions, size: setSize).map { run in
            precondition(run.allSatisfy { $0.seenSequence == run[0].seenSequence }, "a change set spans a pull")
            return Outgoing(context: run[0].seenSequence, wire: try SyncMessage.pushRequest(ChangeSet(
                replica: run[0].dot.replica, lastAppliedSequence: run.last!.seenSequence, appVersion: "bench", clock: run.last!.hlc, actions: run)).encoded())
        }
    }
}
let outgoing = outgoingByCompany[0]
let wires = outgoingByCompany.joined().map { $0.map(\.wire) }
let lastWall = traffic.entries.last?.action.hlc.wallMillis ?? 0
let wireBytes = wires.joined().reduce(0) { $0 + $1.count }
print("setup: \(setupCount) office actions pushed in-process\(companyCount > 1 ? " to the first company, as many to each other" : ""); \(wires.joined().count) change sets, \(wireBytes) bytes on the wire (\(String(format: "%.2f", Double(wireBytes) / Double(total))) B/action)")

// MARK: The server process

final class Server {
    let process = Process()
    let port: Int

    init(binary: String, storage: [String]) throws {
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--port", "0"] + storage
        let output = Pipe()
        process.standardOutput = output
        // The server logs a line per push at its default level; the benchmark keeps that work
        // (it is part of serving) but not the lines.
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = ""
        let handle = output.fileHandleForReading
        while !line.contains("\n") {
            let chunk = handle.availableData
            guard !chunk.isEmpty else { throw CocoaError(.fileReadUnknown) }
            line += String(decoding: chunk, as: UTF8.self)
        }
        guard let text = line.split(separator: " ").first(where: { $0.contains("127.0.0.1:") })?.split(separator: ":").last?.filter(\.isNumber),
              let port = Int(text) else { throw CocoaError(.fileReadCorruptFile) }
        self.port = port
    }

    /// Peak and current resident memory of the server, in MiB (from /proc).
    func memory() -> (peak: Double, now: Double) {
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        func field(_ name: String) -> Double {
            let line = status.split(separator: "\n").first { $0.hasPrefix(name) } ?? ""
            return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
        }
        return (field("VmHWM:"), field("VmRSS:"))
    }

    /// CPU seconds the server has used (user and system, from /proc; clock ticks of 1/100 s).
    func cpuSeconds() -> Double {
        let stat = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8)) ?? ""
        // Fields after the command name, which is in parentheses and may hold spaces.
        let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / 100
    }

    func stop() -> Duration {
        let clock = ContinuousClock()
        let start = clock.now
        process.terminate()
        process.waitUntilExit()
        return clock.now - start
    }
}

let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(connectionPool: .init(idleTimeout: .seconds(60))))
let throttled = Atomic<Int>(0)

/// A device's sync request carrying `wire`.
func syncRequest(_ wire: [UInt8], device: Int, company: Int = 0, port: Int) -> HTTPClientRequest {
    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/sync")
    request.method = .POST
    request.headers.add(name: "Authorization", value: "Bearer \(token(device, company: company))")
    request.headers.add(name: "Content-Type", value: "application/octet-stream")
    request.body = .bytes(ByteBuffer(bytes: wire))
    return request
}

/// Sends one sync message; waits out a 429 as a device would. Returns the answer.
func send(_ wire: [UInt8], device: Int, company: Int = 0, port: Int) async throws -> SyncMessage {
    while true {
        let request = syncRequest(wire, device: device, company: company, port: port)
        let response = try await client.execute(request, timeout: .seconds(120))
        let body = try await response.body.collect(upTo: 64 << 20)
        if response.status.code == 429 {
            throttled.add(1, ordering: .relaxed)
            let wait = Double(response.headers.first(name: "Retry-After") ?? "1") ?? 1
            try await Task.sleep(for: .seconds(wait))
            continue
        }
        let answer = try SyncMessage.decode(Array(buffer: body))
        guard response.status == .ok else { throw CocoaError(.coderInvalidValue, userInfo: ["answer": "\(answer)"]) }
        return answer
    }
}

/// A server the probes time, and what the probe device knows of it: the log's head and its own
/// counter (each server counts the device's actions gap-free from what it holds).
final class Target {
    let port: Int
    var head: UInt64
    var counter: UInt64

    init(port: Int, head: UInt64, counter: UInt64 = 0) {
        self.port = port
        self.head = head
        self.counter = counter
    }
}

/// The fixed push: 1,000 one-dollar cash payments from the probe device, one change set. Returns
/// its time; the target's head moves past it.
var probeWall = lastWall
@MainActor func probe(_ target: Target, on jobs: [JobID]) async throws -> Double {
    let day = try CalendarDate.parse("2026-11-01")
    let actions = FieldWorkload.probePayments(count: 1_000, replica: probeReplica, actor: probeActor, counter: &target.counter, wallMillis: &probeWall,
                                              jobs: jobs, seen: target.head, day: day)
    let wire = try SyncMessage.pushRequest(ChangeSet(replica: probeReplica, lastAppliedSequence: target.head, appVersion: "bench", clock: actions.last!.hlc,
                                                     actions: actions)).encoded()
    let start = clock.now
    guard case .pushResponse(let response) = try await send(wire, device: traffic.devices.count, port: target.port), response.outcomes.count == 1_000 else {
        throw CocoaError(.coderInvalidValue)
    }
    target.head = response.serverSequence
    return seconds(clock.now - start)
}

/// The fixed pull: a device 1,000 entries behind catches up (one or two pages, as pages short
/// of the head end on multiples of their size). Returns its time.
@MainActor func pull(_ target: Target) async throws -> Double {
    var cursor = target.head - 1_000, pulled = 0
    let start = clock.now
    while true {
        let wire = try SyncMessage.pullRequest(PullRequest(replica: probeReplica, afterSequence: cursor, limit: 1_000)).encoded()
        guard case .pullPage(let page) = try await send(wire, device: traffic.devices.count, port: target.port) else { throw CocoaError(.coderInvalidValue) }
        pulled += page.entries.count
        cursor = page.checkpoint.sequence
        if page.checkpoint.caughtUp { break }
    }
    guard pulled == 1_000 else { throw CocoaError(.coderInvalidValue) }
    return seconds(clock.now - start)
}

/// How many times each probe is timed on each server at a point (alternating): their median counts.
let repetitions = 9

/// The times of one probe on the growing server and, alternating with them, on the baseline.
struct Timed {
    var growing: [Double] = []
    var baseline: [Double] = []
    var growingMedian: Double { median(growing) }
    var baselineMedian: Double { median(baseline) }
    /// The growing server's median over the baseline's, timed at the same moments.
    var ratio: Double { growingMedian / baselineMedian }
}

/// One point of the growth figures: the fixed push on the probe's own jobs, on its overpaid
/// ones, on the workload's jobs, then the fixed pull of that last push (the first pull computes
/// the job digests, which the next ones find kept); each `repetitions` times on both servers,
/// alternating.
struct Point {
    let log: UInt64
    var own = Timed(), overpaid = Timed(), push = Timed(), pull = Timed()
}

@MainActor func measure(_ growing: Target, beside baseline: Target) async throws -> Point {
    var point = Point(log: growing.head)
    for _ in 0..<repetitions {
        point.own.growing.append(try await probe(growing, on: ownJobs))
        point.own.baseline.append(try await probe(baseline, on: ownJobs))
    }
    for _ in 0..<repetitions {
        point.overpaid.growing.append(try await probe(growing, on: overpaidJobs))
        point.overpaid.baseline.append(try await probe(baseline, on: overpaidJobs))
    }
    for _ in 0..<repetitions {
        point.push.growing.append(try await probe(growing, on: jobs))
        point.push.baseline.append(try await probe(baseline, on: jobs))
    }
    for _ in 0..<repetitions {
        point.pull.growing.append(try await pull(growing))
        point.pull.baseline.append(try await pull(baseline))
    }
    return point
}

/// A server on a fresh copy of the setup's ledger, loaded (as the growing one is before the
/// clock starts), and a way to stop it and drop the copy.
@MainActor func startBaseline(_ index: Int) async throws -> (Target, stop: () -> Void) {
    let storage: [String], drop: () -> Void
    if let postgres {
        let name = "bench_point_\(index)"
        storage = ["--database", try postgres.makeDatabase(name, template: "bench_baseline")]
        drop = {}  // the cluster and its databases go with the benchmark's PostgreSQL
    } else {
        let copy = dataDirectory + "-point-\(index)"
        try FileManager.default.copyItem(atPath: baselineDirectory, toPath: copy)
        storage = ["--data", copy]
        drop = { try? FileManager.default.removeItem(atPath: copy) }
    }
    let server = try Server(binary: serverBinary, storage: storage)
    let target = Target(port: server.port, head: UInt64(setupCount))
    _ = try await send(try SyncMessage.pullRequest(PullRequest(replica: probeReplica, afterSequence: target.head - 1, limit: 1)).encoded(),
                       device: traffic.devices.count, port: target.port)
    return (target, { _ = server.stop(); drop() })
}

/// Writes the figures for the suite's report, if asked.
func writeJSON(_ figures: [String: Any]) throws {
    guard let jsonPath else { return }
    let data = try JSONSerialization.data(withJSONObject: figures, options: [.prettyPrinted, .sortedKeys])
    try data.write(to: URL(fileURLWithPath: jsonPath))
}

/// The growing server's point of the growth figures, each probe timed beside a baseline server
/// started for it on the setup's ledger.
@MainActor func measureBesideBaseline(_ growing: Target, index: Int) async throws -> Point {
    let (baseline, stopBaseline) = try await startBaseline(index)
    defer { stopBaseline() }
    return try await measure(growing, beside: baseline)
}

// MARK: The run

var servers = try (0..<processCount).map { _ in try Server(binary: serverBinary, storage: storageArguments) }
var server = servers[0]
var head = UInt64(setupCount)
print("storage: \(onPostgres ? "PostgreSQL (\(processCount) server process\(processCount == 1 ? "" : "es"))" : "SQLite")")
// The first request that needs a company's memory loads it (a pull of the head's last entry
// does: it carries that job's digest); do that before the clock starts.
for each in servers {
    _ = try await send(try SyncMessage.pullRequest(PullRequest(replica: probeReplica, afterSequence: head - 1, limit: 1)).encoded(), device: traffic.devices.count, port: each.port)
}

/// One device's change sets in order, each sent once the log holds its context. Returns the
/// actions answered and how many of them were rejected.
func pushInTurn(_ sets: [Outgoing], device: Int, company: Int = 0, port: Int, logHead: LogHead) async throws -> (Int, Int) {
    var count = 0, rejected = 0
    for set in sets {
        await logHead.wait(until: set.context)
        guard case .pushResponse(let response) = try await send(set.wire, device: device, company: company, port: port), response.sendFrom == nil else {
            throw CocoaError(.coderInvalidValue)
        }
        await logHead.advance(to: response.serverSequence)
        count += response.outcomes.count
        rejected += response.outcomes.filter { if case .rejected = $0 { true } else { false } }.count
    }
    return (count, rejected)
}

/// The host's processor time so far in clock ticks, all cores: busy (not idle or waiting on I/O) and in all.
func hostTicks() -> (busy: Int, total: Int) {
    let text = (try? String(contentsOfFile: "/proc/stat", encoding: .utf8)) ?? ""
    let fields = (text.split(separator: "\n").first ?? "").split(separator: " ").dropFirst().compactMap { Int($0) }
    guard fields.count >= 5 else { return (0, 0) }
    let total = fields.reduce(0, +)
    return (total - fields[3] - fields[4], total)
}

/// `--companies K`: every company's devices push their share at once, as the single company's do
/// below; with several processes each company's devices go to one process (company `c` to
/// process `c mod N`: the partition by company), or with `--spread` to all of them.
@MainActor func runCompanies() async throws {
    let ports = servers.map(\.port)
    func port(company: Int, device: Int) -> Int { spread ? ports[(company * deviceCount + device) % ports.count] : ports[company % ports.count] }
    // Each serving process loads each company it serves before the clock starts (a device's pull
    // of the setup's last entry).
    for companyIndex in companies.indices.dropFirst() {
        let serving = spread ? ports : [port(company: companyIndex, device: 0)]
        let setupHead = UInt64(traffics[companyIndex].setup.count)
        for each in serving {
            _ = try await send(try SyncMessage.pullRequest(PullRequest(replica: traffics[companyIndex].devices[0], afterSequence: setupHead - 1, limit: 1)).encoded(),
                               device: 0, company: companyIndex, port: each)
        }
    }
    let heads = traffics.indices.map { LogHead(UInt64($0 == 0 ? setupCount : traffics[$0].setup.count)) }
    let start = clock.now
    let startCPU = servers.reduce(0) { $0 + $1.cpuSeconds() }
    let startHost = hostTicks()
    let (pushed, rejected) = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
        for companyIndex in companies.indices {
            for (device, sets) in outgoingByCompany[companyIndex].enumerated() {
                let port = port(company: companyIndex, device: device), logHead = heads[companyIndex]
                group.addTask { try await pushInTurn(sets, device: device, company: companyIndex, port: port, logHead: logHead) }
            }
        }
        var sum = (0, 0)
        for try await (count, rejected) in group { sum = (sum.0 + count, sum.1 + rejected) }
        return sum
    }
    let elapsed = seconds(clock.now - start)
    let cpu = servers.reduce(0) { $0 + $1.cpuSeconds() } - startCPU
    let host = hostTicks()
    let busy = Double(host.busy - startHost.busy) / Double(max(1, host.total - startHost.total))
    let peaks = servers.map { String(format: "%.0f", $0.memory().peak) }.joined(separator: " / ")
    print(String(format: "%d companies, %d devices each, %@: %d actions (%d rejected) in %.2f s: %.0f actions/s; server CPU %.1f µs/action; server peak memory %@ MiB",
                 companies.count, deviceCount, processCount == 1 ? "one process" : spread ? "each device to any process" : "each company on one process",
                 pushed, rejected, elapsed, Double(pushed) / elapsed, cpu / Double(pushed) * 1e6, peaks))
    print(String(format: "the host's cores busy %.0f%% of the run (every process: servers, PostgreSQL, this benchmark)", busy * 100))
    try writeJSON(["companies": [
        "companies": companies.count, "processes": processCount, "spread": spread, "storage": onPostgres ? "postgresql" : "sqlite",
        "actions": pushed, "rejected": rejected, "seconds": elapsed, "host_busy": busy, "actions_per_second": Double(pushed) / elapsed, "server_cpu_us_per_action": cpu / Double(pushed) * 1e6,
    ]])
}
if companyCount > 1 {
    try await runCompanies()
    for each in servers { _ = each.stop() }
    try await client.shutdown().get()
    exit(0)
}
/// Workload 5 of issue H: every device at once, each pushing its 10-action change sets one
/// after another and pulling one page (up to 1,000 entries) after each push, as a device that
/// syncs continuously does. Each answered request's latency is kept; a 429 is waited out
/// (Retry-After) and counted apart; anything else that fails is an error.
@MainActor func runCrowd(_ count: Int, port: Int) async throws {
    let crowdClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(
        connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: count)))
    struct Tally: Sendable { var push: [Double] = [], pull: [Double] = [], throttled = 0, errors: [String] = [], pushed = 0, pulled = 0, rejected = 0 }
    func exchange(_ wire: [UInt8], device: Int, tally: inout Tally) async -> (SyncMessage, Double)? {
        while true {
            let request = syncRequest(wire, device: device, port: port)
            let start = clock.now
            do {
                let response = try await crowdClient.execute(request, timeout: .seconds(120))
                let body = try await response.body.collect(upTo: 64 << 20)
                let latency = seconds(clock.now - start)
                if response.status.code == 429 {
                    tally.throttled += 1
                    try await Task.sleep(for: .seconds(Double(response.headers.first(name: "Retry-After") ?? "1") ?? 1))
                    continue
                }
                guard response.status == .ok else {
                    tally.errors.append("HTTP \(response.status.code)")
                    return nil
                }
                return (try SyncMessage.decode(Array(buffer: body)), latency)
            } catch {
                tally.errors.append("\(error)")
                return nil
            }
        }
    }
    let before = server.memory().now
    let startCPU = server.cpuSeconds()
    let start = clock.now
    let replicas = traffic.devices, setupHead = UInt64(setupCount)
    // A device sends what it did since its last sync with the context it had then: the log
    // sequence its last pull reached. So each change set is encoded when it is sent (a few
    // milliseconds of the benchmark's processor in all), not before the clock starts.
    let runs = traffic.byDevice.map { FieldWorkload.runs($0, size: setSize) }
    let tally = await withTaskGroup(of: Tally.self) { group in
        for (device, sets) in runs.enumerated() {
            group.addTask {
                var tally = Tally()
                var cursor = setupHead
                // Devices start spread over one pause, not all in the same instant.
                try? await Task.sleep(for: .milliseconds(pauseMillis * device / count))
                for (index, run) in sets.enumerated() {
                    if index > 0, pauseMillis > 0 { try? await Task.sleep(for: .milliseconds(pauseMillis)) }
                    let actions = run.map {
                        Action(dot: $0.dot, hlc: $0.hlc, actor: $0.actor, job: $0.job, seenSequence: cursor, businessDay: $0.businessDay, payload: $0.payload)
                    }
                    let wire = try! SyncMessage.pushRequest(ChangeSet(replica: replicas[device], lastAppliedSequence: cursor, appVersion: "bench",
                                                                      clock: actions.last!.hlc, actions: actions)).encoded()
                    guard let (answer, latency) = await exchange(wire, device: device, tally: &tally) else { continue }
                    guard case .pushResponse(let response) = answer, response.sendFrom == nil else {
                        tally.errors.append("push answered \(answer)")
                        continue
                    }
                    tally.push.append(latency)
                    tally.pushed += response.outcomes.count
                    tally.rejected += response.outcomes.filter { if case .rejected = $0 { true } else { false } }.count
                    let pull = try! SyncMessage.pullRequest(PullRequest(replica: replicas[device], afterSequence: cursor, limit: 1_000)).encoded()
                    guard let (page, pullLatency) = await exchange(pull, device: device, tally: &tally) else { continue }
                    guard case .pullPage(let pulled) = page else {
                        tally.errors.append("pull answered \(page)")
                        continue
                    }
                    tally.pull.append(pullLatency)
                    tally.pulled += pulled.entries.count
                    cursor = pulled.checkpoint.sequence
                }
                return tally
            }
        }
        var all = Tally()
        for await one in group {
            all.push += one.push
            all.pull += one.pull
            all.throttled += one.throttled
            all.errors += one.errors
            all.pushed += one.pushed
            all.pulled += one.pulled
            all.rejected += one.rejected
        }
        return all
    }
    let elapsed = seconds(clock.now - start)
    let cpu = server.cpuSeconds() - startCPU
    try await crowdClient.shutdown().get()
    func percentile(_ values: [Double], _ p: Int) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, sorted.count * p / 100)]
    }
    let memory = server.memory()
    print("each device: push 10 actions, pull a page of up to 1,000 entries, wait \(pauseMillis) ms, again")
    print(String(format: "%d devices at once: %d pushes (%d actions, %d rejected) and %d pulls (%d entries) in %.2f s; server CPU %.1f s",
                 count, tally.push.count, tally.pushed, tally.rejected, tally.pull.count, tally.pulled, elapsed, cpu))
    print(String(format: "push latency: median %.1f ms, p99 %.1f ms, max %.1f ms; pull latency: median %.1f ms, p99 %.1f ms",
                 percentile(tally.push, 50) * 1000, percentile(tally.push, 99) * 1000, percentile(tally.push, 100) * 1000,
                 percentile(tally.pull, 50) * 1000, percentile(tally.pull, 99) * 1000))
    print(String(format: "server memory: %.0f MiB before the devices came (the company loaded)", before))
    print(String(format: "server memory: peak %.0f MiB (now %.0f MiB); 429 answers waited out: %d; errors: %d%@", memory.peak, memory.now, tally.throttled,
                 tally.errors.count, tally.errors.isEmpty ? "" : " (first: \(tally.errors[0]))"))
    try writeJSON(["crowd": [
        "devices": count, "pushes": tally.push.count, "actions": tally.pushed, "rejected": tally.rejected, "pulls": tally.pull.count, "entries_pulled": tally.pulled,
        "seconds": elapsed, "push_p50_ms": percentile(tally.push, 50) * 1000, "push_p99_ms": percentile(tally.push, 99) * 1000,
        "pull_p99_ms": percentile(tally.pull, 99) * 1000, "peak_memory_mib": memory.peak, "throttled": tally.throttled, "errors": tally.errors.count,
        "log_before": setupCount, "pause_ms": pauseMillis, "memory_before_mib": before,
    ]])
}

if let crowd {
    try await runCrowd(crowd, port: server.port)
    _ = server.stop()
    try await client.shutdown().get()
    exit(0)
}

let growing = Target(port: server.port, head: head)
var points = [try await measureBesideBaseline(growing, index: 0)]
head = growing.head
let quarters = 4
let logHead = LogHead(head)
var pushedTotal = 0
var loadTime = Duration.zero
var loadCPU = 0.0
for quarter in 0..<quarters {
    let ports = servers.map(\.port)
    let start = clock.now
    let startCPU = servers.reduce(0) { $0 + $1.cpuSeconds() }
    // Each device pushes its own change sets in order, all at once, each as soon as the log holds
    // its context. A quarter is the change sets whose context falls in that quarter of the
    // workload's log, so the device whose next change set comes first in the workload can always
    // go (its context is logged) and no quarter waits for one after it. The log's order is not
    // the workload's, so outcomes are not its model's: the generator names a refund's payment and
    // an edited installment from the ledger's newest state, which the device may not have pulled,
    // and a few of those come before what they name (payment_unknown, installment_unknown). The
    // rejections are counted.
    let base = traffic.setup.count  // the workload's contexts do not count the probe's jobs
    let bounds = (UInt64(base + total * quarter / quarters), UInt64(base + total * (quarter + 1) / quarters))
    let (pushed, rejected) = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
        for (device, sets) in outgoing.enumerated() {
            let slice = sets.filter { $0.context >= bounds.0 && $0.context < bounds.1 }
            let port = ports[device % ports.count]
            group.addTask { try await pushInTurn(slice, device: device, port: port, logHead: logHead) }
        }
        var sum = (0, 0)
        for try await (count, rejected) in group { sum = (sum.0 + count, sum.1 + rejected) }
        return sum
    }
    let elapsed = clock.now - start
    let cpu = servers.reduce(0) { $0 + $1.cpuSeconds() } - startCPU
    loadCPU += cpu
    loadTime += elapsed
    pushedTotal += pushed
    head += UInt64(pushed)
    let memory = server.memory()
    print(String(format: "quarter %d: %d actions (%d rejected) in %.2f s: %.0f actions/s; server CPU %.1f µs/action; server memory %.0f MiB (peak %.0f)",
                 quarter + 1, pushed, rejected, seconds(elapsed), Double(pushed) / seconds(elapsed), cpu / Double(pushed) * 1e6, memory.now, memory.peak))
    if settleSeconds > 0 { try await Task.sleep(for: .seconds(settleSeconds)) }
    growing.head = head
    points.append(try await measureBesideBaseline(growing, index: quarter + 1))
    head = growing.head
    await logHead.advance(to: head)
}
let peak = server.memory().peak
print(String(format: "end-to-end: %d actions in %.2f s: %.0f actions/s (429 answers waited out: %d); server CPU %.1f µs/action; server peak memory %.0f MiB",
             pushedTotal, seconds(loadTime), Double(pushedTotal) / seconds(loadTime), throttled.load(ordering: .relaxed), loadCPU / Double(pushedTotal) * 1e6, peak))
print("the fixed push and pull as the log grows: medians of \(repetitions) in ms, each beside a server on the setup's \(setupCount)-entry log timed at the same moments (÷ that), then ÷ the first point")
for point in points {
    func show(_ timed: Timed, _ first: Timed) -> String {
        String(format: "%.1f (baseline %.1f, ÷ %.2f; ÷ first %.2f)", timed.growingMedian * 1000, timed.baselineMedian * 1000, timed.ratio, timed.growingMedian / first.growingMedian)
    }
    print(String(format: "log %7d: push ", point.log) + show(point.push, points[0].push) + "; on the probe's own jobs " + show(point.own, points[0].own)
          + "; on its overpaid jobs " + show(point.overpaid, points[0].overpaid)
          + "; catching up that last push " + show(point.pull, points[0].pull)
          + String(format: ", the first pull %.1f (baseline %.1f)", point.pull.growing[0] * 1000, point.pull.baseline[0] * 1000))
}
let growthFigures: [String: Any] = [
    "log": points.map(\.log), "baseline_log": setupCount,
    "push_ms": points.map { $0.push.growingMedian * 1000 }, "push_baseline_ms": points.map { $0.push.baselineMedian * 1000 },
    "push_own_jobs_ms": points.map { $0.own.growingMedian * 1000 }, "push_own_jobs_baseline_ms": points.map { $0.own.baselineMedian * 1000 },
    "push_overpaid_jobs_ms": points.map { $0.overpaid.growingMedian * 1000 }, "push_overpaid_jobs_baseline_ms": points.map { $0.overpaid.baselineMedian * 1000 },
    "pull_ms": points.map { $0.pull.growingMedian * 1000 }, "pull_baseline_ms": points.map { $0.pull.baselineMedian * 1000 },
    "pull_first_ms": points.map { $0.pull.growing[0] * 1000 }, "pull_first_baseline_ms": points.map { $0.pull.baseline[0] * 1000 },
]
try writeJSON([
    "ingest": ["actions": pushedTotal, "seconds": seconds(loadTime), "actions_per_second": Double(pushedTotal) / seconds(loadTime),
               "server_cpu_us_per_action": loadCPU / Double(pushedTotal) * 1e6, "peak_memory_mib": peak, "wire_bytes": wireBytes,
               "bytes_per_action": Double(wireBytes) / Double(total), "storage": onPostgres ? "postgresql" : "sqlite", "processes": processCount],
    "growth": growthFigures,
])
for other in servers.dropFirst() { _ = other.stop() }
let stopTime = server.stop()
print("graceful stop: \(stopTime)")
let restart = clock.now
server = try Server(binary: serverBinary, storage: storageArguments)
let restarted = Target(port: server.port, head: head, counter: growing.counter)
_ = try await probe(restarted, on: jobs)
print("restart until the first push was answered (the log replayed since the last snapshot): \(clock.now - restart) (log now \(restarted.head))")
_ = server.stop()
try await client.shutdown().get()
