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
    public let endpoint: URL
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
        endpoint = url.appendingPathComponent("v1/sync")
        self.token = token
    }

    /// `GET /v1/jobs/<replica>/<counter>`: the server's copy of a job, for a repair.
    public func job(_ id: JobID) async throws -> Job? {
        var request = HTTPClientRequest(url: base.appendingPathComponent("v1/jobs/\(id.dot.replica)/\(id.dot.counter)").absoluteString)
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await DeviceHTTP.client.execute(request, timeout: .seconds(ClientLimits.requestTimeoutSeconds))
            body = try await response.body.collect(upTo: ClientLimits.answerBytesMax)
        } catch {
            throw ClientError(.serverUnreachable, "The server at \(base.host ?? "?") did not answer (\(error)); the outbox keeps every action, sync again later.")
        }
        traffic.add(sent: 0, received: body.readableBytes)
        switch response.status.code {
        case 200:
            guard let job = try? JSONDecoder().decode(Job.self, from: Data(body.readableBytesView)) else {
                throw ClientError(.diverged, "The server's copy of job \(id) does not read on this device; update the app.")
            }
            return job
        case 404: return nil
        case 401: throw ClientError(.unauthorized, "The server refused this device's token (revoked or wrong); the outbox keeps every action. Ask the office for a new token.")
        default: throw ClientError(.serverUnreachable, "The server answered HTTP \(response.status.code) for a job; sync again later.")
        }
    }

    /// Asks the server who `token` belongs to (`GET /v1/device`): what a device needs to set
    /// up its replica.
    public func identify() async throws -> DeviceIdentity {
        var request = HTTPClientRequest(url: base.appendingPathComponent("v1/device").absoluteString)
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await DeviceHTTP.client.execute(request, timeout: .seconds(ClientLimits.requestTimeoutSeconds))
            body = try await response.body.collect(upTo: 1 << 16)
        } catch {
            throw ClientError(.serverUnreachable, "The server at \(base.host ?? "?") did not answer (\(error)); check the address and the network.")
        }
        if response.status.code == 401 {
            throw ClientError(.unauthorized, "The server does not know this token (revoked or mistyped); ask the office for a new one.")
        }
        struct Described: Decodable { let company, user, role, replica: String }
        guard response.status.code == 200, let described = try? JSONDecoder().decode(Described.self, from: Data(body.readableBytesView)),
              let role = Role(rawValue: described.role), let replica = try? ReplicaID(uuidString: described.replica),
              let user = try? UserID(described.user) else {
            throw ClientError(.serverUnreachable, "The server answered HTTP \(response.status.code) without describing the device; check that the address is a FieldLedger server.")
        }
        return DeviceIdentity(company: described.company, replica: replica, actor: Actor(user: user, role: role), server: base.absoluteString,
                              token: token, allowInsecure: allowInsecure)
    }

    static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        return bare == "localhost" || bare == "::1" || bare.hasPrefix("127.")
    }

    public func exchange(_ message: SyncMessage) async throws -> SyncMessage {
        var request = HTTPClientRequest(url: endpoint.absoluteString)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/octet-stream")
        let wire = try message.encoded()
        request.body = .bytes(ByteBuffer(bytes: wire))
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await DeviceHTTP.client.execute(request, timeout: .seconds(ClientLimits.requestTimeoutSeconds))
            body = try await response.body.collect(upTo: ClientLimits.answerBytesMax)
        } catch {
            throw ClientError(.serverUnreachable, "The server at \(endpoint.host ?? "?") did not answer (\(error)); the outbox keeps every action, sync again later.")
        }
        traffic.add(sent: wire.count, received: body.readableBytes)
        switch response.status.code {
        case 401:
            throw ClientError(.unauthorized, "The server refused this device's token (revoked or wrong); the outbox keeps every action. Ask the office for a new token.")
        case 429:
            let wait = response.headers.first(name: "Retry-After") ?? "a few"
            throw ClientError(.serverBusy, "The server is busy; the outbox keeps every action. Sync again in \(wait) seconds.")
        default:
            do {
                return try SyncMessage.decode(Array(buffer: body))
            } catch {
                throw ClientError(.serverUnreachable, "The server answered HTTP \(response.status.code) without a sync message; check the server address.")
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
