import Foundation
import LedgerCore

/// The reports of DESIGN §3 by name, rendered the same way wherever they are asked for: the
/// server's `GET /v1/reports/<name>` and the field CLI's `report`, so a device and the server
/// holding the same ledger give the same bytes.
public enum ReportCatalog {
    /// A report's name as people and URLs write it.
    public enum Name: String, CaseIterable, Sendable {
        case outstandingDraws = "outstanding-draws"
        case pendingRevenue = "pending-revenue"
        case revenue
        case reconciliation
        case collections
        case reminders
    }

    /// What a report may take besides the ledger. `today` is the business day (decision 0002).
    public struct Options: Sendable {
        public var today: CalendarDate
        /// Collections: the period's length and the days covered (`from` defaults to `through`,
        /// `through` to `today`).
        public var period: CollectionPeriod = .day
        public var from: CalendarDate?
        public var through: CalendarDate?
        /// Pending revenue: which jobs.
        public var plans: PlanFilter = .all

        /// Options for `today`.
        public init(today: CalendarDate) {
            self.today = today
        }
    }

    /// A report as a table (for CSV and for people) and as JSON (sorted keys). The JSON is
    /// encoded only when asked for: for a large company it costs more than the report itself.
    public struct Rendered: Sendable {
        public let table: CSVTable
        let encodeJSON: @Sendable () -> Data
        public var json: Data { encodeJSON() }
    }

    /// The report's name from text, or an error listing the names.
    public static func name(_ text: String) throws(ReportError) -> Name {
        guard let name = Name(rawValue: text) else {
            throw ReportError("There is no report '\(text)'; the reports are \(Name.allCases.map(\.rawValue).joined(separator: ", ")).", unknownName: true)
        }
        return name
    }

    /// Renders `name` over `ledger`.
    public static func render(_ name: Name, _ ledger: Ledger, _ options: Options) throws(ReportError) -> Rendered {
        let settings = ledger.settings
        switch name {
        case .outstandingDraws:
            return outstandingDraws(ledger.jobs.flatMap(Reports.outstandingInstallments), settings: settings, options)
        case .pendingRevenue:
            let rows = Reports.pendingRevenue(ledger, filter: options.plans)
            return Rendered(table: Reports.pendingRevenueCSV(rows, settings: settings), encodeJSON: { encode(rows) })
        case .revenue:
            let rows = Reports.revenue(ledger, today: options.today)
            return Rendered(table: Reports.revenueCSV(rows, settings: settings), encodeJSON: { encode(rows) })
        case .reconciliation:
            let rows = Reports.reconciliation(ledger, today: options.today)
            return Rendered(table: Reports.reconciliationCSV(rows, settings: settings), encodeJSON: { encode(rows) })
        case .collections:
            let through = options.through ?? options.today
            let from = options.from ?? through
            guard from <= through else { throw ReportError("from must not be after through.") }
            let rows = Reports.collections(ledger, period: options.period, from: from, through: through)
            return Rendered(table: Reports.collectionsCSV(rows), encodeJSON: { encode(rows) })
        case .reminders:
            let rows = Reports.remindersDue(ledger, on: options.today)
            return Rendered(table: Reports.remindersCSV(rows, settings: settings), encodeJSON: { encode(rows) })
        }
    }

    /// The outstanding-draws report over installments gathered from the jobs (a device keeps
    /// them beside each job, so it need not read every job for this report).
    /// The rows themselves are made only for JSON.
    public static func outstandingDraws(_ installments: [OutstandingInstallment], settings: CompanySettings, _ options: Options) -> Rendered {
        let today = options.today
        return Rendered(table: Reports.outstandingDrawsCSV(installments, today: today, settings: settings),
                        encodeJSON: { Data(Reports.outstandingDrawsJSON(installments, today: today)) })
    }

    /// JSON with sorted keys, so equal values give equal bytes.
    public static func encode(_ value: some Encodable) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            return try encoder.encode(value)
        } catch {
            // The report rows hold only strings, integers, dates as text and nested rows.
            preconditionFailure("report rows failed to encode: \(error)")
        }
    }
}

/// Report options that do not make sense; the message says what to send instead.
public struct ReportError: Error, Sendable, Hashable {
    public let message: String
    /// The report asked for does not exist (rather than its options being wrong).
    public let unknownName: Bool

    init(_ message: String, unknownName: Bool = false) {
        self.message = message
        self.unknownName = unknownName
    }
}
