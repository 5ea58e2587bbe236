import Synchronization

/// Lets at most a fixed number of tasks through at once; the others wait without holding a
/// thread, in the order they came. The server builds pull pages through one, so a crowd of
/// devices asking at once does not hold a crowd of decoded pages (ServerLimits.pullsBuiltAtOnce).
final class AsyncGate: Sendable {
    private struct State {
        var free: Int
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    private let state: Mutex<State>

    init(width: Int) {
        state = Mutex(State(free: width))
    }

    /// Runs `body` once a place is free, and frees the place after it.
    func run<T: Sendable>(_ body: () async throws -> T) async rethrows -> T {
        await enter()
        defer { leave() }
        return try await body()
    }

    private func enter() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let admitted = state.withLock { state in
                if state.free > 0 {
                    state.free -= 1
                    return true
                }
                state.waiting.append(continuation)
                return false
            }
            if admitted { continuation.resume() }
        }
    }

    private func leave() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiting.isEmpty {
                state.free += 1
                return nil
            }
            // The place passes straight to the first waiter.
            return state.waiting.removeFirst()
        }
        next?.resume()
    }
}
