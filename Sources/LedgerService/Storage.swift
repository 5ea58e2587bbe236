import LedgerCore

/// A company's id on the server: letters, digits and dashes, chosen when it is created.
public struct CompanyID: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    public let rawValue: String

    /// Checks an id: 1 to `ServiceLimits.companyIDLengthMax` characters of a–z, 0–9 and '-'.
    public init(_ rawValue: String) throws(ServiceError) {
        guard (1...ServiceLimits.companyIDLengthMax).contains(rawValue.utf8.count),
              rawValue.utf8.allSatisfy({ (97...122).contains($0) || (48...57).contains($0) || $0 == 45 }) else {
            throw ServiceError(.invalidRequest, "A company id is 1 to \(ServiceLimits.companyIDLengthMax) characters of a-z, 0-9 and '-'.")
        }
        self.rawValue = rawValue
    }

    public static func < (lhs: CompanyID, rhs: CompanyID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { rawValue }
}

/// What a company keeps beside its jobs: the settings and the company-wide review cases.
public struct CompanyState: Hashable, Sendable, Codable {
    public var settings: CompanySettings
    public var reviewCases: [ReviewCase]

    /// Makes a company state.
    public init(settings: CompanySettings, reviewCases: [ReviewCase] = []) {
        self.settings = settings
        self.reviewCases = reviewCases
    }
}

/// A log entry as stored: the entry and its canonical bytes (the stored form, and what the log
/// digest hashes), the digest of its action's body (to tell a retry from a reused dot) and the
/// running log digest up to it (for checkpoints).
public struct StoredEntry: Hashable, Sendable {
    public let entry: LogEntry
    public let encoded: [UInt8]
    public let bodyDigest: [UInt8]
    public let logDigest: [UInt8]

    /// Makes a stored entry; `encoded` must be the entry's canonical bytes.
    public init(entry: LogEntry, encoded: [UInt8], bodyDigest: [UInt8], logDigest: [UInt8]) {
        self.entry = entry
        self.encoded = encoded
        self.bodyDigest = bodyDigest
        self.logDigest = logDigest
    }
}

/// Changed jobs (as their records, `StoredJobFormat.record`) and the company state, as of a
/// log sequence. A snapshot stored in chunks ends with one that has no jobs.
public struct ProjectionSnapshot: Sendable {
    public let jobs: [(id: JobID, record: [UInt8])]
    public let state: CompanyState
    public let openReviewCases: Int
    public let through: UInt64

    /// Makes a snapshot.
    public init(jobs: [(id: JobID, record: [UInt8])], state: CompanyState, openReviewCases: Int, through: UInt64) {
        self.jobs = jobs
        self.state = state
        self.openReviewCases = openReviewCases
        self.through = through
    }
}

/// How a stored job row holds its job (decision 0022). Snapshots write records; rows written
/// before records came hold canonical bytes until the job's next snapshot replaces them.
public enum StoredJobFormat: Int64, Sendable, CaseIterable {
    /// The job's canonical bytes (Protocol §3): what every row held before schema v8.
    case canonical = 0
    /// The job's compact record (`JobRecord`, decision 0016): what snapshots write.
    case record = 1

    /// The record a snapshot stores for `job`.
    public static func record(of job: Job) -> [UInt8] { JobRecord.bytes(of: job) }

    /// The job a stored row holds; a row that does not read back throws `storageFailed`.
    public static func job(_ bytes: [UInt8], format code: Int64) throws -> Job {
        guard let format = StoredJobFormat(rawValue: code) else {
            throw ServiceError(.storageFailed, "A stored job has the unknown format \(code); this server is older than the database, upgrade it.")
        }
        do {
            switch format {
            case .canonical: return try CanonicalEncoding.decode(Job.self, from: bytes)
            case .record: return try JobRecord.job(from: bytes)
            }
        } catch {
            throw ServiceError(.storageFailed, "A stored job does not read back (\(error)); the database is damaged.")
        }
    }
}

/// One company's storage inside one transaction. Every read sees the transaction's own writes.
///
/// The log is the record; the stored projections (jobs, company state, open-case count) are a
/// snapshot of the fold at `projectedThrough()`, written now and then (decision 0012). The
/// service keeps the fold itself in memory and replays the log after the snapshot on start.
public protocol LedgerTransaction {
    /// The company as it was created, before any log entry: where a rebuild starts.
    func initialCompanyState() throws -> CompanyState
    /// The last sequence of the log (0 when empty) and the running log digest there.
    func head() throws -> (sequence: UInt64, logDigest: [UInt8])
    /// Up to `limit` entries after `sequence`, in order.
    func entries(after sequence: UInt64, limit: Int) throws -> [StoredEntry]
    /// The highest counter of `replica` in the log (0 when none).
    func highestCounter(of replica: ReplicaID) throws -> UInt64
    /// The replica the server acts as for this company (office actions through the JSON API).
    func serverReplica() throws -> ReplicaID
    /// The HLC reading of the replica's last logged action, if any.
    func lastHLC(of replica: ReplicaID) throws -> HLCTimestamp?
    /// The body digest of the logged action with this dot, if any.
    func bodyDigest(of dot: Dot) throws -> [UInt8]?
    /// Appends entries that continue the log; the storage refuses a gap or a reused dot.
    func append(_ entries: [StoredEntry]) throws
    /// Notes that a replica re-sent a dot with another body (DESIGN §4).
    func flag(_ replica: ReplicaID) throws
    /// The log sequence the stored projections were folded up to.
    func projectedThrough() throws -> UInt64
    /// The open-case count stored with the projections (as of `projectedThrough()`).
    func storedOpenReviewCases() throws -> Int
    /// The cut's sequence of the newest snapshot a process took, stored or not yet (0: none).
    func snapshotClaimed() throws -> UInt64
    /// Says a snapshot was taken at `through`, so that other processes wait for the next one.
    func claimSnapshot(through: UInt64) throws
    /// The stored projections: company state, every job with the log sequence its row is
    /// folded through (0 for rows from before that was kept), and the open-case count.
    func projections() throws -> (state: CompanyState, jobs: [(job: Job, through: UInt64)], openReviewCases: Int)
    /// Stores jobs' records as folded through `through`; a row folded through a later sequence
    /// is kept (decision 0038: a snapshot's jobs are stored in chunks, each at the head then).
    func saveJobs(_ jobs: [(id: JobID, record: [UInt8])], through: UInt64) throws
    /// Stores the snapshot's jobs (`saveJobs` at its sequence), then the company state and the
    /// open-case count, and makes its sequence `projectedThrough()`: every job changed up to it
    /// must be stored through it or later by then.
    func saveProjections(_ snapshot: ProjectionSnapshot) throws
    /// Drops every stored job (before a rebuild from the log).
    func deleteAllJobs() throws
}

/// Durable storage of companies: each write commits durably before it returns, or not at all.
public protocol LedgerStorage: Sendable {
    /// Creates a company with empty history, the server acting for it as `serverReplica`;
    /// throws `conflict` if the id is taken.
    func createCompany(_ id: CompanyID, state: CompanyState, serverReplica: ReplicaID) throws
    /// Runs `body` in one write transaction that may touch several companies: `body` opens each
    /// through the function it is given, which throws `notFound` for an unknown company.
    func write<T>(_ body: (_ open: (CompanyID) throws -> any LedgerTransaction) throws -> T) throws -> T
    /// Every company's id.
    func companies() throws -> [CompanyID]
    /// Runs `body` in one read transaction of `company` (a consistent snapshot).
    func read<T>(_ company: CompanyID, _ body: (any LedgerTransaction) throws -> T) throws -> T
    /// How many `write` calls may usefully run at once (for different companies): one where
    /// the storage has a single writer.
    var writersAtOnce: Int { get }
}

extension LedgerStorage {
    /// One writer, unless the storage says otherwise.
    public var writersAtOnce: Int { 1 }

    /// Creates a company with empty history and a fresh random server replica.
    public func createCompany(_ id: CompanyID, state: CompanyState) throws {
        try createCompany(id, state: state, serverReplica: DeviceTokens.newReplica())
    }

    /// Runs `body` in one write transaction of `company`; throws `notFound` for an unknown company.
    public func write<T>(_ company: CompanyID, _ body: (any LedgerTransaction) throws -> T) throws -> T {
        try write { open in try body(try open(company)) }
    }
}

/// Roles as every storage keeps them: 0 technician, 1 office, 2 owner.
public enum StoredRoles {
    /// The stored code of a role.
    public static func code(_ role: Role) -> Int64 {
        switch role {
        case .technician: 0
        case .office: 1
        case .owner: 2
        }
    }

    /// The role of a stored code; an unknown code means a damaged database.
    public static func role(_ code: Int64) throws -> Role {
        switch code {
        case 0: return .technician
        case 1: return .office
        case 2: return .owner
        default: throw ServiceError(.storageFailed, "A stored role is unknown.")
        }
    }
}
