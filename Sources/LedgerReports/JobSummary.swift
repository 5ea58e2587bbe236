import LedgerCore

/// A job as the office list shows it: the server's `GET /v1/jobs` and `fieldledger job list`.
public struct JobSummary: Codable, Sendable, Hashable {
    /// `<replica uuid>/<counter>`.
    public let id: String
    public let number: String
    public let customer: String
    public let invoiceTotalMinor: Int64
    public let completedMinor: Int64
    public let pendingMinor: Int64
    public let refundedMinor: Int64
    public let openReviewCases: Int

    /// The summary of `job`.
    public init(_ job: Job) {
        id = JobSummary.text(job.id)
        number = job.number
        customer = job.customer.name
        let totals = job.totals
        invoiceTotalMinor = totals.invoiceTotalMinor
        completedMinor = totals.completedMinor
        pendingMinor = totals.pendingMinor
        refundedMinor = totals.refundedMinor
        openReviewCases = job.sync.openReviewCases.count
    }

    /// A job id as the API and the CLI write it.
    public static func text(_ id: JobID) -> String { "\(id.dot.replica)/\(id.dot.counter)" }
}
