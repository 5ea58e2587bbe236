/// Every bound the ledger rules enforce, in one place (DESIGN §1.7).
///
/// Decoders, storage and the CLI check input against these same constants, so a value that the
/// core would refuse is refused at the edge with the same words.
public enum Limits {
    /// The largest single amount in minor units (999,999,999,999.99 in a two-decimal currency).
    ///
    /// With at most `paymentsPerJobMax` payments per job, every sum the core computes stays far
    /// below `Int64.max`, so running totals cannot overflow once inputs passed this check.
    public static let amountMinorMax: Int64 = 99_999_999_999_999

    /// The largest number of digits an amount may be written with, before any check of its value.
    public static let amountTextLengthMax = 32

    /// Percentages are parts per million; this is 100%.
    public static let ppmWhole: Int64 = 1_000_000

    /// A plan has at least this many installments.
    public static let planRowsMin = 2
    /// A plan has at most this many installments.
    public static let planRowsMax = 12

    /// Installment labels, template names, program and interval names.
    public static let labelLengthMax = 80
    /// Template descriptions, refund and change-order reasons, notes.
    public static let textLengthMax = 500
    /// Display numbers such as "HV-2048", payment references, department names, user ids.
    public static let shortTextLengthMax = 64
    /// IANA time-zone identifiers, such as "America/Los_Angeles".
    public static let timeZoneIdentifierLengthMax = 64

    /// Custom templates a company may define.
    public static let customTemplatesMax = 50
    /// Departments and opted-out users listed in the settings.
    public static let settingsListMax = 1_000

    /// Installment interval, in days.
    public static let intervalDaysRange: ClosedRange<Int> = 1...366

    /// Money events per job; bounds every per-job sum (see `amountMinorMax`).
    public static let paymentsPerJobMax = 10_000
    /// Refunds per job.
    public static let refundsPerJobMax = 10_000
    /// Change orders per job.
    public static let changeOrdersPerJobMax = 1_000

    /// Calendar years the ledger accepts; outside them a date is certainly a typo.
    public static let yearRange: ClosedRange<Int> = 1970...9999
}
