import LedgerCore

/// One company's fold kept in memory by the service (decision 0012): the ledger at the log's
/// head, the head's digest, each replica's highest logged counter, and what the stored
/// projections still lack. Only the service's writer changes it, under the service's lock.
final class CompanyMemory {
    private(set) var ledger: Ledger
    private(set) var head: UInt64
    private(set) var logDigest: [UInt8]
    private(set) var openReviewCases: Int
    private(set) var projectedThrough: UInt64
    private var highest: [ReplicaID: UInt64] = [:]
    /// Jobs changed since the stored projections were written.
    private var dirtyJobs: Set<JobID> = []
    /// Digests of jobs unchanged since they were last asked for. A digest encodes the whole job,
    /// so it costs as much as the job's history; every device catching up to the head asks for
    /// the same ones. A job being digested off the lock holds a ticket until its digest comes
    /// back (pulls asking meanwhile get the same ticket); any change to the job drops it, and
    /// the digest then is not kept.
    private var digests: [JobID: DigestSlot] = [:]
    private var nextTicket: UInt64 = 0

    private enum DigestSlot {
        case known(JobDigest)
        case digesting(ticket: UInt64)
    }

    /// A job's kept digest, or the job (a copy sharing the memory's storage until the writer
    /// next changes it) to digest off the service's lock, with the ticket to keep it by.
    enum Digesting: Sendable {
        case known(JobDigest)
        case work(Job, ticket: UInt64)
    }
    /// Jobs whose stored rows are folded past `projectedThrough` (a snapshot stored in chunks
    /// that had not finished, decision 0038): replaying the log skips their entries up to
    /// there. Only while loading.
    private var storedAhead: [JobID: UInt64] = [:]
    /// When a push or a read last used this memory (monotonic nanoseconds): a company unused
    /// for long is released (`LedgerService.releaseIdleCompanies`, decision 0046).
    var lastUsed: UInt64 = 0
    /// The head as the last look for idle companies saw it, and when it last saw it move (or
    /// the memory was loaded): a memory that another process's appends keep catching up
    /// (through the metrics' reads) is not idle, however long since this process's requests.
    var headAtLastLook: UInt64 = 0
    var headMovedAt: UInt64 = 0
    /// Asked for by the release of an idle company: the writer cuts a snapshot at the head even
    /// though it is not yet due, so that the company reloads without a long replay.
    var snapshotWanted = false

    /// A push or a read used the memory at `now`: it is not idle, and no snapshot is wanted
    /// before a release any more.
    func markUsed(at now: UInt64) {
        lastUsed = now
        snapshotWanted = false
    }

    private init(ledger: Ledger, head: UInt64, logDigest: [UInt8], openReviewCases: Int, projectedThrough: UInt64) {
        self.ledger = ledger
        self.head = head
        self.logDigest = logDigest
        self.openReviewCases = openReviewCases
        self.projectedThrough = projectedThrough
    }

    /// The stored projections, then the log after them replayed: the company at the head.
    static func load(_ tx: any LedgerTransaction) throws -> CompanyMemory {
        let through = try tx.projectedThrough()
        let stored = try tx.projections()
        let ledger: Ledger
        do {
            ledger = try Ledger(settings: stored.state.settings, companyReviewCases: stored.state.reviewCases, jobs: stored.jobs.map(\.job))
        } catch {
            throw ServiceError(.storageFailed, "The stored projections do not make a valid ledger (\(error.message)); rebuild them from the log.")
        }
        let digest = through == 0 ? LogDigest.empty : try tx.entries(after: through - 1, limit: 1).first?.logDigest ?? LogDigest.empty
        let memory = CompanyMemory(ledger: ledger, head: through, logDigest: digest, openReviewCases: stored.openReviewCases, projectedThrough: through)
        for (job, rowThrough) in stored.jobs where rowThrough > through { memory.storedAhead[job.id] = rowThrough }
        try memory.catchUp(tx)
        if !memory.storedAhead.isEmpty {
            // The stored count is as of `through`; the entries skipped were not counted.
            memory.openReviewCases = memory.ledger.openReviewCases.count
            memory.storedAhead = [:]
        }
        return memory
    }

    /// A memory that is the given fold at `head`, with projections stored through it.
    static func rebuilt(_ ledger: Ledger, head: UInt64, logDigest: [UInt8]) -> CompanyMemory {
        CompanyMemory(ledger: ledger, head: head, logDigest: logDigest, openReviewCases: ledger.openReviewCases.count, projectedThrough: head)
    }

    /// Replays what the log holds past this memory's head (written by another process, or
    /// after the stored projections): a no-op when the memory is at the head.
    func catchUp(_ tx: any LedgerTransaction) throws {
        let stored = try tx.head()
        guard stored.sequence != head else { return }
        guard stored.sequence > head else {
            throw ServiceError(.storageFailed, "The log (\(stored.sequence)) is behind the service's memory (\(head)); restart the server.")
        }
        while head < stored.sequence {
            let page = try tx.entries(after: head, limit: ServiceLimits.replayPageEntries)
            guard !page.isEmpty else {
                throw ServiceError(.storageFailed, "The log's head is \(stored.sequence) but it ends at \(head); the log is damaged.")
            }
            for entry in page { try fold(entry) }
        }
    }

    /// The highest logged counter of `replica`, read once from storage and then kept.
    func highestCounter(of replica: ReplicaID, _ tx: any LedgerTransaction) throws -> UInt64 {
        if let known = highest[replica] { return known }
        let stored = try tx.highestCounter(of: replica)
        highest[replica] = stored
        return stored
    }

    /// Merges a new action (whose canonical bytes and their digest are given) at the next
    /// sequence and returns the entry as it is to be stored.
    func append(_ action: Action, actionBytes: [UInt8], bodyDigest: [UInt8]) -> StoredEntry {
        let sequence = head + 1
        let outcome = applyCountingCases(action, sequence: sequence)
        let entry = LogEntry(sequence: sequence, action: action, outcome: outcome)
        let outcomeBytes = CanonicalEncoding.bytes(of: outcome)
        let encoded = CanonicalEncoding.entryBytes(sequence: sequence, actionBytes: actionBytes, outcomeBytes: outcomeBytes)
        logDigest = LogDigest.next(logDigest, sequence: sequence, actionDigest: bodyDigest, outcomeBytes: outcomeBytes)
        head = sequence
        highest[action.dot.replica] = action.dot.counter
        return StoredEntry(entry: entry, encoded: encoded, bodyDigest: bodyDigest, logDigest: logDigest)
    }

    /// What a snapshot being written holds: the jobs it covers and its sequence. Until it is
    /// stored, a newer cut covers its jobs too, so the newer one can replace it.
    private var inFlight: (through: UInt64, jobs: Set<JobID>)?

    /// A snapshot taken at the head: which jobs changed since the last one and the company
    /// state. Its jobs are stored afterwards in chunks, each as it is when its chunk is taken
    /// (decision 0038), so the memory shares a job with a snapshot only while its record is made.
    struct Cut: Sendable {
        /// In id order.
        let jobs: [JobID]
        let state: CompanyState
        let openReviewCases: Int
        let through: UInt64

        /// The snapshot's last write, once every job is stored: the company state at the cut.
        var closing: ProjectionSnapshot { ProjectionSnapshot(jobs: [], state: state, openReviewCases: openReviewCases, through: through) }
    }

    /// Whether a snapshot is being encoded or written.
    var snapshotInFlight: Bool { inFlight != nil }

    /// Takes the jobs changed since the last snapshot (and those of one still in flight).
    func cut() -> Cut {
        let ids = dirtyJobs.union(inFlight?.jobs ?? [])
        dirtyJobs = []
        inFlight = (head, ids)
        noteClaim(head)
        return Cut(jobs: ids.sorted(), state: CompanyState(settings: ledger.settings, reviewCases: ledger.companyReviewCases),
                   openReviewCases: openReviewCases, through: head)
    }

    /// Jobs as they are now and the sequence they are folded through: a chunk of a cut.
    func current(_ ids: ArraySlice<JobID>) -> (jobs: [Job], through: UInt64) {
        (ids.compactMap { try? ledger.job($0) }, head)
    }

    /// The cut's snapshot is stored.
    func stored(_ cut: Cut) {
        projectedThrough = max(projectedThrough, cut.through)
        if inFlight?.through == cut.through { inFlight = nil }
    }

    /// The cut's snapshot could not be stored: its jobs count as changed again.
    func notStored(_ cut: Cut) {
        guard let pending = inFlight, pending.through == cut.through else { return }
        dirtyJobs.formUnion(pending.jobs)
        inFlight = nil
    }

    /// Cuts, encodes and stores a snapshot at the head inside `tx` (shutdown, small companies).
    func saveSnapshot(_ tx: any LedgerTransaction) throws {
        let cut = cut()
        let jobs = current(cut.jobs[...]).jobs.map { ($0.id, StoredJobFormat.record(of: $0)) }
        try tx.saveProjections(ProjectionSnapshot(jobs: jobs, state: cut.state, openReviewCases: cut.openReviewCases, through: cut.through))
        stored(cut)
    }

    /// For each of `ids` the company has, in order: its kept digest, or the job to digest off
    /// the lock (then `keep` it). Under the service's lock; the digesting is not.
    func digestsOrWork(_ ids: [JobID]) -> [Digesting] {
        ids.compactMap { id in
            if case .known(let digest) = digests[id] { return .known(digest) }
            guard let job = try? ledger.job(id) else { return nil }
            // Another pull digesting the job as it still is holds a ticket: either digest may be kept.
            if case .digesting(let ticket) = digests[id] { return .work(job, ticket: ticket) }
            nextTicket += 1
            digests[id] = .digesting(ticket: nextTicket)
            return .work(job, ticket: nextTicket)
        }
    }

    /// Keeps a digest made off the lock, unless its job changed since it was handed out (the
    /// change dropped the ticket; a later hand-out got a new one).
    func keep(_ digest: JobDigest, ticket: UInt64) {
        guard case .digesting(let waiting) = digests[digest.job], waiting == ticket else { return }
        digests[digest.job] = .known(digest)
    }

    /// The newest snapshot taken by any process sharing the storage, as last read (decision
    /// 0038): one another process took counts as this one's for when the next is due.
    private var claimedThrough: UInt64 = 0

    /// Entries the head is past the newest snapshot stored or taken.
    var snapshotLag: UInt64 { head - max(projectedThrough, claimedThrough) }

    /// Notes a snapshot taken at `through` (by this process or another).
    func noteClaim(_ through: UInt64) {
        claimedThrough = max(claimedThrough, through)
    }

    private func fold(_ stored: StoredEntry) throws {
        let entry = stored.entry
        if let job = entry.action.touchedJob, let rowThrough = storedAhead[job], entry.sequence <= rowThrough {
            // The job's stored row already holds this entry.
        } else {
            let recomputed = applyCountingCases(entry.action, sequence: entry.sequence)
            guard recomputed == entry.outcome else {
                throw ServiceError(.storageFailed, "Replaying log entry \(entry.sequence) gave \(recomputed), not the logged \(entry.outcome); the log or the projections are damaged.")
            }
        }
        head = entry.sequence
        logDigest = stored.logDigest
        highest[entry.action.dot.replica] = entry.action.dot.counter
    }

    /// Applies an action and keeps the open-case count and the dirty marks, looking only at
    /// the job the action touches and the company-wide cases (not every job).
    private func applyCountingCases(_ action: Action, sequence: UInt64) -> Outcome {
        let (outcome, delta) = ledger.applyCountingOpenCases(action, sequence: sequence)
        openReviewCases += delta
        if let job = action.touchedJob {
            dirtyJobs.insert(job)
            digests[job] = nil
        }
        return outcome
    }
}
