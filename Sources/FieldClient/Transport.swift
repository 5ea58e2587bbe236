import AsyncHTTPClient
import Foundation
import LedgerCore
import NIOCore
import SyncProtocol
import Synchronization

/// How a replica reaches the server: one sync message out, its answer back.
public protocol SyncTransport: Sendable {
    /// Sends `message` and returns the server's answer (which may be an error message).
    func exchange(_ message: SyncMessage) async throws -> SyncMessage

    /// The server's copy of a job as it is now, to repair one whose digest differs here; nil
    /// when the server has no such job or the transport cannot fetch jobs.
    func job(_ id: JobID) async throws -> Job?
}

extension SyncTransport {
    /// A transport that cannot fetch jobs: a job that differs stops the sync (`diverged`).
    public func job(_ id: JobID) async throws -> Job? { nil }
}

/// A transport that hands messages to a function in the same process: for tests and the
/// simulator, where the server side is a `LedgerService` or a model of one.
public struct InMemorySyncTransport: SyncTransport {
    private let handler: @Sendable (SyncMessage) async throws -> SyncMessage
    private let jobs: (@Sendable (JobID) async throws -> Job?)?

    /// Makes a transport whose answers come from `handler` and whose jobs (for repairs) from
    /// `jobs`.
    public init(jobs: (@Sendable (JobID) async throws -> Job?)? = nil, _ handler: @escaping @Sendable (SyncMessage) async throws -> SyncMessage) {
        self.handler = handler
        self.jobs = jobs
    }

    public func exchange(_ message: SyncMessage) async throws -> SyncMessage {
        try await handler(message)
    }

    public func job(_ id: JobID) async throws -> Job? {
        try await jobs?(id)
    }
}

/// Bytes a transport sent and received (message bodies), for the sync's report and benchmarks.
public final class TrafficCounter: Sendable {
    private let counts = Mutex((sent: 0, received: 0))

    /// Starts at zero.
    public init() {}

    /// Bytes sent and received so far.
    public var bytes: (sent: Int, received: Int) { counts.withLock { $0 } }

    func add(sent: Int, received: Int) {
        counts.withLock { $0 = ($0.sent + sent, $0.received + received) }
    }
}

/// The server's `POST /v1/sync` over HTTP(S) with the device token (decision 0014).
public struct HTTPSyncTransport: SyncTransport {
    /// What this transport has sent and received.
    public let traffic = TrafficCounter()
    let base: URL
    private let token: String

    /// Makes a transport to the server at `server` (for example `https://office.example.com`).
    /// Plain `http` is refused unless the host is this machine or `allowInsecure` is set:
    /// the token and the company's payments would cross the network in clear.
    public let allowInsecure: Bool

    public init(server: String, token: String, allowInsecure: Bool = false) throws {
        guard let url = URL(string: server), let scheme = url.scheme?.lowercased(), let host = url.host, ["http", "https"].contains(scheme) else {
            throw ClientError(.insecureServer, "'\(server)' is not a server address; give one like https://office.example.com:8080.")
        }
        if scheme == "http" && !allowInsecure && !Self.isLoopback(host) {
            throw ClientError(.insecureServer, "Plain HTTP to \(host) would send the device token and payments in clear; use https://, or allow it explicitly for a trusted network.")
        }
        self.allowInsecure = allowInsecure
        base = url
        self.token = token
    }

    /// One request with the device token: the answer's status, its Retry-After and its body.
    /// No answer at all (no signal, timeout, refused connection) is `serverUnreachable`.
    private func send(_ path: String, body: [UInt8]? = nil) async throws -> (status: UInt, retryAfter: String?, body: ByteBuffer) {
        var request = HTTPClientRequest(url: base.appendingPathComponent(path).absoluteString)
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        if let body {
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/octet-stream")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            let response = try await DeviceHTTP.client.execute(request, timeout: .seconds(ClientLimits.requestTimeoutSeconds))
            let answer = try await response.body.collect(upTo: ClientLimits.answerBytesMax)
            traffic.add(sent: body?.count ?? 0, received: answer.readableBytes)
            return (response.status.code, response.headers.first(name: "Retry-After"), answer)
        } catch {
            throw ClientError(.serverUnreachable, "The server at \(base.host ?? "?") did not answer (\(error)); the outbox keeps every action, sync again later.")
        }
    }

    /// `GET /v1/jobs/<replica>/<counter>`: the server's copy of a job, for a repair.
    public func job(_ id: JobID) async throws -> Job? {
        let (status, _, body) = try await send("v1/jobs/\(id.dot.replica)/\(id.dot.counter)")
        switch status {
        case 200:
            guard let job = try? JSONDecoder().decode(Job.self, from: Data(body.readableBytesView)) else {
                throw ClientError(.diverged, "The server's copy of job \(id) does not read on this device; update the app.")
            }
            return job
        case 404: return nil
        case 401: throw ClientError(.unauthorized, "The server refused this device's token (revoked or wrong); the outbox keeps every action. Ask the office for a new token.")
        default: throw ClientError(.serverUnreachable, "The server answered HTTP \(status) for a job; sync again later.")
        }
    }

    /// Asks the server who `token` belongs to (`GET /v1/device`): what a device needs to set
    /// up its replica.
    public func identify() async throws -> DeviceIdentity {
        let (status, _, body) = try await send("v1/device")
        if status == 401 {
            throw ClientError(.unauthorized, "The server does not know this token (revoked or mistyped); ask the office for a new one.")
        }
        struct Described: Decodable { let company, user, role, replica: String }
        guard status == 200, let described = try? JSONDecoder().decode(Described.self, from: Data(body.readableBytesView)),
              let role = Role(rawValue: described.role), let replica = try? ReplicaID(uuidString: described.replica),
              let user = try? UserID(described.user) else {
            throw ClientError(.serverUnreachable, "The server answered HTTP \(status) without describing the device; check that the address is a FieldLedger server.")
        }
        return DeviceIdentity(company: described.company, replica: replica, actor: Actor(user: user, role: role), server: base.absoluteString,
                              token: token, allowInsecure: allowInsecure)
    }

    static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        return bare == "localhost" || bare == "::1" || bare.hasPrefix("127.")
    }

    public func exchange(_ message: SyncMessage) async throws -> SyncMessage {
        let (status, retryAfter, body) = try await send("v1/sync", body: try message.encoded())
        switch status {
        case 401:
            throw ClientError(.unauthorized, "The server refused this device's token (revoked or wrong); the outbox keeps every action. Ask the office for a new token.")
        case 429:
            let wait = retryAfter ?? "a few"
            throw ClientError(.serverBusy, "The server is busy; the outbox keeps every action. Sync again in \(wait) seconds.")
        default:
            do {
                return try SyncMessage.decode(Array(buffer: body))
            } catch {
                throw ClientError(.serverUnreachable, "The server answered HTTP \(status) without a sync message; check the server address.")
            }
        }
    }
}

/// The device's HTTP client: one for the process, never shut down (as `HTTPClient.shared`),
/// but failing fast when there is no signal instead of retrying the connection until the
/// request's deadline: the person with the phone retries, and the outbox keeps everything.
enum DeviceHTTP {
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout.connect = .seconds(ClientLimits.connectTimeoutSeconds)
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()
}
