/// A job: one customer, one currency, one invoice, at most one active plan, and its money events.
///
/// Every mutating method checks all of its input before changing anything, so a thrown
/// `LedgerError` leaves the job exactly as it was. Balances, allocations and statuses are not
/// stored; they are computed from the events (DESIGN §1.6).
public struct Job: Hashable, Sendable, Codable {
    public let id: JobID
    /// The number people see, such as "J-1042".
    public internal(set) var number: String
    public internal(set) var customer: Customer
    public internal(set) var department: String?
    public let currency: Currency
    public internal(set) var notes: String
    public internal(set) var invoice: Invoice? {
        get { invoiceHeld?.value }
        set { invoiceHeld = newValue.map(Held.init) }
    }
    /// The current plan, active or cancelled.
    public internal(set) var plan: Plan? {
        get { planHeld?.value }
        set { planHeld = newValue.map(Held.init) }
    }
    // Behind references (decision 0035): inline they were 290 of a job's bytes, and a company's
    // jobs sit one after another in memory. Both change only by being replaced whole.
    var invoiceHeld: Held<Invoice>?
    var planHeld: Held<Plan>?
    /// Plans this job had before the current one, kept for history.
    public internal(set) var previousPlans: [Plan]
    /// In the order they were booked.
    public internal(set) var payments: [Payment]
    public internal(set) var refunds: [Refund]
    public internal(set) var changeOrders: [ChangeOrder]
    /// What the sync core keeps about the job: version vectors, review cases, field stamps.
    public internal(set) var sync: JobSyncState
    var cache: JobCache

    /// Makes a job with no invoice yet.
    public init(id: JobID, number: String, customer: Customer, department: String? = nil, currency: Currency, notes: String = "") throws(LedgerError) {
        self.id = id
        self.number = try Validate.text(number, what: "job number", limit: Limits.shortTextLengthMax)
        self.customer = Customer(name: try Validate.label(customer.name, what: "customer name"), remindersOptOut: customer.remindersOptOut)
        self.department = try department.map { d throws(LedgerError) in try Validate.label(d, what: "department name") }
        self.currency = currency
        self.notes = try Validate.text(notes, what: "note")
        self.invoiceHeld = nil
        self.planHeld = nil
        self.previousPlans = []
        self.payments = []
        self.refunds = []
        self.changeOrders = []
        self.sync = JobSyncState()
        self.cache = JobCache()
    }

    enum CodingKeys: String, CodingKey {
        case id, number, customer, department, currency, notes, invoice, plan, previousPlans, payments, refunds, changeOrders, sync
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(JobID.self, forKey: .id)
        number = try c.decode(String.self, forKey: .number)
        customer = try c.decode(Customer.self, forKey: .customer)
        department = try c.decodeIfPresent(String.self, forKey: .department)
        currency = try c.decode(Currency.self, forKey: .currency)
        notes = try c.decode(String.self, forKey: .notes)
        invoiceHeld = try c.decodeIfPresent(Invoice.self, forKey: .invoice).map(Held.init)
        planHeld = try c.decodeIfPresent(Plan.self, forKey: .plan).map(Held.init)
        previousPlans = try c.decode([Plan].self, forKey: .previousPlans)
        payments = try c.decode([Payment].self, forKey: .payments)
        refunds = try c.decode([Refund].self, forKey: .refunds)
        changeOrders = try c.decode([ChangeOrder].self, forKey: .changeOrders)
        sync = try c.decode(JobSyncState.self, forKey: .sync)
        cache = JobCache()
        cache = JobCache(rebuildingFrom: self)
    }

    /// The keys in the order of `CodingKeys`, absent optionals omitted, as the compiler wrote them
    /// before the plan and invoice moved behind references.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(number, forKey: .number)
        try c.encode(customer, forKey: .customer)
        try c.encodeIfPresent(department, forKey: .department)
        try c.encode(currency, forKey: .currency)
        try c.encode(notes, forKey: .notes)
        try c.encodeIfPresent(invoice, forKey: .invoice)
        try c.encodeIfPresent(plan, forKey: .plan)
        try c.encode(previousPlans, forKey: .previousPlans)
        try c.encode(payments, forKey: .payments)
        try c.encode(refunds, forKey: .refunds)
        try c.encode(changeOrders, forKey: .changeOrders)
        try c.encode(sync, forKey: .sync)
    }

    /// The job's money position, computed from its events.
    public struct Totals: Hashable, Sendable, Codable {
        /// Base amount plus approved change orders; zero once voided.
        public var invoiceTotalMinor: Int64 = 0
        public var completedMinor: Int64 = 0
        public var pendingMinor: Int64 = 0
        public var refundedMinor: Int64 = 0
        /// Completed payments less refunds.
        public var netCollectedMinor: Int64 { completedMinor - refundedMinor }
        /// What the customer still owes (never negative).
        public var balanceMinor: Int64 { max(0, invoiceTotalMinor - netCollectedMinor) }
        /// What the customer paid beyond the invoice (never negative).
        public var creditMinor: Int64 { max(0, netCollectedMinor - invoiceTotalMinor) }
        /// What is still owed if every pending payment completes.
        public var balanceIfPendingCompletesMinor: Int64 { max(0, invoiceTotalMinor - netCollectedMinor - pendingMinor) }
    }

    /// The job's totals, from running sums kept as events are booked.
    public var totals: Totals {
        var totals = Totals()
        // Through the reference: `invoice` would copy the invoice out, retaining its number.
        if let held = invoiceHeld, held.value.voidedOn == nil {
            totals.invoiceTotalMinor = held.value.baseTotalMinor + cache.approvedChangeOrdersMinor
        }
        totals.completedMinor = cache.completedMinor
        totals.pendingMinor = cache.pendingMinor
        totals.refundedMinor = cache.refundedMinor
        return totals
    }

    /// The totals counted afresh from every event; the invariant check compares them with `totals`.
    public func recountedTotals() -> Totals {
        var totals = Totals()
        if let invoice, invoice.voidedOn == nil {
            totals.invoiceTotalMinor = invoice.baseTotalMinor
            for order in changeOrders where order.status == .approved { totals.invoiceTotalMinor += order.amountMinor }
        }
        for payment in payments {
            switch payment.state {
            case .completed: totals.completedMinor += payment.amountMinor
            case .pending: totals.pendingMinor += payment.amountMinor
            case .failed: break
            }
        }
        for refund in refunds { totals.refundedMinor += refund.amountMinor }
        return totals
    }

    /// How much of each row of a plan is covered.
    public struct RowAllocation: Hashable, Sendable, Codable {
        public let id: InstallmentID
        public let amountMinor: Int64
        /// Covered by completed payments: what counts as paid.
        public let completedMinor: Int64
        /// Covered by completed and pending payments together.
        public let provisionalMinor: Int64

        /// Still to collect, counting completed payments only.
        public var remainingMinor: Int64 { amountMinor - completedMinor }
        /// Covered only provisionally, by pending payments.
        public var pendingMinor: Int64 { provisionalMinor - completedMinor }
        /// Fully covered by completed payments.
        public var isPaid: Bool { completedMinor == amountMinor }
        /// Anything (even pending) is allocated to it, so it may no longer change.
        public var isTouched: Bool { provisionalMinor > 0 }
    }

    /// The allocation of the job's payments to `plan`'s rows, oldest unpaid first.
    ///
    /// It depends only on the sums of completed and pending payments (never on their order):
    /// the pool is what was paid after the plan's baseline, capped where the plan was cancelled.
    public func allocation(of plan: Plan) -> [RowAllocation] {
        allocation(of: plan, totals: totals)
    }

    func allocation(of plan: Plan, totals: Totals) -> [RowAllocation] {
        let cap = plan.cancellation?.poolCapMinor ?? Int64.max
        let completedPool = min(cap, max(0, totals.completedMinor - plan.baselinePaidMinor))
        let provisionalPool = min(cap, max(0, totals.completedMinor + totals.pendingMinor - plan.baselinePaidMinor))
        let completed = plan.cascade(poolMinor: completedPool)
        let provisional = plan.cascade(poolMinor: provisionalPool)
        return plan.rows.indices.map { index in
            RowAllocation(id: plan.rows[index].id, amountMinor: plan.rows[index].amountMinor,
                          completedMinor: completed[index], provisionalMinor: max(completed[index], provisional[index]))
        }
    }

    /// Whether a payment (even a pending one) is allocated to the current plan, which locks it.
    public var isPlanLocked: Bool {
        guard let plan else { return false }
        // Rows are positive and fill in order, so something is allocated exactly when the
        // provisional pool is above zero; no need to build the allocation.
        let cap = plan.cancellation?.poolCapMinor ?? Int64.max
        return min(cap, cache.completedMinor + cache.pendingMinor - plan.baselinePaidMinor) > 0
    }

    /// The active plan's first row not yet fully covered, counting pending payments when
    /// `provisional` (as a technician collecting should), or completed ones only.
    public func currentInstallment(provisional: Bool) -> (index: Int, row: Installment, remainingMinor: Int64)? {
        guard let plan, plan.isActive else { return nil }
        let rows = allocation(of: plan)
        for (index, row) in rows.enumerated() {
            let covered = provisional ? row.provisionalMinor : row.completedMinor
            if covered < row.amountMinor { return (index, plan.rows[index], row.amountMinor - covered) }
        }
        return nil
    }

    /// The invoice total moved (change orders, re-invoicing) since the active plan was saved;
    /// the plan keeps its target and the difference needs a person's look.
    public var planTargetDiffersFromInvoice: Bool {
        guard let plan, plan.isActive else { return false }
        return plan.invoiceTotalAtSnapshotMinor != totals.invoiceTotalMinor
    }

    /// Whether the job may be scheduled and closed (DESIGN §3 "Readiness").
    public struct Readiness: Hashable, Sendable, Codable {
        /// The deposit (first installment) is paid by completed payments; true when no active
        /// plan gates the job.
        public let readyToSchedule: Bool
        /// Every installment is collected; without an active plan, the invoice has no balance.
        public let readyToClose: Bool

        /// Makes a readiness value (for comparisons in callers' tests and views).
        public init(readyToSchedule: Bool, readyToClose: Bool) {
            self.readyToSchedule = readyToSchedule
            self.readyToClose = readyToClose
        }
    }

    /// The job's readiness, from completed payments only.
    public var readiness: Readiness {
        let totals = totals
        guard let plan, plan.isActive else {
            return Readiness(readyToSchedule: true, readyToClose: invoice != nil && totals.balanceMinor == 0)
        }
        let rows = allocation(of: plan, totals: totals)
        return Readiness(readyToSchedule: rows.first?.isPaid == true, readyToClose: rows.allSatisfy(\.isPaid))
    }

    /// Which completed payment covered which part of `plan`, in (occurred-at, id) order.
    ///
    /// The per-row totals equal `allocation(of:)` by construction; this answers the receipt
    /// question "what did this payment pay for" without letting arrival order decide it.
    public func coverage(of plan: Plan) -> [(payment: PaymentID, row: InstallmentID, amountMinor: Int64)] {
        let cap = plan.cancellation?.poolCapMinor ?? Int64.max
        var skip = plan.baselinePaidMinor
        var poolLeft = min(cap, max(0, totals.completedMinor - plan.baselinePaidMinor))
        var rowLeft = plan.rows.map(\.amountMinor)
        var rowIndex = 0
        var result: [(payment: PaymentID, row: InstallmentID, amountMinor: Int64)] = []
        #if PLANT_ARRIVAL_ORDER
        // Planted bug (issue F, Simulator/README.md): payments cover rows in the order they arrived.
        let ordered = payments.filter { $0.state == .completed }
        #else
        let ordered = payments.filter { $0.state == .completed }.sorted { ($0.occurredAt, $0.id) < ($1.occurredAt, $1.id) }
        #endif
        for payment in ordered {
            var left = payment.amountMinor
            let skipped = min(skip, left)
            skip -= skipped
            left -= skipped
            while left > 0, poolLeft > 0, rowIndex < rowLeft.count {
                let take = min(left, rowLeft[rowIndex], poolLeft)
                result.append((payment.id, plan.rows[rowIndex].id, take))
                left -= take
                poolLeft -= take
                rowLeft[rowIndex] -= take
                if rowLeft[rowIndex] == 0 { rowIndex += 1 }
            }
        }
        return result
    }

    /// What may still be refunded on a payment: its amount less refunds (never below zero), if
    /// it completed; nil for an unknown payment.
    public func refundableMinor(of paymentID: PaymentID) -> Int64? {
        guard let payment = payment(paymentID) else { return nil }
        guard payment.state == .completed else { return 0 }
        return max(0, payment.amountMinor - cache.refundedByPayment[paymentID, default: 0])
    }

    /// The payment with this id, if the job has it.
    public func payment(_ id: PaymentID) -> Payment? {
        cache.paymentPositions[id].map { payments[$0] }
    }
}

/// Running sums and lookup indexes derived from a job's events.
///
/// They make each booking cost the same however long the job's history is. They are never
/// encoded (a decoded job rebuilds them) and the invariant check compares them with a recount.
struct JobCache: Hashable, Sendable {
    var completedMinor: Int64 = 0
    var pendingMinor: Int64 = 0
    var refundedMinor: Int64 = 0
    var approvedChangeOrdersMinor: Int64 = 0
    /// Completed payments less refunds, per payment method (by `PaymentMethod.ordinal`).
    var netCashByMethod: [Int64] = Array(repeating: 0, count: PaymentMethod.allCases.count)
    var paymentPositions: [PaymentID: Int] = [:]
    var refundedByPayment: [PaymentID: Int64] = [:]
    var refundIDs: Set<RefundID> = []
    /// The dot of the action that raised the job's last review case: whether the action being
    /// merged raised any is answered here, without reading the last case (cold on a large job).
    var lastCaseDot: Dot?
    /// Where that action's cases start in the job's list (one action's cases sit together at its
    /// end): which cases it raised is answered without reading the case before them, as cold.
    var lastCaseStart = 0

    init() {}

    init(rebuildingFrom job: Job) {
        for (index, payment) in job.payments.enumerated() {
            paymentPositions[payment.id] = index
            switch payment.state {
            case .completed:
                completedMinor += payment.amountMinor
                netCashByMethod[payment.method.ordinal] += payment.amountMinor
            case .pending: pendingMinor += payment.amountMinor
            case .failed: break
            }
        }
        for refund in job.refunds {
            refundedMinor += refund.amountMinor
            refundedByPayment[refund.paymentID, default: 0] += refund.amountMinor
            refundIDs.insert(refund.id)
            if let index = paymentPositions[refund.paymentID] { netCashByMethod[job.payments[index].method.ordinal] -= refund.amountMinor }
        }
        for order in job.changeOrders where order.status == .approved { approvedChangeOrdersMinor += order.amountMinor }
        lastCaseDot = job.sync.reviewCases.last?.id.dot
        lastCaseStart = job.sync.reviewCases.endIndex
        while lastCaseStart > 0, job.sync.reviewCases[lastCaseStart - 1].id.dot == lastCaseDot { lastCaseStart -= 1 }
    }
}

/// An immutable value behind a reference, compared and hashed by the value: 8 bytes in the
/// value that holds it.
final class Held<Value: Hashable & Sendable>: Hashable, Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }

    static func == (lhs: Held, rhs: Held) -> Bool { lhs === rhs || lhs.value == rhs.value }
    func hash(into hasher: inout Hasher) { hasher.combine(value) }
}
