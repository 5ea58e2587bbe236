import Foundation
import LedgerCore
@testable import LedgerService
import LedgerTestSupport
import StorageTestSupport
import SyncProtocol
import Testing

/// A service over a fresh storage: a real SQLite file in a temporary directory, or a new
/// database on a real PostgreSQL (`Backend`).
struct ServiceFixture {
    let site: StorageSite
    let service: LedgerService<AnyServerStorage>
    let company = try! CompanyID("acme-hvac")

    /// The SQLite file (for the tests of SQLite itself).
    var path: String { site.sqlitePath! }

    init(site: StorageSite, settings: CompanySettings = CompanySettings(), snapshotLagEntries: UInt64 = ServiceLimits.snapshotLagEntries,
         snapshotChunkJobs: Int = ServiceLimits.snapshotChunkJobs) throws {
        self.site = site
        service = LedgerService(storage: try site.open(), snapshotLagEntries: snapshotLagEntries, snapshotChunkJobs: snapshotChunkJobs)
        try service.storage.createCompany(company, state: CompanyState(settings: settings))
    }

    /// On SQLite, for the tests of SQLite itself.
    init(settings: CompanySettings = CompanySettings(), snapshotLagEntries: UInt64 = ServiceLimits.snapshotLagEntries) throws {
        try self.init(site: try Backend.sqlite.withSite { $0 }, settings: settings, snapshotLagEntries: snapshotLagEntries)
    }

    /// Another service on `other`'s storage (a restarted server), migrations run again.
    init(reopening other: ServiceFixture) throws {
        site = other.site
        service = LedgerService(storage: try site.open())
    }

    /// Another service on this storage: a restarted server, or a second process.
    func reopen(snapshotLagEntries: UInt64 = ServiceLimits.snapshotLagEntries, snapshotChunkJobs: Int = ServiceLimits.snapshotChunkJobs) throws -> LedgerService<AnyServerStorage> {
        LedgerService(storage: try site.open(), snapshotLagEntries: snapshotLagEntries, snapshotChunkJobs: snapshotChunkJobs)
    }

    /// Pushes consecutive runs of one replica's actions as change sets, as devices would; the
    /// n-th run goes through `services[n % count]` (several services on one file stand for
    /// several server processes).
    func pushInLogOrder(_ actions: [Action], batch: Int = 100, through services: [LedgerService<AnyServerStorage>]? = nil) throws -> [Outcome] {
        var outcomes: [Outcome] = []
        let services = services ?? [service]
        for (index, run) in FieldWorkload.runs(actions, size: batch).enumerated() {
            let response = try services[index % services.count].push(ChangeSet(replica: run[0].dot.replica, lastAppliedSequence: run.last!.seenSequence, appVersion: "test",
                                                      clock: run.last!.hlc, actions: run), company: company)
            #expect(response.sendFrom == nil)
            outcomes += response.outcomes
        }
        return outcomes
    }
}

@Suite("LedgerService on SQLite and PostgreSQL: push, pull, dedupe, gaps, projections")
struct LedgerServiceTests {
    static func workload(seed: UInt64) throws -> FieldWorkload {
        try FieldWorkload(.init(seed: seed, jobs: 40, devices: 4, actions: 600, gapMillisMax: 30_000, pullEvery: 7,
                                vocabulary: .init(userPrefix: "t", jobPrefix: "J-", invoicePrefix: "I-", department: "HVAC",
                                                  installmentLabels: ["Final"], refundReason: "r", changeOrders: ["Vent"])))
    }

    @Test("PostgreSQL starts here, so every test of this suite runs on it as well as on SQLite",
          .enabled(if: PostgresServer.available || PostgresServer.required, Comment(rawValue: Backend.skipReason)))
    func postgresCasesRun() throws {
        try Backend.postgres.withSite { site in
            let companies = try site.open().companies()
            #expect(companies.isEmpty)
        }
    }

    @Test("A seeded company's traffic gets the in-memory reference's outcomes and state, and survives a reopen", arguments: Backend.all)
    func agreesWithTheReference(_ backend: Backend) throws {
        try backend.withSite { site in
            let fixture = try ServiceFixture(site: site)
            let traffic = try Self.workload(seed: 11)
            let log = traffic.setup + traffic.entries
            let outcomes = try fixture.pushInLogOrder(log.map(\.action))
            #expect(outcomes == log.map(\.outcome))
            #expect(try fixture.service.projectedLedger(company: fixture.company).stateDigest == traffic.ledger.stateDigest)
            let reopened = try fixture.reopen()
            #expect(try reopened.projectedLedger(company: fixture.company).stateDigest == traffic.ledger.stateDigest)
        }
    }

    @Test("Projections rebuilt from the log equal the live ones", arguments: Backend.all)
    func rebuild(_ backend: Backend) throws {
        try backend.withSite { site in
            let fixture = try ServiceFixture(site: site)
            let traffic = try Self.workload(seed: 12)
            _ = try fixture.pushInLogOrder((traffic.setup + traffic.entries).map(\.action))
            let live = try fixture.service.projectedLedger(company: fixture.company)
            #expect(try fixture.service.foldedLedger(company: fixture.company) == live)
            #expect(live.openReviewCases.count > 0, "the workload must leave cases open for the count to mean anything")
            #expect(try fixture.service.openReviewCaseCount() == live.openReviewCases.count, "the count kept by pushes")
            try fixture.service.rebuildProjections(company: fixture.company)
            #expect(try fixture.service.projectedLedger(company: fixture.company) == live)
            #expect(try fixture.service.openReviewCaseCount() == live.openReviewCases.count)
        }
    }

    @Test("A storage's log page is the entries right after the cursor, up to the limit: mid-log, at the end, past the end, at the range's edge", arguments: Backend.all)
    func logPages(_ backend: Backend) throws {
        try backend.withSite { site in
            let fixture = try ServiceFixture(site: site)
            let log = try Self.workload(seed: 19).setup
            _ = try fixture.pushInLogOrder(log.map(\.action))
            let head = UInt64(log.count)
            // (after, limit) → the sequences expected. PostgreSQL reads a page as the sequences
            // after the cursor up to cursor + limit (decision 0041): these pin that bound.
            let cases: [(after: UInt64, limit: Int, expected: ClosedRange<UInt64>?)] = [
                (0, 1, 1...1), (0, 25, 1...25), (7, 5, 8...12), (head - 3, 3, (head - 2)...head), (head - 3, 10, (head - 2)...head),
                (head, 10, nil), (head + 5, 10, nil), (UInt64(Int64.max) - 1, Int.max, nil), (UInt64.max, Int.max, nil), (3, Int.max, 4...head),
            ]
            for (after, limit, expected) in cases {
                let entries = try fixture.service.storage.read(fixture.company) { try $0.entries(after: after, limit: limit) }
                #expect(entries.map(\.entry.sequence) == (expected.map(Array.init) ?? []), "after \(after), limit \(limit)")
                for stored in entries { #expect(stored.entry == log[Int(stored.entry.sequence) - 1]) }
            }
        }
    }

    @Test("Pull pages continue the log, their checkpoints carry the log digest, and the head page the job digests", arguments: Backend.all)
    func pullPages(_ backend: Backend) throws {
        try backend.withSite { site in
            let fixture = try ServiceFixture(site: site)
            let traffic = try Self.workload(seed: 13)
            let log = traffic.setup + traffic.entries
            _ = try fixture.pushInLogOrder(log.map(\.action))
            var cursor: UInt64 = 0, digest = LogDigest.empty, pages = 0
            while true {
                let page = try fixture.service.pull(company: fixture.company, after: cursor, limit: 97)
                pages += 1
                #expect(page.entries.map(\.sequence) == Array((cursor + 1)..<(cursor + 1 + UInt64(page.entries.count))))
                for entry in page.entries {
                    #expect(entry == log[Int(entry.sequence) - 1])
                    digest = LogDigest.next(digest, entry)
                }
                cursor = page.checkpoint.sequence
                #expect(page.checkpoint.logDigest == digest)
                if page.checkpoint.caughtUp {
                    let touched = Set(page.entries.compactMap(\.action.job)).sorted()
                    #expect(page.checkpoint.jobs == (try touched.map { try traffic.ledger.job($0).digest }))
                    break
                }
                #expect(page.checkpoint.jobs.isEmpty)
            }
            #expect(cursor == UInt64(log.count))
            #expect(pages == (log.count + 96) / 97)
            #expect(throws: ServiceError.self) { try fixture.service.pull(company: fixture.company, after: cursor + 1, limit: 10) }
        }
    }

    @Test("A head page that touched more jobs than a checkpoint names carries the digests of the jobs it touched last", arguments: Backend.all)
    func checkpointDigestsCapped(_ backend: Backend) throws {
        try backend.withSite { site in
            let fixture = try ServiceFixture(site: site)
            let traffic = try FieldWorkload(.init(seed: 14, jobs: ServiceLimits.checkpointJobDigestsMax + 60, devices: 3, actions: 400, gapMillisMax: 30_000, pullEvery: 7,
                                                  vocabulary: .init(userPrefix: "t", jobPrefix: "J-", invoicePrefix: "I-", department: "HVAC",
                                                                    installmentLabels: ["Final"], refundReason: "r", changeOrders: ["Vent"])))
            let log = traffic.setup + traffic.entries
            _ = try fixture.pushInLogOrder(log.map(\.action))
            let page = try fixture.service.pull(company: fixture.company, after: 0, limit: log.count)
            #expect(page.checkpoint.caughtUp && page.entries.count == log.count)
            var last: [JobID] = []
            for entry in log.reversed() {
                if let job = entry.action.touchedJob, !last.contains(job) { last.append(job) }
            }
            #expect(last.count > ServiceLimits.checkpointJobDigestsMax)
            let expected = last.prefix(ServiceLimits.checkpointJobDigestsMax).sorted()
            #expect(page.checkpoint.jobs == (try expected.map { try traffic.ledger.job($0).digest }))
        }
    }

    @Test("A retried push answers 'exists' and changes nothing; the same dot with another body is rejected and kept out", arguments: Backend.all)
    func exactlyOnce(_ backend: Backend) throws {
        try backend.withSite { site in
            let fixture = try ServiceFixture(site: site)
            let traffic = try Self.workload(seed: 14)
            _ = try fixture.pushInLogOrder(traffic.setup.map(\.action))
            let device = traffic.devices[0]
            let actions = Array(traffic.byDevice[0].prefix(5))
            let first = try fixture.service.push(ChangeSet(replica: device, lastAppliedSequence: 0, appVersion: "t", clock: actions[4].hlc, actions: actions),
                                                 company: fixture.company)
            let state = try fixture.service.projectedLedger(company: fixture.company)
            let retry = try fixture.service.push(ChangeSet(replica: device, lastAppliedSequence: 0, appVersion: "t", clock: actions[4].hlc, actions: actions),
                                                 company: fixture.company)
            #expect(retry.outcomes == Array(repeating: .exists, count: 5))
            #expect(retry.serverSequence == first.serverSequence)
            #expect(try fixture.service.projectedLedger(company: fixture.company) == state)
            let original = actions[0]
            let tampered = Action(dot: original.dot, hlc: original.hlc, actor: original.actor, job: original.job, seenSequence: original.seenSequence,
                                  businessDay: original.businessDay, payload: .cancelPlan)
            let conflict = try fixture.service.push(ChangeSet(replica: device, lastAppliedSequence: 0, appVersion: "t", clock: original.hlc, actions: [tampered]),
                                                    company: fixture.company)
            guard case .rejected(let error)? = conflict.outcomes.first else { Issue.record("expected a rejection, got \(conflict)"); return }
            #expect(error.code == .dotReused)
            #expect(try fixture.service.projectedLedger(company: fixture.company) == state)
            #expect(try fixture.service.pull(company: fixture.company, after: 0, limit: 5_000).entries.count == traffic.setup.count + 5)
        }
    }

    @Test("A push with a gap is applied up to the gap and answers 'send from N'", arguments: Backend.all)
    func gap(_ backend: Backend) throws {
        try backend.withSite { site in
            let fixture = try ServiceFixture(site: site)
            let traffic = try Self.workload(seed: 15)
            _ = try fixture.pushInLogOrder(traffic.setup.map(\.action))
            let device = traffic.devices[1]
            let actions = Array(traffic.byDevice[1].prefix(6))
            _ = try fixture.service.push(ChangeSet(replica: device, lastAppliedSequence: 0, appVersion: "t", clock: actions[1].hlc, actions: Array(actions[0..<2])),
                                         company: fixture.company)
            // Counters 4–6 without 3: nothing is applied, the device must send from 3.
            let gapped = ChangeSet(replica: device, lastAppliedSequence: 0, appVersion: "t", clock: actions[5].hlc, actions: Array(actions[3..<6]))
            let before = try fixture.service.projectedLedger(company: fixture.company)
            let response = try fixture.service.push(gapped, company: fixture.company)
            #expect(response.sendFrom == 3)
            #expect(response.outcomes.isEmpty)
            #expect(try fixture.service.projectedLedger(company: fixture.company) == before)
            let resent = try fixture.service.push(ChangeSet(replica: device, lastAppliedSequence: 0, appVersion: "t", clock: actions[5].hlc,
                                                            actions: Array(actions[2..<6])), company: fixture.company)
            #expect(resent.sendFrom == nil)
            #expect(resent.outcomes.count == 4)
        }
    }

    @Test("An unknown company is 'not found'; a taken id is a conflict", arguments: Backend.all)
    func companies(_ backend: Backend) throws {
        try backend.withSite { site in
            let fixture = try ServiceFixture(site: site)
            #expect(throws: ServiceError.self) { try fixture.service.pull(company: try CompanyID("other"), after: 0, limit: 1) }
            #expect(throws: ServiceError.self) { try fixture.service.storage.createCompany(fixture.company, state: CompanyState(settings: CompanySettings())) }
            #expect(throws: ServiceError.self) { try CompanyID("Not Valid") }
        }
    }

    @Test("Snapshots of the projections: a restart replays the log after the last stored one; one can be stored at the head; a closed service refuses writes", arguments: Backend.all)
    func snapshots(_ backend: Backend) throws {
        try backend.withSite { site in
            // Chunks of 3 of the 40 jobs: each snapshot is stored in many writes between pushes.
            let fixture = try ServiceFixture(site: site, snapshotLagEntries: 97, snapshotChunkJobs: 3)
            let traffic = try Self.workload(seed: 16)
            let log = traffic.setup + traffic.entries
            #expect(try fixture.pushInLogOrder(log.map(\.action)) == log.map(\.outcome))
            // As after kill -9: whatever snapshot the background stored, plus the log after it.
            let restarted = try fixture.reopen()
            #expect(try restarted.projectedLedger(company: fixture.company).stateDigest == traffic.ledger.stateDigest)
            #expect(try restarted.openReviewCaseCount() == traffic.ledger.openReviewCases.count)
            try fixture.service.storeSnapshots()
            let through = try fixture.service.storage.read(fixture.company) { try $0.projectedThrough() }
            #expect(through == UInt64(log.count), "a snapshot at the head")
            fixture.service.close()
            #expect(throws: ServiceError.self, "a closed service takes no more writes") {
                try fixture.service.push(ChangeSet(replica: traffic.devices[0], lastAppliedSequence: 0, appVersion: "t", clock: log[0].action.hlc, actions: []),
                                         company: fixture.company)
            }
            let reopened = try fixture.reopen()
            #expect(try reopened.projectedLedger(company: fixture.company) == traffic.ledger)
            #expect(try reopened.foldedLedger(company: fixture.company) == traffic.ledger)
        }
    }

    @Test("An idle company is snapshotted, then released; the metrics count it from storage without loading it; its next push loads it again", arguments: Backend.all)
    func idleCompanyReleased(_ backend: Backend) throws {
        try backend.withSite { site in
            let fixture = try ServiceFixture(site: site)
            let traffic = try Self.workload(seed: 23)
            let log = traffic.setup + traffic.entries
            let half = log.count / 2
            #expect(try fixture.pushInLogOrder(log[..<half].map(\.action)) == log[..<half].map(\.outcome))
            // A second company, read but never written: its projections are at its head (0).
            let other = try CompanyID("other-co")
            try fixture.service.storage.createCompany(other, state: CompanyState(settings: CompanySettings()))
            _ = try fixture.service.projectedLedger(company: other)
            let open = try fixture.service.openReviewCaseCount()
            #expect(open > 0)
            #expect(fixture.service.companiesInMemory == 2)
            #expect(fixture.service.releaseIdleCompanies(idleFor: 3_600) == 0, "both were used just now")
            #expect(fixture.service.companiesInMemory == 2)
            // Idle: the other company goes at once; the first waits for a snapshot at its head.
            #expect(fixture.service.releaseIdleCompanies(idleFor: 0) == 1)
            #expect(fixture.service.companiesInMemory == 1)
            let deadline = Date(timeIntervalSinceNow: 60)
            while fixture.service.releaseIdleCompanies(idleFor: 0) == 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
            #expect(fixture.service.companiesInMemory == 0)
            #expect(try fixture.service.storage.read(fixture.company) { try $0.projectedThrough() } == UInt64(half), "released with a snapshot at its head")
            // The metrics read the stored count, the same as the memory's, and load nothing.
            #expect(try fixture.service.openReviewCaseCount() == open)
            #expect(fixture.service.companiesInMemory == 0)
            // The rest of the log: the first push loads the company again; all ends as the reference.
            #expect(try fixture.pushInLogOrder(log[half...].map(\.action)) == log[half...].map(\.outcome))
            #expect(fixture.service.companiesInMemory == 1)
            #expect(try fixture.service.projectedLedger(company: fixture.company) == traffic.ledger)
            #expect(try fixture.service.foldedLedger(company: fixture.company) == traffic.ledger)
            #expect(try fixture.service.openReviewCaseCount() == traffic.ledger.openReviewCases.count)
        }
    }

    @Test("A process keeps a company another process is writing (its metrics catch it up), and releases it once it is quiet, after a snapshot at its head", arguments: Backend.all)
    func companyWrittenElsewhereKept(_ backend: Backend) throws {
        try backend.withSite { site in
            let fixture = try ServiceFixture(site: site)
            let traffic = try Self.workload(seed: 29)
            let runs = FieldWorkload.runs((traffic.setup + traffic.entries).map(\.action), size: 50)
            let writer = try fixture.reopen()
            let watcher = fixture.service
            // Two seconds, not one: a loaded machine (CI runs the suites at once) may stall one
            // round of the busy loop for a second, and the company would then rightly look idle.
            let idle = 2.0
            func push(_ run: [Action]) throws {
                _ = try writer.push(ChangeSet(replica: run[0].dot.replica, lastAppliedSequence: run.last!.seenSequence, appVersion: "test",
                                              clock: run.last!.hlc, actions: run), company: fixture.company)
            }
            // Busy: the writer pushes, the watcher's metrics read (loading and catching up), the watcher looks.
            try push(runs[0])
            _ = try watcher.openReviewCaseCount()
            #expect(watcher.companiesInMemory == 1)
            let busyUntil = Date(timeIntervalSinceNow: 2.5 * idle)
            var index = 1
            while Date() < busyUntil && index < runs.count {
                try push(runs[index])
                index += 1
                _ = try watcher.openReviewCaseCount()
                #expect(watcher.releaseIdleCompanies(idleFor: idle) == 0)
                Thread.sleep(forTimeInterval: 0.05)
            }
            #expect(index > 10, "the writer kept writing")
            #expect(watcher.companiesInMemory == 1)
            #expect(try watcher.storage.read(fixture.company) { try $0.snapshotClaimed() } == 0, "no snapshot while the company grows")
            // Quiet: within a few idle times the watcher snapshots it once and releases it.
            let deadline = Date(timeIntervalSinceNow: 30 * idle)
            while watcher.companiesInMemory > 0 && Date() < deadline {
                _ = try watcher.openReviewCaseCount()
                watcher.releaseIdleCompanies(idleFor: idle)
                Thread.sleep(forTimeInterval: 0.05)
            }
            #expect(watcher.companiesInMemory == 0)
            let head = try writer.head(company: fixture.company)
            #expect(try watcher.storage.read(fixture.company) { try $0.projectedThrough() } == head)
            #expect(try watcher.openReviewCaseCount() == writer.openReviewCaseCount())
            #expect(watcher.companiesInMemory == 0)
        }
    }

    @Test("A snapshot stopped between its chunks (job rows folded past the stored sequence): the restart skips what those rows hold", arguments: Backend.all)
    func snapshotStoppedBetweenChunks(_ backend: Backend) throws {
        try backend.withSite { site in
            let fixture = try ServiceFixture(site: site)
            let traffic = try Self.workload(seed: 19)
            let log = traffic.setup + traffic.entries
            let (first, second) = (log.count / 3, log.count * 2 / 3)
            #expect(try fixture.pushInLogOrder(log[..<first].map(\.action)) == log[..<first].map(\.outcome))
            try fixture.service.storeSnapshots()
            #expect(try fixture.pushInLogOrder(log[first..<second].map(\.action)) == log[first..<second].map(\.outcome))
            // What the chunks written before a kill -9 leave: every other job stored as it is at
            // the head, the company's sequence and state still the earlier snapshot's.
            let now = try fixture.service.projectedLedger(company: fixture.company)
            let ahead = now.jobs.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
            try fixture.service.storage.write(fixture.company) { tx in
                try tx.saveJobs(ahead.map { ($0.id, StoredJobFormat.record(of: $0)) }, through: UInt64(second))
                #expect(try tx.projectedThrough() == UInt64(first))
            }
            let restarted = try fixture.reopen()
            #expect(try restarted.projectedLedger(company: fixture.company) == now)
            #expect(try restarted.openReviewCaseCount() == now.openReviewCases.count)
            #expect(try fixture.pushInLogOrder(log[second...].map(\.action), through: [restarted]) == log[second...].map(\.outcome))
            #expect(try restarted.projectedLedger(company: fixture.company) == traffic.ledger)
            // A row folded further is never replaced by one folded less far (here another job's
            // record under its id, so that a replaced row would show).
            let older = try #require(try restarted.storage.read(fixture.company) { try $0.projections() }.jobs.first { $0.job.id == ahead[0].id })
            try restarted.storage.write(fixture.company) { tx in try tx.saveJobs([(ahead[0].id, StoredJobFormat.record(of: ahead[1]))], through: UInt64(first)) }
            let kept = try #require(try restarted.storage.read(fixture.company) { try $0.projections() }.jobs.first { $0.job.id == ahead[0].id })
            #expect(kept.through == older.through && kept.job == older.job)
        }
    }

    @Test("Two services on one file or database (two server processes) take turns; each replays what the other appended", arguments: Backend.all)
    func twoWriters(_ backend: Backend) throws {
        try backend.withSite { site in
            let fixture = try ServiceFixture(site: site, snapshotLagEntries: 61, snapshotChunkJobs: 4)
            let other = try fixture.reopen(snapshotLagEntries: 61, snapshotChunkJobs: 7)
            let traffic = try Self.workload(seed: 17)
            let log = traffic.setup + traffic.entries
            #expect(try fixture.pushInLogOrder(log.map(\.action), batch: 37, through: [fixture.service, other]) == log.map(\.outcome))
            for service in [fixture.service, other] {
                #expect(try service.projectedLedger(company: fixture.company).stateDigest == traffic.ledger.stateDigest)
                #expect(try service.head(company: fixture.company) == UInt64(log.count))
            }
            // One process's snapshot counts for the other's (decision 0038): together they take
            // about as many as one process alone would, not twice as many.
            let taken = fixture.service.snapshotsTaken + other.snapshotsTaken
            #expect(taken >= 2 && taken <= log.count / 61 + 1, "\(taken) snapshots for \(log.count) entries every 61")
            try other.storeSnapshots()
            try fixture.service.storeSnapshots()
            let reopened = try fixture.reopen()
            #expect(try reopened.projectedLedger(company: fixture.company) == traffic.ledger)
        }
    }
}
