import LedgerCore
@testable import LedgerService
import LedgerTestSupport
import Testing

@Suite("A checkpoint's job digests, made off the service's lock")
struct DigestTests {
    @Test("A digest made off the lock is kept only if its job did not change meanwhile, and not from before a change")
    func keptOnlyWhileTheJobIsUnchanged() throws {
        let traffic = try LedgerServiceTests.workload(seed: 29)
        let head = UInt64(traffic.setup.count + traffic.entries.count)
        let memory = CompanyMemory.rebuilt(traffic.ledger, head: head, logDigest: LogDigest.empty)
        let ids = Array(traffic.ledger.jobs.map(\.id).prefix(2))
        let (changed, unchanged) = (ids[0], ids[1])
        func handOut() -> [(job: Job, ticket: UInt64)] {
            memory.digestsOrWork(ids).compactMap { if case .work(let job, let ticket) = $0 { (job, ticket) } else { nil } }
        }
        let first = handOut()
        try #require(first.map(\.job.id) == ids, "nothing is kept yet: both jobs are handed out")

        // While the digests are being made, a push changes one of the two jobs.
        var counter: UInt64 = 0, wall = Int64(1) << 41
        let payment = FieldWorkload.probePayments(count: 1, replica: ReplicaID(high: 0xD16, low: 1), actor: Fixtures.technician, counter: &counter,
                                                  wallMillis: &wall, jobs: [changed], seen: head, day: try CalendarDate.parse("2026-11-01"))[0]
        let stored = memory.append(payment, actionBytes: CanonicalEncoding.bytes(of: payment), bodyDigest: CanonicalEncoding.digest(of: payment))
        try #require(stored.entry.outcome.changedLedger)
        for (job, ticket) in first { memory.keep(job.digest, ticket: ticket) }

        // The unchanged job's digest is kept; the changed one's is not (it described the job
        // before the payment), so it is handed out again, as the job is now.
        let second = memory.digestsOrWork(ids)
        guard case .work(let again, let ticket) = second[0], case .known(let kept) = second[1] else {
            Issue.record("expected the changed job handed out again and the other kept: \(second)")
            return
        }
        #expect(again.id == changed && again.digest != first[0].job.digest)
        #expect(kept == first[1].job.digest && kept.job == unchanged)

        // A digest coming back late with an older ticket does not take the newer one's place.
        memory.keep(first[0].job.digest, ticket: first[0].ticket)
        guard case .work = memory.digestsOrWork([changed])[0] else {
            Issue.record("a digest with an outdated ticket was kept")
            return
        }
        // Handed out again while still being digested, the job keeps its ticket: the digest of
        // whichever pull finishes first is kept.
        guard case .work(let latest, let latestTicket) = memory.digestsOrWork([changed])[0] else {
            Issue.record("the job being digested was not handed out again")
            return
        }
        #expect(latestTicket == ticket)
        memory.keep(latest.digest, ticket: latestTicket)
        guard case .known(let now) = memory.digestsOrWork([changed])[0] else {
            Issue.record("the digest of the current ticket was not kept")
            return
        }
        #expect(now == latest.digest)
    }
}
