import LedgerCore

/// A replica in memory for tests: its own counter and clock, the confirmed state folded from
/// the server's log, a cursor, and an outbox of pending actions replayed on top.
///
/// It validates every action against its view with the same core before queueing it, as a
/// real device does, so only what the device would accept reaches the server.
public struct TestDevice: Sendable {
    public let replica: ReplicaID
    public let actor: Actor
    public private(set) var counter: UInt64 = 0
    public private(set) var clock = HybridLogicalClock()
    public private(set) var confirmed: Ledger
    public private(set) var cursor: UInt64 = 0
    public private(set) var pending: [Action] = []
    /// The running digest of the log prefix this device folded (see `LogDigest`).
    public private(set) var logDigest = LogDigest.empty

    /// Makes a device whose confirmed state starts as `initial` (the company before any log).
    public init(replica: ReplicaID, actor: Actor, initial: Ledger) {
        self.replica = replica
        self.actor = actor
        self.confirmed = initial
    }

    /// The device's view: confirmed state with its pending actions replayed.
    public var view: Ledger { confirmed.replaying(pending).view }

    /// Makes the next action, checks it against the view, and queues it when the view accepts
    /// it (applied, or applied with an exception). Returns the local outcome and the action.
    @discardableResult
    public mutating func perform(_ payload: ActionPayload, job: JobID?, day: CalendarDate, physicalMillis: Int64) -> (outcome: Outcome, action: Action?) {
        let current = view
        let action = Action(dot: Dot(replica: replica, counter: counter + 1), hlc: clock.tick(physicalMillis: physicalMillis), actor: actor,
                            job: job, seenSequence: cursor, businessDay: day, payload: payload)
        var trial = current
        let outcome = trial.apply(action)
        switch outcome {
        case .applied, .appliedWithException:
            counter += 1
            pending.append(action)
            return (outcome, action)
        default:
            return (outcome, nil)
        }
    }

    /// Queues an action as given, without checking it (for tests that need an action a real
    /// device would not send).
    public mutating func enqueueUnchecked(_ payload: ActionPayload, job: JobID?, seenSequence: UInt64? = nil, day: CalendarDate, physicalMillis: Int64) -> Action {
        counter += 1
        let action = Action(dot: Dot(replica: replica, counter: counter), hlc: clock.tick(physicalMillis: physicalMillis), actor: actor,
                            job: job, seenSequence: seenSequence ?? cursor, businessDay: day, payload: payload)
        pending.append(action)
        return action
    }

    /// Sends the first `count` pending actions (all when nil) to the server.
    @discardableResult
    public func push(to server: inout ServerLog, count: Int? = nil) -> ServerLog.PushResult {
        server.push(Array(pending.prefix(count ?? pending.count)))
    }

    /// Pulls up to `limit` log entries after the cursor, folds them, and drops its own
    /// acknowledged actions from the outbox.
    public mutating func pull(from server: ServerLog, limit: Int = Int.max) throws(FoldDivergence) {
        try apply(Array(server.entries(after: cursor, limit: limit)))
    }

    /// Folds entries that continue the log from the cursor, keeping the running log digest, and
    /// drops this device's own actions from the outbox as they come back.
    public mutating func apply(_ entries: [LogEntry]) throws(FoldDivergence) {
        for entry in entries {
            precondition(entry.sequence == cursor + 1, "entries must continue the log from the cursor")
            try confirmed.fold(entry)
            if entry.action.dot.replica == replica {
                pending.removeAll { $0.dot == entry.action.dot }
            }
            clock = HybridLogicalClock(last: max(clock.last, entry.action.hlc))
            logDigest = LogDigest.next(logDigest, entry)
            cursor = entry.sequence
        }
    }
}
