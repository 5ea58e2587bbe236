import LedgerCore

/// What the device's sync driver must do next. The session never sends, stores or waits.
public enum ClientSyncStep: Hashable, Sendable {
    /// Send this message and feed the answer to `received(_:)`.
    case send(SyncMessage)
    /// Record these outcomes for the pending actions with these dots (they stay in the outbox
    /// until a pull brings them back), then call `outcomesRecorded()`.
    case recordOutcomes([(Dot, Outcome)])
    /// Apply this page atomically (fold, verify digests, drop own acknowledged actions, save the
    /// cursor), then call `pageApplied()`.
    case applyPage(PullPage)
    /// The sync is complete: the device is caught up with the server.
    case finished
    /// The sync stopped; nothing was lost. Show the reason; try again later.
    case failed(ProtocolError)

    public static func == (lhs: ClientSyncStep, rhs: ClientSyncStep) -> Bool {
        switch (lhs, rhs) {
        case (.send(let a), .send(let b)): a == b
        case (.recordOutcomes(let a), .recordOutcomes(let b)): a.map(\.0) == b.map(\.0) && a.map(\.1) == b.map(\.1)
        case (.applyPage(let a), .applyPage(let b)): a == b
        case (.finished, .finished): true
        case (.failed(let a), .failed(let b)): a == b
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .send(let message): hasher.combine(0); hasher.combine(message)
        case .recordOutcomes(let outcomes): hasher.combine(1); hasher.combine(outcomes.map(\.0))
        case .applyPage(let page): hasher.combine(2); hasher.combine(page)
        case .finished: hasher.combine(3)
        case .failed(let error): hasher.combine(4); hasher.combine(error)
        }
    }
}

/// The device's side of one sync, as a state machine: push the outbox in change sets, then pull
/// pages until caught up (DESIGN §4).
public struct ClientSyncSession: Sendable {
    enum State: Hashable, Sendable {
        case idle
        case awaitingPushResponse(sent: [Dot])
        case recordingOutcomes(nextIndex: Int)
        case awaitingPage
        case applyingPage(lastSequence: UInt64, caughtUp: Bool)
        case finished
        case failed
    }

    public let replica: ReplicaID
    public let appVersion: String
    /// Actions per change set.
    public let batchSize: Int
    /// Entries asked for per pull.
    public let pageSize: UInt32
    private(set) var state: State = .idle
    private var pending: [Action] = []
    private var nextIndex = 0
    /// The last server sequence folded, as the session knows it.
    public private(set) var cursor: UInt64 = 0
    private var clock = HLCTimestamp(wallMillis: 0)

    /// Makes a session; it does nothing until `start`.
    public init(replica: ReplicaID, appVersion: String, batchSize: Int = 100, pageSize: UInt32 = 1_000) {
        precondition(batchSize > 0 && batchSize <= ProtocolLimits.actionsPerMessageMax, "batch size out of range")
        precondition(pageSize > 0 && Int(pageSize) <= ProtocolLimits.actionsPerMessageMax, "page size out of range")
        self.replica = replica
        self.appVersion = appVersion
        self.batchSize = batchSize
        self.pageSize = pageSize
    }

    /// Starts a sync of `pending` (the outbox, oldest first) from `cursor`.
    public mutating func start(pending: [Action], cursor: UInt64, clock: HLCTimestamp) -> ClientSyncStep {
        guard state == .idle else { return fail(.invalidValue, "A sync session starts once.") }
        guard pending.allSatisfy({ $0.dot.replica == replica }) else { return fail(.invalidValue, "The outbox holds another replica's actions.") }
        self.pending = pending
        self.cursor = cursor
        self.clock = clock
        return pushOrPull()
    }

    /// Feeds the server's answer to the last message sent.
    public mutating func received(_ message: SyncMessage) -> ClientSyncStep {
        switch (state, message) {
        case (_, .error(let code, let text)):
            return fail(ProtocolError.Code(rawValue: code), "The server refused the request: \(text)")
        case (.awaitingPushResponse(let sent), .pushResponse(let response)):
            return handle(response, sent: sent)
        case (.awaitingPage, .pullPage(let page)):
            return handle(page)
        default:
            return fail(.unknownMessageType, "The server answered with a message this step does not expect.")
        }
    }

    /// The driver recorded the outcomes of the last push.
    public mutating func outcomesRecorded() -> ClientSyncStep {
        guard case .recordingOutcomes(let next) = state else { return fail(.invalidValue, "No outcomes were waiting to be recorded.") }
        nextIndex = next
        return pushOrPull()
    }

    /// The driver applied the last page atomically.
    public mutating func pageApplied() -> ClientSyncStep {
        guard case .applyingPage(let last, let caughtUp) = state else { return fail(.invalidValue, "No page was waiting to be applied.") }
        cursor = last
        if caughtUp {
            state = .finished
            return .finished
        }
        return requestPage()
    }

    private mutating func pushOrPull() -> ClientSyncStep {
        guard nextIndex < pending.count else { return requestPage() }
        let batch = Array(pending[nextIndex..<min(pending.count, nextIndex + batchSize)])
        state = .awaitingPushResponse(sent: batch.map(\.dot))
        return .send(.pushRequest(ChangeSet(replica: replica, lastAppliedSequence: cursor, appVersion: appVersion, clock: clock, actions: batch)))
    }

    private mutating func requestPage() -> ClientSyncStep {
        state = .awaitingPage
        return .send(.pullRequest(PullRequest(replica: replica, afterSequence: cursor, limit: pageSize)))
    }

    private mutating func handle(_ response: PushResponse, sent: [Dot]) -> ClientSyncStep {
        guard response.outcomes.count <= sent.count else {
            return fail(.columnMismatch, "The server answered more outcomes than actions were sent.")
        }
        if let sendFrom = response.sendFrom {
            // The server lacks earlier actions: resend from the counter it names, if we have it.
            guard let index = pending.firstIndex(where: { $0.dot.counter == sendFrom }) else {
                return fail(.invalidValue, "The server asks for actions from counter \(sendFrom), which this device no longer has; contact support.")
            }
            state = .recordingOutcomes(nextIndex: index)
        } else {
            guard response.outcomes.count == sent.count else {
                return fail(.columnMismatch, "The server answered fewer outcomes than actions were sent.")
            }
            state = .recordingOutcomes(nextIndex: nextIndex + sent.count)
        }
        return .recordOutcomes(Array(zip(sent, response.outcomes)))
    }

    private mutating func handle(_ page: PullPage) -> ClientSyncStep {
        var expected = cursor + 1
        for entry in page.entries {
            guard entry.sequence == expected else {
                return fail(.invalidValue, "The page does not continue the log from this device's cursor.")
            }
            expected += 1
        }
        let last = page.entries.last?.sequence ?? cursor
        guard page.checkpoint.sequence == last else {
            return fail(.invalidValue, "The page's checkpoint does not end at its last entry.")
        }
        guard !page.entries.isEmpty || page.checkpoint.caughtUp else {
            return fail(.invalidValue, "The server sent an empty page without being caught up.")
        }
        state = .applyingPage(lastSequence: last, caughtUp: page.checkpoint.caughtUp)
        return .applyPage(page)
    }

    private mutating func fail(_ code: ProtocolError.Code, _ message: String) -> ClientSyncStep {
        state = .failed
        return .failed(ProtocolError(code, message))
    }
}

/// What the server's driver must do with a request. The session never touches storage.
public enum ServerSyncStep: Hashable, Sendable {
    /// Merge these actions (dedupe, gap check, apply, append, commit durably), then call
    /// `pushCompleted`.
    case applyPush(ChangeSet)
    /// Read up to `limit` entries after `afterSequence` and the checkpoint, then call `pageReady`
    /// with `schemaVersion`, the body schema to answer in.
    case readPage(afterSequence: UInt64, limit: Int, schemaVersion: UInt32)
    /// Answer with this message and stop.
    case respond(SyncMessage)
}

/// The server's side of one request, as a state machine: it checks who sends what and bounds
/// the work, and turns the storage's results into the answer.
public struct ServerSyncSession: Sendable {
    /// The largest page the server hands out, whatever a device asks for.
    public static let pageEntriesMax = 5_000

    public let authenticatedReplica: ReplicaID

    /// Makes a session for a device the transport authenticated.
    public init(authenticatedReplica: ReplicaID) {
        self.authenticatedReplica = authenticatedReplica
    }

    /// What to do with a decoded request.
    public func received(_ message: SyncMessage) -> ServerSyncStep {
        switch message {
        case .pushRequest(let changeSet):
            guard changeSet.replica == authenticatedReplica else {
                return .respond(.error(code: "replica_mismatch", message: "This device may only push its own actions; check the device token."))
            }
            guard ChangeSetCodec.schemaVersionsRead.contains(changeSet.schemaVersion) else {
                return .respond(.error(code: ProtocolError.Code.unsupportedVersion.rawValue,
                                       message: "Body schema \(changeSet.schemaVersion) is not supported; update the app."))
            }
            return .applyPush(changeSet)
        case .pullRequest(let request):
            guard request.replica == authenticatedReplica else {
                return .respond(.error(code: "replica_mismatch", message: "This device may only pull as itself; check the device token."))
            }
            return .readPage(afterSequence: request.afterSequence, limit: max(1, min(Int(request.limit), ServerSyncSession.pageEntriesMax)),
                             schemaVersion: min(request.schemaVersion, ChangeSetCodec.schemaVersion))
        case .pushResponse, .pullPage, .error:
            return .respond(.error(code: ProtocolError.Code.unknownMessageType.rawValue, message: "A server accepts push and pull requests only."))
        }
    }

    /// The answer to a push, once the storage committed it.
    public func pushCompleted(outcomes: [Outcome], sendFrom: UInt64?, serverSequence: UInt64) -> SyncMessage {
        .pushResponse(PushResponse(outcomes: outcomes, sendFrom: sendFrom, serverSequence: serverSequence))
    }

    /// The answer to a pull: the entries read and the checkpoint that ends them.
    public func pageReady(entries: [LogEntry], checkpoint: Checkpoint, schemaVersion: UInt32) -> SyncMessage {
        .pullPage(PullPage(entries: entries, checkpoint: checkpoint, schemaVersion: schemaVersion))
    }
}
