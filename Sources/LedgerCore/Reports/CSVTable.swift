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
    public let rows: [[Cell]]

    /// Makes a table.
    public init(header: [String], rows: [[Cell]]) {
        self.header = header
        self.rows = rows
    }

    /// The CSV text, one line per row, each line ending in "\n".
    public func render() -> String {
        var out = header.map { CSVTable.quoted($0) }.joined(separator: ",") + "\n"
        for row in rows {
            out += row.map { cell in
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
