import Foundation
import Hummingbird
import LedgerCore
import LedgerService

/// The reports of DESIGN §3 over HTTP: `GET /v1/reports/<name>?format=json|csv&today=YYYY-MM-DD`.
///
/// `today` is the office's business day (decision 0002); without it the server's UTC date is
/// used. Collections take `period=day|week|month`, `from` and `through`; pending revenue takes
/// `plans=all|on-plan|not-on-plan`.
extension FieldLedgerServer {
    /// The report names, as in the URL.
    static let reportNames = ["outstanding-draws", "pending-revenue", "revenue", "reconciliation", "collections", "reminders"]

    func report(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let device = try office(request)
        let name = context.parameters.get("name") ?? ""
        guard Self.reportNames.contains(name) else {
            throw ServiceError(.notFound, "There is no report '\(name)'; the reports are \(Self.reportNames.joined(separator: ", ")).")
        }
        let query = request.uri.queryParameters
        let format = query["format"].map(String.init) ?? "json"
        guard format == "json" || format == "csv" else { throw ServiceError(.invalidRequest, "The format is json or csv.") }
        let today = try Self.date(query["today"].map(String.init), name: "today") ?? Self.utcToday()
        let ledger = try await offload { try self.service.projectedLedger(company: device.company) }
        let settings = ledger.settings
        let csv: CSVTable, json: Data
        switch name {
        case "outstanding-draws":
            let rows = Reports.outstandingDraws(ledger, today: today)
            (csv, json) = (Reports.outstandingDrawsCSV(rows, settings: settings), try Self.encode(rows))
        case "pending-revenue":
            guard let filter = PlanFilter(rawValue: query["plans"].map(String.init) ?? "all") else {
                throw ServiceError(.invalidRequest, "plans is all, on-plan or not-on-plan.")
            }
            let rows = Reports.pendingRevenue(ledger, filter: filter)
            (csv, json) = (Reports.pendingRevenueCSV(rows, settings: settings), try Self.encode(rows))
        case "revenue":
            let rows = Reports.revenue(ledger, today: today)
            (csv, json) = (Reports.revenueCSV(rows, settings: settings), try Self.encode(rows))
        case "reconciliation":
            let rows = Reports.reconciliation(ledger, today: today)
            (csv, json) = (Reports.reconciliationCSV(rows, settings: settings), try Self.encode(rows))
        case "collections":
            guard let period = CollectionPeriod(rawValue: query["period"].map(String.init) ?? "day") else {
                throw ServiceError(.invalidRequest, "period is day, week or month.")
            }
            let through = try Self.date(query["through"].map(String.init), name: "through") ?? today
            let from = try Self.date(query["from"].map(String.init), name: "from") ?? through
            guard from <= through else { throw ServiceError(.invalidRequest, "from must not be after through.") }
            let rows = Reports.collections(ledger, period: period, from: from, through: through)
            (csv, json) = (Reports.collectionsCSV(rows), try Self.encode(rows))
        default:
            let rows = Reports.remindersDue(ledger, on: today)
            (csv, json) = (Reports.remindersCSV(rows, settings: settings), try Self.encode(rows))
        }
        if format == "csv" {
            return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: csv.render())))
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: json)))
    }

    static func date(_ text: String?, name: String) throws -> CalendarDate? {
        guard let text else { return nil }
        do {
            return try CalendarDate.parse(text)
        } catch {
            throw ServiceError(.invalidRequest, "\(name) must be a date written YYYY-MM-DD.")
        }
    }

    static func utcToday() throws -> CalendarDate {
        try CalendarDate(daysSinceEpoch: Int(Date().timeIntervalSince1970 / 86_400))
    }

    /// JSON with sorted keys, so equal values give equal bytes.
    static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(value)
    }
}
