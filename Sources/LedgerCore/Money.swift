/// An amount of money: whole minor units (cents) in one currency. Never floating point.
public struct Money: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The amount in the currency's minor units; may be negative for balances and adjustments.
    public let amountMinor: Int64
    /// The currency the amount is in.
    public let currency: Currency

    /// Makes an amount; throws `amountTooLarge` beyond `Limits.amountMinorMax` either way.
    public init(minor amountMinor: Int64, _ currency: Currency) throws(LedgerError) {
        guard amountMinor.magnitude <= UInt64(Limits.amountMinorMax) else {
            throw LedgerError(.amountTooLarge, "The amount is larger than the ledger accepts for one figure; split it or check for a typo.")
        }
        self.amountMinor = amountMinor
        self.currency = currency
    }

    /// Makes an amount that is known to be within limits (a sum of checked amounts).
    init(uncheckedMinor amountMinor: Int64, _ currency: Currency) {
        self.amountMinor = amountMinor
        self.currency = currency
    }

    /// Zero in a currency.
    public static func zero(_ currency: Currency) -> Money { Money(uncheckedMinor: 0, currency) }

    /// The sum; throws `currencyMismatch` for different currencies and `amountOverflow` when the
    /// result does not fit (it never wraps).
    public func adding(_ other: Money) throws(LedgerError) -> Money {
        try sameCurrency(other)
        let (sum, overflow) = amountMinor.addingReportingOverflow(other.amountMinor)
        guard !overflow else { throw Money.overflowError }
        return try Money(minor: sum, currency)
    }

    /// The difference; same rules as `adding(_:)`.
    public func subtracting(_ other: Money) throws(LedgerError) -> Money {
        try sameCurrency(other)
        let (difference, overflow) = amountMinor.subtractingReportingOverflow(other.amountMinor)
        guard !overflow else { throw Money.overflowError }
        return try Money(minor: difference, currency)
    }

    /// Throws `currencyMismatch` unless `other` is in this amount's currency.
    public func sameCurrency(_ other: Money) throws(LedgerError) {
        guard other.currency == currency else {
            throw LedgerError(.currencyMismatch, "Amounts in different currencies cannot be combined; a job uses one currency, so record the amount in the job's currency.")
        }
    }

    static let overflowError = LedgerError(.amountOverflow, "The amount is too large to represent; check for a typo.")

    public var description: String { formatted() }
}

extension Money: Comparable {
    /// Orders by currency code, then amount, so sorting mixed currencies is still deterministic.
    public static func < (lhs: Money, rhs: Money) -> Bool {
        (lhs.currency, lhs.amountMinor) < (rhs.currency, rhs.amountMinor)
    }
}
