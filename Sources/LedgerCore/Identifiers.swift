/// A replica (a device, or the server acting for the office): a UUID registered with the server.
///
/// Stored as two 64-bit halves so the core needs no Foundation; ordered by its bytes, which
/// is the order used to break ties between replicas.
public struct ReplicaID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let high: UInt64
    public let low: UInt64

    /// Makes a replica id from the two halves of its 128 bits.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Reads the canonical hyphenated form, "6f1c2b3a-0d4e-4f5a-9b6c-7d8e9fa0b1c2".
    public init(uuidString: String) throws(LedgerError) {
        var text = uuidString
        let parsed = text.withUTF8 { $0.count == 36 ? ReplicaID.parseUUID($0, from: 0) : nil }
        guard let parsed else {
            throw LedgerError(.idMalformed, "A replica id is a UUID such as 6f1c2b3a-0d4e-4f5a-9b6c-7d8e9fa0b1c2.")
        }
        self = parsed
    }

    /// The UUID whose 36 characters start at `start` in `bytes` (hex digits in either case,
    /// dashes after the 8th, 12th, 16th and 20th); nil unless all 36 are there and well-formed.
    ///
    /// Read in place: ids are parsed for every stored and received action, and a 36-byte
    /// `String` made first would be an allocation each time.
    static func parseUUID(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> ReplicaID? {
        guard start >= 0, bytes.count - start >= 36 else { return nil }
        var high: UInt64 = 0, low: UInt64 = 0, digits = 0
        for index in 0..<36 {
            let byte = bytes[start + index]
            if index == 8 || index == 13 || index == 18 || index == 23 {
                guard byte == UInt8(ascii: "-") else { return nil }
                continue
            }
            let nibble: UInt8
            if byte &- UInt8(ascii: "0") < 10 {
                nibble = byte &- UInt8(ascii: "0")
            } else if (byte | 0x20) &- UInt8(ascii: "a") < 6 {
                nibble = (byte | 0x20) &- UInt8(ascii: "a") + 10
            } else {
                return nil
            }
            if digits < 16 { high = high << 4 | UInt64(nibble) } else { low = low << 4 | UInt64(nibble) }
            digits += 1
        }
        return ReplicaID(high: high, low: low)
    }

    /// Reads the 16 bytes of the UUID, most significant first; nil unless exactly 16.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        let all = Array(bytes)
        self.init(high: all[0..<8].reduce(0) { $0 << 8 | UInt64($1) }, low: all[8..<16].reduce(0) { $0 << 8 | UInt64($1) })
    }

    /// The 16 bytes of the UUID, most significant first (the wire and the stores use them).
    public var bytes: [UInt8] {
        (0..<16).map { UInt8(truncatingIfNeeded: ($0 < 8 ? high : low) >> UInt64(56 - 8 * ($0 % 8))) }
    }

    public static func < (lhs: ReplicaID, rhs: ReplicaID) -> Bool { (lhs.high, lhs.low) < (rhs.high, rhs.low) }

    /// The canonical lowercase hyphenated form.
    public var description: String {
        String(unsafeUninitializedCapacity: 36) { buffer in
            var at = 0
            for nibble in 0..<32 {
                if nibble == 8 || nibble == 12 || nibble == 16 || nibble == 20 { buffer[at] = UInt8(ascii: "-"); at += 1 }
                let half = nibble < 16 ? high : low
                let value = UInt8(truncatingIfNeeded: half >> UInt64(60 - 4 * (nibble % 16))) & 0xF
                buffer[at] = value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
                at += 1
            }
            return at
        }
    }
}

extension ReplicaID: Codable {
    public init(from decoder: any Decoder) throws {
        try self.init(uuidString: decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// An action's identity: the replica that made it and that replica's gap-free counter.
///
/// Also the id of whatever the action created (a job, a payment, a plan): compact and minted
/// offline without coordination (DESIGN §4).
public struct Dot: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let replica: ReplicaID
    public let counter: UInt64

    /// Makes a dot.
    public init(replica: ReplicaID, counter: UInt64) {
        self.replica = replica
        self.counter = counter
    }

    public static func < (lhs: Dot, rhs: Dot) -> Bool { (lhs.replica, lhs.counter) < (rhs.replica, rhs.counter) }

    public var description: String { "\(replica)#\(counter)" }
}

/// Declares a typed id wrapping the dot of the action that created the entity.
public protocol DotIdentifier: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    var dot: Dot { get }
    init(_ dot: Dot)
}

extension DotIdentifier {
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.dot < rhs.dot }
    public var description: String { dot.description }
}

/// A job: the unit of work that carries one invoice and at most one active plan.
public struct JobID: DotIdentifier { public let dot: Dot; public init(_ dot: Dot) { self.dot = dot } }
/// A payment collected on a job.
public struct PaymentID: DotIdentifier { public let dot: Dot; public init(_ dot: Dot) { self.dot = dot } }
/// A refund of (part of) one payment.
public struct RefundID: DotIdentifier { public let dot: Dot; public init(_ dot: Dot) { self.dot = dot } }
/// A change order on a job's invoice.
public struct ChangeOrderID: DotIdentifier { public let dot: Dot; public init(_ dot: Dot) { self.dot = dot } }
/// A saved plan (each save of a new plan mints one).
public struct PlanID: DotIdentifier { public let dot: Dot; public init(_ dot: Dot) { self.dot = dot } }

/// An installment row: the dot of the save that created the row plus its position in that save,
/// so rows keep their ids when labels or due dates change.
public struct InstallmentID: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let origin: Dot
    public let index: Int

    /// Makes a row id.
    public init(origin: Dot, index: Int) {
        self.origin = origin
        self.index = index
    }

    public static func < (lhs: InstallmentID, rhs: InstallmentID) -> Bool { (lhs.origin, lhs.index) < (rhs.origin, rhs.index) }

    public var description: String { "\(origin)/\(index)" }
}
