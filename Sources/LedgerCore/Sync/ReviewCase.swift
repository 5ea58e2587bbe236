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

    // A case is written once and decided at most once, but a job keeps every case it ever had,
    // and the server's snapshot shares whole jobs with the writer (decision 0012): each job the
    // writer then changes is copied. Behind one reference a case costs that copy a retain, not
    // its ~660 bytes and the retains of every field inside (decision 0023). Inside, the plan in
    // force is the job's own copy while the plan is the same (or the previous case's, for cases
    // read back from a record), and the fields most cases lack take 8 bytes each (decisions
    // 0032, 0035): a job holds dozens of cases, nearly all under one plan.
    private final class Box: Sendable {
        // Word-sized fields first and the odd-sized ones last: a class keeps its fields in the
        // order written. A case's id is the raising action's dot and its index, and a money
        // case's payment is usually that action's own; those are not stored twice (decision
        // 0042), which with the reason behind a reference takes the box from 272 to 208 bytes.
        let index: Int
        /// The id's dot where it is not `raisedBy.dot` (a case read from elsewhere); nil almost always.
        let idDot: Held<Dot>?
        let raisedBy: ActionSummary
        let otherSide: Held<ActionSummary>?
        let proposed: Held<ActionPayload>?
        let currentPlan: Held<Plan>?
        let amountMinor: Int64
        let payment: PaymentReference
        let reason: Held<LedgerError>?
        let suggestedResolutions: [Resolution]
        let decision: Held<Decision>?
        let job: JobID?
        let kind: Kind

        enum PaymentReference: Sendable {
            case none
            /// The payment the raising action recorded: its id is that action's dot.
            case raisingAction
            case other(Held<PaymentID>)
        }

        init(id: ReviewCaseID, kind: Kind, job: JobID?, raisedBy: ActionSummary, otherSide: Held<ActionSummary>?, proposed: Held<ActionPayload>?,
             currentPlan: Held<Plan>?, amountMinor: Int64, payment: PaymentID?, reason: LedgerError?, suggestedResolutions: [Resolution],
             decision: Held<Decision>?) {
            index = id.index
            idDot = id.dot == raisedBy.dot ? nil : Held(id.dot)
            self.kind = kind
            self.job = job
            self.raisedBy = raisedBy
            self.otherSide = otherSide
            self.proposed = proposed
            self.currentPlan = currentPlan
            self.amountMinor = amountMinor
            self.payment = switch payment {
            case nil: .none
            case let payment? where payment == PaymentID(raisedBy.dot): .raisingAction
            case let payment?: .other(Held(payment))
            }
            self.reason = reason.map(Held.init)
            self.suggestedResolutions = suggestedResolutions
            self.decision = decision
        }

        var id: ReviewCaseID { ReviewCaseID(idDot?.value ?? raisedBy.dot, index: index) }

        var paymentID: PaymentID? {
            switch payment {
            case .none: nil
            case .raisingAction: PaymentID(raisedBy.dot)
            case .other(let held): held.value
            }
        }

        /// This case's fields with another decision.
        func deciding(_ decision: Decision?) -> Box {
            Box(id: id, kind: kind, job: job, raisedBy: raisedBy, otherSide: otherSide, proposed: proposed, currentPlan: currentPlan,
                amountMinor: amountMinor, payment: paymentID, reason: reason?.value, suggestedResolutions: suggestedResolutions,
                decision: decision.map(Held.init))
        }
    }

    private var box: Box

    /// Makes a case; `previous` (the case before it on the same job) lends its plan when that
    /// is the plan in force (cases read back from a record share their plans this way).
    init(id: ReviewCaseID, kind: Kind, job: JobID?, raisedBy: ActionSummary, otherSide: ActionSummary?, proposed: ActionPayload?,
         currentPlan: Plan?, amountMinor: Int64, payment: PaymentID?, reason: LedgerError?, suggestedResolutions: [Resolution], decision: Decision?,
         previous: ReviewCase? = nil) {
        var plan: Held<Plan>?
        if let currentPlan {
            // Equal plans usually share their rows' storage, so the comparison is short.
            if let earlier = previous?.box.currentPlan, earlier.value == currentPlan { plan = earlier } else { plan = Held(currentPlan) }
        }
        self.init(id: id, kind: kind, job: job, raisedBy: raisedBy, otherSide: otherSide, proposed: proposed, heldPlan: plan,
                  amountMinor: amountMinor, payment: payment, reason: reason, suggestedResolutions: suggestedResolutions, decision: decision)
    }

    /// Makes a case whose plan in force is `heldPlan` itself: the job's own copy, when the job
    /// raises it (decision 0035).
    init(id: ReviewCaseID, kind: Kind, job: JobID?, raisedBy: ActionSummary, otherSide: ActionSummary?, proposed: ActionPayload?,
         heldPlan: Held<Plan>?, amountMinor: Int64, payment: PaymentID?, reason: LedgerError?, suggestedResolutions: [Resolution], decision: Decision?) {
        box = Box(id: id, kind: kind, job: job, raisedBy: raisedBy, otherSide: otherSide.map(Held.init), proposed: proposed.map(Held.init),
                  currentPlan: heldPlan, amountMinor: amountMinor, payment: payment, reason: reason, suggestedResolutions: suggestedResolutions,
                  decision: decision.map(Held.init))
    }

    public var id: ReviewCaseID { box.id }
    public var kind: Kind { box.kind }
    public var job: JobID? { box.job }
    /// The action that raised the case.
    public var raisedBy: ActionSummary { box.raisedBy }
    /// The other side: the latest plan change or payment the author had not seen, when known.
    public var otherSide: ActionSummary? { box.otherSide?.value }
    /// The refused intention, kept so it can be applied on resolution.
    public var proposed: ActionPayload? { box.proposed?.value }
    /// The plan in force when the case was raised (the other version of a plan conflict).
    public var currentPlan: Plan? { box.currentPlan?.value }
    /// The same behind its reference, which the job and its other cases under that plan share.
    var heldPlan: Held<Plan>? { box.currentPlan }
    /// The money at stake: credit, excess refund or target difference; 0 when none.
    public var amountMinor: Int64 { box.amountMinor }
    /// The payment concerned, for money anomalies.
    public var payment: PaymentID? { box.paymentID }
    /// Why an intention was refused.
    public var reason: LedgerError? { box.reason?.value }
    public var suggestedResolutions: [Resolution] { box.suggestedResolutions }
    /// The decision, once a person took one; setting it gives this case a box of its own.
    public internal(set) var decision: Decision? {
        get { box.decision?.value }
        set { box = box.deciding(newValue) }
    }

    /// Whether the case still waits for a person.
    public var isOpen: Bool { box.decision == nil }

    /// Whether this case and `other` hold one copy of their plan (what the tests check).
    func sharesPlan(with other: ReviewCase) -> Bool { box.currentPlan != nil && box.currentPlan === other.box.currentPlan }

    public static func == (lhs: ReviewCase, rhs: ReviewCase) -> Bool {
        if lhs.box === rhs.box { return true }
        return lhs.id == rhs.id && lhs.kind == rhs.kind && lhs.job == rhs.job && lhs.raisedBy == rhs.raisedBy && lhs.otherSide == rhs.otherSide
            && lhs.proposed == rhs.proposed && lhs.currentPlan == rhs.currentPlan && lhs.amountMinor == rhs.amountMinor && lhs.payment == rhs.payment
            && lhs.reason == rhs.reason && lhs.suggestedResolutions == rhs.suggestedResolutions && lhs.decision == rhs.decision
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(kind)
        hasher.combine(decision)
    }

    // The keys, their order and the omission of absent optionals are those the compiler
    // synthesized for the stored properties before the box: the canonical bytes (and so every
    // digest) must not change.
    enum CodingKeys: String, CodingKey {
        case id, kind, job, raisedBy, otherSide, proposed, currentPlan, amountMinor, payment, reason, suggestedResolutions, decision
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(id: try c.decode(ReviewCaseID.self, forKey: .id), kind: try c.decode(Kind.self, forKey: .kind),
                  job: try c.decodeIfPresent(JobID.self, forKey: .job), raisedBy: try c.decode(ActionSummary.self, forKey: .raisedBy),
                  otherSide: try c.decodeIfPresent(ActionSummary.self, forKey: .otherSide), proposed: try c.decodeIfPresent(ActionPayload.self, forKey: .proposed),
                  currentPlan: try c.decodeIfPresent(Plan.self, forKey: .currentPlan), amountMinor: try c.decode(Int64.self, forKey: .amountMinor),
                  payment: try c.decodeIfPresent(PaymentID.self, forKey: .payment), reason: try c.decodeIfPresent(LedgerError.self, forKey: .reason),
                  suggestedResolutions: try c.decode([Resolution].self, forKey: .suggestedResolutions), decision: try c.decodeIfPresent(Decision.self, forKey: .decision))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(kind, forKey: .kind)
        try c.encodeIfPresent(job, forKey: .job)
        try c.encode(raisedBy, forKey: .raisedBy)
        try c.encodeIfPresent(otherSide, forKey: .otherSide)
        try c.encodeIfPresent(proposed, forKey: .proposed)
        try c.encodeIfPresent(currentPlan, forKey: .currentPlan)
        try c.encode(amountMinor, forKey: .amountMinor)
        try c.encodeIfPresent(payment, forKey: .payment)
        try c.encodeIfPresent(reason, forKey: .reason)
        try c.encode(suggestedResolutions, forKey: .suggestedResolutions)
        try c.encodeIfPresent(decision, forKey: .decision)
    }
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
    public internal(set) var fieldStamps: [FieldStamp?] {
        get {
            switch stamps {
            case .uniform(let stamp): Array(repeating: stamp, count: InfoField.allCases.count)
            case .each(let stamps): stamps
            }
        }
        set { stamps = Stamps(newValue) }
    }
    /// Values that lost to later writes: kept, never shown as current.
    public internal(set) var superseded: [SupersededValue] = []
    public internal(set) var reviewCases: [ReviewCase] = []

    /// Most jobs keep the stamp of their creation on every field for life: then the job holds
    /// that one stamp, not an array of copies of it (272 bytes a job, decision 0034).
    private var stamps = Stamps.uniform(nil)

    private enum Stamps: Hashable, Sendable {
        case uniform(FieldStamp?)
        case each([FieldStamp?])

        /// The one form of `stamps`, so that equal stamps always compare equal.
        init(_ stamps: [FieldStamp?]) {
            if stamps.count == InfoField.allCases.count, let first = stamps.first, stamps.allSatisfy({ $0 == first }) {
                self = .uniform(first)
            } else {
                self = .each(stamps)
            }
        }
    }

    /// The state of a job nothing has happened to yet.
    init() {}

    /// Whether every field holds one stamp, kept once (what the tests check).
    var stampsKeptOnce: Bool { if case .uniform = stamps { true } else { false } }

    /// Review cases still waiting for a person.
    public var openReviewCases: [ReviewCase] { reviewCases.filter(\.isOpen) }

    // The keys and their order are those the compiler synthesized before the stamps were kept
    // compactly, absent optionals omitted as it did: the canonical bytes must not change.
    enum CodingKeys: String, CodingKey {
        case versionVector, paymentMarks, planMarks, lastPlanChange, lastPayment, dots, fieldStamps, superseded, reviewCases
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        versionVector = try c.decode(VersionVector.self, forKey: .versionVector)
        paymentMarks = try c.decode(ChangeMarks.self, forKey: .paymentMarks)
        planMarks = try c.decode(ChangeMarks.self, forKey: .planMarks)
        lastPlanChange = try c.decodeIfPresent(ActionSummary.self, forKey: .lastPlanChange)
        lastPayment = try c.decodeIfPresent(ActionSummary.self, forKey: .lastPayment)
        dots = try c.decode([Dot].self, forKey: .dots)
        fieldStamps = try c.decode([FieldStamp?].self, forKey: .fieldStamps)
        superseded = try c.decode([SupersededValue].self, forKey: .superseded)
        reviewCases = try c.decode([ReviewCase].self, forKey: .reviewCases)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(versionVector, forKey: .versionVector)
        try c.encode(paymentMarks, forKey: .paymentMarks)
        try c.encode(planMarks, forKey: .planMarks)
        try c.encodeIfPresent(lastPlanChange, forKey: .lastPlanChange)
        try c.encodeIfPresent(lastPayment, forKey: .lastPayment)
        try c.encode(dots, forKey: .dots)
        try c.encode(fieldStamps, forKey: .fieldStamps)
        try c.encode(superseded, forKey: .superseded)
        try c.encode(reviewCases, forKey: .reviewCases)
    }
}
