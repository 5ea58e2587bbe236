/// What a user may do: technicians work on site, office roles run the company's books.
public enum Role: String, Hashable, Comparable, Sendable, Codable, CaseIterable {
    case technician
    case office
    case owner

    /// Office and owner manage settings, approve change orders and edit locked plans.
    public var isOffice: Bool { self != .technician }

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A user of the company, as the server registered them.
public struct UserID: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String

    /// Makes a user id; throws `labelInvalid` when empty or longer than `Limits.shortTextLengthMax`.
    public init(_ rawValue: String) throws(LedgerError) {
        guard !rawValue.isEmpty, rawValue.utf8.count <= Limits.shortTextLengthMax else {
            throw LedgerError(.labelInvalid, "A user id must be 1 to \(Limits.shortTextLengthMax) bytes.")
        }
        self.rawValue = rawValue
    }

    public static func < (lhs: UserID, rhs: UserID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { rawValue }
}

/// Who performed an action: the user and the role their device token carries.
public struct Actor: Hashable, Sendable, Codable {
    public let user: UserID
    public let role: Role

    /// Makes an actor.
    public init(user: UserID, role: Role) {
        self.user = user
        self.role = role
    }
}

/// A hybrid logical clock reading: wall-clock milliseconds plus a logical counter.
///
/// It orders events for people (display, "which payment covered which row") and never decides
/// which side of a conflict wins money. The clock rules arrive with the sync core.
public struct HLCTimestamp: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01T00:00:00Z as the clock believed.
    public let wallMillis: Int64
    /// Breaks ties between readings in the same millisecond.
    public let logical: UInt32

    /// Makes a reading.
    public init(wallMillis: Int64, logical: UInt32 = 0) {
        self.wallMillis = wallMillis
        self.logical = logical
    }

    public static func < (lhs: HLCTimestamp, rhs: HLCTimestamp) -> Bool {
        (lhs.wallMillis, lhs.logical) < (rhs.wallMillis, rhs.logical)
    }

    public var description: String { "\(wallMillis).\(logical)" }
}
