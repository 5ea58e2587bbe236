/// The server log's head as concurrent benchmark devices learn it from their acknowledgements.
///
/// A device can only have pulled sequences that exist, so an action's context never runs ahead
/// of the log. Replaying a workload from many devices at once keeps that true by holding each
/// change set back until the log holds its context; without it, a change set that overtakes
/// the ones it had seen is rejected (`action_malformed`) and skips the merge.
public actor LogHead {
    private var head: UInt64
    private var waiting: [(sequence: UInt64, resume: CheckedContinuation<Void, Never>)] = []

    /// Starts at `head`, the log's length before the devices push.
    public init(_ head: UInt64) { self.head = head }

    /// Returns once the log holds `sequence`.
    public func wait(until sequence: UInt64) async {
        guard sequence > head else { return }
        await withCheckedContinuation { waiting.append((sequence, $0)) }
    }

    /// Records an acknowledged head and lets go every device waiting for no more than it.
    public func advance(to sequence: UInt64) {
        guard sequence > head else { return }
        head = sequence
        let (ready, still) = (waiting.filter { $0.sequence <= sequence }, waiting.filter { $0.sequence > sequence })
        waiting = still
        for each in ready { each.resume.resume() }
    }
}
