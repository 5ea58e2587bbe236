import Foundation
import Hummingbird
import LedgerCore
import Synchronization

/// The server's counters, served at `GET /metrics` in the Prometheus text format (0.0.4).
///
/// Hand-written rather than through swift-prometheus: a handful of series, no labels beyond
/// the outcome and the route, and one less dependency to build in CI.
public final class ServerMetrics: Sendable {
    /// Upper bounds of the request-duration histogram, in seconds.
    static let buckets: [Double] = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5]
    /// The path prefixes requests are timed under; any other path counts as "other".
    static let routeFamilies = ["/healthz", "/metrics", "/v1/sync", "/v1/jobs", "/v1/review-cases", "/v1/settings", "/v1/reports"]

    private struct State {
        var pushes = 0
        var pulls = 0
        var actionsByOutcome: [String: Int] = [:]
        var pullLagSum = 0
        var pullLagLast = 0
        var requestBuckets: [String: [Int]] = [:]
        var requestSums: [String: Double] = [:]
        var requestCounts: [String: Int] = [:]
    }

    private let state = Mutex(State())

    /// Makes an empty registry.
    public init() {}

    func recordPush(_ outcomes: [Outcome]) {
        state.withLock { state in
            state.pushes += 1
            for outcome in outcomes { state.actionsByOutcome[Self.name(of: outcome), default: 0] += 1 }
        }
    }

    /// A pull that started `lag` entries behind the head.
    func recordPull(lag: UInt64) {
        state.withLock { state in
            state.pulls += 1
            state.pullLagSum += Int(clamping: lag)
            state.pullLagLast = Int(clamping: lag)
        }
    }

    func recordRequest(route: String, seconds: Double) {
        state.withLock { state in
            var counts = state.requestBuckets[route] ?? Array(repeating: 0, count: Self.buckets.count)
            for (index, bound) in Self.buckets.enumerated() where seconds <= bound { counts[index] += 1 }
            state.requestBuckets[route] = counts
            state.requestSums[route, default: 0] += seconds
            state.requestCounts[route, default: 0] += 1
        }
    }

    /// The exposition text; `openReviewCases` is read from storage by the caller at scrape time.
    func render(openReviewCases: Int, companiesInMemory: Int) -> String {
        state.withLock { state in
            var out = """
            # HELP fieldledger_pushes_total Change sets handled.
            # TYPE fieldledger_pushes_total counter
            fieldledger_pushes_total \(state.pushes)
            # HELP fieldledger_actions_total Actions handled in pushes, by outcome.
            # TYPE fieldledger_actions_total counter

            """
            for outcome in ["applied", "exists", "applied_with_exception", "parked_for_review", "rejected"] {
                out += "fieldledger_actions_total{outcome=\"\(outcome)\"} \(state.actionsByOutcome[outcome] ?? 0)\n"
            }
            out += """
            # HELP fieldledger_pulls_total Pull requests answered.
            # TYPE fieldledger_pulls_total counter
            fieldledger_pulls_total \(state.pulls)
            # HELP fieldledger_pull_lag_entries_sum Log entries devices were behind when they pulled, summed.
            # TYPE fieldledger_pull_lag_entries_sum counter
            fieldledger_pull_lag_entries_sum \(state.pullLagSum)
            # HELP fieldledger_pull_lag_entries The lag of the last pull.
            # TYPE fieldledger_pull_lag_entries gauge
            fieldledger_pull_lag_entries \(state.pullLagLast)
            # HELP fieldledger_review_cases_open Review cases waiting for a person, all companies.
            # TYPE fieldledger_review_cases_open gauge
            fieldledger_review_cases_open \(openReviewCases)
            # HELP fieldledger_companies_in_memory Companies whose ledger this process holds in memory (idle ones are released).
            # TYPE fieldledger_companies_in_memory gauge
            fieldledger_companies_in_memory \(companiesInMemory)
            # HELP fieldledger_request_duration_seconds Time to answer a request, by route.
            # TYPE fieldledger_request_duration_seconds histogram

            """
            for route in state.requestCounts.keys.sorted() {
                let counts = state.requestBuckets[route] ?? []
                for (index, bound) in Self.buckets.enumerated() {
                    out += "fieldledger_request_duration_seconds_bucket{route=\"\(route)\",le=\"\(bound)\"} \(counts[index])\n"
                }
                let count = state.requestCounts[route] ?? 0
                out += "fieldledger_request_duration_seconds_bucket{route=\"\(route)\",le=\"+Inf\"} \(count)\n"
                out += "fieldledger_request_duration_seconds_sum{route=\"\(route)\"} \(state.requestSums[route] ?? 0)\n"
                out += "fieldledger_request_duration_seconds_count{route=\"\(route)\"} \(count)\n"
            }
            return out
        }
    }

    static func name(of outcome: Outcome) -> String {
        switch outcome {
        case .applied: "applied"
        case .exists: "exists"
        case .appliedWithException: "applied_with_exception"
        case .parkedForReview: "parked_for_review"
        case .rejected: "rejected"
        }
    }
}

/// Times every request by its route family (never by its path, which holds ids, nor by an
/// unknown path, which anyone could vary to grow the series without end).
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let path = request.uri.path
        let family = ServerMetrics.routeFamilies.first { path == $0 || path.hasPrefix($0 + "/") } ?? "other"
        defer {
            let elapsed = ContinuousClock.now - start
            metrics.recordRequest(route: "\(request.method.rawValue) \(family)",
                                  seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
        return try await next(request, context)
    }
}
