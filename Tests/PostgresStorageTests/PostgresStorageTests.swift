import Foundation
import LedgerCore
import LedgerService
@testable import PostgresLedgerStorage
import LedgerTestSupport
import SQLiteLedgerStorage
import SyncProtocol
import Synchronization
import Testing

private let skipReason: Comment = "PostgreSQL is not installed here, so the PostgreSQL storage is NOT TESTED (set FIELDLEDGER_REQUIRE_POSTGRES=1 to make this a failure)"

@Suite("PostgreSQL storage against a real server", .enabled(if: PostgresServer.available || PostgresServer.required, skipReason))
struct PostgresStorageTests {
    let company = try! CompanyID("acme-hvac")

    static func workload(seed: UInt64) throws -> FieldWorkload {
        try FieldWorkload(.init(seed: seed, jobs: 40, devices: 4, actions: 600, gapMillisMax: 30_000, pullEvery: 7,
                                vocabulary: .init(userPrefix: "t", jobPrefix: "J-", invoicePrefix: "I-", department: "HVAC",
                                                  installmentLabels: ["Final"], refundReason: "r", changeOrders: ["Vent"])))
    }

    /// Pushes runs of one replica's actions in log order; the n-th through `services[n % count]`.
    func push<S: LedgerStorage>(_ actions: [Action], to company: CompanyID? = nil, through services: [LedgerService<S>], size: Int = 100) throws -> [Outcome] {
        var outcomes: [Outcome] = []
        for (index, run) in FieldWorkload.runs(actions, size: size).enumerated() {
            let response = try services[index % services.count].push(ChangeSet(replica: run[0].dot.replica, lastAppliedSequence: run.last!.seenSequence,
                                                                               appVersion: "test", clock: run.last!.hlc, actions: run), company: company ?? self.company)
            outcomes += response.outcomes
        }
        return outcomes
    }

    /// Every entry of the log, through one service.
    func log<S: LedgerStorage>(_ service: LedgerService<S>) throws -> PullPage {
        try service.pull(company: company, after: 0, limit: 100_000)
    }

    @Test("A seeded company's traffic gets the reference's outcomes and the SQLite storage's log, digest for digest, and survives a restart")
    func agreesWithSQLite() throws {
        try PostgresServer.withDatabase { url in
            let traffic = try Self.workload(seed: 11)
            let actions = (traffic.setup + traffic.entries).map(\.action)
            let storage = try PostgresLedgerStorage(url: url)
            try storage.createCompany(company, state: CompanyState(settings: CompanySettings()))
            let service = LedgerService(storage: storage)
            #expect(try push(actions, through: [service]) == (traffic.setup + traffic.entries).map(\.outcome))
            #expect(try service.projectedLedger(company: company).stateDigest == traffic.ledger.stateDigest)
            #expect(try service.foldedLedger(company: company) == traffic.ledger)

            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fieldledger-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let sqlite = LedgerService(storage: try SQLiteLedgerStorage(path: directory.appendingPathComponent("ledger.sqlite").path))
            try sqlite.storage.createCompany(company, state: CompanyState(settings: CompanySettings()))
            _ = try push(actions, through: [sqlite])
            let (mine, theirs) = (try log(service), try log(sqlite))
            #expect(mine.entries == theirs.entries)
            #expect(mine.checkpoint == theirs.checkpoint)

            service.close()
            storage.close()
            let restarted = LedgerService(storage: try PostgresLedgerStorage(url: url))
            #expect(try restarted.projectedLedger(company: company).stateDigest == traffic.ledger.stateDigest)
            #expect(try log(restarted) == mine)
        }
    }

    @Test("Two services on one database (two server processes) take turns: each catches up with the other's appends")
    func twoProcessesTakeTurns() throws {
        try PostgresServer.withDatabase { url in
            let first = LedgerService(storage: try PostgresLedgerStorage(url: url))
            try first.storage.createCompany(company, state: CompanyState(settings: CompanySettings()))
            let second = LedgerService(storage: try PostgresLedgerStorage(url: url))
            let traffic = try Self.workload(seed: 12)
            let logged = traffic.setup + traffic.entries
            #expect(try push(logged.map(\.action), through: [first, second]) == logged.map(\.outcome))
            for service in [first, second] {
                #expect(try service.projectedLedger(company: company).stateDigest == traffic.ledger.stateDigest)
                #expect(try service.head(company: company) == UInt64(logged.count))
            }
            #expect(try log(first) == log(second))
        }
    }

    @Test("Two services appending to one company at the same moment leave a log without gaps, each action once, in commit order")
    func concurrentAppendsSerialize() throws {
        try PostgresServer.withDatabase { url in
            let services = [LedgerService(storage: try PostgresLedgerStorage(url: url)), LedgerService(storage: try PostgresLedgerStorage(url: url))]
            try services[0].storage.createCompany(company, state: CompanyState(settings: CompanySettings()))
            let traffic = try Self.workload(seed: 13)
            let actions = (traffic.setup + traffic.entries).map(\.action)
            // The set-up first (users, jobs), then each replica's runs through one of the two
            // services, both at once.
            _ = try push(traffic.setup.map(\.action), through: [services[0]])
            let replicas = Array(Set(traffic.entries.map(\.action.dot.replica))).sorted()
            let halves = (0..<2).map { half in traffic.entries.map(\.action).filter { replicas.firstIndex(of: $0.dot.replica)! % 2 == half } }
            let failures = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 2) { half in
                let mine = halves[half]
                do {
                    _ = try push(mine, through: [services[half]])
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
            #expect(failures.withLock { $0 } == [])
            let page = try log(services[0])
            #expect(page.entries.map(\.sequence) == Array(1...UInt64(actions.count)))
            #expect(Set(page.entries.map(\.action.dot)).count == actions.count)
            #expect(Set(page.entries.map(\.action.dot)) == Set(actions.map(\.dot)))
            #expect(try log(services[1]) == page)
            #expect(try services[0].projectedLedger(company: company).stateDigest == services[1].projectedLedger(company: company).stateDigest)
            #expect(try services[0].foldedLedger(company: company).stateDigest == services[0].projectedLedger(company: company).stateDigest)
        }
    }

    @Test("Two services pushing to two companies at once never deadlock, with one writer each (groups mixing both companies) or a writer per company: every push commits, each log is whole",
          arguments: [1, PostgresLimits.writersAtOnce])
    func companiesInParallel(writers: Int) throws {
        try PostgresServer.withDatabase { url in
            // With one writer a group holds both companies, as it does in a process writing more
            // companies than it has writers.
            let services = [LedgerService(storage: try PostgresLedgerStorage(url: url), writers: writers),
                            LedgerService(storage: try PostgresLedgerStorage(url: url), writers: writers)]
            let companies = [try CompanyID("alpha"), try CompanyID("beta")]
            let traffic = [try Self.workload(seed: 21), try Self.workload(seed: 22)]
            for (company, traffic) in zip(companies, traffic) {
                try services[0].storage.createCompany(company, state: CompanyState(settings: CompanySettings()))
                _ = try push(traffic.setup.map(\.action), to: company, through: [services[0]])
            }
            // Every replica of both companies on a thread of its own, small change sets
            // alternating between the two services: each service's groups hold both companies,
            // locked in whatever order their pushes arrived unless the service orders them.
            var streams: [(company: CompanyID, actions: [Action])] = []
            for (company, traffic) in zip(companies, traffic) {
                for replica in Array(Set(traffic.entries.map(\.action.dot.replica))).sorted() {
                    streams.append((company, traffic.entries.map(\.action).filter { $0.dot.replica == replica }))
                }
            }
            let failures = Mutex<[String]>([])
            let all = streams, done = DispatchGroup()
            // Threads of their own (concurrentPerform would run only as many as there are cores).
            for index in all.indices {
                done.enter()
                Thread {
                    do {
                        _ = try push(all[index].actions, to: all[index].company, through: index % 2 == 0 ? services : services.reversed(), size: 5)
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                    }
                    done.leave()
                }.start()
            }
            done.wait()
            #expect(failures.withLock { $0 } == [], "no push failed (a deadlock between the services fails a whole group)")
            for (company, traffic) in zip(companies, traffic) {
                let actions = (traffic.setup + traffic.entries).map(\.action)
                let page = try services[1].pull(company: company, after: 0, limit: 100_000)
                #expect(page.entries.map(\.sequence) == Array(1...UInt64(actions.count)))
                #expect(Set(page.entries.map(\.action.dot)) == Set(actions.map(\.dot)))
                #expect(page.entries.count == actions.count)
            }
        }
    }

    @Test("One service writes two companies at once: a push to one that waits for its company's lock does not hold up the other's")
    func companiesOnTheirOwnWriters() throws {
        try PostgresServer.withDatabase { url in
            let storage = try PostgresLedgerStorage(url: url)
            let service = LedgerService(storage: storage)
            let companies = [try CompanyID("alpha"), try CompanyID("beta")]
            let traffic = [try Self.workload(seed: 31), try Self.workload(seed: 32)]
            for (company, traffic) in zip(companies, traffic) {
                try storage.createCompany(company, state: CompanyState(settings: CompanySettings()))
                _ = try push(traffic.setup.map(\.action), to: company, through: [service])
            }
            let pushes = traffic.map { Array(FieldWorkload.runs($0.entries.map(\.action), size: 20).prefix(1)[0]) }
            // Another process holds alpha's lock, as a long write of its own would.
            let other = try PostgresLedgerStorage(url: url)
            let locked = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0), holderDone = DispatchSemaphore(value: 0)
            Thread {
                _ = try? other.write(companies[0]) { _ in
                    locked.signal()
                    release.wait()
                }
                holderDone.signal()
            }.start()
            locked.wait()
            let alphaPushed = DispatchSemaphore(value: 0)
            let alphaOutcomes = Mutex<[Outcome]?>(nil)
            Thread {
                alphaOutcomes.withLock { $0 = try? push(pushes[0], to: companies[0], through: [service]) }
                alphaPushed.signal()
            }.start()
            // Alpha's push is on its writer, waiting for the lock, before beta's is sent.
            var waiting = 0
            for _ in 0..<300 where waiting == 0 {
                waiting = try storage.withSession { try $0.rows("SELECT count(*) FROM pg_locks WHERE NOT granted")[0].decode(Int.self) }
                if waiting == 0 { Thread.sleep(forTimeInterval: 0.02) }
            }
            try #require(waiting > 0, "alpha's push never waited for the lock")
            let betaPushed = DispatchSemaphore(value: 0)
            let betaOutcomes = Mutex<[Outcome]?>(nil)
            Thread {
                betaOutcomes.withLock { $0 = try? push(pushes[1], to: companies[1], through: [service]) }
                betaPushed.signal()
            }.start()
            let betaInTime = betaPushed.wait(timeout: .now() + 30) == .success
            #expect(betaInTime, "beta's push waited for alpha's lock")
            #expect(alphaPushed.wait(timeout: .now()) == .timedOut, "alpha's push went past a held lock")
            release.signal()
            holderDone.wait()
            alphaPushed.wait()
            if !betaInTime { betaPushed.wait() }
            #expect(alphaOutcomes.withLock { $0 }?.count == pushes[0].count)
            #expect(betaOutcomes.withLock { $0 }?.count == pushes[1].count)
            for (company, traffic) in zip(companies, traffic) {
                let page = try service.pull(company: company, after: 0, limit: 100_000)
                #expect(page.entries.map(\.sequence) == Array(1...UInt64(traffic.setup.count + pushes[companies.firstIndex(of: company)!].count)))
                #expect(try service.projectedLedger(company: company) == service.foldedLedger(company: company))
            }
        }
    }

    @Test("A write whose failed statement was caught is not taken for committed: PostgreSQL answers ROLLBACK to its COMMIT, the write throws")
    func rollbackIsNotACommit() throws {
        try PostgresServer.withDatabase { url in
            let storage = try PostgresLedgerStorage(url: url)
            try storage.createCompany(company, state: CompanyState(settings: CompanySettings()))
            let service = LedgerService(storage: storage)
            let traffic = try Self.workload(seed: 23)
            _ = try push(traffic.setup.map(\.action), through: [service])
            let head = try service.head(company: company)
            var appendFailed = false
            let write = Result {
                try storage.write { open in
                    let tx = try open(company)
                    // Entry 1's action again at the next sequence: the unique dot refuses it,
                    // which aborts the transaction.
                    let first = try #require(try tx.entries(after: 0, limit: 1).first)
                    let again = StoredEntry(entry: LogEntry(sequence: head + 1, action: first.entry.action, outcome: first.entry.outcome),
                                            encoded: first.encoded, bodyDigest: first.bodyDigest, logDigest: first.logDigest)
                    // The append is written before the transaction's next statement.
                    do {
                        try tx.append([again])
                        _ = try tx.entries(after: head, limit: 1)
                    } catch { appendFailed = true }
                }
            }
            #expect(appendFailed)
            #expect(throws: ServiceError.self, "the write must not report a commit") { try write.get() }
            #expect(try storage.read(company) { try $0.head().sequence } == head)
        }
    }

    @Test("Appends kept back until the next statement: reads inside the write see them, two appends land as one run, a gap is refused at once")
    func keptBackAppends() throws {
        try PostgresServer.withDatabase { url in
            let storage = try PostgresLedgerStorage(url: url)
            try storage.createCompany(company, state: CompanyState(settings: CompanySettings()))
            let service = LedgerService(storage: storage)
            _ = try push(try Self.workload(seed: 29).setup.map(\.action), through: [service])
            // Another company's log is a source of entries: their dots are new to a fresh company.
            let source = try storage.read(company) { try $0.entries(after: 0, limit: 5) }
            try #require(source.count == 5)
            let copy = { (index: Int) in
                StoredEntry(entry: LogEntry(sequence: UInt64(index + 1), action: source[index].entry.action, outcome: source[index].entry.outcome),
                            encoded: source[index].encoded, bodyDigest: source[index].bodyDigest, logDigest: source[index].logDigest)
            }
            let fresh = try CompanyID("fresh")
            try storage.createCompany(fresh, state: CompanyState(settings: CompanySettings()))
            try storage.write(fresh) { tx in
                try tx.append((0..<3).map(copy))
                #expect(try tx.head().sequence == 3)
                #expect(try tx.head().logDigest == source[2].logDigest)
                #expect(try tx.bodyDigest(of: source[1].entry.action.dot) == source[1].bodyDigest)
                #expect(try tx.entries(after: 1, limit: 5).map(\.entry.sequence) == [2, 3])
                try tx.append((3..<5).map(copy))
                let replica = source[4].entry.action.dot.replica
                let highest = source.filter { $0.entry.action.dot.replica == replica }.map(\.entry.action.dot.counter).max()
                #expect(try tx.highestCounter(of: replica) == highest)
                #expect(throws: ServiceError.self, "a gap") { try tx.append([copy(0)]) }
            }
            let stored = try storage.read(fresh) { tx in (try tx.head(), try tx.entries(after: 0, limit: 10)) }
            #expect(stored.0.sequence == 5)
            #expect(stored.0.logDigest == source[4].logDigest)
            #expect(stored.1.map(\.encoded) == source.map(\.encoded))
            // A read transaction refuses an append outright: nothing would ever write it.
            let next = StoredEntry(entry: LogEntry(sequence: 6, action: source[0].entry.action, outcome: source[0].entry.outcome),
                                   encoded: source[0].encoded, bodyDigest: source[0].bodyDigest, logDigest: source[0].logDigest)
            #expect(throws: ServiceError.self, "an append in a read") { try storage.read(fresh) { try $0.append([next]) } }
            #expect(try storage.read(fresh) { try $0.head().sequence } == 5)
            // The source company is untouched.
            #expect(try storage.read(company) { try $0.entries(after: 0, limit: 5) }.map(\.encoded) == source.map(\.encoded))
        }
    }

    @Test("Three storages opening an empty database at once apply each migration exactly once")
    func migrationsOnce() throws {
        try PostgresServer.withDatabase { url in
            let errors = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 3) { _ in
                do {
                    _ = try PostgresLedgerStorage(url: url)
                } catch {
                    errors.withLock { $0.append("\(error)") }
                }
            }
            #expect(errors.withLock { $0 } == [])
            let storage = try PostgresLedgerStorage(url: url)
            #expect(try PostgresMigrations.applied(storage) == PostgresMigrations.all.map(\.id))
        }
    }

    @Test("Companies, users and device tokens: conflicts and unknown companies are refused as on SQLite")
    func administration() throws {
        try PostgresServer.withDatabase { url in
            let storage = try PostgresLedgerStorage(url: url)
            let admin = Administration(storage: storage)
            try admin.createCompany(company)
            #expect(throws: ServiceError.self) { try admin.createCompany(company) }
            let other = try CompanyID("other")
            #expect(throws: ServiceError.self) { try storage.setUser(try UserID("ana"), role: .office, company: other) }
            try storage.setUser(try UserID("ana"), role: .office, company: company)
            try storage.setUser(try UserID("ana"), role: .owner, company: company)
            #expect(try storage.users(company: company) == [Actor(user: try UserID("ana"), role: .owner)])
            let replica = ReplicaID(bytes: Array(repeating: 7, count: 16))!
            let credential = DeviceCredential(company: company, actor: Actor(user: try UserID("ana"), role: .owner), replica: replica)
            let hash = Array(repeating: UInt8(9), count: 32)
            try storage.registerDevice(tokenHash: hash, credential: credential)
            #expect(try storage.device(tokenHash: hash)?.credential == credential)
            #expect(try storage.device(tokenHash: hash)?.revoked == false)
            #expect(throws: ServiceError.self) { try storage.revokeDevice(replica: replica, company: other) }
            #expect(try storage.revokeDevice(replica: ReplicaID(bytes: Array(repeating: 8, count: 16))!, company: company) == false)
            #expect(try storage.revokeDevice(replica: replica, company: company))
            #expect(try storage.device(tokenHash: hash)?.revoked == true)
            #expect(try storage.device(tokenHash: Array(repeating: 1, count: 32)) == nil)
            #expect(try storage.companies() == [company])
        }
    }

    @Test("TLS to PostgreSQL: verify-full trusts the server's certificate given as root and not without it; require and the default prefer encrypt; disable is refused by a server that takes only TLS")
    func tls() throws {
        let port = TestPorts.port(20)
        let server: PostgresServer
        do {
            server = try PostgresServer(tlsPort: port)
        } catch {
            Issue.record("PostgreSQL with TLS did not start: \(error)")
            return
        }
        defer { server.stop() }
        let name = try #require(URLComponents(string: try server.makeDatabase())?.path.dropFirst())
        let root = try #require(server.certificatePath)
        let tcp = "postgres://\(PostgresServer.user)@localhost:\(port)/\(name)"
        let verified = try PostgresLedgerStorage(url: tcp + "?sslmode=verify-full&sslrootcert=\(root)")
        try verified.createCompany(company, state: CompanyState(settings: CompanySettings()))
        #expect(try verified.companies() == [company])
        let encrypted = try verified.withSession { try $0.rows("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").first?.decode(Bool.self) }
        #expect(encrypted == true, "the session runs over TLS")
        for encryptedOnly in [tcp + "?sslmode=require", tcp, tcp + "?sslmode=verify-ca&sslrootcert=\(root)"] {
            #expect(try PostgresLedgerStorage(url: encryptedOnly).companies() == [company], "\(encryptedOnly)")
        }
        let untrusted = #expect(throws: ServiceError.self, "a self-signed server is not trusted without its root") {
            try PostgresLedgerStorage(url: tcp + "?sslmode=verify-full")
        }
        #expect(untrusted?.message.contains("sslrootcert") == true, "the error says what to give: \(String(describing: untrusted))")
        let plain = #expect(throws: ServiceError.self, "the server takes only TLS over TCP") { try PostgresLedgerStorage(url: tcp + "?sslmode=disable") }
        #expect(plain?.message.contains("no encryption") == true, "\(String(describing: plain))")
    }

    @Test("Database URLs: sockets, hosts and mistakes")
    func urls() throws {
        _ = try PostgresURL.configuration("postgres://ana:secret@db.example:6543/ledger")
        _ = try PostgresURL.configuration("postgresql://ana@/ledger?host=/run/postgresql")
        for bad in ["mysql://ana@host/db", "postgres://host/db", "postgres://ana@/db", "postgres://ana@host/db?sslmode=sometimes",
                    "postgres://ana@host/db?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem", "not a url"] {
            #expect(throws: ServiceError.self, "\(bad)") { try PostgresURL.configuration(bad) }
        }
    }
}
