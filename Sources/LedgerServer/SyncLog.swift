import Hummingbird
import LedgerCore
import LedgerService
import Logging
import SyncProtocol

/// What the server logs, in one place, so the policy can be read and tested: one structured
/// line per push (info), per pull (debug) and per refused request (info; error for a 5xx).
/// Never an amount, a customer's or user's name, a token or a message body, at any level:
/// companies, replicas, counts, sequences, codes and timings are enough to follow a device.
enum SyncLog {
    static func push(_ logger: Logger, device: DeviceCredential, response: PushResponse, elapsed: Duration) {
        var counts: [String: Int] = [:]
        for outcome in response.outcomes { counts[ServerMetrics.name(of: outcome), default: 0] += 1 }
        var metadata: Logger.Metadata = [
            "company": "\(device.company)", "replica": "\(device.replica)", "actions": "\(response.outcomes.count)",
            "head": "\(response.serverSequence)", "ms": "\(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)",
        ]
        for (kind, count) in counts.sorted(by: { $0.key < $1.key }) { metadata[kind] = "\(count)" }
        if let from = response.sendFrom { metadata["send_from"] = "\(from)" }
        logger.info("push", metadata: metadata)
    }

    static func pull(_ logger: Logger, device: DeviceCredential, after: UInt64, entries: Int, caughtUp: Bool, head: UInt64) {
        logger.debug("pull", metadata: [
            "company": "\(device.company)", "replica": "\(device.replica)", "after": "\(after)", "entries": "\(entries)",
            "head": "\(head)", "caught_up": "\(caughtUp)",
        ])
    }

    static func refused(_ logger: Logger, request: Request, status: HTTPResponse.Status, error: any Error) {
        var metadata: Logger.Metadata = ["method": "\(request.method)", "path": "\(request.uri.path)", "status": "\(status.code)"]
        if let error = error as? ServiceError { metadata["code"] = "\(error.code.rawValue)" }
        if status.code >= 500 {
            // The type only: an unexpected error's description may carry data from the request.
            metadata["error"] = "\(type(of: error))"
            logger.error("request failed", metadata: metadata)
        } else {
            logger.info("request refused", metadata: metadata)
        }
    }
}
