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
