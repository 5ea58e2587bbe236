/// A table rendered as RFC 4180 CSV.
///
/// The cells are kept as one run of UTF-8 bytes with a mark per cell: a large company's report
/// is over a million cells, and a `String` per cell (and an array per row) was most of the cost
/// of building the table and of printing it for people.
public struct CSVTable: Hashable, Sendable {
    /// A cell: text is escaped against spreadsheet formulas, numbers are written as they are.
    public enum Cell: Hashable, Sendable {
        case text(String)
        case number(String)

        /// The cell as written, for a table shown to people.
        public var plain: String {
            switch self {
            case .text(let text), .number(let text): text
            }
        }
    }

    public let header: [String]
    /// Every cell's UTF-8 bytes, row after row.
    public let cellBytes: [UInt8]
    /// Per cell: where its bytes end in `cellBytes`, shifted left by `markBits`, and its flags.
    private let marks: [UInt64]

    private static let markBits: UInt64 = 2
    private static let numberFlag: UInt64 = 1
    private static let notASCIIFlag: UInt64 = 2

    /// Makes a table; every row has a cell per column.
    public init(header: [String], rows: [[Cell]]) {
        precondition(rows.allSatisfy { $0.count == header.count }, "a report row has a cell per column")
        var builder = Builder(cells: rows.count * header.count, bytes: 0)
        for row in rows { for cell in row { builder.append(cell) } }
        self = builder.table(header: header)
    }

    fileprivate init(header: [String], cellBytes: [UInt8], marks: [UInt64]) {
        precondition(header.isEmpty ? marks.isEmpty : marks.count % header.count == 0, "a report row has a cell per column")
        self.header = header
        self.cellBytes = cellBytes
        self.marks = marks
    }

    /// How many rows the table has.
    public var rowCount: Int { header.isEmpty ? 0 : marks.count / header.count }

    /// How many cells the table has (rows times columns).
    public var cellCount: Int { marks.count }

    /// Where cell `index` (counted row after row) lies in `cellBytes`.
    public func range(ofCell index: Int) -> Range<Int> {
        (index == 0 ? 0 : Int(marks[index - 1] >> Self.markBits))..<Int(marks[index] >> Self.markBits)
    }

    /// Whether cell `index` is all ASCII (its width on screen is then its length in bytes).
    public func isASCII(cell index: Int) -> Bool { marks[index] & Self.notASCIIFlag == 0 }

    /// Cell `index`, counted row after row.
    public subscript(cell index: Int) -> Cell {
        let text = String(decoding: cellBytes[range(ofCell: index)], as: UTF8.self)
        return marks[index] & Self.numberFlag != 0 ? .number(text) : .text(text)
    }

    /// The cells, row after row.
    public var cells: [Cell] { (0..<cellCount).map { self[cell: $0] } }

    /// The cells of each row.
    public var rows: [[Cell]] {
        (0..<rowCount).map { row in (row * header.count..<(row + 1) * header.count).map { self[cell: $0] } }
    }

    /// The CSV text, one line per row, each line ending in "\n".
    public func render() -> String { String(decoding: csvBytes(), as: UTF8.self) }

    /// The CSV's UTF-8 bytes, one line per row, each line ending in "\n", written straight from
    /// the cells' bytes (a `String` per cell made a large company's CSV cost three times its
    /// table for people).
    ///
    /// A field holding a comma, a double quote, a line feed or a carriage return is quoted, its
    /// quotes doubled; a text cell whose first character is `=`, `+`, `-`, `@`, a tab or a
    /// carriage return gets a leading apostrophe, so a spreadsheet does not run it as a formula.
    /// Both are decided on bytes (the characters involved are all ASCII), so a line break
    /// written CR LF or a mark combined with the first character is caught as well.
    public func csvBytes() -> [UInt8] { csvBytes(header: true) }

    /// `csvBytes()`, or only the rows' lines when `header` is false (a later part of a table
    /// printed in parts).
    public func csvBytes(header: Bool) -> [UInt8] {
        let headerBytes = header ? self.header.map { Array($0.utf8) } : []
        // At most: every byte a doubled quote, three more per field (two quotes, an apostrophe)
        // and a separator or line end. Capacity not written is never touched.
        let capacity = 2 * (cellBytes.count + headerBytes.reduce(0) { $0 + $1.count }) + 4 * (marks.count + headerBytes.count) + 1
        return [UInt8](unsafeUninitializedCapacity: capacity) { out, count in
            var at = 0
            for (column, name) in headerBytes.enumerated() {
                if column > 0 { out[at] = CSVTable.comma; at += 1 }
                name.withUnsafeBufferPointer { at = CSVTable.writeField($0, defusing: false, to: out, at: at) }
            }
            if header {
                out[at] = CSVTable.lineFeed
                at += 1
            }
            let columns = self.header.count
            cellBytes.withUnsafeBufferPointer { all in
                var start = 0, column = 0
                for mark in marks {
                    let end = Int(mark >> CSVTable.markBits)
                    let cell = UnsafeBufferPointer(rebasing: all[start..<end])
                    if column > 0 { out[at] = CSVTable.comma; at += 1 }
                    if mark & CSVTable.numberFlag != 0 {
                        if let base = cell.baseAddress, !cell.isEmpty { (out.baseAddress! + at).update(from: base, count: cell.count) }
                        at += cell.count
                    } else {
                        at = CSVTable.writeField(cell, defusing: true, to: out, at: at)
                    }
                    column += 1
                    if column == columns {
                        out[at] = CSVTable.lineFeed
                        at += 1
                        column = 0
                    }
                    start = end
                }
            }
            count = at
        }
    }

    private static let comma = UInt8(ascii: ","), quote = UInt8(ascii: "\""), lineFeed = UInt8(ascii: "\n"), carriageReturn = UInt8(ascii: "\r")

    /// Writes a field at `at`, quoted and defused as `csvBytes()` says; returns where it ends.
    private static func writeField(_ field: UnsafeBufferPointer<UInt8>, defusing: Bool, to out: UnsafeMutableBufferPointer<UInt8>, at start: Int) -> Int {
        var at = start
        let quoted = field.contains { $0 == comma || $0 == quote || $0 == lineFeed || $0 == carriageReturn }
        if quoted { out[at] = quote; at += 1 }
        // A customer named "=HYPERLINK(…)" must not become a formula when the office opens the file.
        if defusing, let first = field.first, formulaStarts.contains(first) { out[at] = UInt8(ascii: "'"); at += 1 }
        if quoted {
            for byte in field {
                out[at] = byte
                at += 1
                if byte == quote { out[at] = quote; at += 1 }
            }
            out[at] = quote
            at += 1
        } else if let base = field.baseAddress, !field.isEmpty {
            (out.baseAddress! + at).update(from: base, count: field.count)
            at += field.count
        }
        return at
    }

    private static let formulaStarts: [UInt8] = Array("=+-@\t\r".utf8)

    /// A table's cells appended one at a time, row after row; numbers and dates are written
    /// straight into the table's bytes.
    public struct Builder: Sendable {
        var bytes: [UInt8] = []
        var marks: [UInt64] = []

        /// A builder with room for `cells` cells of `bytes` bytes in all (a guess saves copying).
        public init(cells: Int, bytes: Int) {
            marks.reserveCapacity(cells)
            self.bytes.reserveCapacity(bytes)
        }

        /// Drops every cell, keeping the room they took.
        public mutating func removeAll() {
            bytes.removeAll(keepingCapacity: true)
            marks.removeAll(keepingCapacity: true)
        }

        /// Appends a cell.
        public mutating func append(_ cell: Cell) {
            switch cell {
            case .text(let text): append(text, number: false)
            case .number(let text): append(text, number: true)
            }
        }

        /// Appends a text cell.
        public mutating func text(_ text: String) { append(text, number: false) }

        /// Appends a number cell written as `text`.
        public mutating func number(_ text: String) { append(text, number: true) }

        /// Appends a whole number.
        public mutating func number(_ value: Int) {
            appendDecimal(value, to: &bytes)
            mark(number: true, ascii: true)
        }

        /// Appends an amount as a plain decimal ("1250.00", as `Money.plainDecimal()`).
        public mutating func amount(_ minor: Int64, _ currency: Currency) {
            Money(uncheckedMinor: minor, currency).appendPlainDecimal(to: &bytes)
            mark(number: true, ascii: true)
        }

        /// Appends a date as text ("2026-06-04"), or an empty cell.
        public mutating func date(_ date: CalendarDate?) {
            date?.appendISO(to: &bytes)
            mark(number: false, ascii: true)
        }

        private mutating func append(_ text: String, number: Bool) {
            var text = text
            var high: UInt8 = 0
            text.withUTF8 { utf8 in
                for byte in utf8 { high |= byte }
                bytes.append(contentsOf: utf8)
            }
            mark(number: number, ascii: high < 0x80)
        }

        /// Appends a text cell from bytes known to be UTF-8 (`ascii`: all below 0x80).
        mutating func text(utf8: UnsafeRawBufferPointer, ascii: Bool) {
            bytes.append(contentsOf: utf8)
            mark(number: false, ascii: ascii)
        }

        /// Drops the cells after the first `cells` (which end at `bytes`).
        mutating func truncate(cells: Int, bytes count: Int) {
            marks.removeSubrange(cells...)
            bytes.removeSubrange(count...)
        }

        private mutating func mark(number: Bool, ascii: Bool) {
            marks.append(UInt64(bytes.count) << CSVTable.markBits | (number ? CSVTable.numberFlag : 0) | (ascii ? 0 : CSVTable.notASCIIFlag))
        }

        /// The table with `header` over the cells appended (a multiple of its columns).
        public func table(header: [String]) -> CSVTable {
            CSVTable(header: header, cellBytes: bytes, marks: marks)
        }

        /// Cells appended so far.
        var cellCount: Int { marks.count }

        /// Appends `other`'s cells after these.
        mutating func append(contentsOf other: Builder) {
            let shift = UInt64(bytes.count) << CSVTable.markBits
            bytes.append(contentsOf: other.bytes)
            marks.reserveCapacity(marks.count + other.marks.count)
            for mark in other.marks { marks.append(mark + shift) }
        }
    }
}
