@testable import LedgerServer
import LedgerService
import Synchronization
import Testing

@Suite("The shared cache of pull pages")
struct PullPageCacheTests {
    @Test("Pages are found by company, cursor, size and body schema; the least recently used go first once the cache is full")
    func eviction() throws {
        let cache = PullPageCache(capacityBytes: 400)
        let acme = try CompanyID("acme"), other = try CompanyID("other")
        func key(_ company: CompanyID, _ after: UInt64) -> PullPageCache.Key { .init(company: company, after: after, limit: 5, schema: 2) }
        func page(_ byte: UInt8) -> PullPageCache.Page { .init(bytes: Array(repeating: byte, count: 100), entries: 5, last: 0) }
        cache.store(page(1), for: key(acme, 0))
        cache.store(page(2), for: key(acme, 5))
        cache.store(page(3), for: key(other, 0))
        #expect(cache.page(key(acme, 0))?.bytes.first == 1)
        #expect(cache.page(key(other, 0))?.bytes.first == 3)
        #expect(cache.page(.init(company: acme, after: 0, limit: 10, schema: 2)) == nil)
        #expect(cache.page(.init(company: acme, after: 0, limit: 5, schema: 1)) == nil)
        cache.store(page(4), for: key(acme, 10))
        cache.store(page(5), for: key(acme, 15))
        // 500 bytes over a 400-byte budget: the page not read since it was stored is dropped.
        #expect(cache.page(key(acme, 5)) == nil)
        #expect(cache.page(key(acme, 0))?.bytes.first == 1)
        #expect(cache.page(key(acme, 15))?.bytes.first == 5)
        // A page larger than a quarter of the budget is not kept at all.
        cache.store(.init(bytes: Array(repeating: 9, count: 101), entries: 5, last: 0), for: key(acme, 20))
        #expect(cache.page(key(acme, 20)) == nil)
    }
}

@Suite("The gate that bounds pull pages built at once")
struct AsyncGateTests {
    @Test("No more than its width run at once, and every task gets through")
    func width() async {
        let gate = AsyncGate(width: 2)
        final class Counts: Sendable { let value = Mutex((now: 0, most: 0, done: 0)) }
        let counts = Counts()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    await gate.run {
                        counts.value.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
                        try? await Task.sleep(for: .milliseconds(5))
                        counts.value.withLock { $0.now -= 1; $0.done += 1 }
                    }
                }
            }
        }
        let final = counts.value.withLock { $0 }
        #expect(final.done == 20)
        #expect(final.most == 2)
    }
}
