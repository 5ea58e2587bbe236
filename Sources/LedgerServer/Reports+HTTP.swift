import Foundation
import Hummingbird
import LedgerCore
import LedgerReports
import LedgerService

/// The reports of DESIGN §3 over HTTP: `GET /v1/reports/<name>?format=json|csv&today=YYYY-MM-DD`.
///
/// `today` is the office's business day (decision 0002); without it the server's UTC date is
/// used. Collections take `period=day|week|month`, `from` and `through`; pending revenue takes
/// `plans=all|on-plan|not-on-plan`.
extension FieldLedgerServer {
    func report(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let device = try office(request)
        let query = request.uri.queryParameters
        let format = query["format"].map(String.init) ?? "json"
        guard format == "json" || format == "csv" else { throw ServiceError(.invalidRequest, "The format is json or csv.") }
        var options = ReportCatalog.Options(today: try Self.date(query["today"].map(String.init), name: "today") ?? Self.utcToday())
        if let period = query["period"].map(String.init) {
            guard let value = CollectionPeriod(rawValue: period) else { throw ServiceError(.invalidRequest, "period is day, week or month.") }
            options.period = value
        }
        if let plans = query["plans"].map(String.init) {
            guard let value = PlanFilter(rawValue: plans) else { throw ServiceError(.invalidRequest, "plans is all, on-plan or not-on-plan.") }
            options.plans = value
        }
        options.through = try Self.date(query["through"].map(String.init), name: "through")
        options.from = try Self.date(query["from"].map(String.init), name: "from")
        let rendered: ReportCatalog.Rendered
        do {
            let name = try ReportCatalog.name(context.parameters.get("name") ?? "")
            let ledger = try await offload { try self.service.projectedLedger(company: device.company) }
            rendered = try ReportCatalog.render(name, ledger, options)
        } catch let error as ReportError {
            throw ServiceError(error.unknownName ? .notFound : .invalidRequest, error.message)
        }
        if format == "csv" {
            return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: rendered.table.csvBytes())))
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: rendered.json)))
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
}
