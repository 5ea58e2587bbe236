/// Integers at a fixed bit width above their minimum (`PackedColumn`, Protocol/README.md §8).
///
/// Varints spend whole bytes, and zlib cannot squeeze the noise in their low bits: a clock step
/// of about 750,000 ms takes 3 bytes as a varint and about 2.4 packed (measured with
/// `protocol-bench`). Fields run end to end from the lowest bit of the first byte.
enum PackedColumnCodec {
    static func encode(_ values: [Int64]) -> WirePackedColumn {
        guard let low = values.min(), let high = values.max() else { return WirePackedColumn() }
        // The true span is below 2^64, so the wrapped difference is exact as an unsigned number.
        let span = UInt64(bitPattern: high &- low)
        let width = span == 0 ? 0 : 64 - span.leadingZeroBitCount
        var bits = [UInt8](repeating: 0, count: (values.count * width + 7) / 8)
        var position = 0
        for value in values {
            let field = UInt64(bitPattern: value &- low)
            for bit in 0..<width where field >> UInt64(bit) & 1 == 1 {
                bits[(position + bit) >> 3] |= 1 << UInt8((position + bit) & 7)
            }
            position += width
        }
        var column = WirePackedColumn()
        column.base = low
        column.width = UInt32(width)
        column.bits = .init(bits)
        return column
    }

    /// The `count` values of a column; refuses a wrong length, an overflow and any encoding but
    /// the canonical one, before allocating more than `count` values.
    static func decode(_ column: WirePackedColumn, count: Int) throws(ProtocolError) -> [Int64] {
        guard count > 0 else {
            guard column.base == 0, column.width == 0, column.bits.isEmpty else {
                throw ProtocolError(.invalidValue, "A packed column with no values must be empty.")
            }
            return []
        }
        guard column.width <= 64 else { throw ProtocolError(.invalidValue, "A packed column is wider than 64 bits.") }
        let width = Int(column.width)
        guard column.bits.count == (count * width + 7) / 8 else {
            throw ProtocolError(.columnMismatch, "A packed column's length does not match its count and width.")
        }
        let bits = Array(column.bits)
        if (count * width) % 8 != 0, bits[bits.count - 1] >> UInt8((count * width) % 8) != 0 {
            throw ProtocolError(.invalidValue, "A packed column sets bits past its last value.")
        }
        var values: [Int64] = []
        values.reserveCapacity(count)
        var smallest = UInt64.max, largest: UInt64 = 0
        for index in 0..<count {
            let field = read(bits, at: index * width, width: width)
            smallest = min(smallest, field)
            largest = max(largest, field)
            guard let value = Int64(exactly: Int128(column.base) + Int128(field)) else {
                throw ProtocolError(.invalidValue, "A packed value overflows 64 bits.")
            }
            values.append(value)
        }
        guard smallest == 0, width == (largest == 0 ? 0 : 64 - largest.leadingZeroBitCount) else {
            throw ProtocolError(.invalidValue, "A packed column is not in its canonical form (base = smallest value, width = bit length of the span).")
        }
        return values
    }

    private static func read(_ bits: [UInt8], at start: Int, width: Int) -> UInt64 {
        guard width > 0 else { return 0 }
        var field: UInt64 = 0
        var taken = 0
        var byte = start >> 3, shift = start & 7
        while taken < width {
            let available = 8 - shift
            let chunk = UInt64(bits[byte] >> UInt8(shift))
            field |= chunk << UInt64(taken)
            taken += available
            byte += 1
            shift = 0
        }
        return width == 64 ? field : field & (1 << UInt64(width) - 1)
    }
}
