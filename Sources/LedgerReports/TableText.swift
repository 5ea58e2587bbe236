import LedgerCore

/// A table for people as UTF-8 bytes: columns padded to their widest cell, two spaces apart, a
/// rule under the header, no trailing blanks, every line ending in "\n".
///
/// A report over a large company is a hundred thousand lines and over a million cells, so the
/// cells are copied straight into one block of memory (no `Array` growth or bounds checks per
/// byte) and handed out a block at a time. A cell's width on screen is its UTF-8 length when it
/// is ASCII; only other text pays for counting characters.
public struct TableText: Sendable {
    /// Each column's width on screen.
    public let widths: [Int]
    /// Columns whose cells are padded on the left (numbers in tables that ask for it).
    public let rightAligned: [Bool]

    /// A table with these column widths.
    public init(widths: [Int], rightAligned: [Bool]) {
        self.widths = widths
        self.rightAligned = rightAligned
    }

    /// The columns of `header` and `rows`, measured in one pass over the cells.
    public init(measuring header: [String], _ rows: [[String]], rightAligned: Set<Int> = []) {
        var widths = header.map(TableText.width)
        for row in rows {
            for (column, cell) in row.enumerated() where column < widths.count { widths[column] = max(widths[column], TableText.width(cell)) }
        }
        self.init(widths: widths, rightAligned: widths.indices.map { rightAligned.contains($0) })
    }

    /// The columns of a report, measured in one pass over its cells (all left-aligned, as the
    /// reports have always been shown).
    public init(measuring report: CSVTable) {
        self.init(measuring: report, rows: 0..<report.rowCount)
    }

    /// The columns of a report's header and of its rows `rows` (a share of a large report,
    /// measured on its own thread and `widened` with the others).
    public init(measuring report: CSVTable, rows: Range<Int>) {
        var widths = report.header.map(TableText.width)
        let columns = widths.count
        report.cellBytes.withUnsafeBufferPointer { bytes in
            for index in (rows.lowerBound * columns)..<(rows.upperBound * columns) {
                widths[index % columns] = max(widths[index % columns], TableText.width(report, index, bytes))
            }
        }
        self.init(widths: widths, rightAligned: Array(repeating: false, count: widths.count))
    }

    /// Each column as wide as in this table or in `other`, whichever is wider.
    public func widened(to other: TableText) -> TableText {
        TableText(widths: zip(widths, other.widths).map { max($0, $1) }, rightAligned: rightAligned)
    }

    private static func width(_ report: CSVTable, _ index: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        Reports.characters(utf8: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[report.range(ofCell: index)])), ascii: report.isASCII(cell: index))
    }

    /// The characters `text` takes on the screen: its UTF-8 length when ASCII, its characters
    /// otherwise.
    public static func width(_ text: String) -> Int {
        var text = text
        return text.withUTF8(width)
    }

    static func width(_ utf8: UnsafeBufferPointer<UInt8>) -> Int { Reports.characters(utf8: UnsafeRawBufferPointer(utf8)) }

    /// The whole table as text, without the last line's "\n" (for `print`).
    public static func render(_ header: [String], _ rows: [[String]], rightAligned: Set<Int> = []) -> String {
        let table = TableText(measuring: header, rows, rightAligned: rightAligned)
        var out: [UInt8] = []
        table.write(header: header, rows: rows.count, cells: { row, column in column < rows[row].count ? rows[row][column] : "" }) {
            out.append(contentsOf: $0)
        }
        return String(decoding: out.dropLast(), as: UTF8.self)
    }

    /// A report's table as text, without the last line's "\n".
    public static func render(_ report: CSVTable) -> String {
        var out: [UInt8] = []
        TableText(measuring: report).write(report) { out.append(contentsOf: $0) }
        return String(decoding: out.dropLast(), as: UTF8.self)
    }

    /// Writes a report's header, rule and rows, handing `emit` blocks of about `blockBytes` that
    /// end on a line's end; the last line ends in "\n" too.
    public func write(_ report: CSVTable, blockBytes: Int = TableText.blockBytes, emit: (UnsafeBufferPointer<UInt8>) -> Void) {
        write(report, rows: 0..<report.rowCount, header: true, blockBytes: blockBytes, emit: emit)
    }

    /// Writes a report's rows `rows`, after its header and rule if `header`: a large report's
    /// shares can be written on several threads and handed on in order.
    public func write(_ report: CSVTable, rows: Range<Int>, header: Bool, blockBytes: Int = TableText.blockBytes,
                      emit: (UnsafeBufferPointer<UInt8>) -> Void) {
        let columns = report.header.count
        report.cellBytes.withUnsafeBufferPointer { bytes in
            write(header: header ? report.header : nil, rows: rows, cells: { row, column, block in
                let index = row * columns + column
                let cell = UnsafeBufferPointer(rebasing: bytes[report.range(ofCell: index)])
                let shown = Reports.characters(utf8: UnsafeRawBufferPointer(cell), ascii: report.isASCII(cell: index))
                block.cell(cell, shown: shown, width: widths[column], right: rightAligned[column], separated: column > 0)
            }, blockBytes: blockBytes, emit: emit)
        }
    }

    /// How much a table writes before it hands the bytes on: large enough that writing them out
    /// is a few system calls for a large report, small enough not to hold a copy of it.
    public static let blockBytes = 1 << 20

    func write(header: [String], rows: Int, cells: (Int, Int) -> String, blockBytes: Int = TableText.blockBytes,
               emit: (UnsafeBufferPointer<UInt8>) -> Void) {
        write(header: header, rows: 0..<rows, cells: { row, column, block in
            block.cell(cells(row, column), width: widths[column], right: rightAligned[column], separated: column > 0)
        }, blockBytes: blockBytes, emit: emit)
    }

    private func write(header: [String]?, rows: Range<Int>, cells: (Int, Int, inout Block) -> Void, blockBytes: Int,
                       emit: (UnsafeBufferPointer<UInt8>) -> Void) {
        var block = Block(capacity: blockBytes + 4096)
        defer { block.free() }
        let columns = widths.count
        func endLine() {
            block.endLine()
            if block.count >= blockBytes {
                emit(block.bytes)
                block.reset()
            }
        }
        if let header {
            for column in 0..<columns {
                block.cell(column < header.count ? header[column] : "", width: widths[column], right: rightAligned[column], separated: column > 0)
            }
            endLine()
            for column in 0..<columns {
                block.cell(String(repeating: "-", count: widths[column]), width: widths[column], right: false, separated: column > 0)
            }
            endLine()
        }
        for row in rows {
            for column in 0..<columns { cells(row, column, &block) }
            endLine()
        }
        if block.count > 0 { emit(block.bytes) }
    }

    /// Bytes written in place; grows only for a line longer than its spare room.
    private struct Block {
        var base: UnsafeMutablePointer<UInt8>
        var capacity: Int
        var count = 0
        /// Where the line being written starts: trailing blanks are trimmed back to it at most.
        var lineStart = 0

        init(capacity: Int) {
            self.capacity = capacity
            base = .allocate(capacity: capacity)
        }

        func free() { base.deallocate() }

        var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

        mutating func reserve(_ more: Int) {
            guard count + more > capacity else { return }
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: max(capacity * 2, count + more))
            grown.update(from: base, count: count)
            base.deallocate()
            base = grown
            capacity = max(capacity * 2, count + more)
        }

        mutating func blanks(_ n: Int) {
            guard n > 0 else { return }
            (base + count).initialize(repeating: UInt8(ascii: " "), count: n)
            count += n
        }

        mutating func cell(_ text: String, width: Int, right: Bool, separated: Bool) {
            var text = text
            text.withUTF8 { utf8 in cell(utf8, shown: TableText.width(utf8), width: width, right: right, separated: separated) }
        }

        /// A cell's bytes that take `shown` characters on screen.
        mutating func cell(_ utf8: UnsafeBufferPointer<UInt8>, shown: Int, width: Int, right: Bool, separated: Bool) {
            reserve(utf8.count + width + 3)
            if separated { blanks(2) }
            if right { blanks(width - shown) }
            if let source = utf8.baseAddress { (base + count).update(from: source, count: utf8.count) }
            count += utf8.count
            if !right { blanks(width - shown) }
        }

        mutating func endLine() {
            while count > lineStart && base[count - 1] == UInt8(ascii: " ") { count -= 1 }
            reserve(1)
            base[count] = UInt8(ascii: "\n")
            count += 1
            lineStart = count
        }

        // Called after a block is handed on.
        mutating func reset() {
            count = 0
            lineStart = 0
        }
    }
}
