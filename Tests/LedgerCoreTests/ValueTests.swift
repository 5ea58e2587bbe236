import LedgerCore
import LedgerTestSupport
import Testing

@Suite("Money, percentages and dates")
struct ValueTests {
    @Test("Amounts are read as people write them and written back the same way")
    func parsesAndFormatsAmounts() throws {
        let cases: [(String, Int64)] = [
            ("1250", 125_000), ("1,250.00", 125_000), ("1250.5", 125_050), ("$1,250.50", 125_050),
            ("0.99", 99), (" 7 ", 700), (".5", 50), ("1,000,000.01", 100_000_001),
        ]
        for (text, minor) in cases {
            #expect(try Money.parse(text, currency: .usd).amountMinor == minor, "\(text)")
        }
        #expect(try Money(minor: 125_000, .usd).formatted() == "$1,250.00")
        #expect(try Money(minor: -2_000, .usd).formatted() == "-$20.00")
        #expect(try Money(minor: 100_000_001, .usd).plainDecimal() == "1000000.01")
        #expect(try Money(minor: 5, .usd).plainDecimal() == "0.05")
        let yen = try Currency(code: "jpy")
        #expect(yen.minorUnitDigits == 0)
        #expect(try Money.parse("1,250", currency: yen).amountMinor == 1_250)
        #expect(try Money(minor: 1_250, yen).formatted() == "¥1,250")
        let dinar = try Currency(code: "KWD")
        #expect(try Money.parse("1.005", currency: dinar).amountMinor == 1_005)
        #expect(try Money(minor: 125_000, try Currency(code: "CHF")).formatted() == "CHF 1,250.00")
    }

    @Test("A currency keeps its code and digits in four bytes: every code reads back, equal codes are equal, order is the codes' order")
    func currencyPacked() throws {
        let codes = ["AAA", "AZZ", "BHD", "CLF", "EUR", "JPY", "KWD", "USD", "USE", "ZZA", "ZZZ"]
        let currencies = try codes.map { try Currency(code: $0.lowercased()) }
        #expect(currencies.map(\.code) == codes)
        #expect(currencies.map(\.minorUnitDigits) == [2, 2, 3, 4, 2, 0, 3, 2, 2, 2, 2])
        for (a, left) in zip(codes, currencies) {
            for (b, right) in zip(codes, currencies) {
                #expect((left < right) == (a < b), "\(a) < \(b)")
                #expect((left == right) == (a == b), "\(a) == \(b)")
            }
        }
        #expect(try Currency(code: "usd") == .usd)
        #expect(Set(try ["USD", "usd", "Usd"].map { try Currency(code: $0) }).count == 1)
        #expect(MemoryLayout<Currency>.size == 4)
    }

    @Test("Amounts are written as the plain digit-by-digit reference writes them, for 0, 2 and 3 decimals, grouped and not")
    func amountText() throws {
        func reference(_ minor: Int64, digits: Int, grouped: Bool) -> String {
            var perMajor: Int64 = 1
            for _ in 0..<digits { perMajor *= 10 }
            let whole = String(minor.magnitude / UInt64(perMajor))
            var text = ""
            for (offset, character) in whole.enumerated() {
                if grouped && offset > 0 && (whole.count - offset) % 3 == 0 { text += "," }
                text.append(character)
            }
            if digits > 0 {
                let fraction = String(minor.magnitude % UInt64(perMajor))
                text += "." + String(repeating: "0", count: digits - fraction.count) + fraction
            }
            return (minor < 0 ? "-" : "") + text
        }
        var values: [Int64] = [0, 1, 9, 10, 99, 100, 101, 999, 1_000, 1_001, 99_999, 100_000, 123_456_789, Limits.amountMinorMax]
        values += values.map { -$0 }
        for code in ["USD", "JPY", "KWD"] {
            let currency = try Currency(code: code)
            for minor in values {
                let money = try Money(minor: minor, currency)
                #expect(money.plainDecimal() == reference(minor, digits: currency.minorUnitDigits, grouped: false), "\(code) \(minor)")
                // A report's table writes the same digits straight into its bytes.
                var cells = CSVTable.Builder(cells: 1, bytes: 0)
                cells.amount(minor, currency)
                #expect(cells.table(header: ["Amount"]).cells == [.number(money.plainDecimal())], "\(code) \(minor)")
                let grouped = reference(minor, digits: currency.minorUnitDigits, grouped: true)
                let prefix = (minor < 0 ? "-" : "") + (currency.symbol ?? "\(code) ")
                #expect(money.formatted() == prefix + grouped.drop { $0 == "-" }, "\(code) \(minor)")
            }
        }
        #expect(Fixtures.date("2026-06-04").iso == "2026-06-04")
        #expect(Fixtures.date("1970-01-01").iso == "1970-01-01" && Fixtures.date("9999-12-31").iso == "9999-12-31")
        var cells = CSVTable.Builder(cells: 5, bytes: 0)
        cells.date(Fixtures.date("2026-06-04"))
        cells.date(nil)
        for number in [0, -7, Int.max, Int.min] { cells.number(number) }
        #expect(cells.table(header: ["a", "b", "c", "d", "e", "f"]).cells
                    == [.text("2026-06-04"), .text(""), .number("0"), .number("-7"), .number(String(Int.max)), .number(String(Int.min))])
    }

    @Test("Malformed, zero, negative, overflowing and oversized amounts are refused with their own codes")
    func refusesBadAmounts() {
        for text in ["", "abc", "1.2.3", "1,25", "12,50.00", "1.", "1.234", "$", "1 250", "1e5", "5-"] {
            expectError(.amountMalformed) { () throws(LedgerError) in try Money.parse(text, currency: .usd) }
        }
        expectError(.amountMalformed) { () throws(LedgerError) in try Money.parse("5.5", currency: try Currency(code: "JPY")) }
        expectError(.amountNotPositive) { () throws(LedgerError) in try Money.parse("0.00", currency: .usd) }
        expectError(.amountNotPositive) { () throws(LedgerError) in try Money.parse("-5", currency: .usd) }
        #expect((try? Money.parse("-5", currency: .usd, allowNegative: true))?.amountMinor == -500)
        expectError(.amountOverflow) { () throws(LedgerError) in try Money.parse("99999999999999999999", currency: .usd) }
        expectError(.amountTooLarge) { () throws(LedgerError) in try Money.parse("1,000,000,000,000.00", currency: .usd) }
        expectError(.amountMalformed) { () throws(LedgerError) in try Money.parse(String(repeating: "9", count: 40), currency: .usd) }
    }

    @Test("Adding money never wraps and never mixes currencies")
    func arithmeticIsChecked() throws {
        let big = try Money(minor: Limits.amountMinorMax, .usd)
        expectError(.amountTooLarge) { () throws(LedgerError) in try big.adding(try Money(minor: 1, .usd)) }
        let euros = try Money(minor: 100, try Currency(code: "EUR"))
        expectError(.currencyMismatch) { () throws(LedgerError) in try big.subtracting(euros) }
        #expect(try Money(minor: 150, .usd).adding(try Money(minor: -50, .usd)).amountMinor == 100)
        expectError(.currencyInvalid) { () throws(LedgerError) in try Currency(code: "US1") }
        expectError(.currencyInvalid) { () throws(LedgerError) in try Currency(code: "DOLLARS") }
    }

    @Test("Percentages are parts per million with four decimals of resolution")
    func percentages() throws {
        #expect(try PartsPerMillion.parse("33.3334%").value == 333_334)
        #expect(try PartsPerMillion.parse("50").value == 500_000)
        #expect(try PartsPerMillion.parse("100").value == 1_000_000)
        #expect(try PartsPerMillion(333_334).description == "33.3334%")
        #expect(try PartsPerMillion(605_000).description == "60.5%")
        #expect(PartsPerMillion.whole.description == "100%")
        for text in ["", "100.00001", "101", "-5", "5.", "abc", "1000"] {
            expectError(.percentageMalformed) { () throws(LedgerError) in try PartsPerMillion.parse(text) }
        }
    }

    @Test("Calendar dates convert to and from day numbers for every day of a 400-year cycle")
    func calendarRoundTrip() throws {
        expectError(.dateInvalid) { () throws(LedgerError) in try CalendarDate(daysSinceEpoch: -1) }
        var previous = try CalendarDate(daysSinceEpoch: 0)
        #expect(previous.iso == "1970-01-01")
        #expect(previous.isoWeekday == 4)
        var mismatches: [Int] = []
        for day in 1..<146_097 {
            let date = try CalendarDate(daysSinceEpoch: day)
            let next = try previous.adding(days: 1)
            if date.daysSinceEpoch != day || !(previous < date) || next != date
                || date.isoWeekday != (previous.isoWeekday % 7) + 1 {
                mismatches.append(day)
            }
            previous = date
        }
        #expect(mismatches.isEmpty, "first mismatching day numbers: \(mismatches.prefix(5))")
        #expect(previous.iso == "2369-12-31")
    }

    @Test("Dates are read in ISO and US forms, and impossible days are refused")
    func parsesDates() throws {
        #expect(try CalendarDate.parse("2026-06-04") == CalendarDate(year: 2026, month: 6, day: 4))
        #expect(try CalendarDate.parse("06/04/2026").usFormatted == "06/04/2026")
        #expect(try CalendarDate.parse("2024-02-29").day == 29)
        let last = try CalendarDate.parse("9999-12-31")
        let earlier = try CalendarDate.parse("9999-01-31")
        #expect(last.year == 9999 && last.month == 12 && last.day == 31 && last.iso == "9999-12-31" && earlier < last)
        #expect(Fixtures.date("2026-06-04").startOfWeek.iso == "2026-06-01")
        #expect(Fixtures.date("2026-06-07").startOfWeek.iso == "2026-06-01")
        #expect(Fixtures.date("2026-06-04").startOfMonth.iso == "2026-06-01")
        for text in ["2026-02-29", "2026-13-01", "2026-6-4", "6/4/2026", "yesterday", "0999-01-01", "2026-04-31"] {
            expectError(.dateInvalid) { () throws(LedgerError) in try CalendarDate.parse(text) }
        }
    }

    @Test("Replica ids read and write the canonical UUID form")
    func replicaIDs() throws {
        let text = "6f1c2b3a-0d4e-4f5a-9b6c-7d8e9fa0b1c2"
        #expect(try ReplicaID(uuidString: text).description == text)
        #expect(try ReplicaID(uuidString: text.uppercased()).description == text)
        expectError(.idMalformed) { () throws(LedgerError) in try ReplicaID(uuidString: "not-a-uuid") }
        expectError(.idMalformed) { () throws(LedgerError) in try ReplicaID(uuidString: "6f1c2b3a0d4e4f5a9b6c7d8e9fa0b1c2") }
    }
}
