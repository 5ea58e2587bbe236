/// The one error type of the wire format: a stable code (also sent to the peer) and a message
/// that says what was wrong. Decoding that throws has produced nothing.
public struct ProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of problem this is; the raw values are the codes in Protocol/README.md.
    public struct Code: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let truncated = Code(rawValue: "truncated")
        public static let badMagic = Code(rawValue: "bad_magic")
        public static let unsupportedVersion = Code(rawValue: "unsupported_version")
        public static let unknownMessageType = Code(rawValue: "unknown_message_type")
        public static let badFlags = Code(rawValue: "bad_flags")
        public static let payloadTooLarge = Code(rawValue: "payload_too_large")
        public static let bodyTooLarge = Code(rawValue: "body_too_large")
        public static let compressionRatioExceeded = Code(rawValue: "compression_ratio_exceeded")
        public static let decompressionFailed = Code(rawValue: "decompression_failed")
        public static let lengthMismatch = Code(rawValue: "length_mismatch")
        public static let checksumMismatch = Code(rawValue: "checksum_mismatch")
        public static let trailingBytes = Code(rawValue: "trailing_bytes")
        public static let malformedBody = Code(rawValue: "malformed_body")
        public static let limitExceeded = Code(rawValue: "limit_exceeded")
        public static let badReference = Code(rawValue: "bad_reference")
        public static let columnMismatch = Code(rawValue: "column_mismatch")
        public static let invalidValue = Code(rawValue: "invalid_value")
    }

    public var code: Code
    public var message: String

    /// Makes an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
