/// How a payment was made.
public enum PaymentMethod: String, Hashable, Comparable, Sendable, Codable, CaseIterable {
    case card, cash, check, ach, other

    /// Card and ACH payments captured offline may settle later; cash and checks are complete.
    public var maySettleLater: Bool { self == .card || self == .ach }

    /// The position in `allCases`, for per-method arrays.
    var ordinal: Int {
        switch self {
        case .card: 0
        case .cash: 1
        case .check: 2
        case .ach: 3
        case .other: 4
        }
    }

    public static func < (lhs: PaymentMethod, rhs: PaymentMethod) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Where a payment stands. Only completed payments count as paid.
public enum PaymentState: String, Hashable, Sendable, Codable, CaseIterable {
    /// Captured but not settled (a card taken offline); allocates provisionally.
    case pending
    /// Money received.
    case completed
    /// Declined or reversed before settling; counts for nothing.
    case failed
}

/// Money received from the customer: an immutable fact apart from its pending state.
public struct Payment: Hashable, Sendable, Codable {
    public let id: PaymentID
    public let amountMinor: Int64
    /// Must be the job's currency.
    public let currency: Currency
    public let method: PaymentMethod
    /// Check number or authorization code.
    public let reference: String?
    public internal(set) var state: PaymentState
    /// When it happened, for ordering ("which payment covered which row").
    public let occurredAt: HLCTimestamp
    /// The business day it happened, for collection totals.
    public let occurredOn: CalendarDate
    public let actor: Actor

    /// The device that recorded it: the replica of its id.
    public var device: ReplicaID { id.dot.replica }

    /// Makes a payment; it is checked when recorded on a job.
    public init(
        id: PaymentID, amountMinor: Int64, currency: Currency, method: PaymentMethod, reference: String? = nil,
        state: PaymentState = .completed, occurredAt: HLCTimestamp, occurredOn: CalendarDate, actor: Actor
    ) {
        self.id = id
        self.amountMinor = amountMinor
        self.currency = currency
        self.method = method
        self.reference = reference
        self.state = state
        self.occurredAt = occurredAt
        self.occurredOn = occurredOn
        self.actor = actor
    }
}

/// Money given back against one payment. Never un-pays an installment.
public struct Refund: Hashable, Sendable, Codable {
    public let id: RefundID
    public let paymentID: PaymentID
    public let amountMinor: Int64
    /// Must be the job's currency.
    public let currency: Currency
    public let reason: String
    /// Whether this refund also cancels the rest of the plan.
    public let cancelsRemainingPlan: Bool
    public let occurredAt: HLCTimestamp
    public let occurredOn: CalendarDate
    public let actor: Actor

    /// Makes a refund; it is checked when recorded on a job.
    public init(
        id: RefundID, paymentID: PaymentID, amountMinor: Int64, currency: Currency, reason: String = "",
        cancelsRemainingPlan: Bool = false, occurredAt: HLCTimestamp, occurredOn: CalendarDate, actor: Actor
    ) {
        self.id = id
        self.paymentID = paymentID
        self.amountMinor = amountMinor
        self.currency = currency
        self.reason = reason
        self.cancelsRemainingPlan = cancelsRemainingPlan
        self.occurredAt = occurredAt
        self.occurredOn = occurredOn
        self.actor = actor
    }
}

/// A change to the work, and so to the invoice total, once an office role approves it.
public struct ChangeOrder: Hashable, Sendable, Codable {
    /// Where a change order stands.
    public enum Status: String, Hashable, Sendable, Codable, CaseIterable { case proposed, approved, rejected }

    /// Who approved or rejected it, why and when.
    public struct Decision: Hashable, Sendable, Codable {
        public let by: Actor
        public let reason: String
        public let on: CalendarDate
    }

    public let id: ChangeOrderID
    public let summary: String
    /// Signed: a change order may add work or take some away.
    public let amountMinor: Int64
    /// Must be the job's currency.
    public let currency: Currency
    public let proposedBy: Actor
    public let proposedOn: CalendarDate
    public internal(set) var status: Status
    public internal(set) var decision: Decision?

    /// Makes a proposed change order; it is checked when proposed on a job.
    public init(id: ChangeOrderID, summary: String, amountMinor: Int64, currency: Currency, proposedBy: Actor, proposedOn: CalendarDate) {
        self.id = id
        self.summary = summary
        self.amountMinor = amountMinor
        self.currency = currency
        self.proposedBy = proposedBy
        self.proposedOn = proposedOn
        self.status = .proposed
        self.decision = nil
    }
}

/// The bill for a job. Its total is the base amount plus approved change orders.
public struct Invoice: Hashable, Sendable, Codable {
    /// The number people see, such as "HV-2048".
    public var number: String
    public var baseTotalMinor: Int64
    /// The invoice date, from which blank due dates default.
    public var issuedOn: CalendarDate?
    /// Set once the invoice is final; revenue reports list finalized invoices.
    public var finalizedOn: CalendarDate?
    /// A voided invoice owes nothing; money received on it is customer credit.
    public var voidedOn: CalendarDate?

    /// Makes an open invoice.
    public init(number: String, baseTotalMinor: Int64, issuedOn: CalendarDate?) {
        self.number = number
        self.baseTotalMinor = baseTotalMinor
        self.issuedOn = issuedOn
    }
}

/// The customer a job is for.
public struct Customer: Hashable, Sendable, Codable {
    public var name: String
    /// The customer asked not to get payment reminders.
    public var remindersOptOut: Bool

    /// Makes a customer.
    public init(name: String, remindersOptOut: Bool = false) {
        self.name = name
        self.remindersOptOut = remindersOptOut
    }
}

/// What a technician is told before collecting an amount (DESIGN §3 "Payments").
public enum CollectionWarning: String, Hashable, Sendable, Codable {
    /// The amount does not cover the current installment.
    case lessThanCurrentInstallment = "less_than_current_installment"
    /// The amount covers the current installment; the rest cascades to later ones.
    case exceedsCurrentInstallment = "exceeds_current_installment"

    /// The sentence shown to the technician.
    public func message(intervalName: String) -> String {
        switch self {
        case .lessThanCurrentInstallment:
            "This is less than the current \(intervalName.lowercased())."
        case .exceedsCurrentInstallment:
            "This exceeds the current \(intervalName.lowercased()); the rest goes to the next ones."
        }
    }
}
