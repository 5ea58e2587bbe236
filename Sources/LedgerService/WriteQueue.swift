import Foundation

/// One unit of write work waiting for the writer: what it needs and how to answer it.
final class WriteRequest: @unchecked Sendable {
    let company: CompanyID
    /// How many actions it may append (the writer caps a group by this).
    let weight: Int
    /// Runs inside the group's transaction. Everything that can refuse a request is checked
    /// before it is queued, so a throw here means the transaction (and the memory of its
    /// companies) can no longer be trusted: the whole group fails.
    let run: (CompanyMemory, any LedgerTransaction) throws -> Void
    /// Called once: nil after the group committed, else why the request did not happen.
    let finish: (Error?) -> Void

    init(company: CompanyID, weight: Int, run: @escaping (CompanyMemory, any LedgerTransaction) throws -> Void,
         finish: @escaping (Error?) -> Void) {
        self.company = company
        self.weight = weight
        self.run = run
        self.finish = finish
    }
}

/// The service's single writer: a thread that takes every request waiting when it is free and
/// runs them in one transaction, so concurrent pushes share one durable commit (group commit).
final class WriteQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var waiting: [WriteRequest] = []
    private var stopped = false

    /// Starts the writer thread, which hands each group to `process`.
    init(name: String, process: @escaping @Sendable ([WriteRequest]) -> Void) {
        let thread = Thread { [self] in
            while let group = nextGroup() { process(group) }
        }
        thread.name = name
        thread.start()
    }

    /// Queues a request; the writer picks it up with whatever else is waiting.
    func submit(_ request: WriteRequest) {
        condition.lock()
        defer { condition.unlock() }
        guard !stopped else {
            request.finish(ServiceError(.storageFailed, "The server is shutting down; retry against the restarted server."))
            return
        }
        waiting.append(request)
        condition.signal()
    }

    /// Lets the writer finish what is queued, then end.
    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    private func nextGroup() -> [WriteRequest]? {
        condition.lock()
        defer { condition.unlock() }
        while waiting.isEmpty {
            if stopped { return nil }
            condition.wait()
        }
        var weight = 0, taken = 0
        for request in waiting {
            if taken > 0 && weight + request.weight > ServiceLimits.groupCommitActionsMax { break }
            weight += request.weight
            taken += 1
        }
        let group = Array(waiting.prefix(taken))
        waiting.removeFirst(taken)
        return group
    }
}

/// Runs background work (snapshot encoding) in order on a thread of its own at a lower CPU
/// priority than the writer and the HTTP threads (`ServiceLimits.backgroundNice`): on a
/// two-core server the encoding of a large snapshot otherwise takes a core from the pushes that
/// are waiting (decision 0022). The thread exists only while there is work, so idle services
/// (a test, a simulated world) hold none.
final class BackgroundWorker: @unchecked Sendable {
    private let name: String
    private let lock = NSCondition()
    private var queue: [@Sendable () -> Void] = []
    private var running = false

    init(name: String) { self.name = name }

    /// Queues `work` after everything queued before it.
    func async(_ work: @escaping @Sendable () -> Void) {
        let start = lock.withLock {
            queue.append(work)
            defer { running = true }
            return !running
        }
        guard start else { return }
        let thread = Thread { [self] in
            Self.lowerPriority()
            while let next = take() { next() }
        }
        thread.name = name
        thread.start()
    }

    private func take() -> (@Sendable () -> Void)? {
        lock.withLock {
            guard !queue.isEmpty else {
                running = false
                lock.broadcast()
                return nil
            }
            return queue.removeFirst()
        }
    }

    /// Waits until everything queued has run, at most until `deadline`; says whether it has.
    func waitUntilIdle(before deadline: Date) -> Bool {
        lock.withLock {
            while running {
                if !lock.wait(until: deadline) { return !running }
            }
            return true
        }
    }

    /// Raises this thread's nice value: on Linux the value is per thread, and `who` 0 names the
    /// calling thread. A thread cannot lower it again without privileges, which is why the
    /// work gets a thread of its own.
    private static func lowerPriority() {
        #if os(Linux)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, ServiceLimits.backgroundNice)
        #endif
    }
}
