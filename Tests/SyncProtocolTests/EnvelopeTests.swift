import Foundation
import SyncProtocol
import Testing

/// The golden vectors of Protocol/vectors/envelope.json, written by an independent Python
/// implementation of the envelope.
struct VectorFile: Decodable {
    struct Expectation: Decodable {
        let type: UInt8
        let compressed: Bool
        /// Set when the zlib stream uses the preset dictionary.
        let dictionary: Bool?
        let body: String

        var compression: Compression { compressed ? (dictionary == true ? .zlibDictionary : .zlib) : .none }
    }

    struct Vector: Decodable, CustomStringConvertible {
        let name: String
        let what: String
        let hex: String
        let expect: Expectation?
        let error: String?
        var description: String { name }
    }

    let vectors: [Vector]

    static func load() throws -> [Vector] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Protocol/vectors/envelope.json")
        return try JSONDecoder().decode(VectorFile.self, from: Data(contentsOf: url)).vectors
    }
}

func bytes(hex: String) -> [UInt8] {
    var out: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        out.append(UInt8(hex[index..<next], radix: 16)!)
        index = next
    }
    return out
}

@Suite("The envelope: framing, checksum, bounded inflate")
struct EnvelopeTests {
    @Test("Valid vectors decode to their body and re-encode byte for byte", arguments: try VectorFile.load().filter { $0.expect != nil })
    func validVectors(vector: VectorFile.Vector) throws {
        let wire = bytes(hex: vector.hex)
        let envelope = try Envelope.decode(wire)
        let expect = try #require(vector.expect)
        #expect(envelope.type.rawValue == expect.type)
        #expect(envelope.compression == expect.compression)
        #expect(envelope.body == bytes(hex: expect.body))
        #expect(try envelope.encoded() == wire, "re-encoding \(vector.name) must give the same bytes")
    }

    @Test("Invalid vectors fail with their specified code and no result", arguments: try VectorFile.load().filter { $0.error != nil })
    func invalidVectors(vector: VectorFile.Vector) throws {
        do {
            let envelope = try Envelope.decode(bytes(hex: vector.hex))
            Issue.record("\(vector.name) decoded to a \(envelope.type) message; expected \(vector.error!)")
        } catch {
            #expect(error.code.rawValue == vector.error, "\(vector.name): \(vector.what)")
        }
    }

    @Test("The vector file covers every message type and every error code the envelope defines")
    func coverage() throws {
        let vectors = try VectorFile.load()
        let codes: [ProtocolError.Code] = [.truncated, .badMagic, .unsupportedVersion, .unknownMessageType, .badFlags, .payloadTooLarge, .bodyTooLarge,
                                           .compressionRatioExceeded, .decompressionFailed, .lengthMismatch, .checksumMismatch, .trailingBytes]
        #expect(Set(vectors.compactMap(\.error)) == Set(codes.map(\.rawValue)))
    }

    @Test("Random bodies round-trip, compressed or not, for every message type")
    func roundTrip() throws {
        var state: UInt64 = 0x5eed
        func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 33 }
        for seed in 0..<300 {
            let length = Int(next() % 5_000)
            let alphabet = Int(next() % 255) + 1
            let body = (0..<length).map { _ in UInt8(next() % UInt64(alphabet)) }
            for type in MessageType.allCases {
                let envelope = Envelope(type: type, body: body, compression: Compression.allCases[seed % 3])
                let decoded = try Envelope.decode(try envelope.encoded())
                #expect(decoded == envelope, "seed \(seed)")
            }
        }
    }

    @Test("Every truncation and every single-bit flip of a compressed message is refused, never misread")
    func truncationsAndFlips() throws {
        let body = Array("pull page: ".utf8) + (0..<400).flatMap { Array("entry \($0) recordPayment 1250.00 USD;".utf8) }
        let wire = try Envelope(type: .pullPage, body: body).encoded()
        for cut in 0..<wire.count {
            #expect(throws: ProtocolError.self, "cut at \(cut)") { try Envelope.decode(Array(wire[..<cut])) }
        }
        let original = try Envelope.decode(wire)
        var misread: [Int] = []
        var harmless = 0
        for position in 0..<wire.count {
            for bit in 0..<8 {
                var flipped = wire
                flipped[position] ^= UInt8(1 << bit)
                guard let decoded = try? Envelope.decode(flipped) else { continue }
                // Deflate pads its last byte with bits zlib ignores: such a flip gives back the
                // very same message, which is fine. Any other message would be a misreading.
                if decoded == original { harmless += 1 } else { misread.append(position) }
            }
        }
        #expect(misread.isEmpty, "corrupted bytes decoded to another message at \(misread)")
        #expect(harmless <= 7, "only padding bits of the last deflate byte may be ignored")
    }

    @Test("A body over the limit cannot be encoded")
    func encodeLimits() {
        #expect(throws: ProtocolError.self) { try Envelope(type: .pushRequest, body: [UInt8](repeating: 1, count: ProtocolLimits.bodyBytesMax + 1)).encoded() }
    }
}
