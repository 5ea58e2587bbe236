import Foundation
import Hummingbird
import HummingbirdTesting
import LedgerCore
import LedgerServer
import LedgerService
import LedgerTestSupport
import StorageTestSupport
import SyncProtocol
import Testing

/// A server on a fresh data directory, with two companies, their users and device tokens.
struct ServerWorld {
    let server: FieldLedgerServer
    let acme = try! CompanyID("acme"), other = try! CompanyID("other")
    let officeToken: String, techToken: String, otherToken: String
    let office: DeviceCredential, tech: DeviceCredential

    /// On a fresh storage of `site` (SQLite or PostgreSQL).
    init(site: StorageSite) throws {
        server = FieldLedgerServer(storage: try site.open())
        let admin = server.administration
        for company in [acme, other] { try admin.createCompany(company) }
        try admin.setUser(try UserID("ben"), role: .office, company: acme)
        try admin.setUser(try UserID("ana"), role: .technician, company: acme)
        try admin.setUser(try UserID("cy"), role: .office, company: other)
        (officeToken, office) = try admin.issueToken(company: acme, user: try UserID("ben"))
        (techToken, tech) = try admin.issueToken(company: acme, user: try UserID("ana"))
        otherToken = try admin.issueToken(company: other, user: try UserID("cy")).token
    }

    func app() throws -> some ApplicationProtocol { try server.application(host: "127.0.0.1", port: 0) }

    /// The office creates a job invoiced at $3,000.00 on a thirds plan; both devices sync it.
    /// Returns the job and each device's sync client.
    func jobOnThirds(_ number: String, customer: String, day: CalendarDate, client: any TestClientProtocol,
                     office: inout TestDevice, tech: inout TestDevice) async throws -> (JobID, SyncClient, SyncClient) {
        let job = try office.createJob(number, customer: customer, on: day, at: 1_000)
        office.perform(.setInvoice(number: "HV-\(number)", baseTotalMinor: 300_000, issuedOn: day), job: job, day: day, physicalMillis: 1_001)
        office.perform(.createPlan(PlanDraft(template: .thirds)), job: job, day: day, physicalMillis: 1_002)
        let officeSync = SyncClient(client: client, token: officeToken), techSync = SyncClient(client: client, token: techToken)
        try await officeSync.sync(&office)
        try await techSync.sync(&tech)
        return (job, officeSync, techSync)
    }

    /// The office's and the technician's devices, with nothing synced yet.
    func devices() throws -> (office: TestDevice, tech: TestDevice) {
        (TestDevice(replica: office.replica, actor: office.actor, initial: try Ledger()), TestDevice(replica: tech.replica, actor: tech.actor, initial: try Ledger()))
    }
}

extension TestDevice {
    /// Creates a job in this device's outbox and returns its id.
    mutating func createJob(_ number: String, customer: String, on day: CalendarDate, at millis: Int64) throws -> JobID {
        let created = perform(.createJob(number: number, customer: Customer(name: customer), department: "HVAC", currency: .usd, notes: ""),
                              job: nil, day: day, physicalMillis: millis)
        return JobID(try #require(created.action).dot)
    }
}

/// Sends sync messages over HTTP with a device token.
struct SyncClient {
    let client: any TestClientProtocol
    let token: String

    func send(_ message: SyncMessage) async throws -> (status: HTTPResponse.Status, answer: SyncMessage?) {
        try await sendRaw(try message.encoded())
    }

    func sendRaw(_ bytes: [UInt8]) async throws -> (status: HTTPResponse.Status, answer: SyncMessage?) {
        let response = try await client.execute(uri: "/v1/sync", method: .post, headers: [.authorization: "Bearer \(token)"],
                                                body: ByteBuffer(bytes: bytes))
        return (response.status, try? SyncMessage.decode(Array(buffer: response.body)))
    }

    /// Pushes the device's outbox, then pulls until caught up, as a device's sync does.
    func sync(_ device: inout TestDevice) async throws {
        if !device.pending.isEmpty {
            let changeSet = ChangeSet(replica: device.replica, lastAppliedSequence: device.cursor, appVersion: "test",
                                      clock: device.pending.last!.hlc, actions: device.pending)
            let (status, answer) = try await send(.pushRequest(changeSet))
            #expect(status == .ok, "push answered \(status): \(String(describing: answer))")
        }
        while true {
            let (status, answer) = try await send(.pullRequest(PullRequest(replica: device.replica, afterSequence: device.cursor, limit: 50)))
            guard status == .ok, case .pullPage(let page)? = answer else { Issue.record("pull answered \(status): \(String(describing: answer))"); return }
            try device.apply(page.entries)
            #expect(device.logDigest == page.checkpoint.logDigest)
            for digest in page.checkpoint.jobs { #expect(try device.confirmed.job(digest.job).digest == digest) }
            if page.checkpoint.caughtUp { return }
        }
    }
}

@Suite("The sync server over HTTP on a loopback port")
struct ServerTests {
    @Test("PostgreSQL starts here, so the tests of this suite that store anything run on it as well as on SQLite",
          .enabled(if: PostgresServer.available || PostgresServer.required, Comment(rawValue: Backend.skipReason)))
    func postgresCasesRun() throws {
        try Backend.postgres.withSite { site in
            let world = try ServerWorld(site: site)
            #expect(try world.server.service.storage.companies().count == 2)
        }
    }

    @Test("A device on an older app pushes and pulls in body schema 1; its pages, cached apart, hold the same entries as schema 2's")
    func olderSchema() async throws {
        try await Backend.sqlite.withSite { site in
            let world = try ServerWorld(site: site)
            try await world.app().test(.live) { client in
                var (office, tech) = try world.devices()
                let day = Fixtures.date("2026-06-01")
                let (job, officeSync, techSync) = try await world.jobOnThirds("J-1042", customer: "Dana Whitfield", day: day, client: client, office: &office, tech: &tech)
                // A row of the office's plan, made on the job's own replica: schema 2 names it as a step from the job.
                let row = try #require(try tech.confirmed.job(job).plan?.rows.last?.id)
                #expect(row.origin.replica == job.dot.replica)
                tech.perform(.editInstallment(row, label: "Balance", dueDate: .keep), job: job, day: day, physicalMillis: 2_000)
                let old = ChangeSet(replica: tech.replica, lastAppliedSequence: tech.cursor, schemaVersion: 1, appVersion: "old",
                                    clock: tech.pending.last!.hlc, actions: tech.pending)
                let (pushed, answer) = try await techSync.send(.pushRequest(old))
                #expect(pushed == .ok)
                guard case .pushResponse(let response)? = answer else { Issue.record("push answered \(String(describing: answer))"); return }
                #expect(response.outcomes == [.applied])
                func pull(after: UInt64, schema: UInt32) async throws -> PullPage? {
                    let (status, answer) = try await officeSync.send(.pullRequest(PullRequest(replica: world.office.replica, afterSequence: after, limit: 2, schemaVersion: schema)))
                    guard status == .ok, case .pullPage(let page)? = answer else { Issue.record("pull answered \(status)"); return nil }
                    return page
                }
                // Pages short of the head are cached; the schema 2 page asked first must not answer the old app.
                for after: UInt64 in [0, 2] {
                    let newer = try #require(try await pull(after: after, schema: 2)), older = try #require(try await pull(after: after, schema: 1))
                    #expect(newer.schemaVersion == 2 && older.schemaVersion == 1)
                    #expect(newer.entries == older.entries && newer.checkpoint == older.checkpoint)
                }
                let head = try #require(try await pull(after: 3, schema: 1))
                #expect(head.entries.map(\.action.payload) == [.editInstallment(row, label: "Balance", dueDate: .keep)] && head.checkpoint.caughtUp)
            }
        }
    }

    @Test("Two devices push and pull through the server and converge on its state", arguments: Backend.all)
    func twoDevices(_ backend: Backend) async throws {
        try await backend.withSite { site in
            let world = try ServerWorld(site: site)
            try await world.app().test(.live) { client in
                var (office, tech) = try world.devices()
                let day = Fixtures.date("2026-06-01")
                let (job, officeSync, techSync) = try await world.jobOnThirds("J-1042", customer: "Dana Whitfield", day: day, client: client, office: &office, tech: &tech)
                tech.perform(.recordPayment(PaymentRequest(amountMinor: 100_000, currency: .usd, method: .cash)), job: job, day: day, physicalMillis: 2_000)
                try await techSync.sync(&tech)
                try await officeSync.sync(&office)
                #expect(tech.pending.isEmpty && office.pending.isEmpty)
                let server = try world.server.service.projectedLedger(company: world.acme)
                #expect(office.confirmed.stateDigest == server.stateDigest)
                #expect(tech.confirmed.stateDigest == server.stateDigest)
                #expect(try server.job(job).totals.completedMinor == 100_000)
                // The office reads the job as JSON; a technician may not list jobs.
                let list = try await client.execute(uri: "/v1/jobs", method: .get, headers: [.authorization: "Bearer \(world.officeToken)"])
                #expect(list.status == .ok)
                #expect(String(buffer: list.body).contains("\"number\":\"J-1042\""))
                let forbidden = try await client.execute(uri: "/v1/jobs", method: .get, headers: [.authorization: "Bearer \(world.techToken)"])
                #expect(forbidden.status == .forbidden)
                // Another company's token asking for this job by id gets 404, as for any unknown id.
                let path = "/v1/jobs/\(job.dot.replica)/\(job.dot.counter)"
                #expect(try await client.execute(uri: path, method: .get, headers: [.authorization: "Bearer \(world.officeToken)"]).status == .ok)
                let foreign = try await client.execute(uri: path, method: .get, headers: [.authorization: "Bearer \(world.otherToken)"])
                #expect(foreign.status == .notFound)
                #expect(try world.server.service.projectedLedger(company: world.acme) == server)

                // Reports: the same rows the core computes on the server's ledger, as JSON and CSV.
                let auth: HTTPFields = [.authorization: "Bearer \(world.officeToken)"]
                let draws = try await client.execute(uri: "/v1/reports/outstanding-draws?today=2026-06-01", method: .get, headers: auth)
                #expect(draws.status == .ok)
                #expect(try JSONDecoder().decode([OutstandingDrawRow].self, from: Data(buffer: draws.body))
                        == Reports.outstandingDraws(server, today: day))
                let csv = try await client.execute(uri: "/v1/reports/outstanding-draws?today=2026-06-01&format=csv", method: .get, headers: auth)
                #expect(csv.headers[.contentType] == "text/csv; charset=utf-8")
                #expect(String(buffer: csv.body) == Reports.outstandingDrawsCSV(Reports.outstandingDraws(server, today: day), settings: server.settings).render())
                let collections = try await client.execute(uri: "/v1/reports/collections?period=month&from=2026-06-01&through=2026-06-30", method: .get, headers: auth)
                #expect(try JSONDecoder().decode([CollectionPeriodRow].self, from: Data(buffer: collections.body))
                        == Reports.collections(server, period: .month, from: day, through: Fixtures.date("2026-06-30")))
                for name in ["pending-revenue", "revenue", "reconciliation", "reminders"] {
                    #expect(try await client.execute(uri: "/v1/reports/\(name)?today=2026-06-01&format=csv", method: .get, headers: auth).status == .ok, "\(name)")
                }
                #expect(try await client.execute(uri: "/v1/reports/profit", method: .get, headers: auth).status == .notFound)
                #expect(try await client.execute(uri: "/v1/reports/revenue?today=June", method: .get, headers: auth).status == .badRequest)
                #expect(try await client.execute(uri: "/v1/reports/revenue", method: .get, headers: [.authorization: "Bearer \(world.techToken)"]).status == .forbidden)
            }
        }
    }

    @Test("The office resolves a review case and edits settings over JSON; each is an audited action in the log", arguments: Backend.all)
    func officeActions(_ backend: Backend) async throws {
        try await backend.withSite { site in
            let world = try ServerWorld(site: site)
            try await world.app().test(.live) { client in
                var (office, tech) = try world.devices()
                let day = Fixtures.date("2026-06-01")
                let (job, officeSync, techSync) = try await world.jobOnThirds("J-7", customer: "Lee", day: day, client: client, office: &office, tech: &tech)
                // The technician takes a deposit the office has not seen; the office re-splits the plan.
                tech.perform(.recordPayment(PaymentRequest(amountMinor: 100_000, currency: .usd, method: .cash)), job: job, day: day, physicalMillis: 2_000)
                office.perform(.editPlan(PlanDraft(template: .fiftyFifty)), job: job, day: day, physicalMillis: 2_100)
                try await techSync.sync(&tech)
                try await officeSync.sync(&office)
                let open = try world.server.service.projectedLedger(company: world.acme).openReviewCases
                let reviewCase = try #require(open.first)
                #expect(reviewCase.kind == .planEditAfterUnseenPayment)
                let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
                #expect(metrics.contains("fieldledger_review_cases_open 1\n"))
                #expect(metrics.contains("fieldledger_actions_total{outcome=\"parked_for_review\"} 1\n"))
                #expect(metrics.contains("fieldledger_actions_total{outcome=\"applied\"} 4\n"))
                #expect(metrics.contains("fieldledger_request_duration_seconds_count{route=\"POST /v1/sync\"}"))
                let auth: HTTPFields = [.authorization: "Bearer \(world.officeToken)", .contentType: "application/json"]
                let path = "/v1/review-cases/\(reviewCase.id.dot.replica)/\(reviewCase.id.dot.counter)/\(reviewCase.id.index)/resolve"
                let decision = ByteBuffer(string: #"{"resolution":"keep-current","note":"Customer keeps Thirds","day":"2026-06-02"}"#)
                #expect(try await client.execute(uri: path, method: .post, headers: [.authorization: "Bearer \(world.techToken)"], body: decision).status == .forbidden)
                let resolved = try await client.execute(uri: path, method: .post, headers: auth, body: decision)
                #expect(resolved.status == .ok, "\(String(buffer: resolved.body))")
                #expect(try world.server.service.projectedLedger(company: world.acme).openReviewCases.isEmpty)
                #expect(String(buffer: try await client.execute(uri: "/metrics", method: .get).body).contains("fieldledger_review_cases_open 0\n"))
                let again = try await client.execute(uri: path, method: .post, headers: auth, body: decision)
                #expect(again.status == .unprocessableContent)
                #expect(String(buffer: again.body).contains("review_case_resolved"))
                // The decision is in the log as the office user's action, and the devices get it.
                let entries = try world.server.service.pull(company: world.acme, after: 0, limit: 100).entries
                #expect(entries.last?.action.actor == world.office.actor)
                try await officeSync.sync(&office)
                #expect(office.confirmed.stateDigest == (try world.server.service.projectedLedger(company: world.acme)).stateDigest)

                // Settings: read, change from the current version, then a stale version is parked.
                let current = try JSONDecoder().decode(CompanySettings.self, from: Data(buffer: try await client.execute(uri: "/v1/settings", method: .get, headers: auth).body))
                var renamed = current
                renamed.intervalName = "Draw"
                let body = { (base: Int64) in ByteBuffer(bytes: try JSONEncoder().encode(["baseVersion": AnyEncodable(base), "settings": AnyEncodable(renamed)])) }
                #expect(try await client.execute(uri: "/v1/settings", method: .put, headers: auth, body: try body(current.version)).status == .ok)
                #expect(try world.server.service.projectedLedger(company: world.acme).settings.intervalName == "Draw")
                #expect(try await client.execute(uri: "/v1/settings", method: .put, headers: auth, body: try body(current.version)).status == .accepted)
                #expect(try await client.execute(uri: "/v1/settings", method: .put, headers: auth, body: ByteBuffer(string: "{}")).status == .badRequest)
            }
        }
    }

    @Test("Pages short of the head end on multiples of their size and are the same for every device; the page at the head is never stale",
          arguments: Backend.all)
    func sharedPages(_ backend: Backend) async throws {
        try await backend.withSite { site in
            let world = try ServerWorld(site: site)
            try await world.app().test(.live) { client in
                var (office, tech) = try world.devices()
                let day = Fixtures.date("2026-06-01")
                let (job, officeSync, techSync) = try await world.jobOnThirds("J-7", customer: "Kim Ortega", day: day, client: client, office: &office, tech: &tech)
                for cents in 1...9 {
                    tech.perform(.recordPayment(PaymentRequest(amountMinor: Int64(cents) * 100, currency: .usd, method: .cash)), job: job, day: day,
                                 physicalMillis: 2_000 + Int64(cents))
                }
                try await techSync.sync(&tech)
                #expect(tech.cursor == 12)
                func page(_ sync: SyncClient, after: UInt64) async throws -> PullPage {
                    let (status, answer) = try await sync.send(.pullRequest(PullRequest(replica: sync.token == world.officeToken ? world.office.replica : world.tech.replica,
                                                                                          afterSequence: after, limit: 5)))
                    guard status == .ok, case .pullPage(let page)? = answer else { throw ServiceError(.storageFailed, "pull answered \(status)") }
                    return page
                }
                // From cursor 1 the first page stops at 5; after that every page is 5 wide.
                let first = try await page(techSync, after: 1)
                #expect(first.entries.map(\.sequence) == [2, 3, 4, 5] && !first.checkpoint.caughtUp)
                let middle = try await page(techSync, after: 5)
                #expect(middle.entries.map(\.sequence) == Array(6...10) && !middle.checkpoint.caughtUp)
                // Another device asking for the same stretch gets the same page, however it is served.
                #expect(try await page(officeSync, after: 5) == middle)
                let head = try await page(officeSync, after: 10)
                #expect(head.entries.map(\.sequence) == [11, 12] && head.checkpoint.caughtUp)
                // The head moves: the same request now sees the new entry and the job's new digest.
                tech.perform(.recordPayment(PaymentRequest(amountMinor: 1_000, currency: .usd, method: .cash)), job: job, day: day, physicalMillis: 3_000)
                try await techSync.sync(&tech)
                let moved = try await page(officeSync, after: 10)
                #expect(moved.entries.map(\.sequence) == [11, 12, 13] && moved.checkpoint.caughtUp)
                #expect(try moved.checkpoint.jobs == [tech.confirmed.job(job).digest])
                #expect(moved.checkpoint.jobs != head.checkpoint.jobs)
                try await officeSync.sync(&office)
                #expect(office.confirmed.stateDigest == (try world.server.service.projectedLedger(company: world.acme)).stateDigest)
            }
        }
    }

    @Test("A device over its request rate gets 429 with Retry-After; another device is not held back")
    func rateLimit() async throws {
        // A token every 100 s: the fourth request is over the rate however slowly a loaded
        // machine runs the first three. (The limiter is in memory: one backend is enough.)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fieldledger-rate-\(UUID().uuidString)").path
        let server = try FieldLedgerServer(dataDirectory: directory, requestsPerSecond: 0.01, burst: 3)
        let company = try CompanyID("acme")
        try server.administration.createCompany(company)
        try server.administration.setUser(try UserID("ben"), role: .office, company: company)
        let first = try server.administration.issueToken(company: company, user: try UserID("ben")).token
        let second = try server.administration.issueToken(company: company, user: try UserID("ben")).token
        try await server.application(host: "127.0.0.1", port: 0).test(.live) { client in
            var statuses: [HTTPResponse.Status] = []
            var retryAfter: String?
            for _ in 0..<4 {
                let response = try await client.execute(uri: "/v1/jobs", method: .get, headers: [.authorization: "Bearer \(first)"])
                statuses.append(response.status)
                retryAfter = response.headers[.retryAfter] ?? retryAfter
            }
            #expect(statuses == [.ok, .ok, .ok, .tooManyRequests])
            #expect(retryAfter.flatMap(Int.init).map { $0 >= 1 } == true)
            #expect(try await client.execute(uri: "/v1/jobs", method: .get, headers: [.authorization: "Bearer \(second)"]).status == .ok)
        }
    }

    @Test("docs/openapi.json lists exactly the server's routes")
    func openAPI() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/openapi.json")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        // Both write a path parameter as {name}.
        let documented = paths.flatMap { path, operations in operations.keys.map { "\($0.uppercased()) \(path)" } }.sorted()
        let served = try Backend.sqlite.withSite { try ServerWorld(site: $0).server.routes }
        #expect(documented == served, "documented \(documented), served \(served)")
    }

    @Test("A revoked or unknown token gets 401 and nothing is applied; a forged actor gets 403", arguments: Backend.all)
    func tokens(_ backend: Backend) async throws {
        try await backend.withSite { site in
            let world = try ServerWorld(site: site)
            try await world.app().test(.live) { client in
                var office = TestDevice(replica: world.office.replica, actor: world.office.actor, initial: try Ledger())
                office.perform(.createJob(number: "J-1", customer: Customer(name: "A"), department: nil, currency: .usd, notes: ""),
                               job: nil, day: Fixtures.date("2026-06-01"), physicalMillis: 1_000)
                let changeSet = ChangeSet(replica: office.replica, lastAppliedSequence: 0, appVersion: "t", clock: office.pending[0].hlc, actions: office.pending)
                let unknown = try await SyncClient(client: client, token: "flt1_nope").send(.pushRequest(changeSet))
                #expect(unknown.status == .unauthorized)
                try world.server.administration.revoke(replica: world.office.replica, company: world.acme)
                let revoked = try await SyncClient(client: client, token: world.officeToken).send(.pushRequest(changeSet))
                #expect(revoked.status == .unauthorized)
                // The technician's token carrying the office's actions: refused whole.
                var forged = TestDevice(replica: world.tech.replica, actor: world.office.actor, initial: try Ledger())
                forged.perform(.createJob(number: "J-2", customer: Customer(name: "B"), department: nil, currency: .usd, notes: ""),
                               job: nil, day: Fixtures.date("2026-06-01"), physicalMillis: 1_000)
                let forgedSet = ChangeSet(replica: forged.replica, lastAppliedSequence: 0, appVersion: "t", clock: forged.pending[0].hlc, actions: forged.pending)
                #expect(try await SyncClient(client: client, token: world.techToken).send(.pushRequest(forgedSet)).status == .forbidden)
                #expect(try world.server.service.pull(company: world.acme, after: 0, limit: 10).entries.isEmpty)
            }
        }
    }

    @Test("Every invalid envelope vector over HTTP answers 400 with its code and changes nothing", arguments: Backend.all)
    func invalidVectors(_ backend: Backend) async throws {
        try await backend.withSite { site in
            let world = try ServerWorld(site: site)
            let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Protocol/vectors/envelope.json")
            struct File: Decodable { struct Vector: Decodable { let name: String; let hex: String; let error: String? }; let vectors: [Vector] }
            let vectors = try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).vectors.filter { $0.error != nil }
            try await world.app().test(.live) { client in
                let before = try world.server.service.projectedLedger(company: world.acme).stateDigest
                let sync = SyncClient(client: client, token: world.techToken)
                for vector in vectors {
                    var bytes: [UInt8] = []
                    var index = vector.hex.startIndex
                    while index < vector.hex.endIndex {
                        let next = vector.hex.index(index, offsetBy: 2)
                        bytes.append(UInt8(vector.hex[index..<next], radix: 16)!)
                        index = next
                    }
                    let (status, answer) = try await sync.sendRaw(bytes)
                    #expect(status == .badRequest || status == .contentTooLarge, "\(vector.name): \(status)")
                    guard case .error(let code, _)? = answer else { Issue.record("\(vector.name): no error message"); continue }
                    #expect(code == vector.error, "\(vector.name)")
                }
                #expect(try world.server.service.projectedLedger(company: world.acme).stateDigest == before)
            }
        }
    }
}

/// Lets a test encode a dictionary of mixed values.
struct AnyEncodable: Encodable {
    let value: any Encodable
    init(_ value: any Encodable) { self.value = value }
    func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}
