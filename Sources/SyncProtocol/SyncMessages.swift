import Foundation
import LedgerCore
import SwiftProtobuf

/// The answer to a change set (message type 2).
public struct PushResponse: Hashable, Sendable {
    /// One outcome per action handled, in order.
    public var outcomes: [Outcome]
    /// When a gap stopped the push: the counter to send from.
    public var sendFrom: UInt64?
    /// The log's last sequence after the push.
    public var serverSequence: UInt64

    /// Makes a push response.
    public init(outcomes: [Outcome], sendFrom: UInt64?, serverSequence: UInt64) {
        self.outcomes = outcomes
        self.sendFrom = sendFrom
        self.serverSequence = serverSequence
    }
}

/// A device asks for the log after its cursor (message type 3).
public struct PullRequest: Hashable, Sendable {
    public var replica: ReplicaID
    public var afterSequence: UInt64
    /// Entries wanted; the server may send fewer.
    public var limit: UInt32
    /// The newest body schema the device reads; the server answers in it or an older one.
    public var schemaVersion: UInt32

    /// Makes a pull request.
    public init(replica: ReplicaID, afterSequence: UInt64, limit: UInt32, schemaVersion: UInt32 = ChangeSetCodec.schemaVersion) {
        self.replica = replica
        self.afterSequence = afterSequence
        self.limit = limit
        self.schemaVersion = schemaVersion
    }
}

/// The end of a pull page: the log digest and the digests of the jobs the page touched.
public struct Checkpoint: Hashable, Sendable {
    public var sequence: UInt64
    public var logDigest: [UInt8]
    public var jobs: [JobDigest]
    public var caughtUp: Bool

    /// Makes a checkpoint.
    public init(sequence: UInt64, logDigest: [UInt8], jobs: [JobDigest], caughtUp: Bool) {
        self.sequence = sequence
        self.logDigest = logDigest
        self.jobs = jobs
        self.caughtUp = caughtUp
    }
}

/// Log entries after a cursor, in order, ending at a checkpoint (message type 4).
public struct PullPage: Hashable, Sendable {
    public var entries: [LogEntry]
    public var checkpoint: Checkpoint
    /// The body schema the page is written in (1 or 2).
    public var schemaVersion: UInt32

    /// Makes a pull page.
    public init(entries: [LogEntry], checkpoint: Checkpoint, schemaVersion: UInt32 = ChangeSetCodec.schemaVersion) {
        self.entries = entries
        self.checkpoint = checkpoint
        self.schemaVersion = schemaVersion
    }
}

/// Every message the protocol carries, with its envelope type.
public enum SyncMessage: Hashable, Sendable {
    case pushRequest(ChangeSet)
    case pushResponse(PushResponse)
    case pullRequest(PullRequest)
    case pullPage(PullPage)
    /// A request could not be handled: a code of Protocol/README.md and what to do.
    case error(code: String, message: String)

    /// The message in its envelope; compressed with the preset dictionary unless told otherwise.
    public func encoded(compression: Compression = .zlibDictionary) throws(ProtocolError) -> [UInt8] {
        let (type, body): (MessageType, [UInt8])
        switch self {
        case .pushRequest(let changeSet): (type, body) = (.pushRequest, try ChangeSetCodec.encodeBody(changeSet))
        case .pushResponse(let response): (type, body) = (.pushResponse, try MessageCodec.encode(response))
        case .pullRequest(let request): (type, body) = (.pullRequest, try MessageCodec.serialize(MessageCodec.wire(request)))
        case .pullPage(let page): (type, body) = (.pullPage, try MessageCodec.encode(page))
        case .error(let code, let message):
            (type, body) = (.error, try MessageCodec.serialize(WireErrorMessage.with { $0.code = code; $0.message = message }))
        }
        return try Envelope(type: type, body: body, compression: compression).encoded()
    }

    /// Reads any message from its envelope. Throws and builds nothing on any fault.
    public static func decode(_ wire: [UInt8]) throws(ProtocolError) -> SyncMessage {
        let envelope = try Envelope.decode(wire)
        switch envelope.type {
        case .pushRequest: return .pushRequest(try ChangeSetCodec.decodeBody(envelope.body))
        case .pushResponse: return .pushResponse(try MessageCodec.decodePushResponse(envelope.body))
        case .pullRequest: return .pullRequest(try MessageCodec.decodePullRequest(envelope.body))
        case .pullPage: return .pullPage(try MessageCodec.decodePullPage(envelope.body))
        case .error:
            let message: WireErrorMessage = try MessageCodec.parse(envelope.body)
            return .error(code: try PayloadCodec.text(message.code), message: try PayloadCodec.text(message.message))
        }
    }
}

/// Encoders and decoders of the messages other than the change set.
enum MessageCodec {
    static func serialize<M: SwiftProtobuf.Message>(_ message: M) throws(ProtocolError) -> [UInt8] {
        do { return Array(try message.serializedData()) } catch {
            throw ProtocolError(.invalidValue, "The message could not be serialized: \(error)")
        }
    }

    static func parse<M: SwiftProtobuf.Message>(_ body: [UInt8]) throws(ProtocolError) -> M {
        do { return try M(serializedBytes: body) } catch {
            throw ProtocolError(.malformedBody, "The body is not a valid \(M.protoMessageName) (\(error)).")
        }
    }

    static func wire(_ request: PullRequest) -> WirePullRequest {
        .with {
            $0.replica = Data(request.replica.bytes)
            $0.afterSequence = request.afterSequence
            $0.limit = request.limit
            // Schema 1 is the field left out, as devices that predate it send it.
            if request.schemaVersion != 1 { $0.schemaVersion = request.schemaVersion }
        }
    }

    static func decodePullRequest(_ body: [UInt8]) throws(ProtocolError) -> PullRequest {
        let message: WirePullRequest = try parse(body)
        guard message.schemaVersion != 1 else {
            throw ProtocolError(.invalidValue, "Body schema 1 is written by leaving the field out.")
        }
        // A newer device may read schemas this build does not know; the server answers in its own.
        return PullRequest(replica: try Tables.replicaID(Array(message.replica)), afterSequence: message.afterSequence, limit: message.limit,
                           schemaVersion: max(1, message.schemaVersion))
    }

    static func encode(_ response: PushResponse) throws(ProtocolError) -> [UInt8] {
        var tables = Interner()
        var message = WirePushResponse()
        message.outcomes = response.outcomes.map { wire($0, raisedBy: nil, tables: &tables) }
        if let sendFrom = response.sendFrom { message.sendFrom = sendFrom }
        message.serverSequence = response.serverSequence
        message.interned = tables.wire
        return try serialize(message)
    }

    static func decodePushResponse(_ body: [UInt8]) throws(ProtocolError) -> PushResponse {
        let message: WirePushResponse = try parse(body)
        guard message.outcomes.count <= ProtocolLimits.actionsPerMessageMax else {
            throw ProtocolError(.limitExceeded, "A push response has more outcomes than a change set may have actions.")
        }
        let tables = try Tables(message.interned)
        var outcomes: [Outcome] = []
        for outcome in message.outcomes { outcomes.append(try decode(outcome, raisedBy: nil, tables: tables)) }
        return PushResponse(outcomes: outcomes, sendFrom: message.hasSendFrom ? message.sendFrom : nil, serverSequence: message.serverSequence)
    }

    static func encode(_ page: PullPage) throws(ProtocolError) -> [UInt8] {
        guard page.entries.count <= ProtocolLimits.actionsPerMessageMax else {
            throw ProtocolError(.limitExceeded, "A pull page carries at most \(ProtocolLimits.actionsPerMessageMax) entries.")
        }
        for (offset, entry) in page.entries.enumerated() where entry.sequence != (page.entries.first?.sequence ?? 0) + UInt64(offset) {
            throw ProtocolError(.invalidValue, "A pull page holds consecutive log entries; entry \(offset) breaks the sequence.")
        }
        guard ChangeSetCodec.schemaVersionsRead.contains(page.schemaVersion) else {
            throw ProtocolError(.unsupportedVersion, "Body schema \(page.schemaVersion) is not one this build writes.")
        }
        var tables = Interner()
        var message = WirePullPage()
        message.firstSequence = page.entries.first?.sequence ?? 0
        if page.schemaVersion != 1 { message.schemaVersion = page.schemaVersion }
        message.actions = try ActionColumnsCodec.encode(page.entries.map(\.action), tables: &tables, withDots: true, schema: page.schemaVersion)
        message.outcomes = page.entries.map { wire($0.outcome, raisedBy: $0.action.dot, tables: &tables) }
        message.checkpoint = .with { checkpoint in
            checkpoint.sequence = page.checkpoint.sequence
            checkpoint.logDigest = Data(page.checkpoint.logDigest)
            checkpoint.caughtUp = page.checkpoint.caughtUp
            checkpoint.jobs = page.checkpoint.jobs.map { digest in
                .with {
                    $0.job = tables.ref(digest.job.dot)
                    $0.eventCount = UInt64(digest.eventCount)
                    $0.invoiceTotalMinor = digest.invoiceTotalMinor
                    $0.completedMinor = digest.completedMinor
                    $0.pendingMinor = digest.pendingMinor
                    $0.refundedMinor = digest.refundedMinor
                    $0.hash = Data(digest.hash)
                }
            }
        }
        message.interned = tables.wire
        return try serialize(message)
    }

    static func decodePullPage(_ body: [UInt8]) throws(ProtocolError) -> PullPage {
        let message: WirePullPage = try parse(body)
        guard message.outcomes.count <= ProtocolLimits.actionsPerMessageMax, message.checkpoint.jobs.count <= ProtocolLimits.actionsPerMessageMax else {
            throw ProtocolError(.limitExceeded, "A pull page carries at most \(ProtocolLimits.actionsPerMessageMax) entries and job digests.")
        }
        // Schema 1 is the field left out (pages from servers that predate it).
        guard message.schemaVersion != 1 else { throw ProtocolError(.invalidValue, "Body schema 1 is written by leaving the field out.") }
        let schema = max(1, message.schemaVersion)
        guard ChangeSetCodec.schemaVersionsRead.contains(schema) else {
            throw ProtocolError(.unsupportedVersion, "The page is in body schema \(schema); update the app.")
        }
        let tables = try Tables(message.interned)
        let actions = try ActionColumnsCodec.decode(message.actions, tables: tables, dots: .explicit, schema: schema)
        guard message.outcomes.count == actions.count else {
            throw ProtocolError(.columnMismatch, "A pull page needs one outcome per action.")
        }
        guard actions.isEmpty || message.firstSequence > 0 else {
            throw ProtocolError(.invalidValue, "Log sequences start at 1.")
        }
        var entries: [LogEntry] = []
        entries.reserveCapacity(actions.count)
        for (offset, action) in actions.enumerated() {
            let (sequence, overflow) = message.firstSequence.addingReportingOverflow(UInt64(offset))
            guard !overflow else { throw ProtocolError(.invalidValue, "A log sequence overflows.") }
            entries.append(LogEntry(sequence: sequence, action: action, outcome: try decode(message.outcomes[offset], raisedBy: action.dot, tables: tables)))
        }
        let checkpoint = message.checkpoint
        guard checkpoint.logDigest.count == 32 else { throw ProtocolError(.invalidValue, "A log digest is 32 bytes.") }
        var jobs: [JobDigest] = []
        for digest in checkpoint.jobs {
            guard digest.hash.count == 32, digest.eventCount <= UInt64(Int.max) else {
                throw ProtocolError(.invalidValue, "A job digest's hash is 32 bytes.")
            }
            jobs.append(JobDigest(job: JobID(try tables.dot(digest.job)), eventCount: Int(digest.eventCount), invoiceTotalMinor: digest.invoiceTotalMinor,
                                  completedMinor: digest.completedMinor, pendingMinor: digest.pendingMinor, refundedMinor: digest.refundedMinor,
                                  hash: Array(digest.hash)))
        }
        return PullPage(entries: entries, checkpoint: Checkpoint(sequence: checkpoint.sequence, logDigest: Array(checkpoint.logDigest),
                                                                 jobs: jobs, caughtUp: checkpoint.caughtUp),
                        schemaVersion: schema)
    }

    /// An outcome on the wire. In a pull page (`entry` set) a review case raised by the entry's
    /// own action leaves its dot out: 28% of a busy week's entries raise one (Protocol §9).
    static func wire(_ outcome: Outcome, raisedBy entry: Dot?, tables: inout Interner) -> WireOutcome {
        var wire = WireOutcome()
        func name(_ id: ReviewCaseID) {
            if id.dot != entry { wire.reviewCase = tables.ref(id.dot) }
            wire.reviewCaseIndex = UInt32(id.index)
        }
        switch outcome {
        case .applied: wire.kind = .applied
        case .exists: wire.kind = .exists
        case .appliedWithException(let id):
            wire.kind = .appliedWithException
            name(id)
        case .parkedForReview(let id):
            wire.kind = .parkedForReview
            name(id)
        case .rejected(let error):
            wire.kind = .rejected
            wire.errorCode = error.code.rawValue
            wire.errorMessage = error.message
        }
        return wire
    }

    /// Reads an outcome; `entry` is the dot of the pull page's entry it belongs to (nil in a push
    /// response, where a case always names its dot).
    static func decode(_ wire: WireOutcome, raisedBy entry: Dot?, tables: Tables) throws(ProtocolError) -> Outcome {
        func reviewCase() throws(ProtocolError) -> ReviewCaseID {
            guard wire.hasReviewCase else {
                guard let entry else { throw ProtocolError(.invalidValue, "A push response's review case outcome must name the case's dot.") }
                return ReviewCaseID(entry, index: Int(wire.reviewCaseIndex))
            }
            let dot = try tables.dot(wire.reviewCase)
            guard dot != entry else {
                throw ProtocolError(.invalidValue, "A pull page names a review case raised by the entry's own action; it must leave the dot out.")
            }
            return ReviewCaseID(dot, index: Int(wire.reviewCaseIndex))
        }
        switch wire.kind {
        case .applied: return .applied
        case .exists: return .exists
        case .appliedWithException: return .appliedWithException(try reviewCase())
        case .parkedForReview: return .parkedForReview(try reviewCase())
        case .rejected:
            return .rejected(LedgerError(LedgerError.Code(rawValue: try PayloadCodec.text(wire.errorCode)), try PayloadCodec.text(wire.errorMessage)))
        case .UNRECOGNIZED:
            throw ProtocolError(.invalidValue, "An outcome kind is unknown to this version; update the app.")
        }
    }
}
