import LedgerCore
import LedgerReports
import Testing

@Suite("Tables for people, as the CLI prints them")
struct TableTextTests {
    /// The table spelled out the slow way: characters counted, cells padded, blanks trimmed.
    static func reference(_ header: [String], _ rows: [[String]], rightAligned: Set<Int> = []) -> String {
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        let lines = [header, widths.map { String(repeating: "-", count: $0) }] + rows
        return lines.map { cells in
            var line = ""
            for (column, cell) in cells.enumerated() {
                if column > 0 { line += "  " }
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                line += rightAligned.contains(column) ? padding + cell : cell + padding
            }
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }.joined(separator: "\n")
    }

    static let header = ["Customer", "Job", "Amount", "Note"]
    static let rows = [
        ["Zoë Ångström", "J-1", "1500.00", ""],
        ["日本の顧客", "J-22", "-5.00", "left as is  "],
        ["Dana Whitfield, a name longer than fifteen bytes", "J-333", "0.00", "é"],
        ["", "", "", ""],
    ]

    @Test("Columns line up by characters on screen (not bytes), numbers right-aligned where asked, no trailing blanks")
    func matchesTheSlowWay() {
        let text = TableText.render(Self.header, Self.rows, rightAligned: [2])
        #expect(text == Self.reference(Self.header, Self.rows, rightAligned: [2]))
        #expect(!text.split(separator: "\n").contains { $0.hasSuffix(" ") })
        // 48 characters in the widest name: 36 blanks of padding and 2 between columns.
        #expect(text.contains("Zoë Ångström" + String(repeating: " ", count: 38) + "J-1" + String(repeating: " ", count: 4) + "1500.00"))
        #expect(TableText.width("Zoë") == 3 && TableText.width("abc") == 3 && TableText.width("") == 0)
    }

    @Test("A report's table shows its CSV cells as they are, left-aligned")
    func reportTable() {
        let cells = Self.rows.map { row in row.enumerated().map { $0.offset == 2 ? CSVTable.Cell.number($0.element) : .text($0.element) } }
        let report = CSVTable(header: Self.header, rows: cells)
        #expect(TableText.render(report) == Self.reference(Self.header, Self.rows))
        #expect(TableText.render(CSVTable(header: ["Only"], rows: [])) == "Only\n----")
    }

    @Test("Written in blocks that each end a line, the bytes are the whole table's; a line longer than a block still fits")
    func blocks() {
        var rows = (0..<300).map { ["Customer \($0)", "J-\($0)", "\($0 * 7).00", $0 % 5 == 0 ? "ü" : ""] }
        // Wider than a block and its spare room: every line is, padded to it.
        rows.insert(["x", String(repeating: "long ", count: 1_000), "1.00", "end"], at: 150)
        let report = CSVTable(header: Self.header, rows: rows.map { $0.map(CSVTable.Cell.text) })
        var blocks: [[UInt8]] = []
        TableText(measuring: report).write(report, blockBytes: 100) { blocks.append(Array($0)) }
        #expect(blocks.count > 100)
        #expect(blocks.allSatisfy { $0.last == UInt8(ascii: "\n") })
        #expect(blocks.dropLast().allSatisfy { $0.count >= 100 })
        #expect(String(decoding: blocks.joined(), as: UTF8.self) == Self.reference(Self.header, rows) + "\n")
        // Measured and written in shares (a long table's threads), the bytes are the same.
        for cut in [0, 1, 149, 151, 300, 301] {
            let table = TableText(measuring: report, rows: 0..<cut).widened(to: TableText(measuring: report, rows: cut..<301))
            #expect(table.widths == TableText(measuring: report).widths)
            var shares: [UInt8] = []
            table.write(report, rows: 0..<cut, header: true) { shares += $0 }
            table.write(report, rows: cut..<301, header: false) { shares += $0 }
            #expect(String(decoding: shares, as: UTF8.self) == Self.reference(Self.header, rows) + "\n", "cut at \(cut)")
        }
    }
}
