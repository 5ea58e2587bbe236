import LedgerCore
import LedgerTestSupport
import Testing

@Suite("Savepoints: folding in place and putting a page back")
struct SavepointTests {
    @Test("Reverting to a savepoint undoes changed jobs, created jobs, settings and company cases, and leaves other jobs as they are")
    func revert() throws {
        let traffic = try CanonicalFormTests.traffic()
        var ledger = try Ledger()
        for entry in traffic.setup + traffic.entries.prefix(200) { try ledger.fold(entry) }
        let before = ledger
        let later = Array(traffic.entries.dropFirst(200).prefix(100))
        var touched = Set(later.compactMap(\.action.touchedJob))
        let created = JobID(Dot(replica: traffic.officeReplica, counter: 5_000_000))
        touched.insert(created)
        let savepoint = ledger.savepoint(jobs: touched.sorted())
        for entry in later { try ledger.fold(entry) }
        let office = Actor(user: try UserID("toffice"), role: .office)
        var settings = ledger.settings
        settings.programEnabled.toggle()
        for (counter, payload) in [(UInt64(5_000_000), ActionPayload.createJob(number: "J-new", customer: Customer(name: "New"), department: nil, currency: .usd, notes: "")),
                                   (5_000_001, .updateSettings(settings, baseVersion: ledger.settings.version + 3))] {
            _ = ledger.apply(Action(dot: Dot(replica: traffic.officeReplica, counter: counter), hlc: HLCTimestamp(wallMillis: 9_000_000_000_000), actor: office,
                                    job: nil, seenSequence: 0, businessDay: Fixtures.date("2026-12-01"), payload: payload))
        }
        #expect(ledger != before)
        #expect((try? ledger.job(created)) != nil && !ledger.companyReviewCases.isEmpty)
        ledger.revert(to: savepoint)
        #expect(ledger == before)
        #expect(ledger.stateDigest == before.stateDigest)
    }
}
