/// A table rendered as RFC 4180 CSV.
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
    /// Every row's cells one after the other, `header.count` to a row: a large company's report
    /// is a hundred thousand rows, and an array per row was a third of building it.
    public let cells: [Cell]

    /// Makes a table; every row has a cell per column.
    public init(header: [String], rows: [[Cell]]) {
        precondition(rows.allSatisfy { $0.count == header.count }, "a report row has a cell per column")
        self.init(header: header, cells: Array(rows.joined()))
    }

    /// Makes a table from its rows' cells laid end to end.
    public init(header: [String], cells: [Cell]) {
        precondition(header.isEmpty ? cells.isEmpty : cells.count % header.count == 0, "a report row has a cell per column")
        self.header = header
        self.cells = cells
    }

    /// How many rows the table has.
    public var rowCount: Int { header.isEmpty ? 0 : cells.count / header.count }

    /// The cells of each row.
    public var rows: [[Cell]] {
        (0..<rowCount).map { Array(cells[$0 * header.count..<($0 + 1) * header.count]) }
    }

    /// The CSV text, one line per row, each line ending in "\n".
    public func render() -> String {
        var out = header.map { CSVTable.quoted($0) }.joined(separator: ",") + "\n"
        for row in 0..<rowCount {
            out += cells[row * header.count..<(row + 1) * header.count].map { cell in
                switch cell {
                case .text(let text): CSVTable.quoted(CSVTable.defusingFormula(text))
                case .number(let number): number
                }
            }.joined(separator: ",") + "\n"
        }
        return out
    }

    private static func quoted(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingAll("\"", with: "\"\"") + "\""
    }

    // A customer named "=HYPERLINK(…)" must not become a formula when the office opens the file.
    private static func defusingFormula(_ text: String) -> String {
        guard let first = text.first, "=+-@\t\r".contains(first) else { return text }
        return "'" + text
    }
}

extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for character in self { if character == target { out += replacement } else { out.append(character) } }
        return out
    }
}
