import Foundation
import LedgerCore
import Synchronization

/// The server's request bounds (DESIGN §7), in one place.
public enum ServerLimits {
    /// Requests a device may make in a burst.
    public static let burstRequests = 30.0
    /// Requests per second a device may keep up.
    public static let requestsPerSecond = 15.0
    /// Devices whose buckets are remembered; the least recently seen are forgotten first.
    public static let trackedDevicesMax = 100_000
    /// Encoded pull pages kept to answer other devices asking for the same stretch of a log.
    public static let pullPageCacheBytes = 16 << 20
    /// Pull pages built at once (each holds its entries decoded); more wait their turn.
    public static let pullsBuiltAtOnce = 4
    /// Seconds a company may go without a push or a read before this process releases its
    /// memory (decision 0046); `serve --release-idle-after` changes it, 0 never releases.
    public static let companyIdleSeconds = 3_600.0
    /// The longest and the shortest wait between two looks for idle companies.
    public static let idleSweepSecondsMax = 60.0
    public static let idleSweepSecondsMin = 0.1
}

/// A token bucket per device replica: a device over its rate gets 429 with Retry-After.
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    private let buckets = Mutex([ReplicaID: Bucket]())
    private let burst: Double, rate: Double

    init(burst: Double = ServerLimits.burstRequests, rate: Double = ServerLimits.requestsPerSecond) {
        self.burst = burst
        self.rate = rate
    }

    /// Takes one request from the device's bucket; returns the seconds to wait when it is empty.
    func take(_ replica: ReplicaID, now: ContinuousClock.Instant = .now) -> Int? {
        buckets.withLock { buckets in
            if buckets.count >= ServerLimits.trackedDevicesMax, buckets[replica] == nil {
                // Forget the devices idle longest rather than grow without bound.
                let idle = buckets.sorted { $0.value.updated < $1.value.updated }.prefix(buckets.count / 10).map(\.key)
                for key in idle { buckets[key] = nil }
            }
            var bucket = buckets[replica] ?? Bucket(tokens: burst, updated: now)
            let elapsed = now - bucket.updated
            bucket.tokens = min(burst, bucket.tokens + rate * (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
            bucket.updated = now
            defer { buckets[replica] = bucket }
            guard bucket.tokens >= 1 else { return max(1, Int(((1 - bucket.tokens) / rate).rounded(.up))) }
            bucket.tokens -= 1
            return nil
        }
    }
}
