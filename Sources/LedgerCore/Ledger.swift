/// One company's ledger: its settings and its jobs.
///
/// A value type; every change goes through a method that checks its input first and leaves the
/// ledger unchanged when it throws.
public struct Ledger: Hashable, Sendable {
    public internal(set) var settings: CompanySettings
    var jobsByID = JobTable()
    /// Review cases not about one job (concurrent settings edits).
    public internal(set) var companyReviewCases: [ReviewCase] = []

    /// Makes an empty ledger with checked settings.
    public init(settings: CompanySettings = CompanySettings()) throws(LedgerError) {
        self.settings = try settings.validated()
    }

    /// A working set of a company kept in storage: its settings and company-wide review cases with
    /// the jobs an operation touches. `apply` on it gives what it would give on the whole company,
    /// for actions on those jobs (the server loads each change set's jobs this way, DESIGN §4).
    public init(settings: CompanySettings, companyReviewCases: [ReviewCase], jobs: [Job]) throws(LedgerError) {
        try self.init(settings: settings)
        self.companyReviewCases = companyReviewCases
        jobsByID.reserveCapacity(jobs.count)
        for job in jobs { try addJob(job) }
    }

    /// Every job, ordered by id (never by dictionary order).
    public var jobs: [Job] {
        // Sorting the small ids, not the jobs: moving whole jobs around was most of the cost of
        // listing a large company.
        jobsByID.sortedIDs.map { jobsByID[$0]! }
    }

    /// The number of jobs.
    public var jobCount: Int { jobsByID.count }

    /// The job with this id; throws `jobUnknown`.
    public func job(_ id: JobID) throws(LedgerError) -> Job {
        guard let job = jobsByID[id] else {
            throw LedgerError(.jobUnknown, "There is no job with that id in this company; list the jobs to find it.")
        }
        return job
    }

    /// Adds a new job; throws `jobExists` if the id is taken.
    public mutating func addJob(_ job: Job) throws(LedgerError) {
        guard !jobsByID.contains(job.id) else {
            throw LedgerError(.jobExists, "A job with this id already exists; it was not added twice.")
        }
        jobsByID[job.id] = job
    }

    /// Puts the server's copy of a job in place of this replica's (repairing a job whose digest
    /// differs after a fold). Adds it when this replica did not have it.
    public mutating func restore(_ job: Job) {
        jobsByID[job.id] = job
    }

    /// Some jobs (present or not) and the company-wide part as they are now, to put back with
    /// `revert(to:)`: a device folds a page in place and reverts if the page does not check out,
    /// rather than folding into a copy of a whole company.
    public struct Savepoint: Sendable {
        let jobs: [(id: JobID, job: Job?)]
        let settings: CompanySettings
        let companyReviewCases: [ReviewCase]
    }

    /// A savepoint of these jobs and the company-wide part.
    public func savepoint(jobs ids: some Sequence<JobID>) -> Savepoint {
        Savepoint(jobs: ids.map { ($0, jobsByID[$0]) }, settings: settings, companyReviewCases: companyReviewCases)
    }

    /// Puts back what `savepoint` saw; anything else changed since stays changed.
    public mutating func revert(to savepoint: Savepoint) {
        for (id, job) in savepoint.jobs { jobsByID[id] = job }
        settings = savepoint.settings
        companyReviewCases = savepoint.companyReviewCases
    }

    /// Runs `change` on a copy of the job and keeps the result only if it does not throw.
    @discardableResult
    public mutating func updateJob<Result>(
        _ id: JobID, _ change: (inout Job, CompanySettings) throws(LedgerError) -> Result
    ) throws(LedgerError) -> Result {
        var copy = try job(id)
        let result = try change(&copy, settings)
        jobsByID[id] = copy
        return result
    }

    /// Replaces the settings (office roles); the version advances by one.
    public mutating func updateSettings(_ new: CompanySettings, actor: Actor) throws(LedgerError) {
        guard actor.role.isOffice else {
            throw LedgerError(.officeRoleRequired, "Only the office may change company settings; ask the office.")
        }
        var checked = try new.validated()
        checked.version = settings.version + 1
        settings = checked
    }

    /// Every broken invariant, as sentences; empty when the ledger is sound.
    ///
    /// Cheap enough to call after every change in tests and the simulator.
    public func invariantViolations() -> [String] {
        var problems: [String] = []
        if (try? settings.validated()) != settings { problems.append("settings are not in validated form") }
        for job in jobs {
            problems += job.invariantViolations().map { "job \(job.id): \($0)" }
        }
        return problems
    }
}
