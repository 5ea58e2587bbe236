// Issue E's benchmarks, release mode, after building both commands in release:
//
//     swift build -c release --product fieldledger-server --product fieldledger
//     swift run -c release client-bench
//
// 1. A device offline for a week pulls a 100,000-action backlog from the real server binary over
//    loopback (median of 5, each from a copy of the same replica file): time and bytes.
// 2. Recording one payment on a replica holding 50,000 jobs (median and 99th percentile).
// 3. `fieldledger report outstanding-draws` on that replica: the real binary, process start to exit.
//
// `--only backlog` or `--only replica` runs one part; `--keep DIR` leaves the files there (the
// 50,000-job device's home is DIR/big-device) for profiling a command against them; `--pages DIR`
// writes the backlog's pull pages there (Benchmarks/wire-breakdown.py says where their bytes go).
import FieldClient
import Foundation
import LedgerCore
import LedgerServer
import LedgerService
import LedgerTestSupport
import SQLiteLedgerStorage
import SyncProtocol

// The processor's SHA instructions, as the programs install them (FIELDLEDGER_SHA256=portable
// measures the core's own rounds instead).
print("SHA-256: " + (HardwareSHA256.installIfAvailable() ? "the processor's SHA instructions" : "the core's portable rounds"))
let clock = ContinuousClock()
func seconds(_ duration: Duration) -> Double { Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18 }
func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
let products = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
for binary in ["fieldledger-server", "fieldledger"] where !FileManager.default.isExecutableFile(atPath: products.appendingPathComponent(binary).path) {
    print("client-bench: build the commands first: swift build -c release --product fieldledger-server --product fieldledger")
    exit(1)
}
func option(_ name: String) -> String? {
    CommandLine.arguments.firstIndex(of: name).flatMap { $0 + 1 < CommandLine.arguments.count ? CommandLine.arguments[$0 + 1] : nil }
}
let only = option("--only")
/// `--json FILE`: the backlog's figures for the suite's report (Benchmarks/compare).
let jsonPath = option("--json")
let kept = option("--keep")
/// `--pages DIR`: each pull page of the backlog as sent, for Benchmarks/wire-breakdown.py.
let pagesPath = option("--pages")
let root = kept.map { URL(fileURLWithPath: $0) } ?? FileManager.default.temporaryDirectory.appendingPathComponent("client-bench-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
defer { if kept == nil { try? FileManager.default.removeItem(at: root) } }
let vocabulary = FieldWorkload.Vocabulary(userPrefix: "tech-", jobPrefix: "J-", invoicePrefix: "HV-", department: "HVAC", installmentLabels: ["Final Payment"],
                                          refundReason: "goodwill", changeOrders: ["Extra vent"])

/// Registers the workload's users and a token per device; returns the tokens (devices first, then `extra` readers).
func register(_ traffic: FieldWorkload, storage: SQLiteLedgerStorage, company: CompanyID, extra: Int) throws -> [String] {
    let administration = Administration(storage: storage)
    try administration.createCompany(company)
    let actors = (traffic.setup + traffic.entries).map(\.action.actor) + [Actor(user: try UserID("reader"), role: .office)]
    for actor in Set(actors).sorted(by: { $0.user.rawValue < $1.user.rawValue }) { try administration.setUser(actor.user, role: actor.role, company: company) }
    var tokens: [String] = []
    for (index, replica) in traffic.devices.enumerated() {
        let token = "flt1_" + String(repeating: String(format: "%02x", index), count: 32)
        try storage.registerDevice(tokenHash: DeviceTokens.hash(token), credential: DeviceCredential(company: company, actor: traffic.byDevice[index].first?.actor ?? actors[0], replica: replica))
        tokens.append(token)
    }
    for _ in 0..<extra { tokens.append(try administration.issueToken(company: company, user: try UserID("reader")).token) }
    return tokens
}

/// Pushes the entries through the service in their order and stops if an outcome differs from
/// the model's (the log would not be the workload's).
func pushInProcess(_ entries: [LogEntry], service: LedgerService<SQLiteLedgerStorage>, company: CompanyID) throws {
    var next = 0
    for run in FieldWorkload.runs(entries.map(\.action), size: 100) {
        let response = try service.push(ChangeSet(replica: run[0].dot.replica, lastAppliedSequence: run.last!.seenSequence, appVersion: "bench", clock: run.last!.hlc, actions: run),
                             company: company)
        for outcome in response.outcomes {
            guard outcome == entries[next].outcome else {
                print("client-bench: entry \(entries[next].sequence) was logged as \(outcome), the workload's outcome is \(entries[next].outcome)")
                exit(1)
            }
            next += 1
        }
    }
}

// MARK: 1. The week's backlog over loopback

if only == nil || only == "backlog" {
    let traffic = try FieldWorkload(.init(seed: 11, jobs: 10_000, devices: 50, actions: 100_000, gapMillisMax: 30_000, pullEvery: 20, vocabulary: vocabulary))
    let data = root.appendingPathComponent("server").path
    try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
    let company = try CompanyID("bench")
    let tokens: [String]
    do {
        let storage = try SQLiteLedgerStorage(path: FieldLedgerServer.databasePath(in: data))
        tokens = try register(traffic, storage: storage, company: company, extra: 1)
        let service = LedgerService(storage: storage)
        try pushInProcess(traffic.setup, service: service, company: company)
        try service.storeSnapshots()
        service.close()
    }
    // The server binary on a loopback port; returns it and its address.
    func startServer() throws -> (Process, String) {
        let server = Process()
        server.executableURL = products.appendingPathComponent("fieldledger-server")
        server.arguments = ["serve", "--port", "0", "--data", data, "--log-level", "error"]
        let output = Pipe()
        server.standardOutput = output
        try server.run()
        var line = ""
        while !line.contains("\n") { line += String(decoding: output.fileHandleForReading.availableData, as: UTF8.self) }
        let address = "http://" + (line.split(separator: " ").first { $0.contains("127.0.0.1:") }?.split(separator: "/").last.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: ",")) } ?? "")
        return (server, address)
    }
    // The reader syncs the office's setup, then goes offline while the devices push a week's work.
    var (server, address) = try startServer()
    let readerTransport = try HTTPSyncTransport(server: address, token: tokens.last!)
    let readerPath = root.appendingPathComponent("reader.sqlite").path
    let reader = try FieldReplica.create(at: readerPath, identity: try await readerTransport.identify())
    try await reader.sync(over: readerTransport)
    server.terminate()
    server.waitUntilExit()
    print("backlog: the reader synced the setup (\(traffic.setup.count) entries); the devices now push \(traffic.entries.count) actions")
    // In the workload's own order, so the server logs what the model logged: each action's
    // context is a sequence that exists when it arrives, and its outcome is the model's. (Each
    // device pushing its whole week in turn made half the actions claim sequences not logged
    // yet, and the server rejected them.) Pushed in process: in that order most change sets hold
    // one action, too many requests for a device's rate limit.
    do {
        let storage = try SQLiteLedgerStorage(path: FieldLedgerServer.databasePath(in: data))
        let service = LedgerService(storage: storage)
        try pushInProcess(traffic.entries, service: service, company: company)
        try service.storeSnapshots()
        service.close()
    }
    (server, address) = try startServer()
    defer { server.terminate(); server.waitUntilExit() }
    print("backlog: pushed; the reader pulls")
    // Three situations. A server just started: nothing loaded, no page built. A server that has
    // been running (the company in memory, as the other devices' pushes all week left it) but
    // that no device has asked for these pages yet: the server builds every page as the device
    // asks. And the usual one: other devices pulled the same aligned pages during the week
    // (PullPageCache), so the server answers from memory; that is the median.
    // Loads the company into the server's memory (the page that reaches the head needs its jobs).
    func loadCompany() async throws {
        let transport = try HTTPSyncTransport(server: address, token: tokens.last!)
        _ = try await transport.exchange(.pullRequest(PullRequest(replica: reader.identity.replica, afterSequence: UInt64(traffic.setup.count + traffic.entries.count - 1), limit: 1)))
        try await Task.sleep(for: .seconds(3))
    }
    var times: [Double] = [], bytes = 0, folded = 0, freshServer = 0.0, pagesUnbuilt = 0.0
    for attempt in 0..<7 {
        // A device may make 30 requests in a burst (ServerLimits); let the bucket refill between
        // attempts, untimed, now that pages the server already sent come back faster.
        if attempt > 0 { try await Task.sleep(for: .seconds(3)) }
        if attempt == 1 {
            server.terminate()
            server.waitUntilExit()
            (server, address) = try startServer()
            try await loadCompany()
        }
        let copy = root.appendingPathComponent("reader-\(attempt).sqlite").path
        try reader.copy(to: copy)
        let replica = try FieldReplica.open(at: copy)
        let transport = try HTTPSyncTransport(server: address, token: tokens.last!)
        let start = clock.now
        let report = try await replica.sync(over: transport)
        let elapsed = seconds(clock.now - start)
        switch attempt {
        case 0: freshServer = elapsed
        case 1: pagesUnbuilt = elapsed
        default: times.append(elapsed)
        }
        bytes = transport.traffic.bytes.received + transport.traffic.bytes.sent
        folded = report.entriesFolded
    }
    print(String(format: "backlog: %d entries pulled in %.3f s with the pages built by earlier pulls (median of 5: %@ s); %.3f s from a running server that builds every page as asked; %.3f s from a server just started; %d bytes on the wire (%.2f B/entry); goal ≤ 1 s and ≤ 800,000 bytes",
                 folded, median(times), times.map { String(format: "%.3f", $0) }.joined(separator: ", "), pagesUnbuilt, freshServer, bytes, Double(bytes) / Double(folded)))
    if let jsonPath {
        let figures: [String: Any] = ["backlog": ["actions": folded, "seconds": median(times), "first_seconds": freshServer, "pages_unbuilt_seconds": pagesUnbuilt,
                                                  "wire_bytes": bytes, "bytes_per_action": Double(bytes) / Double(folded)]]
        try JSONSerialization.data(withJSONObject: figures, options: [.prettyPrinted, .sortedKeys]).write(to: URL(fileURLWithPath: jsonPath))
    }
    // Where the time goes: the server answering every page with nobody folding, then the device
    // folding the same answers with no server (replayed from memory).
    // The first attempt on a server restarted, its company loaded, as the first device to pull a
    // stretch of log finds it: every page read from storage and encoded, none cached yet.
    server.terminate()
    server.waitUntilExit()
    (server, address) = try startServer()
    try await loadCompany()
    var serverTimes: [Double] = [], deviceTimes: [Double] = [], coldServer = 0.0
    for attempt in 0..<4 {
        try await Task.sleep(for: .seconds(3))
        let transport = try HTTPSyncTransport(server: address, token: tokens.last!)
        let cursor = try FieldReplica.open(at: readerPath).status(nowMillis: 0).lastConfirmedSequence
        var answers: [SyncMessage: SyncMessage] = [:]
        var after = cursor
        let start = clock.now
        while true {
            let request = SyncMessage.pullRequest(PullRequest(replica: reader.identity.replica, afterSequence: after, limit: ClientLimits.pullPageEntries))
            let answer = try await transport.exchange(request)
            answers[request] = answer
            if attempt == 0, let pagesPath {
                try Data(try answer.encoded()).write(to: URL(fileURLWithPath: pagesPath).appendingPathComponent("page-\(after).bin"))
            }
            guard case .pullPage(let page) = answer, !page.checkpoint.caughtUp else { break }
            after = page.checkpoint.sequence
        }
        if attempt == 0 { coldServer = seconds(clock.now - start) } else { serverTimes.append(seconds(clock.now - start)) }
        let copy = root.appendingPathComponent("reader-replayed-\(attempt).sqlite").path
        try reader.copy(to: copy)
        let replica = try FieldReplica.open(at: copy)
        let recorded = answers
        let replayed = InMemorySyncTransport { request in
            guard let answer = recorded[request] else { throw ClientError(.syncFailed, "client-bench: no recorded answer for \(request)") }
            return answer
        }
        let begin = clock.now
        try await replica.sync(over: replayed)
        deviceTimes.append(seconds(clock.now - begin))
    }
    print(String(format: "backlog, apart: the server answers every page in %.3f s (median of 3; restarted with its company loaded and no page built, %.3f s), the device folds them in %.3f s (median of 4)",
                 median(serverTimes), coldServer, median(deviceTimes)))
}

// MARK: 2 and 3. A replica of 50,000 jobs

if only == nil || only == "replica" {
    let traffic = try FieldWorkload(.init(seed: 12, jobs: 50_000, devices: 1, actions: 0, gapMillisMax: 30_000, pullEvery: 20, vocabulary: vocabulary))
    let storage = try SQLiteLedgerStorage(path: root.appendingPathComponent("big-server.sqlite").path)
    let company = try CompanyID("big")
    _ = try register(traffic, storage: storage, company: company, extra: 0)
    let service = LedgerService(storage: storage)
    var start = clock.now
    try pushInProcess(traffic.setup, service: service, company: company)
    print("50,000 jobs: \(traffic.setup.count) setup actions pushed in-process in \(clock.now - start)")
    let (_, credential) = try Administration(storage: storage).issueToken(company: company, user: try UserID("reader"))
    let home = root.appendingPathComponent("big-device").path
    try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
    let replica = try FieldReplica.create(at: home + "/replica.sqlite", identity: DeviceIdentity(company: company.rawValue, replica: credential.replica, actor: credential.actor,
                                                                                                  server: "http://127.0.0.1:1", token: "unused"))
    let transport = InMemorySyncTransport { try await service.answer($0, from: credential) }
    start = clock.now
    try await replica.sync(over: transport)
    print("50,000 jobs: the device pulled \(traffic.setup.count) entries (in process) in \(clock.now - start)")
    start = clock.now
    let jobs = try FieldReplica.open(at: home + "/replica.sqlite").view.jobs.map(\.id)
    print("50,000 jobs: opening the replica and building the view of every job took \(clock.now - start)")
    // A fresh replica: each payment reads its job from the file, as a command on the device does.
    let reopened = try FieldReplica.open(at: home + "/replica.sqlite")
    var random = SeededRandom(seed: 3)
    var times: [Double] = []
    let day = try CalendarDate.parse("2026-06-01")
    for index in 0..<300 {
        let job = jobs[random.int(in: 0...(jobs.count - 1))]
        let begin = clock.now
        try reopened.perform(.recordPayment(PaymentRequest(amountMinor: 1_000, currency: .usd, method: .cash)), job: job, day: day, wallMillis: 1_800_000_000_000 + Int64(index))
        times.append(seconds(clock.now - begin))
    }
    let sorted = times.sorted()
    print(String(format: "record one payment on 50,000 jobs: median %.3f ms, 99th percentile %.3f ms (300 payments, each durable); goal ≤ 2 ms",
                 median(times) * 1000, sorted[sorted.count * 99 / 100] * 1000))
    var reports: [Double] = []
    for _ in 0..<5 {
        let process = Process()
        process.executableURL = products.appendingPathComponent("fieldledger")
        process.arguments = ["report", "outstanding-draws", "--home", home]
        process.standardOutput = FileHandle.nullDevice
        let begin = clock.now
        try process.run()
        process.waitUntilExit()
        reports.append(seconds(clock.now - begin))
    }
    print(String(format: "fieldledger report outstanding-draws on 50,000 jobs: median %.0f ms (%@); goal ≤ 200 ms",
                 median(reports) * 1000, reports.map { String(format: "%.0f", $0 * 1000) }.joined(separator: ", ")))
    service.close()
}
