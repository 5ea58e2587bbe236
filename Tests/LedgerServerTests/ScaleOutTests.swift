import Foundation
import LedgerCore
import LedgerService
import LedgerTestSupport
import StorageTestSupport
import Synchronization
import SyncProtocol
import Testing

@Suite("Several server processes on one PostgreSQL", .enabled(if: PostgresServer.available || PostgresServer.required, Comment(rawValue: Backend.skipReason)))
struct ScaleOutTests {
    static let devices = 50, processes = 3, rounds = 8
    /// A second company's devices beside the first's 50: each process writes both companies at
    /// once (decision 0045), and neither may see the other's actions.
    static let otherDevices = 10
    /// The round whose syncs see a process killed, and the round before which it comes back.
    static let killRound = 2, restartRound = 5
    /// Attempts of one sync (each through a process drawn at random) before the test gives up.
    static let attemptsMax = 12

    /// One device and its token, as the test drives it.
    struct Member: Sendable {
        let token: String
        /// Index into the test's companies.
        let company: Int
        var device: TestDevice
    }

    /// Requests answered so far in a round, across every device's task.
    final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    /// What one device's sync saw: its new state, the outcomes its pushes were told, and how
    /// many of its requests found no answer (the process dead, or over the rate).
    struct SyncResult: Sendable {
        var device: TestDevice
        var told: [(Dot, Outcome)] = []
        /// The outcomes of a push sent again through another process after it was answered.
        var resent: [Outcome] = []
        var unanswered = 0
        var synced = false
    }

    @Test("Three server processes, 50 devices (and 10 of another company) syncing through random ones with retries, one process killed -9 in the middle of the syncs and restarted: every acknowledged action once, no gaps, every device and process agrees")
    func fiftyDevicesThreeProcesses() async throws {
        try await Backend.postgres.withSite { site in
            let companies = [try CompanyID("acme"), try CompanyID("beta")]
            let admin = Administration(storage: try site.open())
            var members: [Member] = []
            for (companyIndex, (company, count)) in zip(companies, [Self.devices, Self.otherDevices]).enumerated() {
                try admin.createCompany(company)
                for index in 0..<count {
                    let user = try UserID("user-\(index)")
                    try admin.setUser(user, role: index % 5 == 0 ? .office : .technician, company: company)
                    let (token, credential) = try admin.issueToken(company: company, user: user)
                    members.append(Member(token: token, company: companyIndex,
                                          device: TestDevice(replica: credential.replica, actor: credential.actor, initial: try Ledger())))
                }
            }
            let base = TestPorts.port(10)
            let ports = (0..<Self.processes).map { base + $0 }
            // Snapshots often, so that the processes' claims (decision 0038) meet.
            var servers = try ports.map { try ServerProcess(storage: site.serverArguments + ["--snapshot-every", "50"], port: $0) }
            for server in servers { try await server.waitUntilUp() }
            defer { for server in servers { server.kill() } }

            var rng = SeededRandom(seed: 50)
            var acknowledged: [Dot: Outcome] = [:]
            let day = Fixtures.date("2026-06-01")
            var cutByKill = 0, resentActions = 0
            for round in 0..<(Self.rounds + 2) {
                if round == Self.restartRound {
                    servers[1] = try ServerProcess(storage: site.serverArguments + ["--snapshot-every", "50"], port: ports[1])
                    try await servers[1].waitUntilUp()
                }
                // The last two rounds only sync, with every process up: the devices drain.
                if round < Self.rounds {
                    for index in members.indices {
                        for step in 0..<rng.int(in: 1...4) {
                            let millis = Int64(round * 1_000_000 + index * 1_000 + step * 10)
                            Self.act(&members[index].device, rng: &rng, day: day, millis: millis, name: "J-\(round)-\(index)-\(step)")
                        }
                    }
                }
                // Each sync's processes, drawn in advance so the run does not depend on timing.
                let routes = members.indices.map { _ in (0..<Self.attemptsMax).map { _ in rng.int(in: 0...(Self.processes - 1)) } }
                // A quarter of the devices send their answered push again through another
                // process, as when an answer is lost on the way back.
                let resends = members.indices.map { _ in rng.chance(25) }
                let answered = Counter()
                let victim = servers[1], placeholder = SyncResult(device: members[0].device), memberCount = members.count
                let results = await withTaskGroup(of: (Int, SyncResult).self) { group in
                    for index in members.indices {
                        let member = members[index], route = routes[index], resend = resends[index]
                        group.addTask { (index, await Self.sync(member, route: route.map { ports[$0] }, resend: resend, answered: answered)) }
                    }
                    if round == Self.killRound {
                        // Killed once a quarter of the devices' first requests have come back:
                        // the others are in flight or about to be sent, some of them to it.
                        group.addTask {
                            while answered.value.load(ordering: .relaxed) < memberCount / 4 { try? await Task.sleep(for: .milliseconds(2)) }
                            victim.kill()
                            return (-1, placeholder)
                        }
                    }
                    var results: [(Int, SyncResult)] = []
                    for await result in group where result.0 >= 0 { results.append(result) }
                    return results
                }
                for (index, result) in results {
                    members[index].device = result.device
                    for (dot, outcome) in result.told where outcome != .exists { acknowledged[dot] = outcome }
                    if round == Self.killRound { cutByKill += result.unanswered }
                    resentActions += result.resent.count
                    #expect(result.resent.allSatisfy { $0 == .exists }, "a push sent again through another process is answered 'exists': \(result.resent)")
                    #expect(result.synced, "device \(index) could not sync in round \(round) through \(Self.attemptsMax) attempts")
                }
            }
            #expect(resentActions > 0, "pushes were sent again")
            #expect(cutByKill > 0, "the kill left requests without an answer, so devices retried elsewhere")

            #expect(acknowledged.count > Self.devices * Self.rounds, "enough acknowledged actions to mean something: \(acknowledged.count)")
            // For each company, every process serves the same log: gap-free, each dot once, only
            // the company's own devices' actions, every acknowledged action with the outcome its
            // device was told.
            var logged = 0
            for companyIndex in companies.indices {
                let own = members.filter { $0.company == companyIndex }
                var logs: [[LogEntry]] = []
                for port in ports { logs.append(try await Self.log(own[0], port: port)) }
                let log = logs[0]
                logged += log.count
                for other in logs.dropFirst() { #expect(other == log, "every process serves the same log") }
                #expect(log.map(\.sequence) == (0..<log.count).map { UInt64($0 + 1) }, "no gaps")
                var seen = Set<Dot>()
                for entry in log { #expect(seen.insert(entry.action.dot).inserted, "\(entry.action.dot) is logged twice") }
                let replicas = Set(own.map(\.device.replica))
                #expect(log.allSatisfy { replicas.contains($0.action.dot.replica) }, "only the company's own devices' actions")
                let outcomes = Dictionary(uniqueKeysWithValues: log.map { ($0.action.dot, $0.outcome) })
                for (dot, outcome) in acknowledged where replicas.contains(dot.replica) {
                    #expect(outcomes[dot] == outcome, "acknowledged \(dot) is missing or changed")
                }
                let reference = own[0].device
                for member in own {
                    #expect(member.device.pending.isEmpty, "the outbox drained")
                    let counters = log.filter { $0.action.dot.replica == member.device.replica }.map(\.action.dot.counter)
                    #expect(counters == (0..<Int(member.device.counter)).map { UInt64($0 + 1) }, "each of the device's actions once, in order")
                    #expect(member.device.cursor == UInt64(log.count))
                    #expect(member.device.logDigest == reference.logDigest)
                    #expect(member.device.confirmed.stateDigest == reference.confirmed.stateDigest, "devices converge")
                }
            }
            // A push the kill cut off after its commit is answered "exists" when sent again, so
            // the logs may hold more than was acknowledged, never less.
            #expect(logged >= acknowledged.count)
        }
    }

    /// A device makes a job with an invoice, or takes a payment on a job it can see.
    static func act(_ device: inout TestDevice, rng: inout SeededRandom, day: CalendarDate, millis: Int64, name: String) {
        let jobs = device.view.jobs.filter { $0.invoice != nil }
        if !jobs.isEmpty && rng.chance(70) {
            let job = rng.pick(jobs).id
            device.perform(.recordPayment(PaymentRequest(amountMinor: rng.int64(in: 1...40) * 100, currency: .usd, method: .cash)),
                           job: job, day: day, physicalMillis: millis)
        } else if let created = device.perform(.createJob(number: name, customer: Customer(name: "C"), department: nil, currency: .usd, notes: ""),
                                                job: nil, day: day, physicalMillis: millis).action {
            device.perform(.setInvoice(number: "I-\(name)", baseTotalMinor: 500_000, issuedOn: day), job: JobID(created.dot), day: day, physicalMillis: millis + 1)
        }
    }

    /// Push, then pull until caught up, as a device does; a request without an answer makes the
    /// device start over through the next process of its route, after a short pause.
    static func sync(_ member: Member, route: [Int], resend: Bool, answered: Counter) async -> SyncResult {
        var result = SyncResult(device: member.device)
        attempts: for (attempt, port) in route.enumerated() {
            var device = result.device
            if !device.pending.isEmpty {
                let changeSet = ChangeSet(replica: device.replica, lastAppliedSequence: device.cursor, appVersion: "scale-out",
                                          clock: device.pending.last!.hlc, actions: device.pending)
                let answer = await CrashTests.send(.pushRequest(changeSet), token: member.token, port: port)
                answered.value.add(1, ordering: .relaxed)
                guard case .pushResponse(let response)? = answer, response.sendFrom == nil else {
                    result.unanswered += 1
                    try? await Task.sleep(for: .milliseconds(20))
                    continue attempts
                }
                result.told += zip(device.pending.map(\.dot), response.outcomes).map { ($0, $1) }
                let other = route.dropFirst(attempt).first { $0 != port } ?? port
                if resend, case .pushResponse(let again)? = await CrashTests.send(.pushRequest(changeSet), token: member.token, port: other) {
                    result.resent += again.outcomes
                }
            }
            while true {
                let answer = await CrashTests.send(.pullRequest(PullRequest(replica: device.replica, afterSequence: device.cursor, limit: 200)),
                                                   token: member.token, port: port)
                answered.value.add(1, ordering: .relaxed)
                guard case .pullPage(let page)? = answer, (try? device.apply(page.entries)) != nil, device.logDigest == page.checkpoint.logDigest else {
                    result.unanswered += 1
                    // What was folded so far stays: a pull resumes from its cursor.
                    result.device = device
                    try? await Task.sleep(for: .milliseconds(20))
                    continue attempts
                }
                result.device = device
                if page.checkpoint.caughtUp { break }
            }
            result.synced = result.device.pending.isEmpty
            if result.synced { return result }
        }
        return result
    }

    /// Every entry of the log, read through one process.
    static func log(_ member: Member, port: Int) async throws -> [LogEntry] {
        var entries: [LogEntry] = [], cursor: UInt64 = 0
        while true {
            let answer = await CrashTests.send(.pullRequest(PullRequest(replica: member.device.replica, afterSequence: cursor, limit: 500)),
                                               token: member.token, port: port)
            guard case .pullPage(let page)? = answer else { throw ServiceError(.storageFailed, "a pull through port \(port) failed") }
            entries += page.entries
            cursor = page.checkpoint.sequence
            if page.checkpoint.caughtUp { return entries }
        }
    }
}
