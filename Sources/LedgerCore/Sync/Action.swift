/// A change a device or the office makes, as a named command the server re-runs (DESIGN §4).
///
/// Whatever the action creates (a job, a payment, a plan, a review case) takes its `dot` as id.
public struct Action: Hashable, Sendable, Codable {
    /// The action's identity and idempotency key.
    public let dot: Dot
    /// When it happened, by the author's hybrid logical clock; orders events for people only.
    public let hlc: HLCTimestamp
    public let actor: Actor
    /// The job it changes; nil for company settings.
    public let job: JobID?
    /// The last log sequence the author had folded when it acted. With the author's own earlier
    /// actions (lower counters), that is everything it had seen: its view's version vector,
    /// written as one number (decision 0009).
    public let seenSequence: UInt64
    /// The business day it happened on, converted by the author's shell (decision 0002).
    public let businessDay: CalendarDate
    public let payload: ActionPayload

    /// Makes an action.
    public init(dot: Dot, hlc: HLCTimestamp, actor: Actor, job: JobID?, seenSequence: UInt64, businessDay: CalendarDate, payload: ActionPayload) {
        self.dot = dot
        self.hlc = hlc
        self.actor = actor
        self.job = job
        self.seenSequence = seenSequence
        self.businessDay = businessDay
        self.payload = payload
    }

    /// The job the action touches: its job id, or for a job's creation the job it creates.
    public var touchedJob: JobID? { job ?? (payload.kind == .createJob ? JobID(dot) : nil) }

    /// Who did it, when, from which device: what a review case shows about each side.
    public var summary: ActionSummary { ActionSummary(dot: dot, actor: actor, hlc: hlc, kind: payload.kind) }
}

/// A job's informational fields, each settled by "later HLC wins, ties by replica id".
public struct JobInfoUpdate: Hashable, Sendable, Codable {
    public var number: String?
    public var customerName: String?
    public var remindersOptOut: Bool?
    /// `.some(nil)` clears the department.
    public var department: DepartmentChange?
    public var notes: String?

    /// A change to the department field.
    public enum DepartmentChange: Hashable, Sendable, Codable {
        case set(String)
        case clear
    }

    /// Makes an update; nil fields stay as they are.
    public init(number: String? = nil, customerName: String? = nil, remindersOptOut: Bool? = nil, department: DepartmentChange? = nil, notes: String? = nil) {
        self.number = number
        self.customerName = customerName
        self.remindersOptOut = remindersOptOut
        self.department = department
        self.notes = notes
    }
}

/// A change to one installment's due date.
public enum DueDateChange: Hashable, Sendable, Codable {
    case keep
    case set(CalendarDate)
    case clear
}

/// A payment as a device asks to record it; its id will be the action's dot.
public struct PaymentRequest: Hashable, Sendable, Codable {
    public let amountMinor: Int64
    public let currency: Currency
    public let method: PaymentMethod
    public let reference: String?
    /// Captured but not settled (card or ACH taken offline).
    public let pending: Bool

    /// Makes a payment request.
    public init(amountMinor: Int64, currency: Currency, method: PaymentMethod, reference: String? = nil, pending: Bool = false) {
        self.amountMinor = amountMinor
        self.currency = currency
        self.method = method
        self.reference = reference
        self.pending = pending
    }
}

/// A refund as a device asks to record it; its id will be the action's dot.
public struct RefundRequest: Hashable, Sendable, Codable {
    public let paymentID: PaymentID
    public let amountMinor: Int64
    public let currency: Currency
    public let reason: String
    public let cancelsRemainingPlan: Bool

    /// Makes a refund request.
    public init(paymentID: PaymentID, amountMinor: Int64, currency: Currency, reason: String = "", cancelsRemainingPlan: Bool = false) {
        self.paymentID = paymentID
        self.amountMinor = amountMinor
        self.currency = currency
        self.reason = reason
        self.cancelsRemainingPlan = cancelsRemainingPlan
    }
}

/// Every change the ledger knows, as a command.
public enum ActionPayload: Hashable, Sendable, Codable {
    case createJob(number: String, customer: Customer, department: String?, currency: Currency, notes: String)
    case updateJobInfo(JobInfoUpdate)
    case setInvoice(number: String, baseTotalMinor: Int64, issuedOn: CalendarDate?)
    case finalizeInvoice
    case voidInvoice
    case createPlan(PlanDraft)
    case editPlan(PlanDraft)
    case cancelPlan
    case editInstallment(InstallmentID, label: String?, dueDate: DueDateChange)
    case recordPayment(PaymentRequest)
    case confirmPayment(PaymentID)
    case failPayment(PaymentID)
    case recordRefund(RefundRequest)
    case proposeChangeOrder(summary: String, amountMinor: Int64, currency: Currency)
    case approveChangeOrder(ChangeOrderID, reason: String)
    case rejectChangeOrder(ChangeOrderID, reason: String)
    /// `baseVersion` is the settings version the author edited; another version in force means
    /// someone else changed the settings meanwhile.
    case updateSettings(CompanySettings, baseVersion: Int64)
    case resolveReviewCase(ReviewCaseID, Resolution, note: String)

    /// The payload's name, for summaries, logs and metrics.
    public var kind: ActionKind {
        switch self {
        case .createJob: .createJob
        case .updateJobInfo: .updateJobInfo
        case .setInvoice: .setInvoice
        case .finalizeInvoice: .finalizeInvoice
        case .voidInvoice: .voidInvoice
        case .createPlan: .createPlan
        case .editPlan: .editPlan
        case .cancelPlan: .cancelPlan
        case .editInstallment: .editInstallment
        case .recordPayment: .recordPayment
        case .confirmPayment: .confirmPayment
        case .failPayment: .failPayment
        case .recordRefund: .recordRefund
        case .proposeChangeOrder: .proposeChangeOrder
        case .approveChangeOrder: .approveChangeOrder
        case .rejectChangeOrder: .rejectChangeOrder
        case .updateSettings: .updateSettings
        case .resolveReviewCase: .resolveReviewCase
        }
    }
}

/// The name of an action's payload.
public enum ActionKind: String, Hashable, Sendable, Codable, CaseIterable {
    case createJob, updateJobInfo, setInvoice, finalizeInvoice, voidInvoice
    case createPlan, editPlan, cancelPlan, editInstallment
    case recordPayment, confirmPayment, failPayment, recordRefund
    case proposeChangeOrder, approveChangeOrder, rejectChangeOrder
    case updateSettings, resolveReviewCase

    /// Changes to a plan's rows, which a payment or another plan change the author had not seen
    /// sends to review.
    public var isPlanEdit: Bool { [.createPlan, .editPlan, .editInstallment].contains(self) }
}

/// Who did an action, when, from which device (the dot's replica), and what it was.
public struct ActionSummary: Hashable, Sendable, Codable {
    public let dot: Dot
    public let actor: Actor
    public let hlc: HLCTimestamp
    public let kind: ActionKind

    /// The device the action came from.
    public var device: ReplicaID { dot.replica }
}

/// What became of an action at the server (DESIGN §4).
public enum Outcome: Hashable, Sendable, Codable {
    /// It changed the ledger as asked.
    case applied
    /// The same dot with the same body was applied before; nothing changed.
    case exists
    /// A money fact was booked, with an anomaly (overpayment, over-refund) sent to review.
    case appliedWithException(ReviewCaseID)
    /// An intention was refused and kept as a review case.
    case parkedForReview(ReviewCaseID)
    /// Invalid (bad amount, unknown job, forbidden); nothing changed. The device shows it.
    case rejected(LedgerError)

    /// Whether the action left any trace in the ledger (a review case counts).
    public var changedLedger: Bool {
        switch self {
        case .applied, .appliedWithException, .parkedForReview: true
        case .exists, .rejected: false
        }
    }
}

extension LedgerError: Codable {
    enum CodingKeys: String, CodingKey { case code, message }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(try container.decode(Code.self, forKey: .code), try container.decode(String.self, forKey: .message))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(code, forKey: .code)
        try container.encode(message, forKey: .message)
    }
}
