@testable import FieldClient
import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import LedgerCore
import LedgerReports
import LedgerServer
import LedgerService
import LedgerTestSupport
import SQLiteLedgerStorage
import Synchronization
import SyncProtocol
import Testing

/// A company on a real `LedgerService` over SQLite, with an office user and a technician, and
/// replicas in files beside it; the in-memory transport hands their messages to the service as
/// the HTTP handler does.
struct ClientWorld {
    let directory: URL
    let service: LedgerService<SQLiteLedgerStorage>
    let company = try! CompanyID("acme")
    let day = Fixtures.date("2026-06-01")

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("fieldclient-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let storage = try SQLiteLedgerStorage(path: directory.appendingPathComponent("server.sqlite").path)
        let admin = Administration(storage: storage)
        try admin.createCompany(company)
        try admin.setUser(try UserID("ben"), role: .office, company: company)
        try admin.setUser(try UserID("ana"), role: .technician, company: company)
        service = LedgerService(storage: storage)
    }

    /// A new device of `user`: its token issued, its replica file created.
    func device(_ user: String) throws -> (replica: FieldReplica, credential: DeviceCredential) {
        let (token, credential) = try Administration(storage: service.storage).issueToken(company: company, user: try UserID(user))
        let replica = try FieldReplica.create(at: directory.appendingPathComponent("\(user)-\(UUID().uuidString).sqlite").path,
                                              identity: DeviceIdentity(company: company.rawValue, replica: credential.replica, actor: credential.actor,
                                                                                       server: "http://127.0.0.1:1", token: token))
        return (replica, credential)
    }

    /// The server's side of one message, as `FieldLedgerServer` does it (without HTTP).
    func transport(_ device: DeviceCredential) -> InMemorySyncTransport {
        let service = service
        return InMemorySyncTransport { try await service.answer($0, from: device) }
    }

    /// The office's and the technician's devices, both synced after the office opened a job on
    /// thirds (`jobOnThirds`).
    func officeAndTechOnThirds() async throws -> (office: FieldReplica, officeCredential: DeviceCredential, tech: FieldReplica, techCredential: DeviceCredential, job: JobID) {
        let (office, officeCredential) = try device("ben")
        let (tech, techCredential) = try device("ana")
        let job = try jobOnThirds(office, at: 1_000)
        try await office.sync(over: transport(officeCredential))
        try await tech.sync(over: transport(techCredential))
        return (office, officeCredential, tech, techCredential, job)
    }

    /// The office opens a job invoiced at $3,000.00 on a thirds plan.
    func jobOnThirds(_ office: FieldReplica, at millis: Int64) throws -> JobID {
        let create = try office.perform(.createJob(number: "J-1", customer: Customer(name: "Dana Whitfield"), department: "HVAC", currency: .usd, notes: ""),
                                        job: nil, day: day, wallMillis: millis)
        let job = JobID(create.action.dot)
        try office.perform(.setInvoice(number: "HV-1", baseTotalMinor: 300_000, issuedOn: day), job: job, day: day, wallMillis: millis + 1)
        try office.perform(.createPlan(PlanDraft(template: .thirds)), job: job, day: day, wallMillis: millis + 2)
        return job
    }
}

/// Passes messages on, but loses the answer of the `failing`-th exchange (the server did the
/// work; the device never heard back), as a dropped connection would.
final class LosingTransport: SyncTransport {
    let inner: any SyncTransport
    let failing: Int
    let count = Mutex(0)

    init(inner: any SyncTransport, failing: Int) {
        self.inner = inner
        self.failing = failing
    }

    func exchange(_ message: SyncMessage) async throws -> SyncMessage {
        let answer = try await inner.exchange(message)
        let index = count.withLock { count in
            count += 1
            return count
        }
        if index == failing { throw ClientError(.serverUnreachable, "the connection dropped (test)") }
        return answer
    }
}

@Suite("The client library: a replica in a file, its outbox, sync")
struct FieldClientTests {
    @Test("Two devices offline, concurrent edits, both sync: each sees what the server has, the conflict as a review case")
    func twoDevicesConverge() async throws {
        let world = try ClientWorld()
        let (office, officeCredential, tech, techCredential, job) = try await world.officeAndTechOnThirds()
        #expect(try tech.view.job(job).plan?.rows.count == 3)
        // Offline: the technician changes the split the customer asked for and takes the deposit
        // on site, while the office records a portal payment and edits the plan too.
        #expect(try tech.perform(.editPlan(PlanDraft(template: .fiftyFifty)), job: job, day: world.day, wallMillis: 2_000).outcome == .applied)
        let deposit = try tech.perform(.recordPayment(PaymentRequest(amountMinor: 150_000, currency: .usd, method: .check, reference: "1042")), job: job, day: world.day, wallMillis: 2_001)
        #expect(deposit.outcome == .applied)
        try office.perform(.recordPayment(PaymentRequest(amountMinor: 50_000, currency: .usd, method: .card)), job: job, day: world.day, wallMillis: 2_010)
        try office.perform(.editPlan(PlanDraft(template: .sixtyForty)), job: job, day: world.day, wallMillis: 2_011)
        #expect(try tech.status(nowMillis: 2_500).pending == 2)
        #expect(try tech.status(nowMillis: 2_500).oldestPendingAgeMillis == 500)
        try await tech.sync(over: world.transport(techCredential))
        let officeReport = try await office.sync(over: world.transport(officeCredential))
        try await tech.sync(over: world.transport(techCredential))
        let server = try world.service.projectedLedger(company: world.company)
        #expect(try tech.view == server)
        #expect(try office.view == server)
        #expect(try tech.confirmedLedger == server)
        #expect(try server.job(job).payments.count == 2, "both payments booked")
        // The technician's plan reached the server first; the office's edit had not seen the
        // deposit, so it waits for a person with both versions.
        #expect(server.openReviewCases.map(\.kind) == [.planEditAfterUnseenPayment])
        #expect(server.openReviewCases.first?.raisedBy.dot.replica == officeCredential.replica)
        #expect(try server.job(job).plan?.rows.map(\.amountMinor) == [150_000, 150_000])
        guard case .parkedForReview = officeReport.outcomes.last?.outcome else {
            Issue.record("the office's plan edit reached the server second: \(officeReport.outcomes)")
            return
        }
        for replica in [office, tech] {
            let status = try replica.status(nowMillis: 3_000)
            #expect(status.pending == 0 && status.rejected == 0 && status.oldestPendingAgeMillis == nil)
            #expect(status.lastConfirmedSequence == (try world.service.head(company: world.company)))
        }
        #expect(try office.outbox().map(\.outcome) == [.applied, .applied, .applied, .applied, officeReport.outcomes.last!.outcome])
    }

    @Test("A job that folded differently on a device is repaired from the server's copy; without one the page is refused whole")
    func repair() async throws {
        let world = try ClientWorld()
        let (office, officeCredential, tech, techCredential, job) = try await world.officeAndTechOnThirds()
        // Three more jobs, so that a checkpoint names four, checked on two threads here.
        var jobs = [job]
        for index in 1...3 { jobs.append(try world.jobOnThirds(office, at: 1_000 + 10 * Int64(index))) }
        try await office.sync(over: world.transport(officeCredential))
        try await tech.sync(over: world.transport(techCredential))
        // The technician's confirmed copies differ (another number), as a fold by other rules would.
        func damage(_ ids: [JobID], of replica: FieldReplica) async throws {
            let file = try DatabaseQueue(path: replica.path)
            for id in ids {
                var fields = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(try replica.confirmedLedger.job(id))) as? [String: Any])
                fields["number"] = "J-999"
                let damaged = try JSONDecoder().decode(Job.self, from: JSONSerialization.data(withJSONObject: fields))
                try await file.write { db in
                    try db.execute(sql: "UPDATE job_record SET state = ? WHERE key = ?", arguments: [Data(JobRecord.bytes(of: damaged)), Stored.key(id)])
                }
            }
            try file.close()
        }
        try await damage(jobs, of: tech)
        let reopened = try FieldReplica.open(at: tech.path)
        reopened.digestJobsPerThreadMin = 1
        #expect(try reopened.view.job(job).number == "J-999")
        // Payments make the next page touch the jobs and carry their digests.
        for (index, id) in jobs.enumerated() {
            try office.perform(.recordPayment(PaymentRequest(amountMinor: 10_000, currency: .usd, method: .cash)), job: id, day: world.day, wallMillis: 2_000 + Int64(index))
        }
        try await office.sync(over: world.transport(officeCredential))
        let cursor = try reopened.status(nowMillis: 0).lastConfirmedSequence
        await #expect { try await reopened.sync(over: world.transport(techCredential)) } throws: { ($0 as? ClientError)?.code == .diverged }
        #expect(try reopened.status(nowMillis: 0).lastConfirmedSequence == cursor, "nothing of the page was kept")
        let service = world.service, company = world.company
        let repairing = InMemorySyncTransport(jobs: { try? service.projectedLedger(company: company).job($0) }) { try await service.answer($0, from: techCredential) }
        let report = try await reopened.sync(over: repairing)
        #expect(report.repairedJobs.sorted() == jobs.sorted())
        #expect(try reopened.view == (try world.service.projectedLedger(company: world.company)))
        #expect(try FieldReplica.open(at: tech.path).view == (try reopened.view), "the repair was stored")

        // Pages of one entry: three fold without a copy to revert to (pages fold unguarded until
        // one fails), then the last one's digest differs. The sync forgets the three, pulls again
        // from the stored cursor guarding each page, and repairs the last; nothing counts twice.
        try await damage([jobs[0]], of: reopened)
        let again = try FieldReplica.open(at: tech.path)
        for index in 0..<3 {
            try office.perform(.recordPayment(PaymentRequest(amountMinor: 1_000, currency: .usd, method: .cash)), job: jobs[1], day: world.day, wallMillis: 3_000 + Int64(index))
        }
        try office.perform(.recordPayment(PaymentRequest(amountMinor: 1_000, currency: .usd, method: .cash)), job: jobs[0], day: world.day, wallMillis: 3_010)
        try await office.sync(over: world.transport(officeCredential))
        let second = try await again.sync(over: repairing, pageEntries: 1)
        #expect(second.repairedJobs == [jobs[0]])
        #expect(second.entriesFolded == 4)
        #expect(try again.view == (try world.service.projectedLedger(company: world.company)))
        #expect(try FieldReplica.open(at: tech.path).view == (try again.view))
    }

    @Test("A replica reopened from its file has the same view, outbox and cursor, and syncs on")
    func reopened() async throws {
        let world = try ClientWorld()
        let (office, credential) = try world.device("ben")
        let job = try world.jobOnThirds(office, at: 1_000)
        try await office.sync(over: world.transport(credential))
        try office.perform(.recordPayment(PaymentRequest(amountMinor: 10_000, currency: .usd, method: .cash)), job: job, day: world.day, wallMillis: 5_000)
        let before = try office.view
        let again = try FieldReplica.open(at: office.path)
        #expect(again.identity == office.identity)
        #expect(try again.view == before)
        #expect(try again.outbox() == (try office.outbox()))
        #expect(try again.status(nowMillis: 5_000).pending == 1)
        try again.perform(.recordPayment(PaymentRequest(amountMinor: 20_000, currency: .usd, method: .cash)), job: job, day: world.day, wallMillis: 5_001)
        try await again.sync(over: world.transport(credential))
        #expect(try again.view == (try world.service.projectedLedger(company: world.company)))
        #expect(try again.outbox().map(\.action.dot.counter) == [1, 2, 3, 4, 5])
        #expect(throws: ClientError.self) { try FieldReplica.create(at: office.path, identity: office.identity) }

        // A second device pulling all of it a page of one entry at a time, saving after each:
        // every save is in the file, not only the last page's jobs.
        // Another job, then a payment on the first: the last page does not touch the second.
        let other = try world.jobOnThirds(again, at: 6_000)
        try again.perform(.recordPayment(PaymentRequest(amountMinor: 1_000, currency: .usd, method: .cash)), job: job, day: world.day, wallMillis: 7_000)
        try await again.sync(over: world.transport(credential))
        let (tech, techCredential) = try world.device("ben")
        let report = try await tech.sync(over: world.transport(techCredential), pageEntries: 1, saveEveryEntries: 1)
        let head = try world.service.head(company: world.company)
        #expect(report.entriesFolded == Int(head) && head > 2)
        let reread = try FieldReplica.open(at: tech.path)
        #expect(try reread.status(nowMillis: 0).lastConfirmedSequence == head)
        #expect(try reread.view == (try world.service.projectedLedger(company: world.company)))
        #expect(reread.confirmedPosition == tech.confirmedPosition)
        #expect(try reread.view.job(other) == (try world.service.projectedLedger(company: world.company).job(other)))
    }

    @Test("A replica commits through a write-ahead log, a file from before is switched when opened, and a copy holds every commit")
    func writeAheadAndCopy() async throws {
        let world = try ClientWorld()
        let (office, credential) = try world.device("ben")
        let job = try world.jobOnThirds(office, at: 1_000)
        try await office.sync(over: world.transport(credential))
        try office.perform(.recordPayment(PaymentRequest(amountMinor: 10_000, currency: .usd, method: .cash)), job: job, day: world.day, wallMillis: 5_000)
        func journalMode(_ path: String, set mode: String? = nil) throws -> String? {
            try DatabaseQueue(path: path).writeWithoutTransaction { try String.fetchOne($0, sql: "PRAGMA journal_mode" + (mode.map { " = " + $0 } ?? "")) }
        }
        #expect(try journalMode(office.path) == "wal")

        // The payment is still in the log beside the file, not in the file: the copy has it.
        let copyPath = world.directory.appendingPathComponent("copy.sqlite").path
        try office.copy(to: copyPath)
        #expect(throws: ClientError.self) { try office.copy(to: copyPath) }
        do {
            let copy = try FieldReplica.open(at: copyPath)
            #expect(try copy.view == (try office.view))
            #expect(try copy.outbox() == (try office.outbox()))
        }
        // A file in the rollback-journal mode (every replica before this one) opens in the new one.
        #expect(try journalMode(copyPath, set: "DELETE") == "delete")
        #expect(try journalMode(copyPath) == "delete")
        let reopened = try FieldReplica.open(at: copyPath)
        #expect(try journalMode(copyPath) == "wal")
        #expect(try reopened.status(nowMillis: 5_000).pending == 1)
    }

    @Test("A sync's save commits without waiting for the disk; after it, and after one that failed, the replica's commits wait again")
    func saveSettingsRestored() async throws {
        let world = try ClientWorld()
        let (office, credential) = try world.device("ben")
        let job = try world.jobOnThirds(office, at: 1_000)
        @Sendable func settings(_ db: Database) throws -> [Int?] {
            [try Int.fetchOne(db, sql: "PRAGMA synchronous"), try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint")]
        }
        // 2 is FULL, 1 NORMAL; 1,000 pages is SQLite's own checkpoint threshold.
        #expect(try await office.database.read(settings) == [2, 1_000])
        let inside = try await office.database.writeWithoutTransaction { db in
            var inside: [Int?] = []
            try FieldReplica.bulk(db) { inside = try settings(db) }
            return inside
        }
        #expect(inside == [1, 0])
        #expect(try await office.database.read(settings) == [2, 1_000])
        struct Planted: Error {}
        await #expect(throws: Planted.self) { try await office.database.writeWithoutTransaction { db in try FieldReplica.bulk(db) { throw Planted() } } }
        #expect(try await office.database.read(settings) == [2, 1_000])

        try await office.sync(over: world.transport(credential))
        #expect(try await office.database.read(settings) == [2, 1_000])
        try office.perform(.recordPayment(PaymentRequest(amountMinor: 10_000, currency: .usd, method: .cash)), job: job, day: world.day, wallMillis: 5_000)
        try await office.sync(over: world.transport(credential))
        let reopened = try FieldReplica.open(at: office.path)
        #expect(try reopened.view == (try office.view))
        #expect(try reopened.status(nowMillis: 5_000).pending == 0)
    }

    @Test("A replica file from before job records (jobs as canonical bytes) opens with its jobs converted, and syncs on")
    func migratesCanonicalJobs() async throws {
        let world = try ClientWorld()
        let (office, credential) = try world.device("ben")
        let job = try world.jobOnThirds(office, at: 1_000)
        try await office.sync(over: world.transport(credential))
        let before = try office.view
        let database = try DatabaseQueue(path: office.path)
        // The file as the first release wrote it: version 1's job table, canonical bytes by canonical id.
        try await database.write { db in
            try db.execute(sql: "CREATE TABLE job (id BLOB PRIMARY KEY, state BLOB NOT NULL) WITHOUT ROWID")
            for state in try Data.fetchAll(db, sql: "SELECT state FROM job_record") {
                let stored = try JobRecord.job(from: Array(state))
                try db.execute(sql: "INSERT INTO job (id, state) VALUES (?, ?)",
                               arguments: [Data(CanonicalEncoding.bytes(of: stored.id)), Data(CanonicalEncoding.bytes(of: stored))])
            }
            try db.execute(sql: "DROP TABLE job_record")
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier LIKE 'v2:%'")
        }
        try database.close()
        let again = try FieldReplica.open(at: office.path)
        #expect(try again.view == before)
        try again.perform(.recordPayment(PaymentRequest(amountMinor: 10_000, currency: .usd, method: .cash)), job: job, day: world.day, wallMillis: 5_000)
        try await again.sync(over: world.transport(credential))
        #expect(try FieldReplica.open(at: office.path).view == (try world.service.projectedLedger(company: world.company)))
    }

    @Test("A sync cut off after the server logged a push, or in the middle of the pull, resumes with nothing lost or doubled")
    func interrupted() async throws {
        let world = try ClientWorld()
        let (office, credential) = try world.device("ben")
        let job = try world.jobOnThirds(office, at: 1_000)
        for index in 0..<250 {
            try office.perform(.recordPayment(PaymentRequest(amountMinor: 100, currency: .usd, method: .cash)), job: job, day: world.day, wallMillis: 2_000 + Int64(index))
        }
        // The second push's answer is lost: the server logged those 100 actions, the device does not know.
        await #expect(throws: ClientError.self) { try await office.sync(over: LosingTransport(inner: world.transport(credential), failing: 2)) }
        #expect(try office.status(nowMillis: 3_000).pending == 153)
        // The next sync loses a pull page's answer (pages of 40 entries).
        await #expect(throws: ClientError.self) {
            try await office.sync(over: LosingTransport(inner: world.transport(credential), failing: 5), pageEntries: 40)
        }
        #expect(try office.status(nowMillis: 3_000).pending == 0)
        let report = try await office.sync(over: world.transport(credential), pageEntries: 40)
        #expect(report.outcomes.isEmpty)
        let head = try world.service.head(company: world.company)
        #expect(head == 253, "each action logged exactly once")
        #expect(try office.view == (try world.service.projectedLedger(company: world.company)))
        #expect(try office.view.job(job).payments.count == 250)
        // The log's outcomes replaced the "exists" answers of the resent actions.
        #expect(try office.outbox().allSatisfy { $0.status == .acknowledged && $0.outcome == .applied })
    }

    @Test("A replica reads only the jobs a command needs; jobs by number, single jobs and the draws kept beside each job agree with the whole view")
    func readsWhatItNeeds() async throws {
        let world = try ClientWorld()
        let (office, officeCredential) = try world.device("ben")
        var jobs: [JobID] = []
        for index in 0..<4 { jobs.append(try world.jobOnThirds(office, at: 1_000 + Int64(index) * 10)) }
        for index in 1..<4 { try office.perform(.updateJobInfo(JobInfoUpdate(number: "J-\(index + 1)")), job: jobs[index], day: world.day, wallMillis: 2_000) }
        try office.perform(.recordPayment(PaymentRequest(amountMinor: 100_000, currency: .usd, method: .cash)), job: jobs[0], day: world.day, wallMillis: 2_001)
        try await office.sync(over: world.transport(officeCredential))
        let (tech, techCredential) = try world.device("ana")
        tech.jobsInMemoryMax = 2
        tech.jobsPerThreadMin = 1  // the jobs' rows are encoded and read back on several threads
        try await tech.sync(over: world.transport(techCredential))
        #expect(tech.confirmed.jobCount == 0, "stored jobs beyond the limit are let go after the sync")
        #expect(try tech.view == (try world.service.projectedLedger(company: world.company)))

        let replica = try FieldReplica.open(at: tech.path)
        #expect(replica.confirmed.jobCount == 0, "opening reads no job")
        #expect(try replica.job(jobs[3]) == (try tech.view.job(jobs[3])))
        #expect(replica.confirmed.jobCount == 1)
        // Pending here: a payment, a renumbering, a new job with a plan.
        try replica.perform(.recordPayment(PaymentRequest(amountMinor: 50_000, currency: .usd, method: .cash)), job: jobs[1], day: world.day, wallMillis: 3_000)
        try replica.perform(.updateJobInfo(JobInfoUpdate(number: "J-30")), job: jobs[2], day: world.day, wallMillis: 3_001)
        let created = try replica.perform(.createJob(number: "J-5", customer: Customer(name: "Ola Berg"), department: nil, currency: .usd, notes: ""),
                                          job: nil, day: world.day, wallMillis: 3_002)
        let newJob = JobID(created.action.dot)
        try replica.perform(.setInvoice(number: "HV-5", baseTotalMinor: 90_000, issuedOn: world.day), job: newJob, day: world.day, wallMillis: 3_003)
        try replica.perform(.createPlan(PlanDraft(template: .thirds)), job: newJob, day: world.day, wallMillis: 3_004)
        #expect(replica.confirmed.jobCount == 3, "only the jobs acted on were read")
        #expect(try replica.jobs(numbered: "J-3").isEmpty)
        #expect(try replica.jobs(numbered: "J-30").map(\.id) == [jobs[2]])
        #expect(try replica.jobs(numbered: "J-5").map(\.id) == [newJob])
        #expect(try replica.jobs(numbered: "J-1").map(\.id) == [jobs[0]])

        // The report from the kept draws equals the report over the whole view, pending actions included.
        let options = ReportCatalog.Options(today: Fixtures.date("2026-07-15"))
        func sameAsWholeView(_ replica: FieldReplica) throws {
            let kept = ReportCatalog.outstandingDraws(try replica.outstandingInstallments(), settings: replica.settings, options)
            let whole = try ReportCatalog.render(.outstandingDraws, try FieldReplica.open(at: replica.path).view, options)
            #expect(kept.table == whole.table)
            #expect(kept.json == whole.json)
            #expect(kept.table.rows.count >= 12)
            // The table the CLI prints, gathered from the stored bytes with the changed jobs from the view.
            #expect(try replica.outstandingDrawsTable(today: options.today) == whole.table)
            // A large replica's way: the records read in chunks (down to one record) and handed
            // on, each thread's share ordered, the rows merged. Each time on a replica that has
            // not read the changed jobs yet, so that the last thread reads them while the first
            // reads the records.
            for threads in [1, 2, 3, 7] {
                for chunk in [1, 2, 3, 1_000] {
                    let reopened = try FieldReplica.open(at: replica.path)
                    #expect(try reopened.outstandingDrawsTable(today: options.today, threads: threads, chunkRecords: chunk) == whole.table,
                            "\(threads) threads, chunks of \(chunk)")
                }
            }
            // The CLI's way: the columns laid out from the widths gathered with the rows, the
            // rows written in batches (down to one row) and in two shares cut anywhere.
            let draws = try replica.outstandingDrawsRows(today: options.today)
            let header = draws.header(settings: replica.settings)
            #expect(header == whole.table.header)
            let layout = TableText(draws: draws, header: header)
            #expect(layout.widths == TableText(measuring: whole.table).widths)
            let rows = draws.rowCount
            for batch in [1, 2, 5, 4_096] {
                for cut in [0, 1, rows / 2, rows] {
                    for text in [layout, nil] {
                        var written: [UInt8] = []
                        draws.write(rows: 0..<cut, header: header, text: text, withHeader: true, batchRows: batch) { written += $0 }
                        draws.write(rows: cut..<rows, header: header, text: text, withHeader: false, batchRows: batch) { written += $0 }
                        let expected = text == nil ? whole.table.csvBytes() : Array((TableText.render(whole.table) + "\n").utf8)
                        #expect(written == expected, "batches of \(batch), cut at \(cut), \(text == nil ? "CSV" : "text")")
                    }
                }
            }
        }
        try sameAsWholeView(replica)
        let whole = try FieldReplica.open(at: replica.path).view
        for id in jobs + [newJob] { #expect(try replica.job(id) == (try whole.job(id)), "job \(id)") }
        // Reopened, one job at a time: each joins the kept view with its own pending actions.
        let reopened = try FieldReplica.open(at: replica.path)
        for id in [jobs[3], jobs[1], newJob, jobs[2]] { #expect(try reopened.job(id) == (try whole.job(id)), "reopened, job \(id)") }
        // With a company-wide action pending, a job read later still sees every pending action.
        let officeAgain = try FieldReplica.open(at: office.path)
        var settings = officeAgain.settings
        settings.programEnabled.toggle()
        try officeAgain.perform(.updateSettings(settings, baseVersion: settings.version), job: nil, day: world.day, wallMillis: 4_000)
        try officeAgain.perform(.recordPayment(PaymentRequest(amountMinor: 1_000, currency: .usd, method: .cash)), job: jobs[3], day: world.day, wallMillis: 4_001)
        _ = try officeAgain.job(jobs[0])
        try officeAgain.perform(.recordPayment(PaymentRequest(amountMinor: 2_000, currency: .usd, method: .cash)), job: jobs[2], day: world.day, wallMillis: 4_002)
        let officeWhole = try FieldReplica.open(at: office.path).view
        for id in jobs { #expect(try officeAgain.job(id) == (try officeWhole.job(id)), "office's job \(id)") }
        #expect(officeAgain.settings == officeWhole.settings)
        let kept = try await DatabaseQueue(path: replica.path).read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM job_record WHERE draws IS NOT NULL") }
        #expect(kept == 4, "the synced jobs' draws are stored beside them")
        try await replica.sync(over: world.transport(techCredential))
        try sameAsWholeView(replica)
        #expect(try replica.view == (try world.service.projectedLedger(company: world.company)))
        // Many jobs read from the file at once (a long pull's first pages) are decoded on several
        // threads: the same jobs as read on one.
        let (onOne, onSeveral) = (try FieldReplica.open(at: replica.path), try FieldReplica.open(at: replica.path))
        onSeveral.jobsPerThreadMin = 1
        try onOne.load(jobs + [newJob])
        try onSeveral.load(jobs + [newJob])
        #expect(onSeveral.confirmed.jobCount == 5)
        for id in jobs + [newJob] { #expect(try onSeveral.confirmed.job(id) == (try onOne.confirmed.job(id)), "job \(id)") }
    }

    @Test("Two commands on one device's file: an action after the other one acted or synced is refused, nothing stored; run again, it records")
    func anotherProcessActed() async throws {
        let world = try ClientWorld()
        let (office, credential) = try world.device("ben")
        let job = try world.jobOnThirds(office, at: 1_000)
        let pay = ActionPayload.recordPayment(PaymentRequest(amountMinor: 10_000, currency: .usd, method: .cash))
        let other = try FieldReplica.open(at: office.path)
        try office.perform(pay, job: job, day: world.day, wallMillis: 2_000)
        #expect { try other.perform(pay, job: job, day: world.day, wallMillis: 2_001) } throws: { ($0 as? ClientError)?.code == .replicaChanged }
        #expect(try office.outbox().count == 4, "nothing of the refused one stored")
        let again = try FieldReplica.open(at: office.path)
        try again.perform(pay, job: job, day: world.day, wallMillis: 2_002)
        // A sync stores a new cursor: a handle opened before it is refused too.
        let stale = try FieldReplica.open(at: office.path)
        try await again.sync(over: world.transport(credential))
        #expect { try stale.perform(pay, job: job, day: world.day, wallMillis: 2_003) } throws: { ($0 as? ClientError)?.code == .replicaChanged }
        // The one that synced acts on, during and after its own sync.
        try again.perform(pay, job: job, day: world.day, wallMillis: 2_004)
        try await again.sync(over: world.transport(credential))
        #expect(try FieldReplica.open(at: office.path).outbox().map(\.action.dot.counter) == [1, 2, 3, 4, 5, 6])
        #expect(try again.view == (try world.service.projectedLedger(company: world.company)))
    }

    @Test("An action the rules refuse is not queued: a typed error, and the replica is unchanged")
    func refusedLocally() throws {
        let world = try ClientWorld()
        let (tech, _) = try world.device("ana")
        let unknown = JobID(Dot(replica: ReplicaID(high: 9, low: 9), counter: 1))
        #expect {
            try tech.perform(.recordPayment(PaymentRequest(amountMinor: 100, currency: .usd, method: .cash)), job: unknown, day: world.day, wallMillis: 1)
        } throws: { ($0 as? ClientError)?.code == .actionRefused }
        #expect(try tech.outbox().isEmpty)
        #expect(try tech.status(nowMillis: 2).pending == 0)
        // The next action gets the first counter: the refused one left no gap.
        let job = try tech.perform(.createJob(number: "J-9", customer: Customer(name: "A"), department: nil, currency: .usd, notes: ""), job: nil, day: world.day, wallMillis: 3)
        #expect(job.action.dot.counter == 1)
    }

    @Test("Plain HTTP is refused for another machine unless allowed; loopback and HTTPS are fine")
    func insecureServers() throws {
        #expect { try HTTPSyncTransport(server: "http://office.example.com:8080", token: "t") } throws: { ($0 as? ClientError)?.code == .insecureServer }
        #expect { try HTTPSyncTransport(server: "not a url", token: "t") } throws: { ($0 as? ClientError)?.code == .insecureServer }
        _ = try HTTPSyncTransport(server: "http://office.example.com:8080", token: "t", allowInsecure: true)
        _ = try HTTPSyncTransport(server: "https://office.example.com", token: "t")
        for local in ["http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080"] { _ = try HTTPSyncTransport(server: local, token: "t") }
    }

    @Test("Over HTTP to the real server on a loopback port: a device syncs, a revoked token is refused and the outbox keeps its actions")
    func overHTTP() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fieldclient-http-\(UUID().uuidString)")
        let server = try FieldLedgerServer(dataDirectory: directory.path)
        let company = try CompanyID("acme")
        try server.administration.createCompany(company)
        try server.administration.setUser(try UserID("ben"), role: .office, company: company)
        let (token, credential) = try server.administration.issueToken(company: company, user: try UserID("ben"))
        try await server.application(host: "127.0.0.1", port: 0).test(.live) { client in
            let port = try #require(client.port)
            let address = "http://127.0.0.1:\(port)"
            let transport = try HTTPSyncTransport(server: address, token: token)
            let identity = try await transport.identify()
            #expect(identity == DeviceIdentity(company: "acme", replica: credential.replica, actor: credential.actor, server: address, token: token))
            let office = try FieldReplica.create(at: directory.appendingPathComponent("office.sqlite").path, identity: identity)
            let day = Fixtures.date("2026-06-01")
            let job = JobID(try office.perform(.createJob(number: "J-1", customer: Customer(name: "A"), department: nil, currency: .usd, notes: ""),
                                               job: nil, day: day, wallMillis: 1_000).action.dot)
            try await office.sync(over: transport)
            #expect(try office.view == (try server.service.projectedLedger(company: company)))
            #expect(try await transport.job(job) == (try server.service.projectedLedger(company: company).job(job)), "GET /v1/jobs/… gives the job as it is")
            #expect(try await transport.job(JobID(Dot(replica: credential.replica, counter: 99))) == nil)
            try server.administration.revoke(replica: credential.replica, company: company)
            try office.perform(.setInvoice(number: "HV-1", baseTotalMinor: 10_000, issuedOn: day), job: job, day: day, wallMillis: 2_000)
            await #expect { try await office.sync(over: transport) } throws: { ($0 as? ClientError)?.code == .unauthorized }
            #expect(try office.status(nowMillis: 3_000).pending == 1)
        }
    }
}
