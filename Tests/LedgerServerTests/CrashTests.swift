import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LedgerCore
import LedgerService
import LedgerTestSupport
import StorageTestSupport
import SyncProtocol
import Testing

/// The `fieldledger-server` binary next to the test bundle, run as a real process (its Process
/// is only started, killed and waited on; unchecked Sendable so a task can kill it).
final class ServerProcess: @unchecked Sendable {
    static var binary: URL {
        // The test runner sits in the build products directory (or one level below), beside the executables.
        let here = Bundle.main.bundleURL
        return [here, here.deletingLastPathComponent()].map { $0.appendingPathComponent("fieldledger-server") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? here.appendingPathComponent("fieldledger-server")
    }

    let process = Process()
    let port: Int

    /// Serves what `storage` names (`--data DIR` or `--database URL`).
    init(storage: [String], port: Int) throws {
        self.port = port
        process.executableURL = Self.binary
        process.arguments = ["serve", "--host", "127.0.0.1", "--port", String(port)] + storage
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// Waits until /healthz answers.
    func waitUntilUp() async throws {
        for _ in 0..<200 {
            if let (_, response) = try? await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/healthz")!),
               (response as? HTTPURLResponse)?.statusCode == 200 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ServiceError(.storageFailed, "the server did not come up")
    }

    /// kill -9: no chance to finish anything.
    func kill() {
        // Never signal a pid that was already reaped (it may belong to another process now).
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    static func run(_ arguments: [String], storage: [String]) throws -> String {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments + storage
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        process.waitUntilExit()
        return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }
}

@Suite("Crash safety with real processes")
struct CrashTests {
    /// One HTTP round trip of a sync message; nil when the server is gone mid-request.
    static func send(_ message: SyncMessage, token: String, port: Int) async -> SyncMessage? {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/sync")!)
        request.httpMethod = "POST"
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.httpBody = Data((try? message.encoded()) ?? [])
        request.timeoutInterval = 5
        guard let (data, response) = try? await URLSession.shared.data(for: request), (response as? HTTPURLResponse)?.statusCode == 200 else { return nil }
        return try? SyncMessage.decode(Array(data))
    }

    @Test("serve refuses a snapshot interval that is not a positive number of entries, before it opens anything")
    func snapshotIntervalChecked() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("snapshot-every-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for value in ["0", "-5", "often"] {
            let refused = try run(ServerProcess.binary.path, ["serve", "--port", "0", "--data", directory, "--snapshot-every", value])
            #expect(refused.status != 0 && refused.output.contains("snapshot-every"), "\(value): \(refused)")
        }
        #expect(!FileManager.default.fileExists(atPath: directory), "nothing was created")
    }

    @Test("kill -9 at random moments: every acknowledged action is logged exactly once, no change set is half applied, devices converge", arguments: Backend.all)
    func killNine(_ backend: Backend) async throws {
        // Both cases run at once in this process: each on its own port.
        try await backend.withSite { site in
            try await Self.killNine(storage: site.serverArguments, portOffset: backend == .sqlite ? 0 : 1)
            let stored = try site.open().read(try CompanyID("acme")) { tx in (try tx.snapshotClaimed(), try tx.projectedThrough()) }
            #expect(stored.0 > 0 && stored.1 > 0, "the servers took and stored snapshots: \(stored)")
        }
    }

    static func killNine(storage: [String], portOffset: Int) async throws {
        _ = try ServerProcess.run(["company", "create", "acme"], storage: storage)
        var devices: [(token: String, device: TestDevice)] = []
        for index in 0..<4 {
            _ = try ServerProcess.run(["user", "add", "acme", "tech-\(index)", "--role", "office"], storage: storage)
            let printed = try ServerProcess.run(["token", "issue", "acme", "tech-\(index)"], storage: storage)
            let lines = printed.split(separator: "\n")
            let token = String(try #require(lines.first { $0.hasPrefix("token:") }).dropFirst("token:".count)).trimmingCharacters(in: .whitespaces)
            let replica = try ReplicaID(uuidString: String(try #require(lines.first { $0.hasPrefix("replica:") }).dropFirst("replica:".count))
                .trimmingCharacters(in: .whitespaces))
            devices.append((token, TestDevice(replica: replica, actor: Actor(user: try UserID("tech-\(index)"), role: .office), initial: try Ledger())))
        }
        var rng = SeededRandom(seed: 9)
        var acknowledged: [Dot: Outcome] = [:]
        let port = TestPorts.port(portOffset)
        let day = Fixtures.date("2026-06-01")
        for round in 0..<6 {
            // A snapshot every 7 entries, in chunks of 25 jobs: the kills also land between a
            // snapshot's chunks, and each restart loads rows stored ahead of the snapshot's sequence.
            let server = try ServerProcess(storage: storage + ["--snapshot-every", "7"], port: port)
            try await server.waitUntilUp()
            // Each device makes a few jobs and payments, then pushes while the server may die.
            for index in devices.indices {
                for step in 0..<rng.int(in: 3...8) {
                    let millis = Int64(round * 100_000 + index * 1_000 + step)
                    if let job = devices[index].device.view.jobs.last?.id, rng.chance(60) {
                        devices[index].device.perform(.recordPayment(PaymentRequest(amountMinor: rng.int64(in: 1...50) * 100, currency: .usd, method: .cash)),
                                                      job: job, day: day, physicalMillis: millis)
                    } else {
                        devices[index].device.perform(.createJob(number: "J-\(round)-\(index)-\(step)", customer: Customer(name: "C"), department: nil,
                                                                 currency: .usd, notes: ""), job: nil, day: day, physicalMillis: millis)
                    }
                }
            }
            // All devices push at once. In odd rounds the server is killed after a random few
            // milliseconds, while some pushes are in flight, some committed and some not yet
            // sent; in even rounds only after every answer came back (so some are acknowledged
            // however slow the machine is), which still kills it between commits and syncs.
            let killAfter: Int? = round % 2 == 1 ? rng.int(in: 0...150) : nil
            let answers = await withTaskGroup(of: (Int, SyncMessage?).self) { group in
                for index in devices.indices where !devices[index].device.pending.isEmpty {
                    let device = devices[index].device, token = devices[index].token
                    let changeSet = ChangeSet(replica: device.replica, lastAppliedSequence: device.cursor, appVersion: "crash",
                                              clock: device.pending.last!.hlc, actions: device.pending)
                    group.addTask { (index, await Self.send(.pushRequest(changeSet), token: token, port: port)) }
                }
                if let killAfter {
                    group.addTask {
                        try? await Task.sleep(for: .milliseconds(killAfter))
                        server.kill()
                        return (-1, nil)
                    }
                }
                var answers: [(Int, SyncMessage?)] = []
                for await answer in group where answer.0 >= 0 { answers.append(answer) }
                return answers
            }
            if server.process.isRunning { server.kill() }
            for (index, answer) in answers {
                guard case .pushResponse(let response)? = answer else { continue }
                for (action, outcome) in zip(devices[index].device.pending, response.outcomes) where outcome != .exists { acknowledged[action.dot] = outcome }
            }
        }
        // Heal: a last server that stays up; every device retries and pulls until caught up.
        let server = try ServerProcess(storage: storage + ["--snapshot-every", "7"], port: port)
        try await server.waitUntilUp()
        defer { server.kill() }
        for (token, device) in devices where !device.pending.isEmpty {
            let changeSet = ChangeSet(replica: device.replica, lastAppliedSequence: device.cursor, appVersion: "crash", clock: device.pending.last!.hlc,
                                      actions: device.pending)
            _ = await Self.send(.pushRequest(changeSet), token: token, port: port)
        }
        for index in devices.indices {
            var device = devices[index].device
            while true {
                guard case .pullPage(let page)? = await Self.send(.pullRequest(PullRequest(replica: device.replica, afterSequence: device.cursor, limit: 500)),
                                                                  token: devices[index].token, port: port) else { Issue.record("pull failed"); return }
                try device.apply(page.entries)
                if page.checkpoint.caughtUp { break }
            }
            devices[index].device = device
        }
        // The log, read back through the last device's pulls: each dot once, every acknowledged
        // action in it with the outcome the device was told, every device's outbox drained.
        let reference = devices[0].device
        var seen = Set<Dot>()
        var log: [LogEntry] = []
        var cursor: UInt64 = 0
        while true {
            guard case .pullPage(let page)? = await Self.send(.pullRequest(PullRequest(replica: reference.replica, afterSequence: cursor, limit: 500)),
                                                              token: devices[0].token, port: port) else { Issue.record("pull failed"); return }
            log += page.entries
            cursor = page.checkpoint.sequence
            if page.checkpoint.caughtUp { break }
        }
        for entry in log { #expect(seen.insert(entry.action.dot).inserted, "\(entry.action.dot) is logged twice") }
        for (dot, outcome) in acknowledged {
            #expect(log.first { $0.action.dot == dot }?.outcome == outcome, "acknowledged \(dot) is missing or changed")
        }
        // A change set is one transaction: each replica's logged counters have no holes.
        for (_, device) in devices {
            let counters = log.filter { $0.action.dot.replica == device.replica }.map(\.action.dot.counter)
            #expect(counters == (0..<counters.count).map { UInt64($0 + 1) }, "a hole in \(device.replica)'s actions")
            #expect(device.pending.isEmpty, "the outbox drained")
            #expect(device.confirmed.stateDigest == reference.confirmed.stateDigest, "devices converge")
        }
        #expect(!acknowledged.isEmpty)
    }
}
