/// How a plan's rows are sized.
public enum PlanMode: String, Hashable, Sendable, Codable, CaseIterable {
    /// Rows carry percentages of the target; extra cents sit on row 1.
    case percentage
    /// Rows carry fixed amounts; the last row is the remainder.
    case amount
}

/// What a person asks for when saving a plan, before the rules size and date its rows.
public struct PlanDraft: Hashable, Sendable, Codable {
    /// One requested row.
    public struct Row: Hashable, Sendable, Codable {
        public var label: String
        /// Required in percentage mode.
        public var percentage: PartsPerMillion?
        /// Required in amount mode for every row but the last; the last, when given, must equal
        /// the remainder.
        public var amountMinor: Int64?
        /// Blank means "invoice date plus row index × interval".
        public var dueDate: CalendarDate?
        /// The id of an existing row this one keeps (when editing); nil mints a new id.
        public var id: InstallmentID?

        /// Makes a requested row.
        public init(label: String, percentage: PartsPerMillion? = nil, amountMinor: Int64? = nil, dueDate: CalendarDate? = nil, id: InstallmentID? = nil) {
            self.label = label
            self.percentage = percentage
            self.amountMinor = amountMinor
            self.dueDate = dueDate
            self.id = id
        }
    }

    public var mode: PlanMode
    public var rows: [Row]
    /// The template this draft came from, if any, shown next to the plan.
    public var templateName: String?

    /// Makes a draft.
    public init(mode: PlanMode, rows: [Row], templateName: String? = nil) {
        self.mode = mode
        self.rows = rows
        self.templateName = templateName
    }

    /// A percentage draft from a template, with optional due dates by row.
    public init(template: PlanTemplate, dueDates: [CalendarDate?] = []) {
        self.init(mode: .percentage, rows: template.stages.enumerated().map { index, stage in
            Row(label: stage.label, percentage: stage.percentage, dueDate: index < dueDates.count ? dueDates[index] : nil)
        }, templateName: template.name)
    }
}

/// One installment of a saved plan.
public struct Installment: Hashable, Sendable, Codable {
    public let id: InstallmentID
    public var label: String
    public let amountMinor: Int64
    /// The share it was sized from, in percentage mode.
    public let percentage: PartsPerMillion?
    /// The due date in force (given, or defaulted from the invoice date); nil when the row had no
    /// date and the invoice had none to default from.
    public var dueDate: CalendarDate?
    /// True when `dueDate` came from the default rule rather than a person.
    public var dueDateIsDefault: Bool
}

/// A saved payment plan on a job's invoice.
///
/// The target is the invoice balance snapshotted at save; later invoice changes never re-price
/// it (they make `Job.planTargetDiffersFromInvoice` true). Allocations are not stored: they are
/// a function of the job's payments (see `Job.allocation`).
public struct Plan: Hashable, Sendable, Codable {
    /// Set when the plan is cancelled.
    public struct Cancellation: Hashable, Sendable, Codable {
        public let on: CalendarDate
        public let by: Actor
        /// The plan's allocation pool (completed and pending) when it was cancelled; later
        /// payments never reach its rows.
        public let poolCapMinor: Int64
    }

    public let id: PlanID
    public private(set) var mode: PlanMode
    public private(set) var templateName: String?
    public private(set) var targetMinor: Int64
    public internal(set) var rows: [Installment]
    /// The business day of the last full save, the earliest day a new due date may take.
    public private(set) var savedOn: CalendarDate
    /// The invoice total when the target was snapshotted.
    public private(set) var invoiceTotalAtSnapshotMinor: Int64
    /// Completed payments on the job before the plan was saved; they were netted out of the
    /// target, so they never allocate to its rows.
    public private(set) var baselinePaidMinor: Int64
    public internal(set) var cancellation: Cancellation?
    /// How many full saves the plan has had (1 when first saved).
    public private(set) var revision: Int

    /// Whether the plan still schedules payments.
    public var isActive: Bool { cancellation == nil }

    /// A plan with every field given: built by `build`, or read back from a store's record.
    init(id: PlanID, mode: PlanMode, templateName: String?, targetMinor: Int64, rows: [Installment], savedOn: CalendarDate,
         invoiceTotalAtSnapshotMinor: Int64, baselinePaidMinor: Int64, cancellation: Cancellation?, revision: Int) {
        self.id = id
        self.mode = mode
        self.templateName = templateName
        self.targetMinor = targetMinor
        self.rows = rows
        self.savedOn = savedOn
        self.invoiceTotalAtSnapshotMinor = invoiceTotalAtSnapshotMinor
        self.baselinePaidMinor = baselinePaidMinor
        self.cancellation = cancellation
        self.revision = revision
    }

    /// Sizes and dates a draft into a plan; every rule of DESIGN §3 "Plans" is checked here.
    ///
    /// - Parameters:
    ///   - rowOrigin: the dot of the saving action, which mints ids for new rows.
    ///   - planDay: the business day of the save; given due dates may not be before it.
    ///   - previous: the plan being replaced by an edit, whose row ids may be kept.
    static func build(
        id: PlanID, draft: PlanDraft, targetMinor: Int64, invoiceTotalMinor: Int64, baselinePaidMinor: Int64,
        invoiceDate: CalendarDate?, intervalDays: Int, planDay: CalendarDate, rowOrigin: Dot, previous: Plan?
    ) throws(LedgerError) -> Plan {
        let count = draft.rows.count
        guard (Limits.planRowsMin...Limits.planRowsMax).contains(count) else {
            throw LedgerError(.stageCountInvalid, "A plan has \(Limits.planRowsMin) to \(Limits.planRowsMax) installments; add or remove rows.")
        }
        guard targetMinor > 0 else {
            throw LedgerError(.planTargetNotPositive, "The invoice has no balance left to schedule; a plan needs an amount owed.")
        }
        // Labels are checked before amounts and dates so the first error reported is the same
        // whichever way the rows are built; checking twice is cheap (no allocation when clean).
        for row in draft.rows { _ = try Validate.label(row.label, what: "installment label") }
        let amounts = try sizeRows(draft, targetMinor: targetMinor)

        var rows: [Installment] = []
        rows.reserveCapacity(count)
        var latest: CalendarDate?
        for index in 0..<count {
            let row = draft.rows[index]
            if let requestedID = row.id {
                guard previous?.rows.contains(where: { $0.id == requestedID }) == true, !rows.contains(where: { $0.id == requestedID }) else {
                    throw LedgerError(.installmentUnknown, "A row names an installment id the plan does not have (or names it twice); leave the id blank for a new row.")
                }
            }
            let due = try resolveDueDate(row, index: index, invoiceDate: invoiceDate, intervalDays: intervalDays, planDay: planDay, previous: previous)
            if let date = due.date {
                if let latest, date < latest {
                    throw LedgerError(.dueDatesOutOfOrder, "Installment \(index + 1) falls due before an earlier installment; due dates must not go backwards (give the row a date).")
                }
                latest = date
            }
            rows.append(Installment(
                id: row.id ?? InstallmentID(origin: rowOrigin, index: index), label: try Validate.label(row.label, what: "installment label"),
                amountMinor: amounts[index], percentage: draft.mode == .percentage ? row.percentage : nil,
                dueDate: due.date, dueDateIsDefault: due.isDefault))
        }
        return Plan(
            id: id, mode: draft.mode, templateName: draft.templateName, targetMinor: targetMinor, rows: rows,
            savedOn: planDay, invoiceTotalAtSnapshotMinor: invoiceTotalMinor, baselinePaidMinor: baselinePaidMinor,
            cancellation: nil, revision: (previous?.revision ?? 0) + 1)
    }

    // By percentage: rows 2…n get floor(target × ppm / 1,000,000), row 1 the remainder. By
    // amount: the last row is the remainder. Either way the rows sum to the target exactly.
    private static func sizeRows(_ draft: PlanDraft, targetMinor: Int64) throws(LedgerError) -> [Int64] {
        var amounts: [Int64] = []
        switch draft.mode {
        case .percentage:
            var ppmSum: Int64 = 0
            for row in draft.rows {
                guard let percentage = row.percentage, percentage.value > 0 else {
                    throw LedgerError(.percentagesNotWhole, "Every installment of a percentage plan needs a share above 0%.")
                }
                ppmSum += percentage.value
            }
            guard ppmSum == Limits.ppmWhole else {
                throw LedgerError(.percentagesNotWhole, "The installments' percentages must add up to exactly 100%; adjust them.")
            }
            var rest: Int64 = 0
            for row in draft.rows.dropFirst() {
                let share = Plan.share(of: targetMinor, ppm: row.percentage!.value)
                amounts.append(share)
                rest += share
            }
            amounts.insert(targetMinor - rest, at: 0)
        case .amount:
            var sum: Int64 = 0
            for row in draft.rows.dropLast() {
                guard let amount = row.amountMinor else {
                    throw LedgerError(.planNotFullyAllocated, "Every installment but the last needs an amount; the last one takes the remainder.")
                }
                try Validate.positiveAmount(amount, what: "installment amount")
                sum += amount
                amounts.append(amount)
            }
            let remainder = targetMinor - sum
            guard remainder > 0 else {
                throw LedgerError(.planNotFullyAllocated, "The installments add up to the whole balance or more, leaving nothing for the last one; lower an amount or remove a row.")
            }
            if let last = draft.rows.last?.amountMinor, last != remainder {
                throw LedgerError(.planNotFullyAllocated, "The installments must add up exactly to the invoice balance; leave the last amount blank to take the remainder.")
            }
            amounts.append(remainder)
        }
        guard amounts.allSatisfy({ $0 > 0 }) else {
            throw LedgerError(.installmentNotPositive, "An installment would come to zero at this balance; use fewer installments.")
        }
        return amounts
    }

    /// floor(target × ppm / 1,000,000), exact for every target the limits allow.
    static func share(of targetMinor: Int64, ppm: Int64) -> Int64 {
        let product = targetMinor.multipliedFullWidth(by: ppm)
        return Int64.init(Limits.ppmWhole).dividingFullWidth((high: product.high, low: product.low)).quotient
    }

    // A given date stays (and may not be before the plan's day unless it is an unchanged date of
    // a kept row); a blank one defaults to the invoice date plus index × interval.
    private static func resolveDueDate(
        _ row: PlanDraft.Row, index: Int, invoiceDate: CalendarDate?, intervalDays: Int, planDay: CalendarDate, previous: Plan?
    ) throws(LedgerError) -> (date: CalendarDate?, isDefault: Bool) {
        if let given = row.dueDate {
            let unchanged = row.id.flatMap { id in previous?.rows.first { $0.id == id } }?.dueDate == given
            guard unchanged || given >= planDay else {
                throw LedgerError(.dueDateBeforePlanDay, "Installment \(index + 1)'s due date is before today; pick today or a later day.")
            }
            return (given, false)
        }
        guard let invoiceDate else { return (nil, true) }
        return (try invoiceDate.adding(days: index * intervalDays), true)
    }

    /// Splits `poolMinor` over the rows oldest first: each row fills before the next gets any.
    public func cascade(poolMinor: Int64) -> [Int64] {
        var left = max(0, poolMinor)
        return rows.map { row in
            let take = min(left, row.amountMinor)
            left -= take
            return take
        }
    }
}
