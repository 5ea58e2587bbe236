/// The server's side of the merge for one company, in memory: the ledger, the canonical log,
/// and the dedupe and gap rules of a push (DESIGN §4 "Push").
///
/// The real server keeps the log in storage and loads only the jobs a change set touches; this
/// value is the reference it must agree with, and what the tests and the simulator run.
public struct ServerLog: Sendable {
    public private(set) var ledger: Ledger
    public private(set) var entries: [LogEntry] = []
    /// Replicas that re-sent a dot with a different body: a bug or tampering to look into.
    public private(set) var flaggedReplicas: [ReplicaID] = []
    private var highestCounter: [ReplicaID: UInt64] = [:]
    private var bodyDigests: [Dot: [UInt8]] = [:]

    /// Starts a company with empty history.
    public init(ledger: Ledger) {
        self.ledger = ledger
    }

    /// The answer to a push.
    public struct PushResult: Hashable, Sendable {
        /// One outcome per action handled, in order.
        public var outcomes: [Outcome]
        /// When a gap stopped the push: the counter the replica must send from. Actions after
        /// the gap were not handled.
        public var sendFrom: UInt64?
    }

    /// The highest counter of `replica` in the log (0 when none).
    public func highestCounter(of replica: ReplicaID) -> UInt64 { highestCounter[replica] ?? 0 }

    /// Handles one replica's actions in order: dedupes by dot, refuses a gap, merges the rest
    /// and appends each to the log with its outcome (rejected ones too, so the device sees them).
    public mutating func push(_ actions: [Action]) -> PushResult {
        var result = PushResult(outcomes: [], sendFrom: nil)
        for action in actions {
            let replica = action.dot.replica
            switch PushRules.step(for: action, highest: highestCounter(of: replica)) {
            case .duplicate:
                result.outcomes.append(duplicate(action))
                continue
            case .gap(let sendFrom):
                result.sendFrom = sendFrom
                return result
            case .apply:
                break
            }
            let sequence = UInt64(entries.count + 1)
            let outcome = ledger.apply(action, sequence: sequence)
            entries.append(LogEntry(sequence: sequence, action: action, outcome: outcome))
            highestCounter[replica] = action.dot.counter
            bodyDigests[action.dot] = CanonicalEncoding.digest(of: action)
            result.outcomes.append(outcome)
        }
        return result
    }

    private mutating func duplicate(_ action: Action) -> Outcome {
        let outcome = PushRules.duplicateOutcome(action, storedBodyDigest: bodyDigests[action.dot])
        if outcome != .exists, !flaggedReplicas.contains(action.dot.replica) {
            flaggedReplicas.append(action.dot.replica)
            flaggedReplicas.sort()
        }
        return outcome
    }

    /// Log entries after `sequence`, at most `limit` of them.
    public func entries(after sequence: UInt64, limit: Int) -> ArraySlice<LogEntry> {
        let start = Int(min(sequence, UInt64(entries.count)))
        return entries[start..<(start + min(entries.count - start, max(0, limit)))]
    }
}

/// A job's digest, compared after a pull to prove a replica's confirmed job equals the server's.
public struct JobDigest: Hashable, Sendable, Codable {
    public let job: JobID
    /// Actions that left a trace on the job.
    public let eventCount: Int
    public let invoiceTotalMinor: Int64
    public let completedMinor: Int64
    public let pendingMinor: Int64
    public let refundedMinor: Int64
    /// SHA-256 of the canonical encoding of the job's dots sorted by (replica, counter), then
    /// of the job itself: equal digests mean equal jobs.
    public let hash: [UInt8]

    /// Makes a digest (as read from the wire).
    public init(job: JobID, eventCount: Int, invoiceTotalMinor: Int64, completedMinor: Int64, pendingMinor: Int64, refundedMinor: Int64, hash: [UInt8]) {
        self.job = job
        self.eventCount = eventCount
        self.invoiceTotalMinor = invoiceTotalMinor
        self.completedMinor = completedMinor
        self.pendingMinor = pendingMinor
        self.refundedMinor = refundedMinor
        self.hash = hash
    }
}

extension Job {
    /// The job's digest (see `JobDigest`).
    public var digest: JobDigest {
        var hasher = SHA256()
        hasher.update(CanonicalEncoding.bytes(of: sync.dots.sorted()))
        hasher.update(CanonicalEncoding.bytes(of: self))
        let totals = totals
        return JobDigest(job: id, eventCount: sync.dots.count, invoiceTotalMinor: totals.invoiceTotalMinor, completedMinor: totals.completedMinor,
                         pendingMinor: totals.pendingMinor, refundedMinor: totals.refundedMinor, hash: hasher.finalize())
    }
}

/// The running digest of a log prefix: SHA-256 of the previous digest and the entry's canonical
/// bytes. Equal digests at a sequence mean equal logs up to it.
public enum LogDigest {
    /// The digest of the empty log: 32 zero bytes.
    public static let empty = [UInt8](repeating: 0, count: 32)

    /// The digest after appending `entry` to a prefix whose digest is `previous`.
    public static func next(_ previous: [UInt8], _ entry: LogEntry) -> [UInt8] {
        next(previous, sequence: entry.sequence, actionDigest: CanonicalEncoding.digest(of: entry.action), outcome: entry.outcome)
    }

    /// The same from the SHA-256 of the action's canonical bytes, which a server has already
    /// made (it is the entry's body digest): SHA-256 of the previous digest, the sequence as 8
    /// bytes big-endian, the action's digest and the outcome's canonical bytes. Two blocks of
    /// hashing for most entries instead of the whole entry again (Protocol/README.md §9).
    public static func next(_ previous: [UInt8], sequence: UInt64, actionDigest: [UInt8], outcome: Outcome) -> [UInt8] {
        next(previous, sequence: sequence, actionDigest: actionDigest, outcomeBytes: outcomeBytes(outcome))
    }

    // The outcomes of nearly every entry, encoded once: a device folding a backlog hashes one
    // per entry.
    private static let appliedBytes = CanonicalEncoding.bytes(of: Outcome.applied)
    private static let existsBytes = CanonicalEncoding.bytes(of: Outcome.exists)

    private static func outcomeBytes(_ outcome: Outcome) -> [UInt8] {
        switch outcome {
        case .applied: appliedBytes
        case .exists: existsBytes
        default: CanonicalEncoding.bytes(of: outcome)
        }
    }

    /// The same from the outcome's canonical bytes (a server has them from the entry's bytes).
    public static func next(_ previous: [UInt8], sequence: UInt64, actionDigest: [UInt8], outcomeBytes: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(previous)
        withUnsafeBytes(of: sequence.bigEndian) { hasher.update($0) }
        hasher.update(actionDigest)
        hasher.update(outcomeBytes)
        return hasher.finalize()
    }
}

/// The dedupe and gap rules of a push (DESIGN §4), shared by `ServerLog` and the server's
/// storage-backed service so that both answer a push the same way.
public enum PushRules {
    /// What a push does with one action, given its replica's highest logged counter.
    public enum Step: Hashable, Sendable {
        /// Already logged: answer from the stored body (`duplicateOutcome`).
        case duplicate
        /// A counter is missing: stop, and ask the device to send from this counter.
        case gap(sendFrom: UInt64)
        /// The next counter: merge it and log it.
        case apply
    }

    /// The step for `action` when its replica's highest logged counter is `highest`.
    public static func step(for action: Action, highest: UInt64) -> Step {
        #if PLANT_NO_DEDUPE
        // Planted bug (issue F, Simulator/README.md): a resent action is taken as new.
        if action.dot.counter <= highest { return .apply }
        #endif
        if action.dot.counter <= highest { return .duplicate }
        return action.dot.counter == highest + 1 ? .apply : .gap(sendFrom: highest + 1)
    }

    /// Same dot, same body: it already happened (`exists`). Same dot, another body: the original
    /// stands and this one is rejected; the caller flags the replica.
    public static func duplicateOutcome(_ action: Action, storedBodyDigest: [UInt8]?) -> Outcome {
        guard storedBodyDigest != CanonicalEncoding.digest(of: action) else { return .exists }
        return .rejected(LedgerError(.dotReused, "This action id was already used for a different change; the original was kept. The device's outbox needs attention."))
    }
}
