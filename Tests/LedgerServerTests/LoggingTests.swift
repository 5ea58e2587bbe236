import Foundation
import Hummingbird
import HummingbirdTesting
import LedgerCore
import LedgerService
import LedgerTestSupport
import Logging
import StorageTestSupport
import SyncProtocol
import Testing

/// Keeps every line a logger writes, as text with its metadata.
final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var kept: [String] = []

    func append(_ line: String) { lock.withLock { kept.append(line) } }
    var lines: [String] { lock.withLock { kept } }
}

struct CapturingLogHandler: LogHandler {
    let sink: LogLines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        sink.append("\(event.level) \(event.message) " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
    }
}

@Suite("What the server logs")
struct LoggingTests {
    @Test("At the default level a push is one line with the device and the outcomes; no amount, name or token appears at any level", arguments: Backend.all)
    func policy(_ backend: Backend) async throws {
        try await backend.withSite { site in
            let world = try ServerWorld(site: site)
            let sink = LogLines()
            for level in [Logger.Level.info, .trace] {
                var logger = Logger(label: "test") { _ in CapturingLogHandler(sink: sink) }
                logger.logLevel = level
                try await world.server.application(host: "127.0.0.1", port: 0, logger: logger).test(.live) { client in
                    var office = try world.devices().office
                    let day = Fixtures.date("2026-06-01")
                    let job = try office.createJob("J-7", customer: "Dana Whitfield", on: day, at: 1_000)
                    office.perform(.setInvoice(number: "HV-9", baseTotalMinor: 987_654, issuedOn: day), job: job, day: day, physicalMillis: 1_001)
                    let sync = SyncClient(client: client, token: world.officeToken)
                    try await sync.sync(&office)
                    // A refused request is logged with its code, not its token.
                    let refused = try await client.execute(uri: "/v1/jobs", method: .get, headers: [.authorization: "Bearer \(world.techToken)"])
                    #expect(refused.status == .forbidden)
                }
            }
            let lines = sink.lines
            let pushes = lines.filter { $0.hasPrefix("info push ") }
            #expect(pushes.count == 2, "one push line per push at each level: \(lines)")
            #expect(pushes.allSatisfy { $0.contains("replica=\(world.office.replica)") && $0.contains("actions=2") && $0.contains("company=acme") }, "\(pushes)")
            // The second round re-sends the same dots: the retry shows as "exists".
            #expect(pushes.first?.contains("applied=2") == true && pushes.last?.contains("exists=2") == true, "\(pushes)")
            #expect(lines.contains { $0.hasPrefix("debug pull ") }, "pulls are logged at debug")
            #expect(!lines.prefix { !$0.hasPrefix("info push") }.contains { $0.hasPrefix("debug") }, "nothing below info at the default level")
            #expect(lines.contains { $0.hasPrefix("info request refused") && $0.contains("code=forbidden") && $0.contains("status=403") })
            for secret in ["Dana", "Whitfield", "987654", "9,876.54", "9876.54", world.officeToken, world.techToken, String(world.techToken.suffix(64))] {
                #expect(!lines.contains { $0.contains(secret) }, "'\(secret)' must not be logged")
            }
        }
    }
}
