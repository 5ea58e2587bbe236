@testable import LedgerCore
import LedgerTestSupport
import Testing

@Suite("The ledger's job table: jobs in arrival order, found by id, compared by content")
struct JobTableTests {
    static func jobs(_ count: Int) throws -> [Job] {
        try (1...count).map { n in
            var job = try Job(id: JobID(Dot(replica: Fixtures.officeDevice, counter: UInt64(n))), number: "J-\(n)", customer: Customer(name: "Customer \(n)"), currency: .usd)
            try job.setInvoice(number: "I-\(n)", baseTotalMinor: Int64(n) * 10_000, issuedOn: nil)
            return job
        }
    }

    @Test("Tables filled in different orders are equal and hash alike; removing from the middle keeps every other job reachable")
    func orderAndRemoval() throws {
        let jobs = try Self.jobs(6)
        var forward = JobTable(), backward = JobTable()
        for job in jobs { forward[job.id] = job }
        for job in jobs.reversed() { backward[job.id] = job }
        #expect(forward == backward && forward.hashValue == backward.hashValue)
        #expect(forward.sortedIDs == jobs.map(\.id).sorted())

        forward[jobs[1].id] = nil
        #expect(forward.count == 5 && forward[jobs[1].id] == nil && !forward.contains(jobs[1].id))
        for job in jobs where job.id != jobs[1].id { #expect(forward[job.id] == job) }
        #expect(forward != backward)
        backward[jobs[1].id] = nil
        #expect(forward == backward && forward.hashValue == backward.hashValue)

        // Same ids, one job different: not equal.
        var changed = jobs[2]
        try changed.setInvoice(number: "I-other", baseTotalMinor: 1, issuedOn: nil)
        backward[changed.id] = changed
        #expect(forward != backward)
        #expect(backward.update(changed.id) { $0.invoice?.number } == "I-other")
        #expect(backward.update(jobs[1].id) { $0.invoice?.number } == nil)
    }

    @Test("Ledgers given the same jobs in different orders are equal, list the jobs by id and have one digest; a revert removes a job added since")
    func ledgers() throws {
        let jobs = try Self.jobs(5)
        var one = try Ledger(settings: CompanySettings(), companyReviewCases: [], jobs: jobs)
        let other = try Ledger(settings: CompanySettings(), companyReviewCases: [], jobs: jobs.reversed())
        #expect(one == other && one.stateDigest == other.stateDigest && one.jobs == jobs.sorted { $0.id < $1.id })

        let extra = try Job(id: JobID(Dot(replica: Fixtures.technicianDevice, counter: 1)), number: "J-x", customer: Customer(name: "X"), currency: .usd)
        let savepoint = one.savepoint(jobs: [extra.id, jobs[0].id])
        try one.addJob(extra)
        one.restore(jobs[0])
        #expect(one.jobCount == 6 && one != other)
        one.revert(to: savepoint)
        #expect(one == other && one.jobCount == 5)
    }
}
