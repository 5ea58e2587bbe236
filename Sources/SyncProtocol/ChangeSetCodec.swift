import Foundation
import LedgerCore
import SwiftProtobuf

/// A change set: one replica's consecutive actions, with its clock and cursor (message type 1).
public struct ChangeSet: Hashable, Sendable {
    public var replica: ReplicaID
    /// The last server sequence the replica folded.
    public var lastAppliedSequence: UInt64
    public var schemaVersion: UInt32
    public var appVersion: String
    /// The replica's HLC when it sent.
    public var clock: HLCTimestamp
    /// Consecutive actions of `replica`: their counters follow by one.
    public var actions: [Action]

    /// Makes a change set.
    public init(replica: ReplicaID, lastAppliedSequence: UInt64, schemaVersion: UInt32 = ChangeSetCodec.schemaVersion,
                appVersion: String, clock: HLCTimestamp, actions: [Action]) {
        self.replica = replica
        self.lastAppliedSequence = lastAppliedSequence
        self.schemaVersion = schemaVersion
        self.appVersion = appVersion
        self.clock = clock
        self.actions = actions
    }
}

/// Encodes change sets into the wire schema (Protocol/schema) and decodes them back, checking
/// every count, reference and string against `ProtocolLimits` before building anything.
public enum ChangeSetCodec {
    /// The body schema version this build writes (Protocol/README.md §6): 2 writes references
    /// inside a payload relative to the action's job.
    public static let schemaVersion: UInt32 = 2
    /// The body schema versions this build reads: a server answers each device in its own.
    public static let schemaVersionsRead: ClosedRange<UInt32> = 1...2

    /// A change set in its envelope, compressed with the preset dictionary unless told otherwise.
    public static func encode(_ changeSet: ChangeSet, compression: Compression = .zlibDictionary) throws(ProtocolError) -> [UInt8] {
        try Envelope(type: .pushRequest, body: encodeBody(changeSet), compression: compression).encoded()
    }

    /// Reads a change set from its envelope.
    public static func decode(_ wire: [UInt8]) throws(ProtocolError) -> ChangeSet {
        let envelope = try Envelope.decode(wire)
        guard envelope.type == .pushRequest else {
            throw ProtocolError(.unknownMessageType, "Expected a push request, got \(envelope.type).")
        }
        return try decodeBody(envelope.body)
    }

    /// The protobuf body of a change set.
    public static func encodeBody(_ changeSet: ChangeSet) throws(ProtocolError) -> [UInt8] {
        guard changeSet.actions.count <= ProtocolLimits.actionsPerMessageMax else {
            throw ProtocolError(.limitExceeded, "A change set carries at most \(ProtocolLimits.actionsPerMessageMax) actions; split it.")
        }
        for (offset, action) in changeSet.actions.enumerated() {
            guard action.dot.replica == changeSet.replica,
                  action.dot.counter == (changeSet.actions.first?.dot.counter ?? 0) + UInt64(offset) else {
                throw ProtocolError(.invalidValue, "A change set holds one replica's consecutive actions; action \(offset) breaks the sequence.")
            }
        }
        guard schemaVersionsRead.contains(changeSet.schemaVersion) else {
            throw ProtocolError(.unsupportedVersion, "Body schema \(changeSet.schemaVersion) is not one this build writes (\(schemaVersionsRead)).")
        }
        var tables = Interner()
        _ = tables.replica(changeSet.replica)
        var message = WireChangeSet()
        message.replica = Data(changeSet.replica.bytes)
        message.firstCounter = changeSet.actions.first?.dot.counter ?? 0
        message.lastAppliedSequence = changeSet.lastAppliedSequence
        message.schemaVersion = changeSet.schemaVersion
        message.appVersion = changeSet.appVersion
        message.clock = .with { $0.wallMillis = changeSet.clock.wallMillis; $0.logical = changeSet.clock.logical }
        message.actions = try ActionColumnsCodec.encode(changeSet.actions, tables: &tables, withDots: false, schema: changeSet.schemaVersion)
        message.interned = tables.wire
        do {
            return Array(try message.serializedData())
        } catch {
            throw ProtocolError(.invalidValue, "The change set could not be serialized: \(error)")
        }
    }

    /// Reads a change set body. Throws and builds nothing on any fault.
    public static func decodeBody(_ body: [UInt8]) throws(ProtocolError) -> ChangeSet {
        let message: WireChangeSet
        do {
            message = try WireChangeSet(serializedBytes: body)
        } catch {
            throw ProtocolError(.malformedBody, "The body is not a valid change set (\(error)).")
        }
        guard schemaVersionsRead.contains(message.schemaVersion) else {
            throw ProtocolError(.unsupportedVersion, "Body schema \(message.schemaVersion) is not supported; update the app (or the server).")
        }
        let tables = try Tables(message.interned)
        let replica = try Tables.replicaID(Array(message.replica))
        guard message.appVersion.utf8.count <= Limits.shortTextLengthMax else {
            throw ProtocolError(.limitExceeded, "The app version is longer than \(Limits.shortTextLengthMax) bytes.")
        }
        let actions = try ActionColumnsCodec.decode(message.actions, tables: tables, dots: .consecutive(replica: replica, first: message.firstCounter),
                                                   schema: message.schemaVersion)
        return ChangeSet(replica: replica, lastAppliedSequence: message.lastAppliedSequence, schemaVersion: message.schemaVersion,
                         appVersion: message.appVersion, clock: HLCTimestamp(wallMillis: message.clock.wallMillis, logical: message.clock.logical),
                         actions: actions)
    }
}

/// Interned tables being built by an encoder: each value gets the position of its first use.
struct Interner {
    private(set) var replicas: [ReplicaID] = []
    private var replicaPositions: [ReplicaID: UInt32] = [:]
    private(set) var users: [String] = []
    private var userPositions: [String: UInt32] = [:]
    private(set) var currencies: [String] = []
    private var currencyPositions: [String: UInt32] = [:]

    mutating func replica(_ replica: ReplicaID) -> UInt32 {
        if let position = replicaPositions[replica] { return position }
        replicas.append(replica)
        replicaPositions[replica] = UInt32(replicas.count - 1)
        return UInt32(replicas.count - 1)
    }

    mutating func user(_ user: UserID) -> UInt32 {
        if let position = userPositions[user.rawValue] { return position }
        users.append(user.rawValue)
        userPositions[user.rawValue] = UInt32(users.count - 1)
        return UInt32(users.count - 1)
    }

    mutating func currency(_ currency: Currency) -> UInt32 {
        if let position = currencyPositions[currency.code] { return position }
        currencies.append(currency.code)
        currencyPositions[currency.code] = UInt32(currencies.count - 1)
        return UInt32(currencies.count - 1)
    }

    mutating func ref(_ dot: Dot) -> WireRef {
        .with { $0.replica = replica(dot.replica); $0.counter = dot.counter }
    }

    /// A reference inside a payload (body schema 2, `job` set): one on the job's own replica is
    /// its counter minus the job's, which interns nothing (the job column already did).
    mutating func ref(_ dot: Dot, near job: JobID?) -> WireRef {
        guard let job, let step = Tables.jobStep(from: job, to: dot) else { return ref(dot) }
        return .with { $0.jobStep = step }
    }

    var wire: WireInterned {
        .with { table in
            table.replicas = replicas.map { Data($0.bytes) }
            table.users = users
            table.currencies = currencies
        }
    }
}

/// Interned tables read by a decoder, checked against the limits and for well-formed values.
struct Tables {
    let replicas: [ReplicaID]
    let users: [UserID]
    let currencies: [Currency]

    init(_ wire: WireInterned) throws(ProtocolError) {
        guard wire.replicas.count <= ProtocolLimits.internedReplicasMax, wire.users.count <= ProtocolLimits.internedValuesMax,
              wire.currencies.count <= ProtocolLimits.internedValuesMax else {
            throw ProtocolError(.limitExceeded, "An interned table is longer than the protocol allows.")
        }
        var replicas: [ReplicaID] = []
        for bytes in wire.replicas { replicas.append(try Tables.replicaID(Array(bytes))) }
        var users: [UserID] = []
        for user in wire.users {
            guard let id = try? UserID(user) else {
                throw ProtocolError(.invalidValue, "A user id is empty or longer than \(Limits.shortTextLengthMax) bytes.")
            }
            users.append(id)
        }
        var currencies: [Currency] = []
        for code in wire.currencies {
            guard let currency = try? Currency(code: code) else {
                throw ProtocolError(.invalidValue, "A currency is not a three-letter ISO 4217 code.")
            }
            currencies.append(currency)
        }
        self.replicas = replicas
        self.users = users
        self.currencies = currencies
    }

    static func replicaID(_ bytes: [UInt8]) throws(ProtocolError) -> ReplicaID {
        guard let replica = ReplicaID(bytes: bytes) else { throw ProtocolError(.invalidValue, "A replica id is 16 bytes.") }
        return replica
    }

    func replica(_ position: UInt32) throws(ProtocolError) -> ReplicaID {
        guard Int(position) < replicas.count else { throw ProtocolError(.badReference, "A replica reference points past the interned table.") }
        return replicas[Int(position)]
    }

    func user(_ position: UInt32) throws(ProtocolError) -> UserID {
        guard Int(position) < users.count else { throw ProtocolError(.badReference, "A user reference points past the interned table.") }
        return users[Int(position)]
    }

    func currency(_ position: UInt32) throws(ProtocolError) -> Currency {
        guard Int(position) < currencies.count else { throw ProtocolError(.badReference, "A currency reference points past the interned table.") }
        return currencies[Int(position)]
    }

    func dot(_ ref: WireRef) throws(ProtocolError) -> Dot {
        guard !ref.hasJobStep else {
            throw ProtocolError(.invalidValue, "Only a reference inside the payload of an action with a job, in body schema 2, may be relative to the job.")
        }
        return Dot(replica: try replica(ref.replica), counter: ref.counter)
    }

    /// A reference inside a payload; `job` is the action's job in body schema 2 (else nil).
    func dot(_ ref: WireRef, near job: JobID?) throws(ProtocolError) -> Dot {
        guard let job else { return try dot(ref) }
        guard ref.hasJobStep else {
            let dot = try dot(ref)
            guard Tables.jobStep(from: job, to: dot) == nil else {
                throw ProtocolError(.invalidValue, "A reference on the job's own replica must be written relative to the job (job_step).")
            }
            return dot
        }
        guard ref.replica == 0, ref.counter == 0 else {
            throw ProtocolError(.invalidValue, "A reference relative to the job gives no replica or counter of its own.")
        }
        guard let base = Int64(exactly: job.dot.counter) else {
            throw ProtocolError(.invalidValue, "A job id's counter is outside 1…2^63−1.")
        }
        let (counter, overflow) = base.addingReportingOverflow(ref.jobStep)
        guard !overflow, counter > 0 else {
            throw ProtocolError(.invalidValue, "A reference relative to the job comes to a counter outside 1…2^63−1.")
        }
        return Dot(replica: job.dot.replica, counter: UInt64(counter))
    }

    /// The step from a job to a dot on its own replica, when it is written that way: both
    /// counters at most 2^63−1, so the step fits (a job's counter always does on the wire).
    static func jobStep(from job: JobID, to dot: Dot) -> Int64? {
        guard dot.replica == job.dot.replica, let counter = Int64(exactly: dot.counter), let base = Int64(exactly: job.dot.counter) else { return nil }
        return counter - base
    }
}
