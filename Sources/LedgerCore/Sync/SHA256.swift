/// SHA-256 (FIPS 180-4), written out so the core needs no crypto library.
///
/// Digests of jobs, of the log prefix and of the whole state use it because `hashValue` is
/// seeded per process and differs between runs and platforms.
public struct SHA256: Sendable {
    // Eight words in a tuple, not an array: an array would be allocated per hasher and
    // checked for bounds and uniqueness on every access of every block.
    private var state: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (
        0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19
    )
    private var buffer: [UInt8] = []
    private var lengthBytes: UInt64 = 0

    /// Compresses whole 64-byte blocks into the eight state words (a…h) exactly as the portable
    /// rounds below do: a processor's SHA instructions, which the core cannot reach itself.
    public typealias Blocks = @convention(c) (UnsafeMutablePointer<UInt32>, UnsafePointer<UInt8>, Int) -> Void

    // Set at most once, by a program's start before it hashes anything or starts a thread
    // (`install`); read on every block. The digests are the same with or without it, so the
    // rules stay deterministic (decision 0026).
    nonisolated(unsafe) private static var installedBlocks: Blocks?

    /// Has every later hash compress its blocks with `blocks`. Call once, first thing in a
    /// program's start, before any hashing or thread; `blocks` must give the portable rounds'
    /// state for every input.
    public static func install(_ blocks: Blocks) {
        installedBlocks = blocks
    }

    /// How this hasher compresses blocks: the installed function, or nil for the portable rounds.
    private let blocks: Blocks?

    /// Starts an empty hash.
    public init() {
        self.init(blocks: SHA256.installedBlocks)
    }

    /// Starts an empty hash that compresses with `blocks` (nil: the portable rounds), whatever
    /// is installed: tests hold the two to the same digests.
    public init(blocks: Blocks?) {
        self.blocks = blocks
        buffer.reserveCapacity(64)
    }

    /// The digest of `bytes` in one call.
    public static func hash<Bytes: Sequence>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// Feeds more bytes.
    public mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        if bytes.withContiguousStorageIfAvailable({ update(contiguous: $0) }) == nil {
            Array(bytes).withUnsafeBufferPointer { update(contiguous: $0) }
        }
    }

    /// Whole blocks straight from the input; only a partial block goes through `buffer`.
    private mutating func update(contiguous input: UnsafeBufferPointer<UInt8>) {
        lengthBytes &+= UInt64(input.count)
        var index = 0
        if !buffer.isEmpty {
            index = min(64 - buffer.count, input.count)
            buffer.append(contentsOf: input[0..<index])
            guard buffer.count == 64 else { return }
            flushBuffer()
        }
        let wholeBlocks = (input.count - index) / 64
        if wholeBlocks > 0, let blocks {
            withStateWords { blocks($0, input.baseAddress! + index, wholeBlocks) }
            index += 64 * wholeBlocks
        }
        while input.count - index >= 64 {
            compress(UnsafeBufferPointer(rebasing: input[index..<(index + 64)]))
            index += 64
        }
        buffer.append(contentsOf: input[index...])
    }

    private mutating func flushBuffer() {
        let block = buffer
        block.withUnsafeBufferPointer { compress($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    /// The 32-byte digest; the hasher should not be used afterwards.
    public mutating func finalize() -> [UInt8] {
        let bitLength = lengthBytes &* 8
        buffer.append(0x80)
        if buffer.count > 56 {
            while buffer.count < 64 { buffer.append(0) }
            flushBuffer()
        }
        while buffer.count < 56 { buffer.append(0) }
        for shift in stride(from: 56, through: 0, by: -8) { buffer.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }
        flushBuffer()
        var digest: [UInt8] = []
        digest.reserveCapacity(32)
        for word in [state.0, state.1, state.2, state.3, state.4, state.5, state.6, state.7] {
            digest.append(UInt8(truncatingIfNeeded: word &>> 24))
            digest.append(UInt8(truncatingIfNeeded: word &>> 16))
            digest.append(UInt8(truncatingIfNeeded: word &>> 8))
            digest.append(UInt8(truncatingIfNeeded: word))
        }
        return digest
    }

    /// The eight state words as one run (a tuple of one type is laid out as an array is).
    private mutating func withStateWords(_ body: (UnsafeMutablePointer<UInt32>) -> Void) {
        withUnsafeMutablePointer(to: &state) { tuple in
            tuple.withMemoryRebound(to: UInt32.self, capacity: 8) { body($0) }
        }
    }

    private mutating func compress(_ block: UnsafeBufferPointer<UInt8>) {
        if let blocks {
            withStateWords { blocks($0, block.baseAddress!, 1) }
            return
        }
        // The portable rounds (FIPS 180-4 §6.2.2).
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
            let raw = UnsafeRawBufferPointer(block)
            for i in 0..<16 { w[i] = UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
            var (a, b, c, d, e, f, g, h) = state
            // The message schedule is extended inside the rounds (each word is made just before
            // its round needs it, still in cache), and choice and majority take one operation
            // fewer each: ~1.6× the throughput of a schedule built first (measured on this host).
            SHA256.k.withUnsafeBufferPointer { k in
                for i in 0..<64 {
                    if i >= 16 {
                        let x = w[i - 15], y = w[i - 2]
                        let s0 = x.rotatedRight(7) ^ x.rotatedRight(18) ^ (x &>> 3)
                        let s1 = y.rotatedRight(17) ^ y.rotatedRight(19) ^ (y &>> 10)
                        w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
                    }
                    let s1 = e.rotatedRight(6) ^ e.rotatedRight(11) ^ e.rotatedRight(25)
                    let choice = g ^ (e & (f ^ g))
                    let t1 = h &+ s1 &+ choice &+ k[i] &+ w[i]
                    let s0 = a.rotatedRight(2) ^ a.rotatedRight(13) ^ a.rotatedRight(22)
                    let majority = (a & b) | (c & (a | b))
                    let t2 = s0 &+ majority
                    h = g; g = f; f = e; e = d &+ t1; d = c; c = b; b = a; a = t1 &+ t2
                }
            }
            state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d, state.4 &+ e, state.5 &+ f, state.6 &+ g, state.7 &+ h)
        }
    }

    private static let k: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ]
}

extension UInt32 {
    fileprivate func rotatedRight(_ count: UInt32) -> UInt32 { (self &>> count) | (self &<< (32 &- count)) }
}

/// Lowercase hexadecimal, for printing digests.
public func hexString(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef")
    var out = ""
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0f)])
    }
    return out
}
