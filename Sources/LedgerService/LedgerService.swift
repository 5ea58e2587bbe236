import CHeap
import Foundation
import LedgerCore
import SyncProtocol

/// Push and pull for the companies in a storage (DESIGN §4), without HTTP.
///
/// Each company's fold is kept in memory (decision 0012). A push is checked, merged on that
/// fold, appended to the log at the next sequences and committed durably before its outcomes
/// are returned; pushes that arrive while the writer is busy share one commit. The stored job
/// projections are a snapshot written every `ServiceLimits.snapshotLagEntries` entries; on
/// start the log after the snapshot is replayed. `ServerLog` is the in-memory
/// reference this must agree with (the tests compare them).
public final class LedgerService<Storage: LedgerStorage>: @unchecked Sendable {
    public let storage: Storage
    /// One writer and the memories of the companies it writes. A company is written by one lane
    /// only, so its log and memory have one writer as before; lanes write other companies at the
    /// same time where the storage takes several writers at once (decision 0045).
    private final class Lane: @unchecked Sendable {
        /// Guards `memories`; the writer holds it from the first change of a group to its
        /// commit, so readers never see a fold that is not yet durable.
        let lock = NSLock()
        var memories: [CompanyID: CompanyMemory] = [:]
        var writer: WriteQueue!
        /// Snapshots this lane took, under `lock` (for the tests).
        var snapshotsCut = 0
    }
    private let lanes: [Lane]
    /// Guards `laneOfCompany`: each company's lane, given when the company is first asked for.
    private let lanesLock = NSLock()
    private var laneOfCompany: [CompanyID: Int] = [:]
    /// Encodes snapshots beside the writers, one at a time, at a lower priority.
    private let snapshots = BackgroundWorker(name: "fieldledger-snapshots")
    private let snapshotLagEntries: UInt64
    private let snapshotChunkJobs: Int
    /// Snapshots this service took (for the tests).
    var snapshotsTaken: Int { lanes.reduce(0) { total, lane in total + lane.lock.withLock { lane.snapshotsCut } } }

    /// Makes a service over `storage` and starts its writers, as many as the storage takes or
    /// `writers` if fewer. A snapshot of the projections is stored each time they fall
    /// `snapshotLagEntries` behind the log, `snapshotChunkJobs` jobs per write.
    public init(storage: Storage, snapshotLagEntries: UInt64 = ServiceLimits.snapshotLagEntries,
                snapshotChunkJobs: Int = ServiceLimits.snapshotChunkJobs, writers: Int? = nil) {
        self.storage = storage
        self.snapshotLagEntries = max(1, snapshotLagEntries)
        self.snapshotChunkJobs = max(1, snapshotChunkJobs)
        let count = max(1, min(writers ?? storage.writersAtOnce, storage.writersAtOnce))
        lanes = (0..<count).map { _ in Lane() }
        for (index, lane) in lanes.enumerated() {
            lane.writer = WriteQueue(name: count == 1 ? "fieldledger-writer" : "fieldledger-writer-\(index + 1)") { [unowned self, unowned lane] group in
                self.process(group, in: lane)
            }
        }
    }

    /// The lane that writes `company`: the next in turn when the company is first asked for, so
    /// that a few busy companies spread over the lanes (a hash of their ids could put two on one).
    private func lane(_ company: CompanyID) -> Lane {
        guard lanes.count > 1 else { return lanes[0] }
        return lanesLock.withLock {
            if let index = laneOfCompany[company] { return lanes[index] }
            let index = laneOfCompany.count % lanes.count
            laneOfCompany[company] = index
            return lanes[index]
        }
    }

    /// Stores a snapshot of the projections at the head for every company in memory, on the
    /// writer (after the writes already queued).
    public func storeSnapshots() throws {
        let companies = lanes.flatMap { lane in lane.lock.withLock { Array(lane.memories.keys) } }.sorted()
        for company in companies {
            try perform(company, weight: 0) { memory, tx in
                if memory.snapshotLag > 0 { try memory.saveSnapshot(tx) }
            }
        }
    }

    /// Companies whose fold is in memory, in every lane.
    public var companiesInMemory: Int {
        lanes.reduce(0) { count, lane in count + lane.lock.withLock { lane.memories.count } }
    }

    /// Releases the memory of every company that was not loaded, used by a push or a read, or
    /// seen by these calls to grow for `idleSeconds` (decision 0046); its next request loads it
    /// from storage again. A company whose stored projections are behind its head is not
    /// released yet: its writer is asked for a snapshot at the head first (stored in the
    /// background, as any), so that a later call releases it and its reload replays nothing.
    /// Returns how many were released.
    @discardableResult
    public func releaseIdleCompanies(idleFor idleSeconds: Double) -> Int {
        let now = Self.now(), idle = UInt64(max(0, idleSeconds) * 1e9)
        // Freed after the lane's lock is let go: a large company's memory takes a few hundred
        // milliseconds to free, and the lock holds up its lane's writer.
        var released: [CompanyMemory] = []
        for lane in lanes {
            let snapshotFirst: [CompanyID] = lane.lock.withLock {
                var wanted: [CompanyID] = []
                for company in lane.memories.keys.sorted() {
                    guard let memory = lane.memories[company] else { continue }
                    if memory.head != memory.headAtLastLook {
                        memory.headAtLastLook = memory.head
                        memory.headMovedAt = now
                    }
                    guard now - min(now, max(memory.lastUsed, memory.headMovedAt)) >= idle, !memory.snapshotInFlight else { continue }
                    if memory.snapshotLag == 0 {
                        lane.memories[company] = nil
                        released.append(memory)
                    } else if !memory.snapshotWanted {
                        memory.snapshotWanted = true
                        wanted.append(company)
                    }
                }
                return wanted
            }
            // An empty write: the writer cuts the wanted snapshot after it (see `process`).
            for company in snapshotFirst {
                lane.writer.submit(request(company, weight: 0, { _, _ in }, answer: { _ in }))
            }
        }
        let count = released.count
        released.removeAll()
        // glibc keeps freed memory for the process's next allocations; a company's jobs are many
        // small blocks spread over the heap, so without this the host would not see it back.
        if count > 0 { _ = cheap_release_free_memory() }
        return count
    }

    /// The time for `CompanyMemory.lastUsed`: monotonic, in nanoseconds.
    private static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Stops the writer once the writes already queued have committed; later writes are
    /// refused. No new snapshot is taken: the log is the record, and the next start replays at
    /// most `snapshotLagEntries` entries (decision 0012), so a stop stays quick. A snapshot
    /// being stored is finished first (for at most `ServiceLimits.closeSnapshotWaitSeconds`):
    /// otherwise the next start replays from the one before it (decision 0038).
    public func close() {
        _ = snapshots.waitUntilIdle(before: Date(timeIntervalSinceNow: ServiceLimits.closeSnapshotWaitSeconds))
        for lane in lanes { lane.writer.stop() }
    }

    /// A device's change set: only its own replica's actions, each made by its own user and role.
    public func push(_ changeSet: ChangeSet, from device: DeviceCredential) async throws -> PushResponse {
        try Self.check(changeSet, from: device)
        let encoded = Self.encode(changeSet)
        return try await performAsync(device.company, weight: changeSet.actions.count) { memory, tx in try Self.push(changeSet, encoded, memory, tx) }
    }

    /// Handles one replica's change set and returns the answer after the commit.
    public func push(_ changeSet: ChangeSet, company: CompanyID) throws -> PushResponse {
        try Self.check(changeSet, from: nil)
        let encoded = Self.encode(changeSet)
        return try perform(company, weight: changeSet.actions.count) { memory, tx in try Self.push(changeSet, encoded, memory, tx) }
    }

    /// An office user's action through the server's JSON API: made as the company's server
    /// replica, having seen the whole log, at the server's clock. Returns its outcome.
    public func act(company: CompanyID, actor: Actor, job: JobID?, payload: ActionPayload, day: CalendarDate, wallMillis: Int64) throws -> Outcome {
        try perform(company, weight: 1) { memory, tx in
            let replica = try tx.serverReplica()
            let counter = try memory.highestCounter(of: replica, tx) + 1
            var clock = HybridLogicalClock(last: try tx.lastHLC(of: replica) ?? HLCTimestamp(wallMillis: 0))
            let action = Action(dot: Dot(replica: replica, counter: counter), hlc: clock.tick(physicalMillis: wallMillis), actor: actor, job: job,
                                seenSequence: memory.head, businessDay: day, payload: payload)
            let changeSet = ChangeSet(replica: replica, lastAppliedSequence: action.seenSequence, appVersion: "server", clock: action.hlc, actions: [action])
            let response = try Self.push(changeSet, Self.encode(changeSet), memory, tx)
            guard let outcome = response.outcomes.first else {
                throw ServiceError(.storageFailed, "The server's own action was not handled.")
            }
            return outcome
        }
    }

    /// Refusals that need no storage: another replica's or user's actions, counters SQLite-size.
    private static func check(_ changeSet: ChangeSet, from device: DeviceCredential?) throws {
        if let device {
            guard changeSet.replica == device.replica else {
                throw ServiceError(.forbidden, "A device may only push its own actions; check the device token.")
            }
            guard changeSet.actions.allSatisfy({ $0.actor == device.actor }) else {
                throw ServiceError(.forbidden, "Every action must be made by the token's user and role (\(device.actor.user.rawValue)); nothing was applied.")
            }
        }
        guard changeSet.actions.allSatisfy({ $0.dot.counter <= UInt64(Int64.max) && $0.dot.replica == changeSet.replica }) else {
            throw ServiceError(.invalidRequest, "Every action must be the change set's replica's, with a counter below 2^63; nothing was applied.")
        }
    }

    /// Each action's canonical bytes, made before the push reaches the writer so that this
    /// work runs on the caller's core, beside the writer rather than in it.
    private static func encode(_ changeSet: ChangeSet) -> [(bytes: [UInt8], digest: [UInt8])] {
        changeSet.actions.map { action in
            let bytes = CanonicalEncoding.bytes(of: action)
            return (bytes, SHA256.hash(bytes))
        }
    }

    /// One push on a company's memory inside the group's transaction. Everything that can
    /// refuse it was checked before; what throws here fails the whole group.
    static func push(_ changeSet: ChangeSet, _ encoded: [(bytes: [UInt8], digest: [UInt8])], _ memory: CompanyMemory, _ tx: any LedgerTransaction) throws -> PushResponse {
        memory.markUsed(at: now())
        var highest = try memory.highestCounter(of: changeSet.replica, tx)
        var outcomes: [Outcome] = [], appended: [StoredEntry] = []
        // Grown an element at a time, these are reallocated seven times for 100 actions, each
        // time copying the entries so far (about a tenth of the writer's time in server-bench).
        outcomes.reserveCapacity(changeSet.actions.count)
        appended.reserveCapacity(changeSet.actions.count)
        var sendFrom: UInt64?, flagged = false
        pushing: for (action, body) in zip(changeSet.actions, encoded) {
            switch PushRules.step(for: action, highest: highest) {
            case .duplicate:
                let outcome = PushRules.duplicateOutcome(action, storedBodyDigest: try tx.bodyDigest(of: action.dot))
                flagged = flagged || outcome != .exists
                outcomes.append(outcome)
                continue
            case .gap(let from):
                sendFrom = from
                break pushing
            case .apply:
                break
            }
            let stored = memory.append(action, actionBytes: body.bytes, bodyDigest: body.digest)
            appended.append(stored)
            outcomes.append(stored.entry.outcome)
            highest = action.dot.counter
        }
        if !appended.isEmpty { try tx.append(appended) }
        if flagged { try tx.flag(changeSet.replica) }
        return PushResponse(outcomes: outcomes, sendFrom: sendFrom, serverSequence: memory.head)
    }

    /// The answer to one sync message from an authenticated device, as the HTTP handler gives
    /// it but without HTTP: for in-process transports (tests, benchmarks, the simulator).
    public func answer(_ message: SyncMessage, from device: DeviceCredential) async throws -> SyncMessage {
        let session = ServerSyncSession(authenticatedReplica: device.replica)
        switch session.received(message) {
        case .respond(let answer):
            return answer
        case .applyPush(let changeSet):
            let response = try await push(changeSet, from: device)
            return session.pushCompleted(outcomes: response.outcomes, sendFrom: response.sendFrom, serverSequence: response.serverSequence)
        case .readPage(let after, let limit, let schema):
            let page = try pull(company: device.company, after: after, limit: limit)
            return session.pageReady(entries: page.entries, checkpoint: page.checkpoint, schemaVersion: schema)
        }
    }

    /// Up to `limit` entries after `cursor`, ending at a checkpoint. The page that reaches the
    /// head carries the digests of the jobs it touched, as they are at the head.
    public func pull(company: CompanyID, after cursor: UInt64, limit: Int) throws -> PullPage {
        var attempt = 0
        while true {
            attempt += 1
            let (stored, head, logDigest) = try storage.read(company) { tx in
                let head = try tx.head()
                guard cursor <= head.sequence else {
                    throw ServiceError(.cursorAhead, "This device's cursor (\(cursor)) is past the server's log (\(head.sequence)); the device's replica needs repair.")
                }
                // A page short of the head ends on a multiple of its size, so devices catching up
                // from different cursors ask for the same pages after their first one (the server
                // shares them, PullPageCache).
                let size = UInt64(max(1, min(limit, ServerSyncSession.pageEntriesMax)))
                let stored = try tx.entries(after: cursor, limit: Int(size - cursor % size))
                let logDigest: [UInt8]
                if let entry = stored.last {
                    logDigest = entry.logDigest
                } else if cursor == 0 {
                    logDigest = LogDigest.empty
                } else {
                    logDigest = try tx.entries(after: cursor - 1, limit: 1).first?.logDigest ?? LogDigest.empty
                }
                return (stored, head.sequence, logDigest)
            }
            let last = stored.last?.entry.sequence ?? cursor
            let page = { (caughtUp: Bool, jobs: [JobDigest]) in
                PullPage(entries: stored.map(\.entry), checkpoint: Checkpoint(sequence: last, logDigest: logDigest, jobs: jobs, caughtUp: caughtUp))
            }
            guard last == head else { return page(false, []) }
            guard !stored.isEmpty else { return page(true, []) }
            // The digests must be of the jobs as they are at this page's last entry: the memory
            // may already be past it when pushes committed since the read.
            let touched = Self.lastTouched(stored.map(\.entry), count: ServiceLimits.checkpointJobDigestsMax)
            let (memory, digesting) = try ledger(company) { memory in
                (memory, memory.head == head ? memory.digestsOrWork(touched) : nil)
            }
            if let digesting { return page(true, digests(digesting, keptIn: memory, lane: lane(company))) }
            // Newer entries exist: read again, or let the device ask for the next page.
            if attempt == ServiceLimits.pullHeadAttempts { return page(false, []) }
        }
    }

    /// The digests of a checkpoint's jobs, in order: those the memory kept, and the others made
    /// here off the lock (on every core when there are enough) and kept for the next pull. A
    /// digest encodes the job's whole history (at a million entries over 10,000 jobs, 256 of
    /// them took 100 ms), and made under the lock it held every push up as long.
    private func digests(_ digesting: [CompanyMemory.Digesting], keptIn memory: CompanyMemory, lane: Lane) -> [JobDigest] {
        let work = digesting.compactMap { if case .work(let job, let ticket) = $0 { (job, ticket) } else { nil } }
        var made = [JobDigest?](repeating: nil, count: work.count)
        let threads = min(ProcessInfo.processInfo.activeProcessorCount, work.count / ServiceLimits.digestJobsPerThreadMin)
        if threads > 1 {
            made.withUnsafeMutableBufferPointer { out in
                nonisolated(unsafe) let out = out
                // Each thread takes every `threads`-th job: the jobs' sizes vary, in no order.
                DispatchQueue.concurrentPerform(iterations: threads) { part in
                    for index in stride(from: part, to: work.count, by: threads) { out[index] = work[index].0.digest }
                }
            }
        } else {
            for (index, (job, _)) in work.enumerated() { made[index] = job.digest }
        }
        // Most pulls find every digest kept: they need not wait for the lock again (a group
        // holds it through its commit).
        if !work.isEmpty { lane.lock.withLock { for ((_, ticket), digest) in zip(work, made) { memory.keep(digest!, ticket: ticket) } } }
        var next = made.makeIterator()
        return digesting.map { if case .known(let digest) = $0 { digest } else { next.next()!! } }
    }

    /// The jobs the entries touched last, at most `count`, ordered by id.
    static func lastTouched(_ entries: [LogEntry], count: Int) -> [JobID] {
        var chosen: [JobID] = [], seen = Set<JobID>()
        for entry in entries.reversed() where chosen.count < count {
            if let job = entry.action.touchedJob, seen.insert(job).inserted { chosen.append(job) }
        }
        return chosen.sorted()
    }

    /// The company at the head of its log: settings, company cases and every job, from memory.
    public func projectedLedger(company: CompanyID) throws -> Ledger {
        try ledger(company) { $0.ledger }
    }

    /// The company as a fold of its whole log from the state it was created with.
    public func foldedLedger(company: CompanyID) throws -> Ledger {
        try storage.read(company) { tx in try Self.fold(tx) }
    }

    /// Replaces the stored projections and the memory with a fold of the log, in one transaction.
    public func rebuildProjections(company: CompanyID) throws {
        try perform(company, weight: 0) { [self] _, tx in
            let folded = try Self.fold(tx)
            let head = try tx.head()
            try tx.deleteAllJobs()
            let memory = CompanyMemory.rebuilt(folded, head: head.sequence, logDigest: head.logDigest)
            try tx.saveProjections(ProjectionSnapshot(jobs: folded.jobs.map { ($0.id, StoredJobFormat.record(of: $0)) },
                                                      state: CompanyState(settings: folded.settings, reviewCases: folded.companyReviewCases),
                                                      openReviewCases: memory.openReviewCases, through: head.sequence))
            lane(company).memories[company] = memory
        }
    }

    /// Review cases waiting for a person in every company (for the metrics). A company not in
    /// memory whose stored projections are at its head (one released while idle) is counted
    /// from storage, so a scrape neither loads it nor keeps any company from being released.
    public func openReviewCaseCount() throws -> Int {
        try storage.companies().reduce(0) { total, company in
            let lane = self.lane(company)
            if lane.lock.withLock({ lane.memories[company] == nil }),
               let stored = try storage.read(company, { tx in try tx.projectedThrough() == tx.head().sequence ? tx.storedOpenReviewCases() : nil }) {
                return total + stored
            }
            return total + (try ledger(company, using: false) { $0.openReviewCases })
        }
    }

    /// The last sequence of a company's log.
    public func head(company: CompanyID) throws -> UInt64 {
        try storage.read(company) { try $0.head().sequence }
    }

    /// Reads a company's memory once it has caught up with the log's head as of this call;
    /// unless `using` is false (the metrics), the read keeps the company from counting as idle.
    private func ledger<T>(_ company: CompanyID, using: Bool = true, _ read: (CompanyMemory) throws -> T) throws -> T {
        let head = try self.head(company: company)
        let lane = self.lane(company)
        func readMarking(_ memory: CompanyMemory) throws -> T {
            if using { memory.markUsed(at: Self.now()) }
            return try read(memory)
        }
        if let value = try lane.lock.withLock({ try lane.memories[company].flatMap { $0.head >= head ? try readMarking($0) : nil } }) { return value }
        // Not loaded, or another process wrote: the writer loads or replays, then we read.
        try perform(company, weight: 0) { _, _ in }
        return try lane.lock.withLock {
            guard let memory = lane.memories[company] else {
                throw ServiceError(.storageFailed, "The company's memory was dropped after a failed write or released while idle; retry.")
            }
            return try readMarking(memory)
        }
    }

    /// Runs `work` on the writer and waits for its group to commit.
    private func perform<T>(_ company: CompanyID, weight: Int, _ work: @escaping (CompanyMemory, any LedgerTransaction) throws -> T) throws -> T {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<T, Error>?
        lane(company).writer.submit(request(company, weight: weight, work) { result = $0; done.signal() })
        done.wait()
        return try result!.get()
    }

    /// Runs `work` on the writer and suspends until its group committed.
    private func performAsync<T: Sendable>(_ company: CompanyID, weight: Int, _ work: @escaping (CompanyMemory, any LedgerTransaction) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            lane(company).writer.submit(request(company, weight: weight, work) { continuation.resume(with: $0) })
        }
    }

    private func request<T>(_ company: CompanyID, weight: Int, _ work: @escaping (CompanyMemory, any LedgerTransaction) throws -> T,
                            answer: @escaping (Result<T, Error>) -> Void) -> WriteRequest {
        nonisolated(unsafe) var value: T?
        return WriteRequest(company: company, weight: weight, run: { memory, tx in value = try work(memory, tx) }, finish: { error in
            if let error { answer(.failure(error)) } else if let value { answer(.success(value)) } else {
                answer(.failure(ServiceError(.storageFailed, "A write finished without an answer.")))
            }
        })
    }

    /// One group on a lane's writer thread: one transaction for all its requests, then the answers.
    private func process(_ group: [WriteRequest], in lane: Lane) {
        var refusals = [Error?](repeating: nil, count: group.count)
        var touched: [CompanyID] = []
        var cuts: [(CompanyID, CompanyMemory.Cut)] = []
        lane.lock.lock()
        do {
            try storage.write { open in
                var transactions: [CompanyID: any LedgerTransaction] = [:]
                var unknown: [CompanyID: ServiceError] = [:]
                // The group's companies are opened in one order, sorted: on PostgreSQL opening
                // locks the company's row, and two processes locking in arrival order deadlock.
                for company in Set(group.map(\.company)).sorted() {
                    let tx: any LedgerTransaction
                    do {
                        tx = try open(company)
                    } catch let error as ServiceError where error.code == .notFound {
                        // Only this company's requests are refused; any other failure may have
                        // spoilt the transaction, so it fails the whole group (below).
                        unknown[company] = error
                        continue
                    }
                    transactions[company] = tx
                    touched.append(company)
                    if let memory = lane.memories[company] {
                        try memory.catchUp(tx)
                    } else {
                        // Loading counts as growth: a company just loaded is not idle at once.
                        let memory = try CompanyMemory.load(tx)
                        (memory.headAtLastLook, memory.headMovedAt) = (memory.head, Self.now())
                        lane.memories[company] = memory
                    }
                }
                for (index, request) in group.enumerated() {
                    guard let tx = transactions[request.company], let memory = lane.memories[request.company] else {
                        refusals[index] = unknown[request.company]
                        continue
                    }
                    try request.run(memory, tx)
                }
                for company in touched {
                    // Due by the lag, or wanted before an idle company is released (with any lag).
                    guard let memory = lane.memories[company], let tx = transactions[company], !memory.snapshotInFlight else { continue }
                    let due = memory.snapshotWanted ? 1 : snapshotLagEntries
                    guard memory.snapshotLag >= due else { continue }
                    // Another process on the same PostgreSQL may have taken this snapshot already:
                    // every process would otherwise store one of every job at about the same time.
                    memory.noteClaim(max(try tx.snapshotClaimed(), try tx.projectedThrough()))
                    guard memory.snapshotLag >= due else {
                        memory.snapshotWanted = false
                        continue
                    }
                    try tx.claimSnapshot(through: memory.head)
                    memory.snapshotWanted = false
                    cuts.append((company, memory.cut()))
                    lane.snapshotsCut += 1
                }
            }
        } catch {
            // Nothing of the group is durable: forget the memories it changed (the next request
            // reloads them from storage) and tell every request.
            for company in touched { lane.memories[company] = nil }
            lane.lock.unlock()
            let failure = error as? ServiceError ?? ServiceError(.storageFailed, "The write could not be committed (\(error)); nothing was applied, retry.")
            for request in group { request.finish(failure) }
            return
        }
        lane.lock.unlock()
        for (request, refusal) in zip(group, refusals) { request.finish(refusal) }
        for (company, cut) in cuts { storeInBackground(cut, company: company) }
    }

    /// Stores a cut's jobs in chunks off the writer, then its company state (decision 0038).
    /// Each chunk is taken from the memory as it is then and encoded here; the writer stores it
    /// beside the pushes, keeping any row a later chunk or snapshot stored. The company state
    /// goes last, unless a newer snapshot was stored meanwhile (it covers this one's jobs, see
    /// `CompanyMemory.cut`).
    private func storeInBackground(_ cut: CompanyMemory.Cut, company: CompanyID) {
        snapshots.async { [self] in
            let lane = self.lane(company)
            let failed = { () -> Void in lane.lock.withLock { _ = lane.memories[company]?.notStored(cut) } }
            var start = 0
            while start < cut.jobs.count {
                let ids = cut.jobs[start..<min(start + snapshotChunkJobs, cut.jobs.count)]
                start = ids.endIndex
                // Any memory of the company will do, one reloaded after a failed write too: it is
                // at a committed head past the cut, which is all a chunk needs. None: the next
                // load marks what changed since the stored snapshot.
                guard let (jobs, through) = lane.lock.withLock({ lane.memories[company]?.current(ids) }) else { return }
                let records = jobs.map { ($0.id, StoredJobFormat.record(of: $0)) }
                do {
                    try perform(company, weight: 0) { _, tx in try tx.saveJobs(records, through: through) }
                } catch {
                    return failed()
                }
            }
            do {
                try perform(company, weight: 0) { memory, tx in
                    if try tx.projectedThrough() <= cut.through { try tx.saveProjections(cut.closing) }
                    memory.stored(cut)
                }
            } catch {
                failed()
            }
        }
    }

    private static func fold(_ tx: any LedgerTransaction) throws -> Ledger {
        let initial = try tx.initialCompanyState()
        var ledger = try Ledger(settings: initial.settings, companyReviewCases: initial.reviewCases, jobs: [])
        var cursor: UInt64 = 0
        while true {
            let page = try tx.entries(after: cursor, limit: ServerSyncSession.pageEntriesMax)
            guard let last = page.last else { return ledger }
            for stored in page { _ = ledger.apply(stored.entry.action, sequence: stored.entry.sequence) }
            cursor = last.entry.sequence
        }
    }
}
