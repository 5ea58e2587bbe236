import LedgerCore
import LedgerTestSupport
import SyncProtocol
import Testing

/// A server in memory behind the real codec: every request and answer crosses as bytes.
struct CodecServer {
    var log: ServerLog
    var digests: [[UInt8]] = [LogDigest.empty]

    mutating func serve(_ request: [UInt8], from replica: ReplicaID) throws -> [UInt8] {
        let session = ServerSyncSession(authenticatedReplica: replica)
        switch session.received(try SyncMessage.decode(request)) {
        case .applyPush(let changeSet):
            let result = log.push(changeSet.actions)
            for entry in log.entries.dropFirst(digests.count - 1) { digests.append(LogDigest.next(digests.last!, entry)) }
            return try session.pushCompleted(outcomes: result.outcomes, sendFrom: result.sendFrom, serverSequence: UInt64(log.entries.count)).encoded()
        case .readPage(let after, let limit, let schema):
            let entries = Array(log.entries(after: after, limit: limit))
            let last = entries.last?.sequence ?? after
            let touched = Set(entries.compactMap(\.action.touchedJob))
            let jobs = touched.sorted().compactMap { try? log.ledger.job($0).digest }
            // The digests describe the jobs as of the page's end; a page that stops short of the
            // log's end must not claim them, so only the last page carries job digests.
            let caughtUp = last == UInt64(log.entries.count)
            return try session.pageReady(entries: entries, checkpoint: Checkpoint(sequence: last, logDigest: digests[Int(last)],
                                                                                  jobs: caughtUp ? jobs : [], caughtUp: caughtUp),
                                     schemaVersion: schema).encoded()
        case .respond(let message):
            return try message.encoded()
        }
    }
}

@Suite("Sync sessions: client and server state machines over the real codec")
struct SyncSessionTests {
    /// Runs one full sync of `device` against `server`; returns the outcomes the device recorded.
    @discardableResult
    static func sync(_ device: inout TestDevice, with server: inout CodecServer, batch: Int = 7, page: UInt32 = 5) throws -> [Outcome] {
        var session = ClientSyncSession(replica: device.replica, appVersion: "test", batchSize: batch, pageSize: page)
        var step = session.start(pending: device.pending, cursor: device.cursor, clock: device.clock.last)
        var recorded: [Outcome] = []
        for _ in 0..<10_000 {
            switch step {
            case .send(let message):
                let answer = try server.serve(try message.encoded(), from: device.replica)
                step = session.received(try SyncMessage.decode(answer))
            case .recordOutcomes(let outcomes):
                recorded += outcomes.map(\.1)
                step = session.outcomesRecorded()
            case .applyPage(let page):
                try device.apply(page.entries)
                #expect(device.logDigest == page.checkpoint.logDigest, "log digest at \(page.checkpoint.sequence)")
                for digest in page.checkpoint.jobs {
                    #expect(try device.confirmed.job(digest.job).digest == digest, "job \(digest.job)")
                }
                step = session.pageApplied()
            case .finished:
                return recorded
            case .failed(let error):
                Issue.record("sync failed: \(error)")
                return recorded
            }
        }
        Issue.record("sync did not finish")
        return recorded
    }

    @Test("Three devices sync through encoded messages in small batches and pages, and converge on the server's state")
    func devicesConverge() throws {
        let initial = try Ledger()
        var server = CodecServer(log: ServerLog(ledger: initial))
        var office = TestDevice(replica: Fixtures.officeDevice, actor: Fixtures.office, initial: initial)
        var techs = [Fixtures.technicianDevice, ReplicaID(high: 3, low: 3)].map { TestDevice(replica: $0, actor: Fixtures.technician, initial: initial) }
        let day = Fixtures.date("2026-06-01")
        var jobs: [JobID] = []
        for index in 0..<4 {
            let created = office.perform(.createJob(number: "J-\(index)", customer: Customer(name: "C\(index)"), department: nil, currency: .usd, notes: ""),
                                         job: nil, day: day, physicalMillis: 1_000 + Int64(index))
            let job = JobID(try #require(created.action).dot)
            jobs.append(job)
            office.perform(.setInvoice(number: "HV-\(index)", baseTotalMinor: 900_000, issuedOn: day), job: job, day: day, physicalMillis: 1_100)
            office.perform(.createPlan(PlanDraft(template: .thirds)), job: job, day: day, physicalMillis: 1_200)
        }
        try Self.sync(&office, with: &server)
        for index in techs.indices { try Self.sync(&techs[index], with: &server) }
        // Offline work on every device, then everyone syncs twice.
        for round in 0..<3 {
            for (index, job) in jobs.enumerated() {
                techs[index % 2].perform(.recordPayment(PaymentRequest(amountMinor: 10_000 + Int64(round), currency: .usd, method: .cash)),
                                         job: job, day: day, physicalMillis: 2_000 + Int64(round * 10 + index))
            }
            office.perform(.updateJobInfo(JobInfoUpdate(notes: "round \(round)")), job: jobs[round], day: day, physicalMillis: 3_000 + Int64(round))
        }
        for _ in 0..<2 {
            try Self.sync(&office, with: &server)
            for index in techs.indices { try Self.sync(&techs[index], with: &server) }
        }
        #expect(server.log.entries.count == 4 * 3 + 6 * 2 + 3)
        for device in [office] + techs {
            #expect(device.pending.isEmpty)
            #expect(device.confirmed == server.log.ledger)
            #expect(device.logDigest == server.digests.last)
        }
    }

    @Test("A device that lost its pushes' responses resends; the server answers 'exists' and nothing doubles")
    func lostResponses() throws {
        let initial = try Ledger()
        var server = CodecServer(log: ServerLog(ledger: initial))
        var office = TestDevice(replica: Fixtures.officeDevice, actor: Fixtures.office, initial: initial)
        let created = office.perform(.createJob(number: "J-1", customer: Customer(name: "Dana"), department: nil, currency: .usd, notes: ""),
                                     job: nil, day: Fixtures.date("2026-06-01"), physicalMillis: 1_000)
        let job = JobID(try #require(created.action).dot)
        office.perform(.setInvoice(number: "HV-1", baseTotalMinor: 100_000, issuedOn: nil), job: job, day: Fixtures.date("2026-06-01"), physicalMillis: 1_001)
        // The first push reaches the server but its answer is lost on the way back.
        _ = try server.serve(try SyncMessage.pushRequest(ChangeSet(replica: office.replica, lastAppliedSequence: 0, appVersion: "t",
                                                                   clock: office.clock.last, actions: office.pending)).encoded(), from: office.replica)
        let outcomes = try Self.sync(&office, with: &server)
        #expect(outcomes == [.exists, .exists])
        #expect(server.log.entries.count == 2)
        #expect(office.confirmed == server.log.ledger)
    }

    @Test("The server session refuses another replica's push and a future schema, clamps page sizes, answers each device in its body schema")
    func serverChecks() {
        let session = ServerSyncSession(authenticatedReplica: Fixtures.officeDevice)
        let foreign = ChangeSet(replica: Fixtures.technicianDevice, lastAppliedSequence: 0, appVersion: "t", clock: HLCTimestamp(wallMillis: 0), actions: [])
        guard case .respond(.error(let code, _)) = session.received(.pushRequest(foreign)) else { Issue.record("expected a refusal"); return }
        #expect(code == "replica_mismatch")
        #expect(session.received(.pullRequest(PullRequest(replica: Fixtures.officeDevice, afterSequence: 9, limit: 1_000_000)))
                == .readPage(afterSequence: 9, limit: ServerSyncSession.pageEntriesMax, schemaVersion: 2))
        #expect(session.received(.pullRequest(PullRequest(replica: Fixtures.officeDevice, afterSequence: 9, limit: 0)))
                == .readPage(afterSequence: 9, limit: 1, schemaVersion: 2))
        // An older app reads schema 1; a newer one gets the newest this server writes.
        #expect(session.received(.pullRequest(PullRequest(replica: Fixtures.officeDevice, afterSequence: 9, limit: 10, schemaVersion: 1)))
                == .readPage(afterSequence: 9, limit: 10, schemaVersion: 1))
        #expect(session.received(.pullRequest(PullRequest(replica: Fixtures.officeDevice, afterSequence: 9, limit: 10, schemaVersion: 3)))
                == .readPage(afterSequence: 9, limit: 10, schemaVersion: 2))
        let future = ChangeSet(replica: Fixtures.officeDevice, lastAppliedSequence: 0, schemaVersion: 3, appVersion: "t", clock: HLCTimestamp(wallMillis: 0), actions: [])
        guard case .respond(.error(let futureCode, _)) = session.received(.pushRequest(future)) else { Issue.record("expected a refusal"); return }
        #expect(futureCode == "unsupported_version")
    }

    @Test("The client session stops on a page that skips entries, without applying it")
    func clientRejectsGaps() throws {
        var session = ClientSyncSession(replica: Fixtures.officeDevice, appVersion: "t")
        _ = session.start(pending: [], cursor: 4, clock: HLCTimestamp(wallMillis: 0))
        let action = Action(dot: Dot(replica: Fixtures.officeDevice, counter: 1), hlc: HLCTimestamp(wallMillis: 0), actor: Fixtures.office, job: nil,
                            seenSequence: 0, businessDay: Fixtures.date("2026-06-01"), payload: .finalizeInvoice)
        let page = PullPage(entries: [LogEntry(sequence: 6, action: action, outcome: .applied)],
                            checkpoint: Checkpoint(sequence: 6, logDigest: LogDigest.empty, jobs: [], caughtUp: true))
        guard case .failed(let error) = session.received(.pullPage(page)) else { Issue.record("expected a failure"); return }
        #expect(error.code == .invalidValue)
    }
}
