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

@Suite("The server binary releases idle companies (decision 0046)")
struct IdleReleaseTests {
    /// `/metrics`' value of `name`, nil while the server does not answer.
    static func metric(_ name: String, port: Int) async -> Int? {
        guard let (data, _) = try? await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/metrics")!) else { return nil }
        let line = String(decoding: data, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix(name + " ") }
        return line.flatMap { Int($0.dropFirst(name.count + 1)) }
    }

    @Test("serve refuses an idle time that is not a number of seconds, 0 or more, before it opens anything")
    func idleTimeChecked() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("release-idle-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for value in ["-1", "soon", "inf"] {
            let refused = try run(ServerProcess.binary.path, ["serve", "--port", "0", "--data", directory, "--release-idle-after", value])
            #expect(refused.status != 0 && refused.output.contains("release-idle-after"), "\(value): \(refused)")
        }
        #expect(!FileManager.default.fileExists(atPath: directory), "nothing was created")
    }

    @Test("serve refuses an environment value that does not parse, naming the variable, instead of using the default")
    func environmentChecked() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("serve-env-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for (variable, value) in [("FIELDLEDGER_RELEASE_IDLE_AFTER", "an hour"), ("FIELDLEDGER_SNAPSHOT_EVERY", "often"), ("FIELDLEDGER_PORT", "http")] {
            // A host no one can listen on: a server that took the default instead fails, not serves.
            let refused = try Binaries.run("fieldledger-server", ["serve", "--host", "256.0.0.1", "--data", directory], environment: [variable: value])
            #expect(refused.status != 0 && refused.err.contains(variable), "\(variable)=\(value): \(refused)")
        }
        #expect(!FileManager.default.fileExists(atPath: directory), "nothing was created")
    }

    @Test("A company idle for the given seconds leaves the process's memory; the metrics do not bring it back; its next push and pull do", arguments: Backend.all)
    func idleCompanyReleased(_ backend: Backend) async throws {
        try await backend.withSite { site in
            let storage = site.serverArguments
            _ = try ServerProcess.run(["company", "create", "acme"], storage: storage)
            _ = try ServerProcess.run(["user", "add", "acme", "ann", "--role", "office"], storage: storage)
            let lines = try ServerProcess.run(["token", "issue", "acme", "ann"], storage: storage).split(separator: "\n")
            let token = String(try #require(lines.first { $0.hasPrefix("token:") }).dropFirst("token:".count)).trimmingCharacters(in: .whitespaces)
            let replica = try ReplicaID(uuidString: String(try #require(lines.first { $0.hasPrefix("replica:") }).dropFirst("replica:".count))
                .trimmingCharacters(in: .whitespaces))
            var device = TestDevice(replica: replica, actor: Actor(user: try UserID("ann"), role: .office), initial: try Ledger())
            let port = TestPorts.next()
            let idleSeconds = 2
            let server = try ServerProcess(storage: storage + ["--release-idle-after", "\(idleSeconds)"], port: port)
            defer { server.kill() }
            try await server.waitUntilUp()
            let day = Fixtures.date("2026-06-01")

            // Pushes the device's outbox and pulls to the head; the answers' outcomes.
            func sync() async throws -> [Outcome] {
                let changeSet = ChangeSet(replica: replica, lastAppliedSequence: device.cursor, appVersion: "idle", clock: device.pending.last!.hlc,
                                          actions: device.pending)
                guard case .pushResponse(let response)? = await CrashTests.send(.pushRequest(changeSet), token: token, port: port) else {
                    Issue.record("push failed")
                    return []
                }
                guard case .pullPage(let page)? = await CrashTests.send(.pullRequest(PullRequest(replica: replica, afterSequence: device.cursor, limit: 500)),
                                                                        token: token, port: port) else {
                    Issue.record("pull failed")
                    return []
                }
                try device.apply(page.entries)
                #expect(page.checkpoint.caughtUp)
                return response.outcomes
            }
            // The company is in memory after a sync, unless the idle time has passed since the sync
            // began (the server's last use of it is later): on a loaded machine the answers may take
            // that long, and then the company is rightly gone (CI met that with one second).
            func inMemoryAfterSync(since synced: ContinuousClock.Instant) async -> Bool {
                let inMemory = await Self.metric("fieldledger_companies_in_memory", port: port)
                return inMemory == 1 || synced.duration(to: .now) >= .seconds(idleSeconds)
            }
            device.perform(.createJob(number: "J-1", customer: Customer(name: "C"), department: nil, currency: .usd, notes: ""), job: nil, day: day, physicalMillis: 1)
            let job = try #require(device.view.jobs.first?.id)
            device.perform(.setInvoice(number: "I-1", baseTotalMinor: 10_000, issuedOn: day), job: job, day: day, physicalMillis: 2)
            // Over the invoice: a customer-credit case, open.
            device.perform(.recordPayment(PaymentRequest(amountMinor: 15_000, currency: .usd, method: .cash)), job: job, day: day, physicalMillis: 3)
            var synced = ContinuousClock.now
            #expect(try await sync().count == 3)
            #expect(await inMemoryAfterSync(since: synced))

            // Idle: within a few looks (every second) the company is snapshotted, then released.
            var inMemory = await Self.metric("fieldledger_companies_in_memory", port: port)
            for _ in 0..<300 where inMemory != 0 {
                try await Task.sleep(for: .milliseconds(100))
                inMemory = await Self.metric("fieldledger_companies_in_memory", port: port)
            }
            #expect(inMemory == 0, "released")
            #expect(await Self.metric("fieldledger_review_cases_open", port: port) == 1, "counted from storage")
            #expect(await Self.metric("fieldledger_companies_in_memory", port: port) == 0, "a scrape loads nothing")

            // Back: the next push loads it and goes on from its head.
            device.perform(.recordPayment(PaymentRequest(amountMinor: 500, currency: .usd, method: .card)), job: job, day: day, physicalMillis: 4)
            synced = .now
            #expect(try await sync().count == 1)
            #expect(await inMemoryAfterSync(since: synced))
            #expect(device.cursor == 4 && device.pending.isEmpty)
            #expect(try device.confirmed.job(job).totals.completedMinor == 15_500)
            #expect(await Self.metric("fieldledger_review_cases_open", port: port) == 2)
        }
    }
}
