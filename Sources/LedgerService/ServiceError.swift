/// A request the service refuses, with a stable code and a message that says what to do.
public struct ServiceError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Stable codes; the HTTP layer maps each to a status.
    public enum Code: String, Hashable, Sendable, CaseIterable {
        case invalidRequest = "invalid_request"
        case unauthorized = "unauthorized"
        case forbidden = "forbidden"
        case notFound = "not_found"
        case conflict = "conflict"
        case payloadTooLarge = "payload_too_large"
        case cursorAhead = "cursor_ahead"
        case storageFailed = "storage_failed"
    }

    public let code: Code
    public let message: String

    /// Makes an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

/// The service's bounds, in one place.
public enum ServiceLimits {
    /// Characters of a company id.
    public static let companyIDLengthMax = 64
    /// Actions one group commit may carry; requests past it wait for the next group.
    public static let groupCommitActionsMax = 20_000
    /// Log entries the stored projections may fall behind the head before a new snapshot is
    /// stored: bounds the replay on start against the snapshot's cost, which grows with the
    /// jobs' history (Benchmarks/README.md has both measured).
    public static let snapshotLagEntries: UInt64 = 1_000_000
    /// Jobs a snapshot stores per write (decision 0038): each chunk is encoded off the writer
    /// and stored in a group beside the pushes, about 500 KB at a million entries over 10,000
    /// jobs (100 jobs, 2 MB, added 20–40 ms to a push sharing the group on PostgreSQL).
    public static let snapshotChunkJobs = 25
    /// How long a closing service waits for a snapshot being stored to finish (at a million
    /// entries over 10,000 jobs, a whole one takes 2–4 s on two cores).
    public static let closeSnapshotWaitSeconds: Double = 30
    /// The nice value of the thread that encodes snapshots (0 is the writer's, 19 the lowest):
    /// it gets about a tenth of a core the pushes also want, all of one that is idle.
    public static let backgroundNice: Int32 = 10
    /// Entries read per page when replaying the log into memory.
    public static let replayPageEntries = 5_000
    /// Job digests a checkpoint carries at most: those of the jobs its page touched last. Both
    /// sides digest every job named (its whole history), so a week's backlog naming thousands
    /// cost about as much as folding it (decision 0018).
    public static let checkpointJobDigestsMax = 256
    /// Jobs a checkpoint names per thread digesting them, at least: fewer are digested on the
    /// calling thread (a small job's digest costs less than handing it to another core).
    public static let digestJobsPerThreadMin = 32
    /// Times a pull re-reads a head page that pushes overtook before answering "not caught up".
    public static let pullHeadAttempts = 3
}
