/// Which open invoices the pending-revenue report lists.
public enum PlanFilter: String, Hashable, Sendable, Codable, CaseIterable {
    case all
    case onPlan = "on-plan"
    case notOnPlan = "not-on-plan"
}

/// An open (not finalized) invoice with a balance.
public struct PendingRevenueRow: Hashable, Sendable, Codable {
    public let customer: String
    public let jobID: JobID
    public let jobNumber: String
    public let invoiceNumber: String
    public let currency: Currency
    public let invoiceTotalMinor: Int64
    public let collectedMinor: Int64
    public let balanceMinor: Int64
    /// Whether an active plan schedules the balance.
    public let onPlan: Bool
}

/// A finalized invoice with the sentence(s) that explain its balance.
public struct RevenueRow: Hashable, Sendable, Codable {
    public let customer: String
    public let jobID: JobID
    public let jobNumber: String
    public let invoiceNumber: String
    public let finalizedOn: CalendarDate
    public let currency: Currency
    public let invoiceTotalMinor: Int64
    public let collectedMinor: Int64
    public let balanceMinor: Int64
    public let creditMinor: Int64
    /// Such as "Progress Payment: $5,000.00 due 06/04/2026" and "Next Draw: Final Payment · Due 07/09/2026".
    public let subLabels: [String]
}

extension Reports {
    /// Open invoices not yet finalized that still have a balance, by invoice number.
    public static func pendingRevenue(_ ledger: Ledger, filter: PlanFilter = .all) -> [PendingRevenueRow] {
        ledger.jobs.compactMap { job -> PendingRevenueRow? in
            guard let invoice = job.invoice, invoice.finalizedOn == nil, invoice.voidedOn == nil else { return nil }
            let totals = job.totals
            guard totals.balanceMinor > 0 else { return nil }
            let onPlan = job.plan?.isActive == true
            switch filter {
            case .all: break
            case .onPlan: guard onPlan else { return nil }
            case .notOnPlan: guard !onPlan else { return nil }
            }
            return PendingRevenueRow(
                customer: job.customer.name, jobID: job.id, jobNumber: job.number, invoiceNumber: invoice.number,
                currency: job.currency, invoiceTotalMinor: totals.invoiceTotalMinor, collectedMinor: totals.netCollectedMinor,
                balanceMinor: totals.balanceMinor, onPlan: onPlan)
        }.sorted { ($0.invoiceNumber, $0.jobID) < ($1.invoiceNumber, $1.jobID) }
    }

    /// Pending revenue as CSV; the plan column is named after the company's program.
    public static func pendingRevenueCSV(_ rows: [PendingRevenueRow], settings: CompanySettings) -> CSVTable {
        CSVTable(
            header: ["Customer", "Job", "Invoice", "Currency", "Invoice Total", "Collected", "Balance", "On \(settings.programName)"],
            rows: rows.map { row in
                [.text(row.customer), .text(row.jobNumber), .text(row.invoiceNumber), .text(row.currency.code),
                 .number(decimal(row.invoiceTotalMinor, row.currency)), .number(decimal(row.collectedMinor, row.currency)),
                 .number(decimal(row.balanceMinor, row.currency)), .text(row.onPlan ? "Yes" : "No")]
            })
    }

    /// Finalized invoices, by finalization day then invoice number, each with its sub-labels.
    public static func revenue(_ ledger: Ledger, today: CalendarDate) -> [RevenueRow] {
        ledger.jobs.compactMap { job -> RevenueRow? in
            guard let invoice = job.invoice, let finalizedOn = invoice.finalizedOn, invoice.voidedOn == nil else { return nil }
            let totals = job.totals
            return RevenueRow(
                customer: job.customer.name, jobID: job.id, jobNumber: job.number, invoiceNumber: invoice.number,
                finalizedOn: finalizedOn, currency: job.currency, invoiceTotalMinor: totals.invoiceTotalMinor,
                collectedMinor: totals.netCollectedMinor, balanceMinor: totals.balanceMinor, creditMinor: totals.creditMinor,
                subLabels: job.balanceSubLabels(settings: ledger.settings, today: today))
        }.sorted { ($0.finalizedOn, $0.invoiceNumber, $0.jobID) < ($1.finalizedOn, $1.invoiceNumber, $1.jobID) }
    }

    /// Revenue as CSV; the sub-labels share one column named after the company's program.
    public static func revenueCSV(_ rows: [RevenueRow], settings: CompanySettings) -> CSVTable {
        CSVTable(
            header: ["Customer", "Job", "Invoice", "Finalized", "Currency", "Invoice Total", "Collected", "Balance", "Credit", "\(settings.programName) Status"],
            rows: rows.map { row in
                [.text(row.customer), .text(row.jobNumber), .text(row.invoiceNumber), .text(row.finalizedOn.iso), .text(row.currency.code),
                 .number(decimal(row.invoiceTotalMinor, row.currency)), .number(decimal(row.collectedMinor, row.currency)),
                 .number(decimal(row.balanceMinor, row.currency)), .number(decimal(row.creditMinor, row.currency)),
                 .text(row.subLabels.joined(separator: " | "))]
            })
    }
}

extension Job {
    /// The one or two sentences that explain this job's balance on the revenue report, worded
    /// with the company's interval name.
    ///
    /// - A past-due amount first: "⚠ Past Due: $2,500.00 — Was Due 05/21/2026".
    /// - The installment now due: "Progress Payment: $5,000.00 due 06/04/2026", or, after a
    ///   past-due line or as the second line, the next one: "Next Draw: Final Payment · Due 07/09/2026".
    /// - All collected: "All draws collected." plus why a balance remains, if one does.
    public func balanceSubLabels(settings: CompanySettings, today: CalendarDate) -> [String] {
        let totals = totals
        let money = { (amount: Int64) in Reports.formatted(amount, self.currency) }
        guard let plan, plan.isActive else {
            if totals.creditMinor > 0 { return ["Customer credit: \(money(totals.creditMinor))"] }
            return totals.balanceMinor > 0 ? ["Balance due: \(money(totals.balanceMinor))"] : ["Paid in full."]
        }
        let rows = allocation(of: plan, totals: totals)
        let open = rows.indices.filter { rows[$0].remainingMinor > 0 }
        guard !open.isEmpty else {
            var sentence = "All \(settings.intervalNamePluralLowercased) collected."
            if totals.balanceMinor > 0 {
                sentence += totals.refundedMinor > 0
                    ? " A refund was issued — a balance remains."
                    : " \(money(totals.balanceMinor)) remains on the invoice."
            } else if totals.creditMinor > 0 {
                sentence += " Customer credit: \(money(totals.creditMinor))."
            }
            return [sentence]
        }
        var labels: [String] = []
        let pastDue = open.filter { plan.rows[$0].dueDate.map { $0 < today } ?? false }
        if let first = pastDue.first {
            let amount = pastDue.reduce(Int64(0)) { $0 + rows[$1].remainingMinor }
            labels.append("⚠ Past Due: \(money(amount)) — Was Due \(plan.rows[first].dueDate!.usFormatted)")
        }
        let notYetDue = open.filter { !pastDue.contains($0) }
        func nextLine(_ index: Int) -> String {
            let row = plan.rows[index]
            return "Next \(settings.intervalName): \(row.label)" + (row.dueDate.map { " · Due \($0.usFormatted)" } ?? "")
        }
        if pastDue.isEmpty, let current = notYetDue.first {
            let row = plan.rows[current]
            labels.append("\(row.label): \(money(rows[current].remainingMinor))" + (row.dueDate.map { " due \($0.usFormatted)" } ?? ""))
            if notYetDue.count > 1 { labels.append(nextLine(notYetDue[1])) }
        } else if let next = notYetDue.first {
            labels.append(nextLine(next))
        }
        return labels
    }
}
