extension Money {
    /// Reads an amount as people write it: "1250", "1,250.00", "$1,250.5", "0.99".
    ///
    /// Thousands separators are optional but, when used, must group by three. At most the
    /// currency's minor-unit digits may follow the point. A leading minus sign is accepted only
    /// with `allowNegative` (change orders may reduce a total; payments never are negative).
    /// Throws `amountMalformed`, `amountOverflow`, `amountTooLarge` or `amountNotPositive`.
    public static func parse(
        _ text: String, currency: Currency, allowNegative: Bool = false, allowZero: Bool = false
    ) throws(LedgerError) -> Money {
        var chars = Substring(text.trimmingASCIIWhitespace())
        guard chars.utf8.count <= Limits.amountTextLengthMax else {
            throw malformed("is too long to be an amount")
        }
        var negative = false
        if chars.first == "-" {
            guard allowNegative else {
                throw LedgerError(.amountNotPositive, "Amounts here must be positive; to give money back, record a refund against the payment.")
            }
            negative = true
            chars = chars.dropFirst()
        }
        if let symbol = currency.symbol, chars.hasPrefix(symbol) {
            chars = chars.dropFirst(symbol.count)
        }
        let parts = chars.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { throw malformed("has more than one decimal point") }
        let whole = parts[0]
        let fraction = parts.count == 2 ? parts[1] : ""
        guard !whole.isEmpty || !fraction.isEmpty else { throw malformed("has no digits") }
        if parts.count == 2 {
            guard !fraction.isEmpty else { throw malformed("ends with a decimal point") }
            guard currency.minorUnitDigits > 0 else {
                throw malformed("has decimals, but \(currency.code) has no minor unit")
            }
            guard fraction.count <= currency.minorUnitDigits else {
                throw malformed("has more than \(currency.minorUnitDigits) digits after the point")
            }
            guard fraction.allSatisfy(\.isASCIIDigit) else { throw malformed("has a character that is not a digit") }
        }
        let wholeDigits = try digitsCheckingGrouping(whole)

        var value: Int64 = 0
        for digit in wholeDigits + fraction.padding(toLength: currency.minorUnitDigits) {
            let (times10, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (next, overflowB) = times10.addingReportingOverflow(Int64(digit.asciiValue! - 48))
            guard !overflowA, !overflowB else { throw Money.overflowError }
            value = next
        }
        if value == 0 && !allowZero {
            throw LedgerError(.amountNotPositive, "The amount must be greater than zero.")
        }
        return try Money(minor: negative ? -value : value, currency)
    }

    private static func malformed(_ what: String) -> LedgerError {
        LedgerError(.amountMalformed, "The amount \(what); write it like 1250.00 or 1,250.00.")
    }

    // Accepts "1250" or "1,250": commas, where present, must separate groups of exactly three.
    private static func digitsCheckingGrouping(_ whole: Substring) throws(LedgerError) -> [Character] {
        let groups = whole.split(separator: ",", omittingEmptySubsequences: false)
        for (index, group) in groups.enumerated() {
            guard group.allSatisfy(\.isASCIIDigit) else { throw malformed("has a character that is not a digit") }
            if groups.count > 1 {
                let sizeOK = index == 0 ? (1...3).contains(group.count) : group.count == 3
                guard sizeOK else { throw malformed("has misplaced thousands separators") }
            }
        }
        return groups.flatMap { Array($0) }
    }

    /// Writes the amount for people: "$1,250.00", "-$20.00", "CHF 1,250.00".
    public func formatted() -> String {
        let sign = amountMinor < 0 ? "-" : ""
        let prefix = currency.symbol ?? "\(currency.code) "
        return sign + prefix + Money.decimalText(amountMinor.magnitude, currency: currency, grouping: true)
    }

    /// Writes the amount as a plain decimal for CSV and scripts: "1250.00", "-20.00".
    public func plainDecimal() -> String {
        Money.withDecimalBytes(amountMinor.magnitude, negative: amountMinor < 0, currency: currency, grouping: false) {
            // From a buffer, so that short amounts become small strings (no allocation).
            String(decoding: $0, as: UTF8.self)
        }
    }

    /// Appends the plain decimal (as `plainDecimal()` writes it) to `bytes`.
    func appendPlainDecimal(to bytes: inout [UInt8]) {
        Money.withDecimalBytes(amountMinor.magnitude, negative: amountMinor < 0, currency: currency, grouping: false) {
            bytes.append(contentsOf: $0)
        }
    }

    static func decimalText(_ magnitude: UInt64, currency: Currency, grouping: Bool) -> String {
        withDecimalBytes(magnitude, negative: false, currency: currency, grouping: grouping) { String(decoding: $0, as: UTF8.self) }
    }

    static func withDecimalBytes<R>(_ magnitude: UInt64, negative: Bool, currency: Currency, grouping: Bool,
                                    _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        // Written digit by digit from the right, in place: reports format hundreds of thousands
        // of amounts, and building them by concatenation was most of their cost. At most a
        // sign, 20 digits, 6 group commas, a point and the fraction's digits (4 at most).
        let digits = currency.minorUnitDigits
        let capacity = 32 + digits
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { buffer in
            var at = capacity
            func put(_ byte: UInt8) {
                at -= 1
                buffer[at] = byte
            }
            var rest = magnitude
            for _ in 0..<digits {
                put(UInt8(ascii: "0") + UInt8(rest % 10))
                rest /= 10
            }
            if digits > 0 { put(UInt8(ascii: ".")) }
            var written = 0
            repeat {
                if grouping && written > 0 && written % 3 == 0 { put(UInt8(ascii: ",")) }
                put(UInt8(ascii: "0") + UInt8(rest % 10))
                rest /= 10
                written += 1
            } while rest > 0
            if negative { put(UInt8(ascii: "-")) }
            return body(UnsafeBufferPointer(rebasing: buffer[at...]))
        }
    }
}

extension Character {
    var isASCIIDigit: Bool { asciiValue.map { $0 >= 48 && $0 <= 57 } ?? false }
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs and line breaks.
    func trimmingASCIIWhitespace() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        let text = Substring(self)
        guard let first = text.firstIndex(where: { !isSpace($0) }),
              let last = text.lastIndex(where: { !isSpace($0) }) else { return "" }
        return text[first...last]
    }

    // Right-pads a run of digits with zeros, as the fraction of an amount.
    func padding(toLength length: Int) -> [Character] {
        Array(self) + Array(repeating: "0", count: Swift.max(0, length - count))
    }
}
