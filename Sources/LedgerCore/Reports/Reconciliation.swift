/// Where one installment stands, for reconciliation. The first that applies wins, in this order.
public enum InstallmentStatus: String, Hashable, Sendable, Codable {
    /// Fully covered by completed payments.
    case paid
    /// Its plan was cancelled before it was collected.
    case cancelled
    /// Past its due date with something left to collect.
    case overdue
    /// Covered in part or whole by payments still pending.
    case pending
    /// Partly covered by completed payments.
    case partial
    /// Nothing collected yet, not yet due.
    case unpaid
}

/// One installment in the reconciliation report.
public struct ReconciliationInstallment: Hashable, Sendable, Codable {
    public let installmentID: InstallmentID
    public let installmentNumber: Int
    public let label: String
    public let amountMinor: Int64
    public let paidMinor: Int64
    public let pendingMinor: Int64
    public let remainingMinor: Int64
    public let dueDate: CalendarDate?
    public let status: InstallmentStatus
}

/// One job in the reconciliation report, with its installments.
public struct ReconciliationJob: Hashable, Sendable, Codable {
    /// Whether the job has a plan and what became of it.
    public enum PlanState: String, Hashable, Sendable, Codable { case none, active, cancelled }

    public let customer: String
    public let jobID: JobID
    public let jobNumber: String
    public let invoiceNumber: String?
    public let currency: Currency
    public let invoiceTotalMinor: Int64
    /// Completed payments (before refunds).
    public let paidMinor: Int64
    public let pendingMinor: Int64
    public let refundedMinor: Int64
    public let creditMinor: Int64
    public let balanceMinor: Int64
    public let planState: PlanState
    public let planTargetDiffersFromInvoice: Bool
    public let readyToSchedule: Bool
    public let readyToClose: Bool
    /// Review cases on the job still waiting for a person.
    public let openReviewCases: Int
    public let installments: [ReconciliationInstallment]
}

/// Money collected and refunded in one period.
public struct CollectionPeriodRow: Hashable, Sendable, Codable {
    public let periodStart: CalendarDate
    /// "2026-06-04", "Week of 2026-06-01" or "2026-06".
    public let periodLabel: String
    public let currency: Currency
    public let paymentCount: Int
    public let collectedMinor: Int64
    public let refundedMinor: Int64
    public var netMinor: Int64 { collectedMinor - refundedMinor }
}

/// The length of a collection-totals period.
public enum CollectionPeriod: String, Hashable, Sendable, Codable, CaseIterable {
    case day, week, month

    func start(of date: CalendarDate) -> CalendarDate {
        switch self {
        case .day: date
        case .week: date.startOfWeek
        case .month: date.startOfMonth
        }
    }

    func label(_ start: CalendarDate) -> String {
        switch self {
        case .day: start.iso
        case .week: "Week of \(start.iso)"
        case .month: start.isoMonth
        }
    }
}

/// An installment that should get a payment reminder on a given day.
public struct ReminderRow: Hashable, Sendable, Codable {
    public let customer: String
    public let jobID: JobID
    public let jobNumber: String
    public let invoiceNumber: String
    public let installmentID: InstallmentID
    public let installmentNumber: Int
    public let label: String
    public let currency: Currency
    public let remainingMinor: Int64
    public let dueDate: CalendarDate
}

extension Reports {
    /// Every job with an invoice, by job id, with each installment of its current plan.
    public static func reconciliation(_ ledger: Ledger, today: CalendarDate) -> [ReconciliationJob] {
        ledger.jobs.compactMap { job -> ReconciliationJob? in
            guard let invoice = job.invoice else { return nil }
            let totals = job.totals
            var installments: [ReconciliationInstallment] = []
            var state = ReconciliationJob.PlanState.none
            if let plan = job.plan {
                state = plan.isActive ? .active : .cancelled
                for (index, row) in job.allocation(of: plan, totals: totals).enumerated() {
                    let installment = plan.rows[index]
                    let status: InstallmentStatus =
                        if row.isPaid { .paid }
                        else if !plan.isActive { .cancelled }
                        else if let due = installment.dueDate, due < today { .overdue }
                        else if row.pendingMinor > 0 { .pending }
                        else if row.completedMinor > 0 { .partial }
                        else { .unpaid }
                    installments.append(ReconciliationInstallment(
                        installmentID: row.id, installmentNumber: index + 1, label: installment.label, amountMinor: row.amountMinor,
                        paidMinor: row.completedMinor, pendingMinor: row.pendingMinor, remainingMinor: row.remainingMinor,
                        dueDate: installment.dueDate, status: status))
                }
            }
            let readiness = job.readiness
            return ReconciliationJob(
                customer: job.customer.name, jobID: job.id, jobNumber: job.number, invoiceNumber: invoice.number,
                currency: job.currency, invoiceTotalMinor: totals.invoiceTotalMinor, paidMinor: totals.completedMinor,
                pendingMinor: totals.pendingMinor, refundedMinor: totals.refundedMinor, creditMinor: totals.creditMinor,
                balanceMinor: totals.balanceMinor, planState: state, planTargetDiffersFromInvoice: job.planTargetDiffersFromInvoice,
                readyToSchedule: readiness.readyToSchedule, readyToClose: readiness.readyToClose,
                openReviewCases: job.sync.openReviewCases.count, installments: installments)
        }
    }

    /// Reconciliation as CSV: one line per installment (or one per job without a plan).
    public static func reconciliationCSV(_ jobs: [ReconciliationJob], settings: CompanySettings) -> CSVTable {
        var rows: [[CSVTable.Cell]] = []
        for job in jobs {
            let jobCells: [CSVTable.Cell] = [
                .text(job.customer), .text(job.jobNumber), .text(job.invoiceNumber ?? ""), .text(job.currency.code),
                .number(decimal(job.invoiceTotalMinor, job.currency)), .number(decimal(job.paidMinor, job.currency)),
                .number(decimal(job.pendingMinor, job.currency)), .number(decimal(job.refundedMinor, job.currency)),
                .number(decimal(job.creditMinor, job.currency)), .number(decimal(job.balanceMinor, job.currency)),
                .text(job.planState.rawValue), .number(String(job.openReviewCases)),
            ]
            if job.installments.isEmpty {
                rows.append(jobCells + Array(repeating: .text(""), count: 8))
            }
            for installment in job.installments {
                rows.append(jobCells + [
                    .number(String(installment.installmentNumber)), .text(installment.label),
                    .number(decimal(installment.amountMinor, job.currency)), .number(decimal(installment.paidMinor, job.currency)),
                    .number(decimal(installment.pendingMinor, job.currency)), .number(decimal(installment.remainingMinor, job.currency)),
                    .text(installment.dueDate?.iso ?? ""), .text(installment.status.rawValue),
                ])
            }
        }
        let interval = settings.intervalName
        return CSVTable(header: [
            "Customer", "Job", "Invoice", "Currency", "Invoice Total", "Paid", "Pending", "Refunded", "Credit", "Balance",
            settings.programName, "Open Review Cases", "\(interval) #", interval, "\(interval) Amount", "\(interval) Paid", "\(interval) Pending",
            "\(interval) Remaining", "Due Date", "\(interval) Status",
        ], rows: rows)
    }

    /// Completed payments and refunds by business day, week (from Monday) or month, per currency,
    /// for the periods that start on or after `from` and contain days up to `through`.
    public static func collections(_ ledger: Ledger, period: CollectionPeriod, from: CalendarDate, through: CalendarDate) -> [CollectionPeriodRow] {
        struct Key: Hashable, Comparable {
            let start: CalendarDate
            let currency: Currency
            static func < (lhs: Key, rhs: Key) -> Bool { (lhs.start, lhs.currency) < (rhs.start, rhs.currency) }
        }
        var sums: [Key: (count: Int, collected: Int64, refunded: Int64)] = [:]
        for job in ledger.jobs {
            for payment in job.payments where payment.state == .completed && (from...through).contains(payment.occurredOn) {
                let key = Key(start: period.start(of: payment.occurredOn), currency: job.currency)
                sums[key, default: (0, 0, 0)].count += 1
                sums[key, default: (0, 0, 0)].collected += payment.amountMinor
            }
            for refund in job.refunds where (from...through).contains(refund.occurredOn) {
                sums[Key(start: period.start(of: refund.occurredOn), currency: job.currency), default: (0, 0, 0)].refunded += refund.amountMinor
            }
        }
        return sums.keys.sorted().map { key in
            let sum = sums[key]!
            return CollectionPeriodRow(periodStart: key.start, periodLabel: period.label(key.start), currency: key.currency,
                                       paymentCount: sum.count, collectedMinor: sum.collected, refundedMinor: sum.refunded)
        }
    }

    /// Collections as CSV.
    public static func collectionsCSV(_ rows: [CollectionPeriodRow]) -> CSVTable {
        CSVTable(header: ["Period", "Currency", "Payments", "Collected", "Refunded", "Net"], rows: rows.map { row in
            [.text(row.periodLabel), .text(row.currency.code), .number(String(row.paymentCount)),
             .number(decimal(row.collectedMinor, row.currency)), .number(decimal(row.refundedMinor, row.currency)),
             .number(decimal(row.netMinor, row.currency))]
        })
    }

    /// Installments due on `date` that should get a reminder: not the deposit, not without a due
    /// date, not already covered (pending payments count), not for customers who opted out.
    public static func remindersDue(_ ledger: Ledger, on date: CalendarDate) -> [ReminderRow] {
        var rows: [ReminderRow] = []
        for job in ledger.jobs where !job.customer.remindersOptOut {
            guard let plan = job.plan, plan.isActive, let invoice = job.invoice, invoice.voidedOn == nil else { continue }
            for (index, row) in job.allocation(of: plan).enumerated() where index > 0 {
                let installment = plan.rows[index]
                guard installment.dueDate == date, row.provisionalMinor < row.amountMinor else { continue }
                rows.append(ReminderRow(
                    customer: job.customer.name, jobID: job.id, jobNumber: job.number, invoiceNumber: invoice.number,
                    installmentID: row.id, installmentNumber: index + 1, label: installment.label, currency: job.currency,
                    remainingMinor: row.remainingMinor, dueDate: date))
            }
        }
        return rows
    }

    /// Reminders as CSV.
    public static func remindersCSV(_ rows: [ReminderRow], settings: CompanySettings) -> CSVTable {
        CSVTable(header: ["Customer", "Job", "Invoice", "\(settings.intervalName) #", settings.intervalName, "Currency", "Remaining", "Due Date"],
                 rows: rows.map { row in
                     [.text(row.customer), .text(row.jobNumber), .text(row.invoiceNumber), .number(String(row.installmentNumber)),
                      .text(row.label), .text(row.currency.code), .number(decimal(row.remainingMinor, row.currency)), .text(row.dueDate.iso)]
                 })
    }
}
