/// A day on the calendar in the company's business time zone, with no time of day.
///
/// The core never converts instants to dates itself (that needs the time-zone database, which
/// is I/O); the shells do it with the company's time zone and pass dates in. See
/// docs/decisions/0002-business-dates-are-inputs.md.
public struct CalendarDate: Hashable, Comparable, Sendable, CustomStringConvertible {
    // Year, month and day in one word, in that order, so that words compare as dates: a date
    // sits in every payment, row and action, and three `Int`s took 24 bytes there, not 4.
    private let packed: UInt32

    public var year: Int { Int(packed >> 9) }
    public var month: Int { Int(packed >> 5 & 0xF) }
    public var day: Int { Int(packed & 0x1F) }

    /// Makes a date; throws `dateInvalid` for days that do not exist or years out of range.
    public init(year: Int, month: Int, day: Int) throws(LedgerError) {
        guard Limits.yearRange.contains(year), (1...12).contains(month),
              (1...CalendarDate.daysIn(month: month, year: year)).contains(day) else {
            throw LedgerError(.dateInvalid, "That day does not exist on the calendar; write dates as YYYY-MM-DD or MM/DD/YYYY.")
        }
        packed = UInt32(year) << 9 | UInt32(month) << 5 | UInt32(day)
    }

    /// Makes the date that lies `days` days after 1970-01-01.
    public init(daysSinceEpoch days: Int) throws(LedgerError) {
        // Howard Hinnant's civil_from_days, valid for the proleptic Gregorian calendar.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        try self.init(year: year, month: month, day: day)
    }

    /// Days since 1970-01-01 (negative before it).
    public var daysSinceEpoch: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date `days` later (earlier when negative).
    public func adding(days: Int) throws(LedgerError) -> CalendarDate {
        try CalendarDate(daysSinceEpoch: daysSinceEpoch + days)
    }

    /// Whole days from this date to `other` (positive when `other` is later).
    public func days(until other: CalendarDate) -> Int { other.daysSinceEpoch - daysSinceEpoch }

    /// 1 for Monday through 7 for Sunday (ISO 8601).
    public var isoWeekday: Int { ((daysSinceEpoch % 7 + 7) % 7 + 3) % 7 + 1 }

    /// The Monday that starts this date's week.
    public var startOfWeek: CalendarDate { try! adding(days: 1 - isoWeekday) }

    /// The first day of this date's month.
    public var startOfMonth: CalendarDate { try! CalendarDate(year: year, month: month, day: 1) }

    public static func < (lhs: CalendarDate, rhs: CalendarDate) -> Bool { lhs.packed < rhs.packed }

    /// "2026-06-04", the form used in CSV, JSON and on the wire.
    public var iso: String {
        // Written in place (reports print a date on most rows).
        String(unsafeUninitializedCapacity: 10) { buffer in
            writeISO(to: buffer.baseAddress!)
            return 10
        }
    }

    /// Appends `iso`'s bytes to `bytes`.
    func appendISO(to bytes: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.isoLength) { buffer in
            writeISO(to: buffer.baseAddress!)
            bytes.append(contentsOf: buffer)
        }
    }

    /// The characters of `iso`: years are four digits (`Limits.yearRange`).
    static let isoLength = 10

    /// The ten bytes of `iso`; years are four digits (`Limits.yearRange`).
    private func writeISO(to out: UnsafeMutablePointer<UInt8>) {
        func digits(_ value: Int, _ count: Int, at start: Int) {
            var rest = value
            for at in (start..<start + count).reversed() {
                out[at] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            }
        }
        digits(year, 4, at: 0)
        out[4] = UInt8(ascii: "-")
        digits(month, 2, at: 5)
        out[7] = UInt8(ascii: "-")
        digits(day, 2, at: 8)
    }

    /// "06/04/2026", the form used in labels people read.
    public var usFormatted: String { "\(pad(month, 2))/\(pad(day, 2))/\(pad(year, 4))" }

    /// "2026-06", the label of a month in collection totals.
    public var isoMonth: String { "\(pad(year, 4))-\(pad(month, 2))" }

    public var description: String { iso }

    /// Reads "2026-06-04" or "06/04/2026".
    public static func parse(_ text: String) throws(LedgerError) -> CalendarDate {
        let body = text.trimmingASCIIWhitespace()
        let invalid = LedgerError(.dateInvalid, "Write dates as YYYY-MM-DD or MM/DD/YYYY.")
        func number(_ part: Substring, length: Int) throws(LedgerError) -> Int {
            guard part.count == length, part.allSatisfy(\.isASCIIDigit), let value = Int(part) else { throw invalid }
            return value
        }
        let dashed = body.split(separator: "-", omittingEmptySubsequences: false)
        if dashed.count == 3 {
            return try CalendarDate(year: number(dashed[0], length: 4), month: number(dashed[1], length: 2), day: number(dashed[2], length: 2))
        }
        let slashed = body.split(separator: "/", omittingEmptySubsequences: false)
        if slashed.count == 3 {
            return try CalendarDate(year: number(slashed[2], length: 4), month: number(slashed[0], length: 2), day: number(slashed[1], length: 2))
        }
        throw invalid
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

private func pad(_ value: Int, _ width: Int) -> String {
    let text = String(value)
    return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
}

extension CalendarDate: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        self = try CalendarDate.parse(container.decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(iso)
    }
}
