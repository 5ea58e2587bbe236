import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import LedgerCore
import LedgerReports
import LedgerService
import SQLiteLedgerStorage
import SyncProtocol

/// The office sync server: the HTTP routes over `LedgerService` and `Administration`.
///
/// Sync is one binary endpoint (`POST /v1/sync`) that takes any request message of
/// Protocol/README.md and answers with its response message; the rest is JSON.
public struct FieldLedgerServer: Sendable {
    public let service: LedgerService<AnyServerStorage>
    public let administration: Administration<AnyServerStorage>
    public let metrics = ServerMetrics()
    let limiter: RateLimiter
    let pages = PullPageCache()
    let pullGate = AsyncGate(width: ServerLimits.pullsBuiltAtOnce)

    /// The database file inside a data directory.
    public static func databasePath(in directory: String) -> String {
        URL(fileURLWithPath: directory).appendingPathComponent("fieldledger.sqlite").path
    }

    /// Opens (creating if needed) the data directory's database. A snapshot of the job
    /// projections is stored every `snapshotLagEntries` log entries (decision 0012).
    public init(dataDirectory: String, requestsPerSecond: Double = ServerLimits.requestsPerSecond, burst: Double = ServerLimits.burstRequests,
                snapshotLagEntries: UInt64 = ServiceLimits.snapshotLagEntries) throws {
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        self.init(storage: try SQLiteLedgerStorage(path: Self.databasePath(in: dataDirectory)), requestsPerSecond: requestsPerSecond, burst: burst,
                  snapshotLagEntries: snapshotLagEntries)
    }

    /// Serves a storage opened elsewhere (PostgreSQL, shared with other server processes).
    public init(storage: any LedgerStorage & AdminStorage, requestsPerSecond: Double = ServerLimits.requestsPerSecond, burst: Double = ServerLimits.burstRequests,
                snapshotLagEntries: UInt64 = ServiceLimits.snapshotLagEntries) {
        limiter = RateLimiter(burst: burst, rate: requestsPerSecond)
        let storage = AnyServerStorage(storage)
        service = LedgerService(storage: storage, snapshotLagEntries: snapshotLagEntries)
        administration = Administration(storage: storage)
    }

    /// The HTTP application, bound to `host` and `port` (0: any free port, reported to `onRunning`);
    /// HTTPS when `tls` is given; logging to `logger` (see `SyncLog` for what is logged). Throws
    /// when the certificate or key cannot be read.
    public func application(host: String, port: Int, tls: ServerTLS? = nil, logger: Logger = Logger(label: "fieldledger"),
                            onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
        let server: HTTPServerBuilder = try tls.map { try .tls(.http1(), tlsConfiguration: try $0.configuration()) } ?? .http1()
        return Application(router: router(), server: server, configuration: .init(address: .hostname(host, port: port), serverName: "fieldledger"),
                           onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) }, logger: logger)
    }

    /// Releases, until cancelled, the memory of each company no push or read used for
    /// `idleSeconds` (decision 0046), looking every half of that, within
    /// `ServerLimits.idleSweepSecondsMin...idleSweepSecondsMax` seconds.
    public func releasingIdleCompanies(after idleSeconds: Double) -> Task<Void, Never> {
        let service = self.service
        let interval = max(ServerLimits.idleSweepSecondsMin, min(idleSeconds / 2, ServerLimits.idleSweepSecondsMax))
        return Task.detached {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(interval))
                service.releaseIdleCompanies(idleFor: idleSeconds)
            }
        }
    }

    /// Every route as "METHOD /path/{parameter}" (docs/openapi.json must list the same).
    public var routes: [String] { router().routes.map { "\($0.method.rawValue) \($0.path)" }.sorted() }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.middlewares.add(MetricsMiddleware(metrics: metrics))
        router.middlewares.add(ErrorMiddleware())
        router.get("/healthz") { _, _ in "ok\n" }
        // No customer data or amounts, only counts: served without a token, for the operator's scraper.
        router.get("/metrics") { _, _ in
            let open = try await offload { try self.service.openReviewCaseCount() }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                            body: .init(byteBuffer: ByteBuffer(string: self.metrics.render(openReviewCases: open, companiesInMemory: self.service.companiesInMemory))))
        }
        router.post("/v1/sync") { request, context in try await self.sync(request, logger: context.logger) }
        // Who a token belongs to: what a device asks once when it is set up.
        router.get("/v1/device") { request, _ in try JSONBody(DeviceDescription(try self.authenticate(request))) }
        router.get("/v1/jobs") { request, _ in
            let device = try self.office(request)
            let ledger = try await offload { try self.service.projectedLedger(company: device.company) }
            return try JSONBody(ledger.jobs.map(JobSummary.init))
        }
        router.get("/v1/jobs/:replica/:counter") { request, context in
            let device = try self.authenticate(request)
            let id = try Self.jobID(context)
            let ledger = try await offload { try self.service.projectedLedger(company: device.company) }
            // Another company's job id simply is not in this company's ledger: 404, as for any unknown id.
            guard let job = try? ledger.job(id) else { throw ServiceError(.notFound, "There is no job with that id in this company; list the jobs to find it.") }
            return try JSONBody(job)
        }
        router.get("/v1/review-cases") { request, _ in
            let device = try self.office(request)
            let ledger = try await offload { try self.service.projectedLedger(company: device.company) }
            return try JSONBody(ledger.openReviewCases)
        }
        router.get("/v1/reports/:name") { request, context in try await self.report(request, context: context) }
        router.get("/v1/settings") { request, _ in
            let device = try self.office(request)
            return try JSONBody(try await offload { try self.service.projectedLedger(company: device.company) }.settings)
        }
        router.put("/v1/settings") { request, _ in try await self.changeSettings(request) }
        router.post("/v1/review-cases/:replica/:counter/:index/resolve") { request, context in try await self.resolve(request, context: context) }
        return router
    }

    /// One sync request: decode, check who sends it, push or pull, answer in binary.
    func sync(_ request: Request, logger: Logger) async throws -> Response {
        let device = try authenticate(request)
        var request = request
        let wire: [UInt8]
        do {
            wire = Array(buffer: try await request.collectBody(upTo: ProtocolLimits.headerBytes + ProtocolLimits.payloadBytesMax))
        } catch {
            return Self.binary(.error(code: ProtocolError.Code.payloadTooLarge.rawValue, message: "The message exceeds \(ProtocolLimits.payloadBytesMax) bytes; send fewer actions per change set."),
                               status: .contentTooLarge)
        }
        let message: SyncMessage
        do {
            message = try SyncMessage.decode(wire)
        } catch {
            return Self.binary(.error(code: error.code.rawValue, message: error.message), status: .badRequest)
        }
        let session = ServerSyncSession(authenticatedReplica: device.replica)
        switch session.received(message) {
        case .respond(let answer):
            return Self.binary(answer, status: .badRequest)
        case .applyPush(let changeSet):
            let started = ContinuousClock.now
            let response = try await service.push(changeSet, from: device)
            metrics.recordPush(response.outcomes)
            SyncLog.push(logger, device: device, response: response, elapsed: ContinuousClock.now - started)
            return Self.binary(session.pushCompleted(outcomes: response.outcomes, sendFrom: response.sendFrom, serverSequence: response.serverSequence), status: .ok)
        case .readPage(let after, let limit, let schema):
            let key = PullPageCache.Key(company: device.company, after: after, limit: limit, schema: schema)
            if let cached = pages.page(key) { return try await answer(cached, device: device, after: after, logger: logger) }
            return try await pullGate.run {
                // Devices that asked for the same page while this one waited find it built.
                if let cached = pages.page(key) { return try await answer(cached, device: device, after: after, logger: logger) }
                let (page, head) = try await offload {
                    (try self.service.pull(company: device.company, after: after, limit: limit), try self.service.head(company: device.company))
                }
                metrics.recordPull(lag: head >= after ? head - after : 0)
                SyncLog.pull(logger, device: device, after: after, entries: page.entries.count, caughtUp: page.checkpoint.caughtUp, head: head)
                let bytes = Self.encoded(session.pageReady(entries: page.entries, checkpoint: page.checkpoint, schemaVersion: schema))
                // Only a page short of the head is the same for everyone forever (see PullPageCache).
                if !page.checkpoint.caughtUp, !page.entries.isEmpty {
                    pages.store(.init(bytes: bytes, entries: page.entries.count, last: page.checkpoint.sequence), for: key)
                }
                return Self.binary(bytes: bytes, status: .ok)
            }
        }
    }

    /// Answers a pull with a page another device's pull built.
    private func answer(_ cached: PullPageCache.Page, device: DeviceCredential, after: UInt64, logger: Logger) async throws -> Response {
        let head = try await offload { try self.service.head(company: device.company) }
        metrics.recordPull(lag: head >= after ? head - after : 0)
        SyncLog.pull(logger, device: device, after: after, entries: cached.entries, caughtUp: false, head: head)
        return Self.binary(bytes: cached.bytes, status: .ok)
    }

    func authenticate(_ request: Request) throws -> DeviceCredential {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            throw ServiceError(.unauthorized, "Send the device token as 'Authorization: Bearer <token>'.")
        }
        let device = try administration.authenticate(token: String(header.dropFirst("Bearer ".count)))
        if let wait = limiter.take(device.replica) { throw RateLimited(retryAfterSeconds: wait) }
        return device
    }

    func office(_ request: Request) throws -> DeviceCredential {
        let device = try authenticate(request)
        guard device.actor.role.isOffice else {
            throw ServiceError(.forbidden, "Only the office may read this; use an office or owner token.")
        }
        return device
    }

    static func jobID(_ context: BasicRequestContext) throws -> JobID {
        guard let replica = try? ReplicaID(uuidString: context.parameters.get("replica") ?? ""),
              let counter = context.parameters.get("counter").flatMap(UInt64.init), counter > 0 else {
            throw ServiceError(.invalidRequest, "A job id is its replica UUID and counter: /v1/jobs/<uuid>/<counter>.")
        }
        return JobID(Dot(replica: replica, counter: counter))
    }

    static func binary(_ message: SyncMessage, status: HTTPResponse.Status) -> Response {
        binary(bytes: encoded(message), status: status)
    }

    static func binary(bytes: [UInt8], status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: [.contentType: "application/x-fieldledger-sync"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    // Encoding our own answer can only fail on a body over the limits, which pages respect.
    static func encoded(_ message: SyncMessage) -> [UInt8] { (try? message.encoded()) ?? [] }
}

/// A device over its request rate (`RateLimiter`).
struct RateLimited: Error {
    let retryAfterSeconds: Int
}


/// A JSON response with sorted keys: every JSON answer of the server but the errors.
/// A device as its token describes it (`GET /v1/device`).
struct DeviceDescription: Encodable {
    let company: String
    let user: String
    let role: String
    let replica: String

    init(_ device: DeviceCredential) {
        company = device.company.rawValue
        user = device.actor.user.rawValue
        role = device.actor.role.rawValue
        replica = device.replica.description
    }
}

struct JSONBody: ResponseGenerator {
    let response: Response

    init(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws {
        // Sorted keys, as the reports: equal values give equal bytes.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        response = Response(status: status, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }

    func response(from request: Request, context: some RequestContext) throws -> Response { response }
}

/// Turns a `ServiceError` (and anything unexpected) into JSON with a stable code.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let response = Self.response(for: error)
            SyncLog.refused(context.logger, request: request, status: response.status, error: error)
            return response
        }
    }

    static func response(for error: any Error) -> Response {
        do {
            throw error
        } catch let limited as RateLimited {
            var response = json(code: "rate_limited", message: "Too many requests from this device; retry after \(limited.retryAfterSeconds) s.",
                                     status: .tooManyRequests)
            response.headers[.retryAfter] = String(limited.retryAfterSeconds)
            return response
        } catch let error as ServiceError {
            return json(code: error.code.rawValue, message: error.message, status: status(error.code))
        } catch let error as HTTPError {
            return json(code: error.status == .notFound ? "not_found" : "http_error", message: error.body ?? "\(error.status)", status: error.status)
        } catch {
            return json(code: "internal_error", message: "The server failed to handle the request; try again, and tell the operator if it repeats.",
                             status: .internalServerError)
        }
    }

    static func status(_ code: ServiceError.Code) -> HTTPResponse.Status {
        switch code {
        case .invalidRequest: .badRequest
        case .unauthorized: .unauthorized
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .conflict, .cursorAhead: .conflict
        case .payloadTooLarge: .contentTooLarge
        case .storageFailed: .internalServerError
        }
    }

    static func json(code: String, message: String, status: HTTPResponse.Status) -> Response {
        let body = (try? JSONEncoder().encode(["code": code, "message": message])) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// Runs blocking storage work off the event loops.
func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
    }
}

/// The certificate chain and private key (PEM files) for serving HTTPS without a proxy.
public struct ServerTLS: Sendable {
    public let certificatePath: String
    public let keyPath: String

    /// Names the two files.
    public init(certificatePath: String, keyPath: String) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
    }

    func configuration() throws -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
        } catch {
            throw ServiceError(.invalidRequest, "The certificate '\(certificatePath)' could not be read as PEM (\(error)); pass the full chain, leaf first.")
        }
        do {
            key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        } catch {
            throw ServiceError(.invalidRequest, "The private key '\(keyPath)' could not be read as an unencrypted PEM key (\(error)).")
        }
        guard !chain.isEmpty else { throw ServiceError(.invalidRequest, "The certificate file '\(certificatePath)' holds no certificate.") }
        return TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
    }
}
