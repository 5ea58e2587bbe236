import LedgerCore
import LedgerTestSupport
import SyncProtocol
import Testing

@Suite("SHA-256 with the processor's instructions gives the portable rounds' digests")
struct HardwareSHA256Tests {
    static func digest(_ bytes: [UInt8], blocks: SHA256.Blocks?, pieces: [Int] = []) -> String {
        var hasher = SHA256(blocks: blocks)
        var start = 0
        for piece in pieces where start + piece <= bytes.count {
            hasher.update(bytes[start..<(start + piece)])
            start += piece
        }
        hasher.update(bytes[start...])
        return hexString(hasher.finalize())
    }

    @Test("FIPS 180-4's examples, both ways", .enabled(if: HardwareSHA256.isAvailable, "this processor has no SHA instructions"))
    func knownDigests() {
        let examples: [(String, String)] = [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ]
        for (text, expected) in examples {
            #expect(Self.digest(Array(text.utf8), blocks: HardwareSHA256.blocks) == expected, "\(text)")
            #expect(Self.digest(Array(text.utf8), blocks: nil) == expected, "\(text)")
        }
        let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(Self.digest(million, blocks: HardwareSHA256.blocks) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("Seeded inputs of every length up to five blocks, fed whole and in uneven pieces, give the same digests both ways",
          .enabled(if: HardwareSHA256.isAvailable, "this processor has no SHA instructions"))
    func sameAsPortable() {
        var rng = SeededRandom(seed: 26)
        for length in 0...320 {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let pieces = (0..<4).map { _ in rng.int(in: 0...130) }
            let portable = Self.digest(bytes, blocks: nil)
            #expect(Self.digest(bytes, blocks: HardwareSHA256.blocks) == portable, "length \(length)")
            #expect(Self.digest(bytes, blocks: HardwareSHA256.blocks, pieces: pieces) == portable, "length \(length) in pieces \(pieces)")
        }
    }
}
