/// An ISO 4217 currency: its three-letter code and how many minor-unit digits it uses.
public struct Currency: Hashable, Comparable, Sendable, CustomStringConvertible {
    // The code's three letters in the top three bytes, first letter highest, and the digits in
    // the lowest: four bytes with nothing to retain, where a `String` and an `Int` took 24 in
    // every payment, refund and amount; ordering the number orders the codes.
    private let packed: UInt32

    /// The uppercase three-letter code, such as "USD".
    public var code: String {
        withUnsafeBytes(of: (UInt8(packed >> 24), UInt8(truncatingIfNeeded: packed >> 16), UInt8(truncatingIfNeeded: packed >> 8))) {
            String(decoding: $0, as: UTF8.self)
        }
    }

    /// Digits after the decimal point: 2 for USD, 0 for JPY, 3 for KWD.
    public var minorUnitDigits: Int { Int(packed & 0xFF) }

    /// Makes a currency from its code; throws `currencyInvalid` unless it is three letters A–Z.
    public init(code: String) throws(LedgerError) {
        let upper = code.uppercased()
        guard upper.utf8.count == 3, upper.utf8.allSatisfy({ $0 >= 65 && $0 <= 90 }) else {
            throw LedgerError(.currencyInvalid, "A currency is a three-letter ISO 4217 code such as USD; check the job's currency.")
        }
        let letters = upper.utf8.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        self.packed = letters << 8 | UInt32(Currency.minorUnitDigits(for: upper))
    }

    /// US dollars, the currency most examples use.
    public static let usd = try! Currency(code: "USD")

    public var description: String { code }

    public static func < (lhs: Currency, rhs: Currency) -> Bool { lhs.packed < rhs.packed }

    /// The symbol people write before an amount, where one is unambiguous enough for a bill.
    public var symbol: String? {
        switch code {
        case "USD", "CAD", "AUD", "NZD", "MXN": "$"
        case "EUR": "€"
        case "GBP": "£"
        case "JPY": "¥"
        default: nil
        }
    }

    /// 10 raised to `minorUnitDigits`: the number of minor units in one major unit.
    public var minorUnitsPerMajor: Int64 {
        var result: Int64 = 1
        for _ in 0..<minorUnitDigits { result *= 10 }
        return result
    }

    // ISO 4217 exceptions to the usual two decimals; every other code uses two.
    private static func minorUnitDigits(for code: String) -> Int {
        switch code {
        case "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
             "VND", "VUV", "XAF", "XOF", "XPF":
            0
        case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND":
            3
        case "CLF", "UYW":
            4
        default:
            2
        }
    }
}

extension Currency: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        try self.init(code: container.decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(code)
    }
}
