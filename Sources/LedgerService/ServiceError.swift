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
}
