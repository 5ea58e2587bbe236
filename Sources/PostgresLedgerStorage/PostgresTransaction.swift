import LedgerCore
import LedgerService
import PostgresNIO

/// One company's rows inside a PostgreSQL transaction (its row locked when writing).
///
/// Inside a write the company's row is locked from the start, so the head read with the lock
/// stays true until the commit, and appends are kept back and written as one statement before
/// the transaction's next statement or its commit: a group's pushes cost one round trip to the
/// log together, where each cost four (the head, the rows, each replica's counter, the head).
struct PostgresTransaction: LedgerTransaction {
    let session: PostgresSession
    let company: Int64
    let pending: PendingAppends

    /// A read transaction's view of a company: the head read when asked, no appends.
    init(session: PostgresSession, company: Int64) {
        self.init(session: session, company: company, pending: PendingAppends(head: nil))
    }

    init(session: PostgresSession, company: Int64, pending: PendingAppends) {
        self.session = session
        self.company = company
        self.pending = pending
    }

    func initialCompanyState() throws -> CompanyState {
        guard let row = try rows("SELECT initial_state FROM company WHERE key = \(company)").first else { throw vanished }
        return try PostgresForm.decode(CompanyState.self, try row.decode(ByteBuffer.self))
    }

    func head() throws -> (sequence: UInt64, logDigest: [UInt8]) {
        if let known = pending.head { return known }
        guard let row = try rows("SELECT head, log_digest FROM company WHERE key = \(company)").first else { throw vanished }
        let (head, digest) = try row.decode((Int64, ByteBuffer).self)
        return (UInt64(head), PostgresForm.array(digest))
    }

    func entries(after sequence: UInt64, limit: Int) throws -> [StoredEntry] {
        // The log is gap-free, so the page is exactly the sequences up to `after + limit`. With
        // only the lower bound the planner, short of fresh statistics (a log grown since its last
        // ANALYZE, or never analyzed), read every row past the cursor and sorted them for the
        // first `limit`: 120,000 rows for a page of 5,000, each page of a replay or of a
        // device's catch-up reading the rest of the log again (decision 0041).
        let after = Int64(clamping: sequence)
        let (end, overflow) = after.addingReportingOverflow(Int64(limit))
        let rows = try self.rows("""
            SELECT entry, body_digest, log_digest FROM log WHERE company = \(company) AND sequence > \(after) AND sequence <= \(overflow ? Int64.max : end)
            ORDER BY sequence LIMIT \(Int64(limit))
            """)
        return try rows.map { row in
            let (entry, body, digest) = try row.decode((ByteBuffer, ByteBuffer, ByteBuffer).self)
            let encoded = PostgresForm.array(entry)
            return StoredEntry(entry: try PostgresForm.entry(encoded), encoded: encoded, bodyDigest: PostgresForm.array(body), logDigest: PostgresForm.array(digest))
        }
    }

    func highestCounter(of replica: ReplicaID) throws -> UInt64 {
        let row = try rows("SELECT highest FROM replica WHERE company = \(company) AND replica = \(PostgresForm.bytes(replica.bytes))").first
        return UInt64(try row?.decode(Int64.self) ?? 0)
    }

    func serverReplica() throws -> ReplicaID {
        guard let row = try rows("SELECT server_replica FROM company WHERE key = \(company)").first else { throw vanished }
        return try PostgresForm.replica(try row.decode(ByteBuffer.self))
    }

    func lastHLC(of replica: ReplicaID) throws -> HLCTimestamp? {
        let row = try rows("""
            SELECT entry FROM log WHERE company = \(company) AND replica = \(PostgresForm.bytes(replica.bytes)) ORDER BY counter DESC LIMIT 1
            """).first
        return try row.map { try PostgresForm.entry(PostgresForm.array(try $0.decode(ByteBuffer.self))).action.hlc }
    }

    func bodyDigest(of dot: Dot) throws -> [UInt8]? {
        let row = try rows("""
            SELECT body_digest FROM log WHERE company = \(company) AND replica = \(PostgresForm.bytes(dot.replica.bytes))
            AND counter = \(try PostgresForm.integer(dot.counter))
            """).first
        return try row.map { PostgresForm.array(try $0.decode(ByteBuffer.self)) }
    }

    func append(_ entries: [StoredEntry]) throws {
        guard let last = entries.last else { return }
        guard let head = pending.head else {
            throw ServiceError(.storageFailed, "The log is appended to only inside a write; this is a read transaction.")
        }
        for (offset, stored) in entries.enumerated() where stored.entry.sequence != head.sequence + UInt64(offset) + 1 {
            throw ServiceError(.storageFailed, "Log entries must continue the log without a gap (expected \(head.sequence + UInt64(offset) + 1), got \(stored.entry.sequence)).")
        }
        pending.entries += entries
        pending.head = (last.entry.sequence, last.logDigest)
    }

    /// Writes the appends kept back: the rows, each replica's highest counter and the company's
    /// head in one statement, which changes nothing unless the stored head is still where they
    /// continue from.
    func flush() throws {
        let entries = pending.entries
        guard let first = entries.first, let last = entries.last else { return }
        // The kept-back entries run without a gap from the stored head (`append` checked).
        let base = first.entry.sequence - 1
        pending.entries = []
        // Columns as arrays, unnested into rows.
        let dots = entries.map(\.entry.action.dot)
        let sequences = try entries.map { try PostgresForm.integer($0.entry.sequence) }
        let counters = try dots.map { try PostgresForm.integer($0.counter) }
        var highest: [ReplicaID: UInt64] = [:]
        for dot in dots { highest[dot.replica] = max(highest[dot.replica] ?? 0, dot.counter) }
        // Sorted, so that the rows are locked in one order whoever writes them.
        let counted = highest.sorted { $0.key < $1.key }
        let counterReplicas = ByteStrings(counted.map(\.key))
        let counterValues = try counted.map { try PostgresForm.integer($0.value) }
        // Statements in WITH run to completion whether or not the outer one reads them; an
        // error in any (a reused dot, a taken sequence) fails the whole statement.
        let moved = try session.execute("""
            WITH logged AS (
              INSERT INTO log (company, sequence, replica, counter, entry, body_digest, log_digest)
              SELECT \(company), * FROM unnest(\(sequences)::bigint[], \(ByteStrings(dots.map(\.replica)))::bytea[], \(counters)::bigint[],
                                                \(ByteStrings(entries.map(\.encoded)))::bytea[], \(ByteStrings(entries.map(\.bodyDigest)))::bytea[],
                                                \(ByteStrings(entries.map(\.logDigest)))::bytea[])
            ), counted AS (
              INSERT INTO replica (company, replica, highest)
              SELECT \(company), * FROM unnest(\(counterReplicas)::bytea[], \(counterValues)::bigint[])
              ON CONFLICT (company, replica) DO UPDATE SET highest = greatest(replica.highest, excluded.highest)
            )
            UPDATE company SET head = \(try PostgresForm.integer(last.entry.sequence)), log_digest = \(PostgresForm.bytes(last.logDigest))
            WHERE key = \(company) AND head = \(try PostgresForm.integer(base))
            """)
        guard moved == 1 else {
            throw ServiceError(.storageFailed, "The log's head moved under a locked company (expected \(base)); nothing was stored, retry.")
        }
    }

    func flag(_ replica: ReplicaID) throws {
        try execute("UPDATE replica SET flagged = true WHERE company = \(company) AND replica = \(PostgresForm.bytes(replica.bytes))")
    }

    func projectedThrough() throws -> UInt64 {
        guard let row = try rows("SELECT projected_through FROM company WHERE key = \(company)").first else { throw vanished }
        return UInt64(try row.decode(Int64.self))
    }

    func storedOpenReviewCases() throws -> Int {
        guard let row = try rows("SELECT open_review_cases FROM company WHERE key = \(company)").first else { throw vanished }
        return Int(try row.decode(Int64.self))
    }

    func snapshotClaimed() throws -> UInt64 {
        guard let row = try rows("SELECT snapshot_claimed FROM company WHERE key = \(company)").first else { throw vanished }
        return UInt64(try row.decode(Int64.self))
    }

    func claimSnapshot(through: UInt64) throws {
        try execute("UPDATE company SET snapshot_claimed = greatest(snapshot_claimed, \(try PostgresForm.integer(through))) WHERE key = \(company)")
    }

    func projections() throws -> (state: CompanyState, jobs: [(job: Job, through: UInt64)], openReviewCases: Int) {
        guard let row = try rows("SELECT state, open_review_cases FROM company WHERE key = \(company)").first else { throw vanished }
        let (state, open) = try row.decode((ByteBuffer, Int64).self)
        let jobs = try rows("SELECT format, state, folded_through FROM job WHERE company = \(company) ORDER BY id").map {
            let (format, state, through) = try $0.decode((Int64, ByteBuffer, Int64).self)
            return (try StoredJobFormat.job(PostgresForm.array(state), format: format), UInt64(through))
        }
        return (try PostgresForm.decode(CompanyState.self, state), jobs, Int(open))
    }

    func saveJobs(_ jobs: [(id: JobID, record: [UInt8])], through: UInt64) throws {
        guard !jobs.isEmpty else { return }
        let ids = jobs.map { PostgresForm.job($0.id) }, states = jobs.map { PostgresForm.bytes($0.record) }
        try execute("""
            INSERT INTO job (company, id, format, state, folded_through)
            SELECT \(company), u.id, \(StoredJobFormat.record.rawValue), u.state, \(try PostgresForm.integer(through))
            FROM unnest(\(ids)::bytea[], \(states)::bytea[]) AS u(id, state)
            ON CONFLICT (company, id) DO UPDATE SET format = excluded.format, state = excluded.state, folded_through = excluded.folded_through
            WHERE excluded.folded_through >= job.folded_through
            """)
    }

    func saveProjections(_ snapshot: ProjectionSnapshot) throws {
        try saveJobs(snapshot.jobs, through: snapshot.through)
        try execute("""
            UPDATE company SET state = \(PostgresForm.bytes(PostgresForm.encode(snapshot.state))), open_review_cases = \(Int64(snapshot.openReviewCases)),
            projected_through = \(try PostgresForm.integer(snapshot.through)) WHERE key = \(company)
            """)
    }

    func deleteAllJobs() throws {
        try execute("DELETE FROM job WHERE company = \(company)")
    }

    /// A query after the appends kept back, so that it sees them.
    private func rows(_ query: PostgresQuery) throws -> [PostgresRow] {
        try flush()
        return try session.rows(query)
    }

    @discardableResult
    private func execute(_ query: PostgresQuery) throws -> Int {
        try flush()
        return try session.execute(query)
    }

    private var vanished: ServiceError { ServiceError(.storageFailed, "The company's row vanished inside a transaction.") }
}

/// What a write transaction knows of its company's log beyond the database: the head (nil in a
/// read transaction) and the appends not yet written.
final class PendingAppends {
    var head: (sequence: UInt64, logDigest: [UInt8])?
    var entries: [StoredEntry] = []

    init(head: (sequence: UInt64, logDigest: [UInt8])?) {
        self.head = head
    }
}
