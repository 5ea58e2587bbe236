/// The kinds of message the envelope carries (Protocol/README.md "Message types").
public enum MessageType: UInt8, Hashable, Sendable, CaseIterable {
    case pushRequest = 1
    case pushResponse = 2
    case pullRequest = 3
    case pullPage = 4
    case error = 5
}

/// How an envelope's payload holds its body (Protocol/README.md §3).
public enum Compression: UInt8, Hashable, Sendable, CaseIterable {
    /// The body itself.
    case none = 0
    /// A zlib stream of the body.
    case zlib = 1
    /// A zlib stream primed with the protocol's preset dictionary: what encoders send.
    case zlibDictionary = 3

    /// The flag bits: bit 0 zlib, bit 1 the preset dictionary (only with bit 0).
    var flags: UInt8 { rawValue }
}

/// The versioned, checksummed and optionally compressed frame around every sync message.
///
/// Layout (big-endian), 20 bytes then the payload:
/// magic "FLCS" · version · type · flags (bit 0: zlib, bit 1: preset dictionary) · reserved 0 · body length (u32) ·
/// CRC-32 (u32) of header bytes 4–11 followed by the body · payload length (u32) · payload.
/// The checksum covers the type and lengths too, so a flipped header bit cannot turn one kind of
/// message into another.
public struct Envelope: Hashable, Sendable {
    /// "FLCS": FieldLedger change set.
    public static let magic: [UInt8] = [0x46, 0x4C, 0x43, 0x53]
    /// The only envelope version this build reads and writes.
    public static let version: UInt8 = 1

    public let type: MessageType
    /// The uncompressed body.
    public let body: [UInt8]
    /// How the payload holds the body.
    public let compression: Compression

    /// Makes an envelope around a body.
    public init(type: MessageType, body: [UInt8], compression: Compression = .zlibDictionary) {
        self.type = type
        self.body = body
        self.compression = compression
    }

    /// The bytes on the wire. Throws `bodyTooLarge` or `payloadTooLarge` when the message would
    /// break a limit the peer enforces.
    public func encoded() throws(ProtocolError) -> [UInt8] {
        guard body.count <= ProtocolLimits.bodyBytesMax else {
            throw ProtocolError(.bodyTooLarge, "The message body exceeds \(ProtocolLimits.bodyBytesMax) bytes; send fewer actions per change set.")
        }
        let payload = compression == .none ? body
            : Zlib.compress(body, dictionary: compression == .zlibDictionary, blockEnds: DeflateBlocks.cuts(in: body, type: type))
        guard payload.count <= ProtocolLimits.payloadBytesMax else {
            throw ProtocolError(.payloadTooLarge, "The payload exceeds \(ProtocolLimits.payloadBytesMax) bytes; send fewer actions per change set.")
        }
        var out = Envelope.magic + [Envelope.version, type.rawValue, compression.flags, 0]
        out.reserveCapacity(ProtocolLimits.headerBytes + payload.count)
        appendUInt32(UInt32(body.count), to: &out)
        appendUInt32(Envelope.checksum(header: out, body: body), to: &out)
        appendUInt32(UInt32(payload.count), to: &out)
        out += payload
        return out
    }

    /// Reads one envelope, checking every field and limit before inflating or allocating by a
    /// declared length. Throws a `ProtocolError` and returns nothing on any fault.
    public static func decode(_ bytes: [UInt8]) throws(ProtocolError) -> Envelope {
        guard bytes.count >= ProtocolLimits.headerBytes else {
            throw ProtocolError(.truncated, "The message is shorter than its \(ProtocolLimits.headerBytes)-byte header.")
        }
        guard Array(bytes[0..<4]) == magic else {
            throw ProtocolError(.badMagic, "This is not a FieldLedger sync message (the first four bytes are not FLCS).")
        }
        guard bytes[4] == version else {
            throw ProtocolError(.unsupportedVersion, "Envelope version \(bytes[4]) is not supported; this server speaks version \(version). Update the app.")
        }
        guard let type = MessageType(rawValue: bytes[5]) else {
            throw ProtocolError(.unknownMessageType, "Message type \(bytes[5]) is unknown to this version.")
        }
        guard let compression = Compression(rawValue: bytes[6]), bytes[7] == 0 else {
            throw ProtocolError(.badFlags, "The envelope sets flags or reserved bits this version does not define.")
        }
        let bodyLength = Int(readUInt32(bytes, at: 8))
        let checksum = readUInt32(bytes, at: 12)
        let payloadLength = Int(readUInt32(bytes, at: 16))
        guard bodyLength <= ProtocolLimits.bodyBytesMax else {
            throw ProtocolError(.bodyTooLarge, "The declared body exceeds \(ProtocolLimits.bodyBytesMax) bytes.")
        }
        guard payloadLength <= ProtocolLimits.payloadBytesMax else {
            throw ProtocolError(.payloadTooLarge, "The payload exceeds \(ProtocolLimits.payloadBytesMax) bytes.")
        }
        let available = bytes.count - ProtocolLimits.headerBytes
        guard available >= payloadLength else {
            throw ProtocolError(.truncated, "The message ends before its payload does.")
        }
        guard available == payloadLength else {
            throw ProtocolError(.trailingBytes, "Bytes follow the payload; a message is exactly its header and payload.")
        }
        let payload = Array(bytes[ProtocolLimits.headerBytes...])
        let body: [UInt8]
        if compression != .none {
            guard bodyLength <= max(1, payloadLength) * ProtocolLimits.compressionRatioMax else {
                throw ProtocolError(.compressionRatioExceeded, "The body would be more than \(ProtocolLimits.compressionRatioMax) times its compressed size; refused as a decompression bomb.")
            }
            body = try Zlib.inflate(payload, expectedLength: bodyLength, dictionary: compression == .zlibDictionary)
        } else {
            guard payloadLength == bodyLength else {
                throw ProtocolError(.lengthMismatch, "An uncompressed payload must be exactly the declared body length.")
            }
            body = payload
        }
        guard Envelope.checksum(header: bytes, body: body) == checksum else {
            throw ProtocolError(.checksumMismatch, "The body's CRC-32 does not match the header; the message was corrupted in transit. Send it again.")
        }
        return Envelope(type: type, body: body, compression: compression)
    }
}

extension Envelope {
    /// CRC-32 of header bytes 4–11 (version, type, flags, reserved, body length), then the body.
    static func checksum(header: [UInt8], body: [UInt8]) -> UInt32 {
        Zlib.crc32(Array(header[4..<12]) + body)
    }
}

private func appendUInt32(_ value: UInt32, to out: inout [UInt8]) {
    out += [UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
}

private func readUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
    UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
}
