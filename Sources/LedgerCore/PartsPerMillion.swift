/// A percentage in integer parts per million: 1,000,000 is 100%, 333,334 is 33.3334%.
///
/// Integers keep thirds exact enough and make "sums to exactly 100%" a plain equality.
public struct PartsPerMillion: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The value, from 0 to 1,000,000.
    public let value: Int64

    /// Makes a percentage; throws `percentageMalformed` outside 0…1,000,000.
    public init(_ value: Int64) throws(LedgerError) {
        guard (0...Limits.ppmWhole).contains(value) else {
            throw LedgerError(.percentageMalformed, "A percentage must be between 0% and 100%.")
        }
        self.value = value
    }

    /// 100%.
    public static let whole = try! PartsPerMillion(Limits.ppmWhole)

    public static func < (lhs: PartsPerMillion, rhs: PartsPerMillion) -> Bool { lhs.value < rhs.value }

    /// Reads "50", "50%", "33.3334" or "33.3334%" (up to four decimals, the resolution of ppm).
    public static func parse(_ text: String) throws(LedgerError) -> PartsPerMillion {
        var body = text.trimmingASCIIWhitespace()
        if body.last == "%" { body = body.dropLast() }
        let malformed = LedgerError(.percentageMalformed, "A percentage is written like 50, 50% or 33.3334 (at most four decimals).")
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, !parts[0].isEmpty, parts[0].count <= 3,
              parts[0].allSatisfy(\.isASCIIDigit) else { throw malformed }
        let fraction = parts.count == 2 ? parts[1] : ""
        guard fraction.count <= 4, fraction.allSatisfy(\.isASCIIDigit), parts.count == 1 || !fraction.isEmpty else {
            throw malformed
        }
        let digits = Array(parts[0]) + fraction.padding(toLength: 4)
        let value = digits.reduce(Int64(0)) { $0 * 10 + Int64($1.asciiValue! - 48) }
        return try PartsPerMillion(value)
    }

    /// "50%", "33.3334%", "60.5%".
    public var description: String {
        let whole = value / 10_000
        var fraction = String(value % 10_000)
        fraction = String(repeating: "0", count: 4 - fraction.count) + fraction
        while fraction.last == "0" { fraction.removeLast() }
        return fraction.isEmpty ? "\(whole)%" : "\(whole).\(fraction)%"
    }
}
