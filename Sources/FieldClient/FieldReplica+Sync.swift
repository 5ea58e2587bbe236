import Foundation
import GRDB
import LedgerCore
import SyncProtocol

/// What one sync did.
public struct SyncReport: Hashable, Sendable {
    /// Outcomes the server gave this device's actions during the sync, oldest first.
    public internal(set) var outcomes: [(dot: Dot, outcome: Outcome)] = []
    /// Log entries folded.
    public internal(set) var entriesFolded = 0
    /// The last log sequence folded.
    public internal(set) var cursor: UInt64 = 0
    /// Jobs whose digest differed after a fold and were replaced by the server's copy.
    public internal(set) var repairedJobs: [JobID] = []

    public static func == (lhs: SyncReport, rhs: SyncReport) -> Bool {
        lhs.outcomes.map(\.dot) == rhs.outcomes.map(\.dot) && lhs.outcomes.map(\.outcome) == rhs.outcomes.map(\.outcome)
            && lhs.entriesFolded == rhs.entriesFolded && lhs.cursor == rhs.cursor && lhs.repairedJobs == rhs.repairedJobs
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(outcomes.map(\.dot))
        hasher.combine(entriesFolded)
        hasher.combine(cursor)
    }
}

extension FieldReplica {
    /// Pushes the pending actions, then pulls pages until caught up (DESIGN §4).
    ///
    /// Outcomes are written as they arrive; folded pages are stored with their cursor in one
    /// transaction every `saveEveryEntries` entries, once `ClientLimits.jobsInMemoryMax` jobs
    /// wait to be written, when the device is caught up, and when the sync stops for any
    /// reason. A sync stopped at any point (no signal, the process killed) resumes from what
    /// was written: actions the server already logged are answered "exists" and nothing is
    /// counted twice. `progress` hears the cursor after each page (and after it was stored,
    /// when it was). One sync at a time per replica file; when it returns or throws, no
    /// request of it is still in flight.
    @discardableResult
    public func sync(over transport: any SyncTransport, pageEntries: UInt32 = ClientLimits.pullPageEntries,
                     saveEveryEntries: Int = ClientLimits.saveEveryEntries,
                     progress: (@Sendable (_ cursor: UInt64) -> Void)? = nil) async throws -> SyncReport {
        // A request still in flight when the sync stops is waited for (after cancelling it): a
        // caller that goes on to act, or the simulator that goes on to the next event, must not
        // have this sync's messages still arriving at the server.
        let ahead = Prefetch()
        do {
            let report = try await sync(over: transport, pageEntries: pageEntries, saveEveryEntries: saveEveryEntries, ahead: ahead, progress: progress)
            await ahead.settle()
            checkpointSoon()
            return report
        } catch {
            await ahead.settle()
            checkpointSoon()
            throw error
        }
    }

    private func sync(over transport: any SyncTransport, pageEntries: UInt32, saveEveryEntries: Int, ahead: Prefetch,
                      progress: (@Sendable (_ cursor: UInt64) -> Void)?) async throws -> SyncReport {
        var session = ClientSyncSession(replica: identity.replica, appVersion: ClientLimits.appVersion,
                                        batchSize: ClientLimits.pushBatchActions, pageSize: pageEntries)
        let (pending, cursor, clock) = lock.withLock { (unfolded.filter { $0.status == .pending }.map(\.action), self.cursor, self.clock.last) }
        var report = SyncReport()
        var step = session.start(pending: pending, cursor: cursor, clock: clock)
        // Whatever stops the sync, what was folded so far is kept for the next one.
        defer { try? save() }
        // The next page, asked for while this one is folded: the server reads and encodes it on
        // one core while the device folds on the other, instead of each waiting in turn. When it
        // arrives, the same task digests its actions (the larger part of checking the running
        // log digest), still beside the fold of the current page.
        var digested: ActionDigests?
        var guarded = false
        while true {
            switch step {
            case .send(let message):
                #if PLANT_EARLY_ACK
                // Planted bug (issue F, Simulator/README.md): actions count as acknowledged once sent.
                if case .pushRequest(let changeSet) = message { try record(changeSet.actions.map { ($0.dot, Outcome.applied) }) }
                #endif
                let answer: SyncMessage
                if let next = ahead.next, next.request == message {
                    ahead.next = nil
                    (answer, digested) = try await next.answer.value
                } else {
                    await ahead.settle()
                    answer = try await transport.exchange(message)
                }
                step = session.received(answer)
            case .recordOutcomes(let outcomes):
                try record(outcomes)
                report.outcomes += outcomes.map { (dot: $0.0, outcome: $0.1) }
                step = session.outcomesRecorded()
            case .applyPage(let page):
                if !page.checkpoint.caughtUp {
                    let next = SyncMessage.pullRequest(PullRequest(replica: identity.replica, afterSequence: page.checkpoint.sequence, limit: pageEntries))
                    ahead.next = (next, Task {
                        let answer = try await transport.exchange(next)
                        guard case .pullPage(let page) = answer else { return (answer, nil) }
                        return (answer, ActionDigests(page))
                    })
                }
                let digests = digested.flatMap { $0.matches(page) ? $0.digests : nil }
                digested = nil
                do {
                    try apply(page, actionDigests: digests, guarded: guarded)
                } catch let refold as Refold {
                    // Rare (a device folding by other rules, a damaged replica): pull again from
                    // the last save, each page guarded, so the failing page is handled as before.
                    report.entriesFolded -= refold.discardedEntries
                    guarded = true
                    await ahead.settle()
                    digested = nil
                    session = ClientSyncSession(replica: identity.replica, appVersion: ClientLimits.appVersion,
                                                batchSize: ClientLimits.pushBatchActions, pageSize: pageEntries)
                    step = lock.withLock { session.start(pending: [], cursor: cursor, clock: self.clock.last) }
                    continue
                } catch let differing as JobsDiffer {
                    // The log is the same but these jobs folded differently here: take the
                    // server's copies, which must then match the page's digests.
                    var copies: [Job] = []
                    for id in differing.jobs {
                        guard let copy = try await transport.job(id) else {
                            throw ClientError(.diverged, "Job \(id) differs from the server's after folding and the server's copy could not be fetched; nothing from this page was kept. Sync again; set the device up again if it persists.")
                        }
                        copies.append(copy)
                    }
                    do {
                        try apply(page, repairing: copies, actionDigests: digests)
                    } catch is JobsDiffer {
                        throw ClientError(.diverged, "Jobs \(differing.jobs.map(\.description).joined(separator: ", ")) still differ from the server's after a repair (the server may have moved on); nothing from this page was kept. Sync again.")
                    }
                    report.repairedJobs += differing.jobs
                }
                let (unsavedEntries, unsavedJobs) = lock.withLock { (unsaved.entries, unsaved.jobs.count) }
                if page.checkpoint.caughtUp || unsavedEntries >= saveEveryEntries || unsavedJobs >= ClientLimits.jobsInMemoryMax { try save() }
                report.entriesFolded += page.entries.count
                report.cursor = page.checkpoint.sequence
                progress?(page.checkpoint.sequence)
                step = session.pageApplied()
            case .finished:
                report.cursor = lock.withLock { self.cursor }
                return report
            case .failed(let error):
                throw ClientError(.syncFailed, "\(error.message) Nothing was lost; sync again.")
            }
        }
    }

    /// The server's outcomes for pushed actions: acknowledged, or rejected and kept visible.
    func record(_ outcomes: [(Dot, Outcome)]) throws {
        try lock.withLock {
            var answered: [UInt64: (OutboxStatus, Outcome)] = [:]
            for (dot, outcome) in outcomes where dot.replica == identity.replica {
                if case .rejected = outcome { answered[dot.counter] = (.rejected, outcome) } else { answered[dot.counter] = (.acknowledged, outcome) }
            }
            try database.write { db in
                for (counter, (status, outcome)) in answered.sorted(by: { $0.key < $1.key }) {
                    try db.execute(sql: "UPDATE outbox SET status = ?, outcome = ? WHERE counter = ? AND status = ?",
                                   arguments: [status.rawValue, Stored.encode(outcome), Int64(counter), OutboxStatus.pending.rawValue])
                }
            }
            // A rejected action leaves the view; acknowledged ones stay in it until the log brings them back.
            if answered.values.contains(where: { $0.0 == .rejected }) { cachedView = nil }
            unfolded = unfolded.map { entry in
                guard entry.status == .pending, let (status, outcome) = answered[entry.action.dot.counter] else { return entry }
                return OutboxEntry(action: entry.action, status: status, outcome: outcome, madeAtMillis: entry.madeAtMillis)
            }
        }
    }

    /// Folds a page into the confirmed state in memory, checking the running log digest and
    /// the digests of the jobs it names; `save()` stores what was folded. The log digest is
    /// checked before anything changes. `guarded`, a page that does not check out changes
    /// nothing: `JobsDiffer` names jobs that folded differently (the log being the same), which
    /// `repairing` copies from the server then replace. Unguarded, the page folds with no copy
    /// of its jobs to go back to, and a page that does not check out sends memory back to the
    /// file (`discardUnsaved`) and throws `Refold`.
    func apply(_ page: PullPage, repairing copies: [Job] = [], actionDigests: [[UInt8]]? = nil, guarded: Bool = true) throws {
        try lock.withLock {
            var digest = logDigest
            for (index, entry) in page.entries.enumerated() {
                let actionDigest = actionDigests?[index] ?? CanonicalEncoding.digest(of: entry.action)
                digest = LogDigest.next(digest, sequence: entry.sequence, actionDigest: actionDigest, outcome: entry.outcome)
            }
            guard digest == page.checkpoint.logDigest else {
                throw ClientError(.diverged, "The server's log digest at \(page.checkpoint.sequence) differs from this device's; nothing from this page was kept. Set the device up again if it persists.")
            }
            let pageJobs = page.entries.compactMap(\.action.touchedJob)
            try load(pageJobs + page.checkpoint.jobs.map(\.job))
            // Folded in place (a copy of the confirmed state would copy every job in memory, per
            // page). The kept view shares the state, so it goes first, or the first change would
            // copy everything all the same. A guarded page keeps the jobs it touches as they were,
            // to revert to; each is then copied when first changed and released after the page
            // (measured: ~0.6 s of a 2 s pull of a week's backlog), which is why pages fold
            // unguarded until one fails.
            cachedView = nil
            let savepoint = guarded ? confirmed.savepoint(jobs: Set(pageJobs + copies.map(\.id)).sorted()) : nil
            var clock = self.clock, own = foldedOwn
            var touched = Set<JobID>(), companyTouched = false, ownOutcomes: [(UInt64, Outcome)] = []
            do {
                for entry in page.entries {
                    do {
                        try confirmed.fold(entry)
                    } catch let error as FoldDivergence {
                        throw ClientError(.diverged, "Folding log entry \(error.sequence) gave \(error.recomputed), the server recorded \(error.recorded); this device's copy differs from the server's. Nothing from this page was kept; update the app, or set the device up again.")
                    }
                    if let job = entry.action.touchedJob { touched.insert(job) } else { companyTouched = true }
                    if entry.action.dot.replica == identity.replica {
                        own = max(own, entry.action.dot.counter)
                        ownOutcomes.append((entry.action.dot.counter, entry.outcome))
                    }
                    clock = HybridLogicalClock(last: max(clock.last, entry.action.hlc))
                }
                for copy in copies {
                    confirmed.restore(copy)
                    touched.insert(copy.id)
                }
                // A checkpoint names up to 256 jobs; their digests (each the whole job's canonical
                // bytes hashed) are made on the idle cores.
                let named = page.checkpoint.jobs, folded = named.map { try? confirmed.job($0.job) }
                let threads = threadCount(for: named.count, perThreadMin: digestJobsPerThreadMin)
                let differing = inParallel(threads) { part in
                    share(part, of: threads, count: named.count).filter { folded[$0]?.digest != named[$0] }
                }.joined().map { named[$0].job }
                if !differing.isEmpty { throw JobsDiffer(jobs: differing) }
            } catch {
                guard let savepoint else {
                    let discarded = unsaved.entries
                    try discardUnsaved()
                    throw Refold(discardedEntries: discarded)
                }
                confirmed.revert(to: savepoint)
                throw error
            }
            logDigest = digest
            cursor = page.checkpoint.sequence
            self.clock = clock
            foldedOwn = own
            unfolded.removeAll { $0.action.dot.counter <= own }
            unsaved.jobs.formUnion(touched)
            unsaved.company = unsaved.company || companyTouched
            unsaved.outcomes += ownOutcomes
            unsaved.entries += page.entries.count
        }
    }

    /// Stores what pages folded since the last save, with their cursor, in one transaction: a
    /// sync stopped after this resumes from here. Saving every page would rewrite a job once per
    /// page that touches it (measured: most of a week's backlog pull went to that).
    func save() throws {
        try lock.withLock {
            guard unsaved.entries > 0 || !unsaved.jobs.isEmpty else { return }
            let jobs = unsaved.jobs.sorted().compactMap { try? confirmed.job($0) }
            // Encoded on every core first (a save after a long pull writes thousands of jobs);
            // the transaction then only writes.
            let threads = threadCount(for: jobs.count, perThreadMin: jobsPerThreadMin)
            let rows = inParallel(threads) { part in jobs[share(part, of: threads, count: jobs.count)].map(Stored.Encoded.init) }
            try database.writeWithoutTransaction { db in
                try Self.bulk(db) {
                    try db.inTransaction {
                        for part in rows {
                            for row in part { try Stored.save(row, in: db) }
                        }
                        // The log's outcome is the last word (a resent action was answered "exists").
                        for (counter, outcome) in unsaved.outcomes {
                            let status: OutboxStatus = if case .rejected = outcome { .rejected } else { .acknowledged }
                            try db.execute(sql: "UPDATE outbox SET status = ?, outcome = ? WHERE counter = ?",
                                           arguments: [status.rawValue, Stored.encode(outcome), Int64(counter)])
                        }
                        if unsaved.company {
                            try db.execute(sql: "UPDATE replica SET company = ?",
                                           arguments: [Stored.encode(ConfirmedCompany(settings: confirmed.settings, reviewCases: confirmed.companyReviewCases))])
                        }
                        try db.execute(sql: "UPDATE replica SET cursor = ?, log_digest = ?, clock_wall = ?, clock_logical = ?, folded_own = ?",
                                       arguments: [Int64(cursor), Data(logDigest), clock.last.wallMillis, Int64(clock.last.logical), Int64(foldedOwn)])
                        return .commit
                    }
                }
            }
            unsaved = Unsaved()
            storedCursor = cursor
            try unloadIfLarge()
        }
    }
}

extension FieldReplica {
    /// Runs a save's transaction without the two costs a payment's commit must pay (decision
    /// 0031): everything a save writes, the server can send again, so the commit need not
    /// wait for the disk (`synchronous = NORMAL`: a power cut loses the save, never the file's
    /// consistency, and the next sync pulls it again), and the copy of the write-ahead log into
    /// the file is left to `checkpointSoon()` instead of the commit (a save of a week's
    /// backlog logs ~25 MB). Both settings are restored before anything else runs on the
    /// connection, whatever the transaction did.
    static func bulk(_ db: Database, _ body: () throws -> Void) throws {
        let autocheckpoint = try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint") ?? 1_000
        let result = Result {
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
            try body()
        }
        // The durable setting first: it is the one a payment's commit depends on.
        try db.execute(sql: "PRAGMA synchronous = FULL")
        try db.execute(sql: "PRAGMA wal_autocheckpoint = \(autocheckpoint)")
        try result.get()
    }

    /// Copies the write-ahead log into the file on the replica's queue once the caller has
    /// moved on; a command that runs meanwhile waits behind it. A checkpoint that cannot finish
    /// (another process reading) leaves the log for the next one: nothing is lost either way.
    func checkpointSoon() {
        database.asyncWriteWithoutTransaction { db in
            _ = try? db.checkpoint(.passive)
        }
    }
}

/// The SHA-256 of each action's canonical bytes on a page, made beside the fold of the page
/// before it (what the running log digest hashes, Protocol §9).
struct ActionDigests: Sendable {
    let first: UInt64
    let digests: [[UInt8]]

    init(_ page: PullPage) {
        first = page.entries.first?.sequence ?? 0
        digests = page.entries.map { CanonicalEncoding.digest(of: $0.action) }
    }

    /// Made from this page's entries.
    func matches(_ page: PullPage) -> Bool { page.entries.first?.sequence == first && page.entries.count == digests.count }
}

/// The next page, asked for while the current one is folded.
final class Prefetch: @unchecked Sendable {
    /// Read and written only by the sync that made it, one step at a time.
    var next: (request: SyncMessage, answer: Task<(SyncMessage, ActionDigests?), Error>)?

    /// Cancels the request still in flight, if any, and waits until it ended.
    func settle() async {
        guard let task = next?.answer else { return }
        next = nil
        task.cancel()
        _ = await task.result
    }
}

/// What pages folded into memory that the file does not hold yet.
struct Unsaved {
    var jobs = Set<JobID>()
    var company = false
    var outcomes: [(UInt64, Outcome)] = []
    var entries = 0
}

/// Jobs whose digest after a fold differs from the page's: the sync repairs them.
struct JobsDiffer: Error {
    let jobs: [JobID]
}

/// An unguarded page did not check out: memory went back to the file, which holds the cursor
/// of the last save; the sync pulls again from there, guarding every page.
struct Refold: Error {
    /// Entries folded since the last save, now forgotten.
    let discardedEntries: Int
}
