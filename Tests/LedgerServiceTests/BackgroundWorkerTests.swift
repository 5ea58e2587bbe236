import Foundation
@testable import LedgerService
import Synchronization
import Testing

@Suite("The snapshot encoder's background thread")
struct BackgroundWorkerTests {
    @Test("Work runs in the order queued, on a thread at the background nice value, and a later batch gets a thread again")
    func orderAndPriority() throws {
        let worker = BackgroundWorker(name: "test-background")
        final class Seen: Sendable { let value = Mutex((order: [Int](), nice: [Int32]())) }
        let seen = Seen()
        for batch in 0..<2 {
            let done = DispatchSemaphore(value: 0)
            for index in 0..<5 {
                worker.async {
                    Thread.sleep(forTimeInterval: 0.002)
                    errno = 0
                    let nice = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
                    seen.value.withLock { $0.order.append(batch * 5 + index); $0.nice.append(nice) }
                    if index == 4 { done.signal() }
                }
            }
            #expect(done.wait(timeout: .now() + 30) == .success)
            // The thread ends once its queue is empty; the next batch must start another.
            Thread.sleep(forTimeInterval: 0.05)
        }
        let result = seen.value.withLock { $0 }
        #expect(result.order == Array(0..<10))
        #expect(result.nice == Array(repeating: ServiceLimits.backgroundNice, count: 10))
        #expect(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) == 0, "the caller's thread keeps its priority")
    }

    @Test("Waiting until idle returns once the queued work has run, or says it has not by the deadline")
    func waitUntilIdle() {
        let worker = BackgroundWorker(name: "test-idle")
        #expect(worker.waitUntilIdle(before: Date()), "nothing queued")
        final class Count: Sendable { let value = Mutex(0) }
        let finished = Count()
        for _ in 0..<3 { worker.async { Thread.sleep(forTimeInterval: 0.05); finished.value.withLock { $0 += 1 } } }
        #expect(!worker.waitUntilIdle(before: Date(timeIntervalSinceNow: 0.01)), "still running at the deadline")
        #expect(worker.waitUntilIdle(before: Date(timeIntervalSinceNow: 30)))
        #expect(finished.value.withLock { $0 } == 3)
    }
}
