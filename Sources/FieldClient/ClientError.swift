/// What went wrong on a device, with a stable code and a message that says what to do.
/// Nothing was changed when one of these is thrown, unless the message says otherwise.
public struct ClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable classification scripts can rely on.
    public enum Code: String, Sendable, Hashable {
        /// The ledger rules refused the action on this device; nothing was queued.
        case actionRefused = "action_refused"
        /// The replica file is missing, damaged or of another kind.
        case replicaUnusable = "replica_unusable"
        /// Another process changed the replica while this one acted on it; nothing was written.
        case replicaChanged = "replica_changed"
        /// A replica already exists at that path.
        case replicaExists = "replica_exists"
        /// The server address is plain HTTP to another machine, or not a URL at all.
        case insecureServer = "insecure_server"
        /// The server did not answer, or answered something that is not a sync message.
        case serverUnreachable = "server_unreachable"
        /// The token was refused (revoked or wrong); the outbox keeps every action.
        case unauthorized
        /// The server asks the device to wait; the outbox keeps every action.
        case serverBusy = "server_busy"
        /// The server refused the request or the session stopped; nothing was lost.
        case syncFailed = "sync_failed"
        /// What the server sent does not match what this device folded (log or job digests).
        case diverged
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

/// The client library's bounds, in one place.
public enum ClientLimits {
    /// Actions per pushed change set.
    public static let pushBatchActions = 100
    /// Log entries asked for per pull page (the server caps it at 5,000).
    public static let pullPageEntries: UInt32 = 5_000
    /// Log entries a sync folds in memory before it stores them (and its cursor): what a sync
    /// killed mid-pull has to fetch again, at most (about 1.8 MB on the wire, 2 s of folding on
    /// the benchmark host). A save rewrites every job folded since the last one, and a week's
    /// backlog touches nearly all of a company's jobs within a few tens of thousands of
    /// entries, so each save before the last rewrites the whole file (decision 0030).
    public static let saveEveryEntries = 200_000
    /// Seconds an HTTP sync request may take before the sync stops (and can be resumed).
    public static let requestTimeoutSeconds: Int64 = 120
    /// Seconds to wait for a connection to the server before giving up on this sync.
    public static let connectTimeoutSeconds: Int64 = 10
    /// Bytes of one sync answer the device accepts.
    public static let answerBytesMax = 64 << 20
    /// Jobs a replica keeps in memory after storing a sync's pages; beyond this it reads them
    /// from its file again when needed. A sync also stores its pages once this many jobs wait
    /// to be written, so the jobs it holds stay near this bound whatever the backlog.
    public static let jobsInMemoryMax = 20_000
    /// Seconds a command waits for another process that is writing the same replica file.
    public static let busyTimeoutSeconds: Double = 10
    /// Outstanding installments a report reserves room for per job before it reads them (a
    /// guess that only saves copying: plans with more rows still fit, in a grown array).
    public static let installmentsReservedPerJob = 3
    /// Threads a large report is built on at most (it also uses no more than the processors
    /// the device has): each reads and orders a share of the stored records, then writes a
    /// share of the table's rows.
    public static let reportThreadsMax = 4
    /// Stored records a report thread is given at least: below this, one thread does it all
    /// (starting and joining threads costs more than reading a few thousand records).
    public static let reportRecordsPerThreadMin = 5_000
    /// Stored records a large report reads before handing them on to be ordered on another
    /// thread, as the reading goes on.
    public static let reportChunkRecords = 2_000
    /// Jobs each thread is given at least when a sync's save encodes the jobs' rows or a page's
    /// jobs are read from the file (below this, one thread does them all).
    public static let jobsPerThreadMin = 1_000
    /// Jobs each thread is given at least when the job digests a checkpoint names are checked.
    public static let digestJobsPerThreadMin = 64
    /// Rows of a table for people each thread that writes it is given at least: a longer table
    /// is measured and written in two halves at once, the second printed after the first.
    public static let tableRowsPerThreadMin = 20_000
    /// Rows of a long table written at a time: their cells (about half a megabyte) are made,
    /// written out and dropped, batch after batch, in the same room.
    public static let tableRowsPerBatch = 4_096
    /// What the device reports as its app version in change sets.
    public static let appVersion = "fieldledger-client/1"
}
