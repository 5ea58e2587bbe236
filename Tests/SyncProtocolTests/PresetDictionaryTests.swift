import Foundation
import LedgerCore
import SyncProtocol
import Testing

@Suite("The preset dictionary, version 1")
struct PresetDictionaryTests {
    @Test("The embedded dictionary is Protocol/dictionary/v1.bin, byte for byte, with the digest the spec gives")
    func frozen() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Protocol/dictionary/v1.bin")
        let file = Array(try Data(contentsOf: url))
        #expect(PresetDictionary.bytes == file)
        #expect(PresetDictionary.bytes.count == PresetDictionary.sizeBytes)
        // Version 1 never changes once devices have it: Protocol/README.md §3 gives this digest.
        #expect(SHA256.hash(PresetDictionary.bytes).map { String(format: "%02x", $0) }.joined()
                == "5e963558208291e702ca29225e6cb208260786d9f983affc7fd4d266be948471")
        #expect(PresetDictionary.adler32 == 0xcda110a5)
    }

    @Test("A message primed with the dictionary is smaller than plain zlib, and each decodes only as announced")
    func smallerAndStrict() throws {
        let body = Array("recordPayment card Deposit Final Payment Progress Payment Thirds 50/50 Split".utf8)
        let primed = Zlib.compress(body, dictionary: true)
        let plain = Zlib.compress(body)
        #expect(primed.count < plain.count)
        #expect(try Zlib.inflate(primed, expectedLength: body.count, dictionary: true) == body)
        #expect(throws: ProtocolError.self) { try Zlib.inflate(primed, expectedLength: body.count) }
        #expect(throws: ProtocolError.self) { try Zlib.inflate(plain, expectedLength: body.count, dictionary: true) }
    }
}
