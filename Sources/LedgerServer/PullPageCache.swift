import LedgerService
import Synchronization

/// Encoded pull pages that end before the log's head, shared by every device that asks for them.
///
/// Such a page never changes (the log is append-only and pages end on multiples of their size,
/// `LedgerService.pull`), so devices catching up over the same stretch of the log, as a
/// company's devices do each morning, are answered from here rather than each reading,
/// decoding and encoding the same entries again. Least recently used pages go first.
final class PullPageCache: Sendable {
    struct Key: Hashable, Sendable {
        let company: CompanyID
        let after: UInt64
        let limit: Int
        /// Devices on older apps read pages in an older body schema.
        let schema: UInt32
    }

    struct Page: Sendable {
        let bytes: [UInt8]
        let entries: Int
        let last: UInt64
    }

    private struct State {
        var pages: [Key: (page: Page, used: UInt64)] = [:]
        var bytes = 0
        var clock: UInt64 = 0
    }

    private let state = Mutex(State())
    private let capacity: Int

    init(capacityBytes: Int = ServerLimits.pullPageCacheBytes) {
        capacity = capacityBytes
    }

    func page(_ key: Key) -> Page? {
        state.withLock { state in
            guard let found = state.pages[key] else { return nil }
            state.clock += 1
            state.pages[key]?.used = state.clock
            return found.page
        }
    }

    func store(_ page: Page, for key: Key) {
        guard page.bytes.count <= capacity / 4 else { return }
        state.withLock { state in
            state.clock += 1
            if let old = state.pages.updateValue((page, state.clock), forKey: key) { state.bytes -= old.page.bytes.count }
            state.bytes += page.bytes.count
            while state.bytes > capacity, let oldest = state.pages.min(by: { $0.value.used < $1.value.used }) {
                state.bytes -= oldest.value.page.bytes.count
                state.pages[oldest.key] = nil
            }
        }
    }
}
