/// JSON written straight into bytes, as Foundation's `JSONEncoder` with sorted keys writes it
/// (no spaces; `"`, `\` and `/` escaped; control characters as `\b \t \n \f \r` or `\u00xx`;
/// everything else as its UTF-8), for reports too large for the encoder: it builds a tree of
/// every value first, and a 50,000-job company's outstanding draws took seconds and half a
/// gigabyte that way.
///
/// The caller writes keys in sorted order; tests hold each writer to the encoder's bytes.
struct JSONBytes {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// `"key":`, with a comma first unless it opens the object; keys are plain ASCII.
    mutating func key(_ key: StaticString, first: Bool = false) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    mutating func int<Value: BinaryInteger>(_ value: Value) { appendDecimal(value, to: &bytes) }

    mutating func string(_ text: String) {
        var text = text
        text.withUTF8 { string($0) }
    }

    mutating func string(_ utf8: UnsafeBufferPointer<UInt8>) {
        bytes.append(UInt8(ascii: "\""))
        var plainFrom = 0
        for (index, byte) in utf8.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "/") {
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[plainFrom..<index]))
            plainFrom = index + 1
            bytes.append(UInt8(ascii: "\\"))
            switch byte {
            case 0x08: bytes.append(UInt8(ascii: "b"))
            case 0x09: bytes.append(UInt8(ascii: "t"))
            case 0x0A: bytes.append(UInt8(ascii: "n"))
            case 0x0C: bytes.append(UInt8(ascii: "f"))
            case 0x0D: bytes.append(UInt8(ascii: "r"))
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): bytes.append(byte)
            default:
                let hex: StaticString = "0123456789abcdef"
                bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                          hex.utf8Start[Int(byte >> 4)], hex.utf8Start[Int(byte & 0xF)]])
            }
        }
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[plainFrom...]))
        bytes.append(UInt8(ascii: "\""))
    }

    /// A dot as its `Codable` form: `{"counter":…,"replica":"…"}`.
    mutating func dot(_ dot: Dot) {
        bytes.append(UInt8(ascii: "{"))
        key("counter", first: true)
        int(dot.counter)
        key("replica")
        string(dot.replica.description)
        bytes.append(UInt8(ascii: "}"))
    }

    mutating func date(_ date: CalendarDate) {
        bytes.append(UInt8(ascii: "\""))
        date.appendISO(to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }
}

/// Appends a whole number's decimal digits (and a minus sign) to `bytes`, written from the right
/// in place, without a `String`.
func appendDecimal<Value: BinaryInteger>(_ value: Value, to bytes: inout [UInt8]) {
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { buffer in
        var at = buffer.count, rest = value.magnitude
        repeat {
            at -= 1
            buffer[at] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest % 10)
            rest /= 10
        } while rest > 0
        if value < 0 {
            at -= 1
            buffer[at] = UInt8(ascii: "-")
        }
        bytes.append(contentsOf: buffer[at...])
    }
}
