/// An account of the double-entry journal.
public enum Account: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// What a job's customer owes.
    case receivable(JobID)
    /// Money received and kept, by how it came in.
    case cash(PaymentMethod)
    /// Card and ACH payments captured but not yet settled.
    case cardClearing
    /// What a job's customer paid beyond its invoice.
    case customerCredit(JobID)
    /// Invoiced work (credit-normal).
    case revenue

    public var description: String {
        switch self {
        case .receivable(let job): "Receivable \(job)"
        case .cash(let method): "Cash (\(method.rawValue))"
        case .cardClearing: "Card clearing"
        case .customerCredit(let job): "Customer credit \(job)"
        case .revenue: "Revenue"
        }
    }

    private var rank: Int {
        switch self {
        case .receivable: 0
        case .cash: 1
        case .cardClearing: 2
        case .customerCredit: 3
        case .revenue: 4
        }
    }

    public static func < (lhs: Account, rhs: Account) -> Bool {
        switch (lhs, rhs) {
        case (.receivable(let a), .receivable(let b)), (.customerCredit(let a), .customerCredit(let b)): a < b
        case (.cash(let a), .cash(let b)): a < b
        default: lhs.rank < rhs.rank
        }
    }
}

/// One line of a journal entry: a debit or a credit to one account.
public struct JournalLine: Hashable, Sendable, Codable {
    public let account: Account
    public let currency: Currency
    public let debitMinor: Int64
    public let creditMinor: Int64
}

/// The postings of one logged action. Balanced: debits equal credits.
public struct JournalEntry: Hashable, Sendable, Codable {
    public let sequence: UInt64
    public let dot: Dot
    public let lines: [JournalLine]
}

/// The double-entry journal, derived from the log (DESIGN §3 "Journal").
///
/// Each job's accounts hold positions computed from its state: receivable and customer credit
/// from what is owed, clearing from pending payments, cash per method from completed payments
/// less refunds, revenue from the invoice total. An action posts the change of positions it
/// caused. Both snapshots balance, so every entry balances and so does every prefix. A refund
/// re-opens what is owed (or takes back credit) against cash: there is no separate refunds
/// account, because a refund in this ledger never lowers the invoice (see decision 0005).
public enum Journal {
    /// Debit-positive positions of a job's accounts, in account order, zeros left out.
    public static func positions(of job: Job) -> [(Account, Int64)] {
        let totals = job.totals
        let owed = totals.invoiceTotalMinor - totals.completedMinor - totals.pendingMinor + totals.refundedMinor
        var result: [(Account, Int64)] = [
            (.receivable(job.id), max(owed, 0)),
        ]
        for method in PaymentMethod.allCases { result.append((.cash(method), job.cache.netCashByMethod[method.ordinal])) }
        result.append((.cardClearing, totals.pendingMinor))
        result.append((.customerCredit(job.id), -max(-owed, 0)))
        result.append((.revenue, -totals.invoiceTotalMinor))
        return result.filter { $0.1 != 0 }
    }

    /// The lines that take `before` to `after` for one job.
    static func lines(from before: [(Account, Int64)], to after: [(Account, Int64)], currency: Currency) -> [JournalLine] {
        var accounts = (before.map(\.0) + after.map(\.0))
        accounts = Array(Set(accounts)).sorted()
        var lines: [JournalLine] = []
        for account in accounts {
            let change = (after.first { $0.0 == account }?.1 ?? 0) - (before.first { $0.0 == account }?.1 ?? 0)
            if change > 0 { lines.append(JournalLine(account: account, currency: currency, debitMinor: change, creditMinor: 0)) }
            if change < 0 { lines.append(JournalLine(account: account, currency: currency, debitMinor: 0, creditMinor: -change)) }
        }
        return lines
    }

    /// The journal of a whole log, folded from an empty ledger with `settings`.
    public static func entries(for log: [LogEntry], settings: CompanySettings = CompanySettings()) throws(LedgerError) -> [JournalEntry] {
        var ledger = try Ledger(settings: settings)
        var result: [JournalEntry] = []
        for entry in log {
            let jobID = entry.action.touchedJob
            let before = jobID.flatMap { ledger.jobsByID[$0] }.map(positions) ?? []
            _ = ledger.apply(entry.action, sequence: entry.sequence)
            guard let jobID, let job = ledger.jobsByID[jobID] else { continue }
            let lines = lines(from: before, to: positions(of: job), currency: job.currency)
            if !lines.isEmpty { result.append(JournalEntry(sequence: entry.sequence, dot: entry.action.dot, lines: lines)) }
        }
        return result
    }
}
