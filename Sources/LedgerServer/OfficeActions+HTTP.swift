import Foundation
import Hummingbird
import LedgerCore
import LedgerService

/// What the office changes through the JSON API: settings and review-case decisions. Each is an
/// action in the log, made as the company's server replica in the office user's name.
extension FieldLedgerServer {
    /// The largest JSON body the office endpoints read.
    static let jsonBodyBytesMax = 64 << 10

    struct SettingsChange: Decodable {
        let baseVersion: Int64
        let settings: CompanySettings
    }

    struct Decision: Decodable {
        let resolution: Resolution
        let note: String
        /// The business day it happens on (YYYY-MM-DD); the server's UTC date when left out.
        let day: String?
    }

    func changeSettings(_ request: Request) async throws -> Response {
        let device = try office(request)
        let change: SettingsChange = try await Self.decode(request)
        return try await perform(device, job: nil, payload: .updateSettings(change.settings, baseVersion: change.baseVersion), day: nil)
    }

    func resolve(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let device = try office(request)
        let decision: Decision = try await Self.decode(request)
        guard let replica = try? ReplicaID(uuidString: context.parameters.get("replica") ?? ""),
              let counter = context.parameters.get("counter").flatMap(UInt64.init), counter > 0,
              let index = context.parameters.get("index").flatMap(Int.init), index >= 0 else {
            throw ServiceError(.invalidRequest, "A review case id is /v1/review-cases/<replica uuid>/<counter>/<index>.")
        }
        let id = ReviewCaseID(Dot(replica: replica, counter: counter), index: index)
        let ledger = try await offload { try self.service.projectedLedger(company: device.company) }
        let all = ledger.companyReviewCases + ledger.jobs.flatMap(\.sync.reviewCases)
        guard let found = all.first(where: { $0.id == id }) else {
            throw ServiceError(.notFound, "This company has no such review case; list the open cases.")
        }
        return try await perform(device, job: found.job, payload: .resolveReviewCase(id, decision.resolution, note: decision.note), day: decision.day)
    }

    /// Makes the action and answers with its outcome: 200 applied, 202 parked or applied with a
    /// case to review, 422 rejected with the ledger's code.
    private func perform(_ device: DeviceCredential, job: JobID?, payload: ActionPayload, day: String?) async throws -> Response {
        let businessDay = try Self.date(day, name: "day") ?? Self.utcToday()
        let now = Int64(Date().timeIntervalSince1970 * 1_000)
        let outcome = try await offload {
            try self.service.act(company: device.company, actor: device.actor, job: job, payload: payload, day: businessDay, wallMillis: now)
        }
        switch outcome {
        case .rejected(let error):
            return ErrorMiddleware<BasicRequestContext>.json(code: error.code.rawValue, message: error.message, status: .unprocessableContent)
        case .applied, .exists:
            return try JSONBody(["outcome": outcome]).response
        case .parkedForReview, .appliedWithException:
            return try JSONBody(["outcome": outcome], status: .accepted).response
        }
    }

    static func decode<T: Decodable>(_ request: Request) async throws -> T {
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: jsonBodyBytesMax)
        } catch {
            throw ServiceError(.payloadTooLarge, "The request body exceeds \(jsonBodyBytesMax) bytes.")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer: body))
        } catch {
            throw ServiceError(.invalidRequest, "The request body is not the JSON this endpoint takes: \(error)")
        }
    }
}
