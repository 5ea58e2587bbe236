/// A review case: the dot of the action that raised it and its position among the cases that
/// action raised (one action may, say, both move a plan's target and leave credit).
public struct ReviewCaseID: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let dot: Dot
    public let index: Int

    /// Makes a review case id.
    public init(_ dot: Dot, index: Int = 0) {
        self.dot = dot
        self.index = index
    }

    public static func < (lhs: ReviewCaseID, rhs: ReviewCaseID) -> Bool { (lhs.dot, lhs.index) < (rhs.dot, rhs.index) }
    public var description: String { "\(dot)/\(index)" }
}

/// What a person may decide about a review case.
public enum Resolution: String, Hashable, Sendable, Codable, CaseIterable {
    /// Re-run the refused intention now, as the person resolving the case.
    case applyProposed = "apply-proposed"
    /// Keep the ledger as it is and drop the refused intention.
    case keepCurrent = "keep-current"
    /// The anomaly is seen and handled outside the plan (a refund of credit, a call).
    case acknowledge
}

/// Something the rules could not settle, in front of a person (DESIGN §4 "Review cases").
public struct ReviewCase: Hashable, Sendable, Codable {
    /// What kind of disagreement or anomaly this is.
    public enum Kind: String, Hashable, Sendable, Codable, CaseIterable {
        /// A payment or settlement took the job beyond its invoice; the excess is customer credit.
        case customerCredit = "customer-credit"
        /// Refunds on one payment came to more than the payment.
        case refundExceedsPayment = "refund-exceeds-payment"
        /// Money was collected by someone who had not seen the plan's cancellation.
        case paymentOnCancelledPlan = "payment-on-cancelled-plan"
        /// Money was collected on a voided invoice; all of it is customer credit.
        case paymentOnVoidedInvoice = "payment-on-voided-invoice"
        /// A plan edit made without seeing a payment on the job.
        case planEditAfterUnseenPayment = "plan-edit-after-unseen-payment"
        /// Two plan changes made without seeing each other; the first in server order stands.
        case concurrentPlanEdit = "concurrent-plan-edit"
        /// An intention the rules refused (a locked plan, override turned off, a finalized invoice).
        case intentionRefused = "intention-refused"
        /// The invoice total moved after the plan's target was snapshotted.
        case targetDiffersFromInvoice = "target-differs-from-invoice"
        /// A payment was settled one way and then the other (confirmed and failed).
        case settlementConflict = "settlement-conflict"
        /// Two settings edits made without seeing each other.
        case concurrentSettingsEdit = "concurrent-settings-edit"

        /// Money anomalies that leave a customer with credit.
        public static let creditKinds: [Kind] = [.customerCredit, .paymentOnVoidedInvoice, .paymentOnCancelledPlan, .refundExceedsPayment]
    }

    /// The decision taken on a case, by whom and why.
    public struct Decision: Hashable, Sendable, Codable {
        public let resolution: Resolution
        public let by: ActionSummary
        public let note: String
    }

    public let id: ReviewCaseID
    public let kind: Kind
    public let job: JobID?
    /// The action that raised the case.
    public let raisedBy: ActionSummary
    /// The other side: the latest plan change or payment the author had not seen, when known.
    public let otherSide: ActionSummary?
    /// The refused intention, kept so it can be applied on resolution.
    public let proposed: ActionPayload?
    /// The plan in force when the case was raised (the other version of a plan conflict).
    public let currentPlan: Plan?
    /// The money at stake: credit, excess refund or target difference; 0 when none.
    public let amountMinor: Int64
    /// The payment concerned, for money anomalies.
    public let payment: PaymentID?
    /// Why an intention was refused.
    public let reason: LedgerError?
    public let suggestedResolutions: [Resolution]
    public internal(set) var decision: Decision?

    /// Whether the case still waits for a person.
    public var isOpen: Bool { decision == nil }
}

/// A job's informational field, settled by last-writer-wins.
public enum InfoField: String, Hashable, Sendable, Codable, CaseIterable {
    case number, customerName, remindersOptOut, department, notes
}

/// The write that set an informational field: it wins over another when its (HLC, replica)
/// is later.
public struct FieldStamp: Hashable, Comparable, Sendable, Codable {
    public let hlc: HLCTimestamp
    public let dot: Dot

    public static func < (lhs: FieldStamp, rhs: FieldStamp) -> Bool { (lhs.hlc, lhs.dot.replica, lhs.dot.counter) < (rhs.hlc, rhs.dot.replica, rhs.dot.counter) }
}

/// A value an informational field held, or was offered, and lost to a later write.
public struct SupersededValue: Hashable, Sendable, Codable {
    public let field: InfoField
    public let value: String
    public let stamp: FieldStamp
}

/// What the sync core keeps about a job beside its business state.
public struct JobSyncState: Hashable, Sendable, Codable {
    /// Every action that left a trace on the job.
    public internal(set) var versionVector = VersionVector()
    /// Payments recorded, confirmed or failed: what a plan edit must have seen.
    public internal(set) var paymentMarks = ChangeMarks()
    /// Plan creations, edits and cancellations that took effect.
    public internal(set) var planMarks = ChangeMarks()
    public internal(set) var lastPlanChange: ActionSummary?
    public internal(set) var lastPayment: ActionSummary?
    /// The dots of every action that left a trace, in log order.
    public internal(set) var dots: [Dot] = []
    /// The write in force for each informational field, by `InfoField` order.
    public internal(set) var fieldStamps: [FieldStamp?] = Array(repeating: nil, count: InfoField.allCases.count)
    /// Values that lost to later writes: kept, never shown as current.
    public internal(set) var superseded: [SupersededValue] = []
    public internal(set) var reviewCases: [ReviewCase] = []

    /// Review cases still waiting for a person.
    public var openReviewCases: [ReviewCase] { reviewCases.filter(\.isOpen) }
}
