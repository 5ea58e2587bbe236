import LedgerCore

/// Where an encoder ends deflate blocks inside a large body (Protocol/README.md §3).
///
/// Deflate gives each block one Huffman table. A long body is a run of columns with very
/// different statistics (clock steps, job counters, payment codes, payloads), and zlib's own
/// block ends fall wherever its buffer fills, so one table serves two or three columns and fits
/// none. Ending a block where a column ends gives each column its own table: a 100,000-entry
/// backlog in pages of 5,000 goes from 8.76 to 8.28 bytes per entry. Small bodies keep one
/// block, since each block's table costs tens of bytes.
public enum DeflateBlocks {
    /// The field of the action columns inside a message of this type, if it has them.
    static func columnsField(of type: MessageType) -> UInt64? {
        switch type {
        case .pushRequest: 8
        case .pullPage: 3
        case .pushResponse, .pullRequest, .error: nil
        }
    }

    /// The offsets before which the encoder ends a block: each top-level field whose number
    /// differs from the field before it, and each field inside the action columns whose number
    /// differs from the one before it. None for a body under `sizeMin`
    /// (`ProtocolLimits.blockCutBodyBytesMin` unless a benchmark asks), and none if the body does not parse (an encoder
    /// only ever hands this well-formed bodies; the cuts never change what inflates).
    public static func cuts(in body: [UInt8], type: MessageType, sizeMin: Int = ProtocolLimits.blockCutBodyBytesMin) -> [Int] {
        guard body.count >= sizeMin else { return [] }
        let columns = columnsField(of: type)
        var cuts: [Int] = []
        var top = FieldWalker(body, from: 0, to: body.count)
        var previous: UInt64?
        while let field = top.next() {
            if let previous, previous != field.number { cuts.append(field.start) }
            previous = field.number
            guard field.number == columns, field.wireType == 2 else { continue }
            var inner = FieldWalker(body, from: field.contentStart, to: field.end)
            var previousColumn: UInt64?
            while let column = inner.next() {
                if let previousColumn, previousColumn != column.number { cuts.append(column.start) }
                previousColumn = column.number
            }
            guard inner.failed == false else { return [] }
        }
        return top.failed ? [] : cuts
    }
}

/// Steps over the fields of a Protocol Buffers message without decoding their values.
struct FieldWalker {
    struct Field {
        let number: UInt64
        let wireType: UInt64
        let start: Int
        let contentStart: Int
        let end: Int
    }

    private let bytes: [UInt8]
    private var at: Int
    private let end: Int
    /// The bytes stopped being a message before their end.
    private(set) var failed = false

    init(_ bytes: [UInt8], from start: Int, to end: Int) {
        self.bytes = bytes
        self.at = start
        self.end = end
    }

    /// The next field, or nil at the end or at the first malformed byte (then `failed`).
    mutating func next() -> Field? {
        guard at < end, !failed else { return nil }
        let start = at
        guard let key = varint() else { return fail() }
        let wireType = key & 7
        let contentStart: Int
        switch wireType {
        case 0:
            guard varint() != nil else { return fail() }
            contentStart = start
        case 1, 5:
            let size = wireType == 1 ? 8 : 4
            guard end - at >= size else { return fail() }
            contentStart = at
            at += size
        case 2:
            guard let length = varint(), length <= UInt64(end - at) else { return fail() }
            contentStart = at
            at += Int(length)
        default:
            return fail()
        }
        return Field(number: key >> 3, wireType: wireType, start: start, contentStart: contentStart, end: at)
    }

    private mutating func fail() -> Field? {
        failed = true
        return nil
    }

    private mutating func varint() -> UInt64? {
        readVarint(bytes[..<end], at: &at)
    }
}
