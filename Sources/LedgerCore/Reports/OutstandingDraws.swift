/// Where an uncollected installment stands relative to today.
public enum DrawStatus: String, Hashable, Comparable, Sendable, Codable {
    case pastDue = "Past Due"
    case dueToday = "Due Today"
    case upcoming = "Upcoming"
    case noDueDate = "No Due Date"

    /// The order the outstanding-draws report lists them in.
    var rank: Int {
        switch self {
        case .pastDue: 0
        case .dueToday: 1
        case .upcoming: 2
        case .noDueDate: 3
        }
    }

    public static func < (lhs: DrawStatus, rhs: DrawStatus) -> Bool { lhs.rank < rhs.rank }

    /// The status of a row due on `dueDate` as seen on `today`.
    static func of(dueDate: CalendarDate?, today: CalendarDate) -> DrawStatus {
        guard let dueDate else { return .noDueDate }
        if dueDate < today { return .pastDue }
        return dueDate == today ? .dueToday : .upcoming
    }
}

/// One uncollected installment of an active plan.
public struct OutstandingDrawRow: Hashable, Sendable, Codable {
    public let customer: String
    public let jobID: JobID
    public let jobNumber: String
    public let invoiceNumber: String
    public let installmentID: InstallmentID
    /// 1-based position of the installment in its plan.
    public let installmentNumber: Int
    public let installmentLabel: String
    public let currency: Currency
    public let amountMinor: Int64
    /// Still to collect, counting completed payments only.
    public let remainingMinor: Int64
    /// Covered by payments that are still pending, shown apart.
    public let pendingMinor: Int64
    public let dueDate: CalendarDate?
    public let status: DrawStatus
    public let daysOverdue: Int
}

/// One installment of a job's active plan still to collect: an outstanding-draws row before
/// today gives it a status. A function of the job alone, so a store may keep it beside the job
/// and list a large company's draws without reading every job (decision 0017).
public struct OutstandingInstallment: Hashable, Sendable {
    public let customer: String
    public let jobID: JobID
    public let jobNumber: String
    public let invoiceNumber: String
    public let installmentID: InstallmentID
    /// 1-based position of the installment in its plan.
    public let installmentNumber: Int
    public let installmentLabel: String
    public let currency: Currency
    public let amountMinor: Int64
    public let remainingMinor: Int64
    public let pendingMinor: Int64
    public let dueDate: CalendarDate?
}

extension Reports {
    /// One row per uncollected installment of every active plan, ordered Past Due, Due Today,
    /// Upcoming (then rows with no due date), then by due date ascending.
    ///
    /// `today` is the business time zone's date. Cancelled plans and voided invoices drop out.
    public static func outstandingDraws(_ ledger: Ledger, today: CalendarDate) -> [OutstandingDrawRow] {
        outstandingDraws(ledger.jobs.flatMap(outstandingInstallments), today: today)
    }

    /// The installments of `job` still to collect, in plan order (none when its plan is
    /// cancelled or its invoice voided).
    public static func outstandingInstallments(of job: Job) -> [OutstandingInstallment] {
        guard let plan = job.plan, plan.isActive, let invoice = job.invoice, invoice.voidedOn == nil else { return [] }
        var rows: [OutstandingInstallment] = []
        for (index, allocation) in job.allocation(of: plan).enumerated() where allocation.remainingMinor > 0 {
            let installment = plan.rows[index]
            rows.append(OutstandingInstallment(
                customer: job.customer.name, jobID: job.id, jobNumber: job.number, invoiceNumber: invoice.number,
                installmentID: installment.id, installmentNumber: index + 1, installmentLabel: installment.label,
                currency: job.currency, amountMinor: installment.amountMinor, remainingMinor: allocation.remainingMinor,
                pendingMinor: allocation.pendingMinor, dueDate: installment.dueDate))
        }
        return rows
    }

    /// The outstanding-draws report over installments gathered from any number of jobs (in any
    /// order): each gets its status on `today`, and the rows are ordered as the report lists them.
    public static func outstandingDraws(_ installments: [OutstandingInstallment], today: CalendarDate) -> [OutstandingDrawRow] {
        let (order, statuses) = drawOrder(installments, today: today)
        return order.map { index in
            let row = installments[index], status = statuses[index]
            return OutstandingDrawRow(
                customer: row.customer, jobID: row.jobID, jobNumber: row.jobNumber, invoiceNumber: row.invoiceNumber,
                installmentID: row.installmentID, installmentNumber: row.installmentNumber, installmentLabel: row.installmentLabel,
                currency: row.currency, amountMinor: row.amountMinor, remainingMinor: row.remainingMinor, pendingMinor: row.pendingMinor,
                dueDate: row.dueDate, status: status, daysOverdue: daysOverdue(row.dueDate, status, today))
        }
    }

    /// The outstanding draws as CSV, with the company's interval name in the headers.
    public static func outstandingDrawsCSV(_ rows: [OutstandingDrawRow], settings: CompanySettings) -> CSVTable {
        var cells = CSVTable.Builder(cells: rows.count * drawColumns, bytes: rows.count * drawBytesGuess)
        for row in rows {
            appendDrawCells(row.customer, row.jobNumber, row.invoiceNumber, row.installmentNumber, row.installmentLabel, row.currency,
                            row.amountMinor, row.remainingMinor, row.pendingMinor, row.dueDate, row.status, row.daysOverdue, to: &cells)
        }
        return cells.table(header: drawHeader(settings))
    }

    /// The same table as `outstandingDrawsCSV(outstandingDraws(installments, today:), settings:)`,
    /// built without the rows in between: a large company's report lists a hundred thousand
    /// installments, and copying each into a row of its own cost as much as the table.
    public static func outstandingDrawsCSV(_ installments: [OutstandingInstallment], today: CalendarDate, settings: CompanySettings) -> CSVTable {
        let (order, statuses) = drawOrder(installments, today: today)
        var cells = CSVTable.Builder(cells: order.count * drawColumns, bytes: order.count * drawBytesGuess)
        for index in order {
            let row = installments[index], status = statuses[index]
            appendDrawCells(row.customer, row.jobNumber, row.invoiceNumber, row.installmentNumber, row.installmentLabel, row.currency,
                            row.amountMinor, row.remainingMinor, row.pendingMinor, row.dueDate, status,
                            daysOverdue(row.dueDate, status, today), to: &cells)
        }
        return cells.table(header: drawHeader(settings))
    }

    /// The same bytes as `JSONEncoder` (sorted keys) gives for `outstandingDraws(installments,
    /// today:)`, written without the rows or the encoder's tree of values (seconds and half a
    /// gigabyte for a 50,000-job company).
    public static func outstandingDrawsJSON(_ installments: [OutstandingInstallment], today: CalendarDate) -> [UInt8] {
        let (order, statuses) = drawOrder(installments, today: today)
        var json = JSONBytes(capacity: 2 + order.count * drawJSONBytesGuess)
        json.raw("[")
        for (position, index) in order.enumerated() {
            let row = installments[index], status = statuses[index]
            if position > 0 { json.raw(",") }
            // Keys in the order the encoder sorts them (byte order of their names).
            json.raw("{")
            json.key("amountMinor", first: true)
            json.int(row.amountMinor)
            json.key("currency")
            json.string(row.currency.code)
            json.key("customer")
            json.string(row.customer)
            json.key("daysOverdue")
            json.int(daysOverdue(row.dueDate, status, today))
            if let dueDate = row.dueDate {
                json.key("dueDate")
                json.date(dueDate)
            }
            json.key("installmentID")
            json.raw("{")
            json.key("index", first: true)
            json.int(row.installmentID.index)
            json.key("origin")
            json.dot(row.installmentID.origin)
            json.raw("}")
            json.key("installmentLabel")
            json.string(row.installmentLabel)
            json.key("installmentNumber")
            json.int(row.installmentNumber)
            json.key("invoiceNumber")
            json.string(row.invoiceNumber)
            json.key("jobID")
            json.raw("{")
            json.key("dot", first: true)
            json.dot(row.jobID.dot)
            json.raw("}")
            json.key("jobNumber")
            json.string(row.jobNumber)
            json.key("pendingMinor")
            json.int(row.pendingMinor)
            json.key("remainingMinor")
            json.int(row.remainingMinor)
            json.key("status")
            json.string(status.rawValue)
            json.raw("}")
        }
        json.raw("]")
        return json.bytes
    }

    /// About what a row takes as JSON (its keys alone are 190 bytes).
    private static let drawJSONBytesGuess = 420

    static let drawColumns = 12
    /// About what a row's cells take (names, numbers, a label, amounts, a date, a status).
    static let drawBytesGuess = 96

    static func drawHeader(_ settings: CompanySettings) -> [String] {
        let interval = settings.intervalName
        return ["Customer", "Job", "Invoice", "\(interval) #", interval, "Currency", "Amount", "Remaining", "Pending", "Due Date", "Status", "Days Overdue"]
    }

    private static func appendDrawCells(_ customer: String, _ jobNumber: String, _ invoiceNumber: String, _ installmentNumber: Int,
                                        _ label: String, _ currency: Currency, _ amountMinor: Int64, _ remainingMinor: Int64,
                                        _ pendingMinor: Int64, _ dueDate: CalendarDate?, _ status: DrawStatus, _ daysOverdue: Int,
                                        to cells: inout CSVTable.Builder) {
        cells.text(customer)
        cells.text(jobNumber)
        cells.text(invoiceNumber)
        cells.number(installmentNumber)
        cells.text(label)
        cells.text(currency.code)
        cells.amount(amountMinor, currency)
        cells.amount(remainingMinor, currency)
        cells.amount(pendingMinor, currency)
        cells.date(dueDate)
        cells.text(status.rawValue)
        cells.number(daysOverdue)
    }

    private static func daysOverdue(_ dueDate: CalendarDate?, _ status: DrawStatus, _ today: CalendarDate) -> Int {
        status == .pastDue ? dueDate!.days(until: today) : 0
    }

    /// The positions of `installments` in the report's order, and each one's status on `today`.
    private static func drawOrder(_ installments: [OutstandingInstallment], today: CalendarDate) -> (order: [Int], statuses: [DrawStatus]) {
        // Sorted through small keys: moving the rows themselves (a dozen fields, five strings)
        // through the sort cost more than building them.
        let statuses = installments.map { DrawStatus.of(dueDate: $0.dueDate, today: today) }
        let keys = installments.indices.map { (statuses[$0].rank, (installments[$0].dueDate ?? .distantFuture).daysSinceEpoch,
                                               installments[$0].jobID, installments[$0].installmentNumber) }
        return (keys.indices.sorted { keys[$0] < keys[$1] }, statuses)
    }
}

extension CalendarDate {
    /// Sorts after every real date; used only for ordering rows without one.
    static let distantFuture = try! CalendarDate(year: 9999, month: 12, day: 31)
}

/// The reports of DESIGN §3: pure functions of the ledger and a business date.
public enum Reports {
    static func decimal(_ amountMinor: Int64, _ currency: Currency) -> String {
        Money(uncheckedMinor: amountMinor, currency).plainDecimal()
    }

    static func formatted(_ amountMinor: Int64, _ currency: Currency) -> String {
        Money(uncheckedMinor: amountMinor, currency).formatted()
    }
}
