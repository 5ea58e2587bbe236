import LedgerCore
import SyncProtocol

/// Push and pull for the companies in a storage (DESIGN §4), without HTTP.
///
/// A push runs in one write transaction: dedupe by dot, refuse a gap, merge each new action on
/// a working set of the jobs it touches, append it to the log at the next sequence, save the
/// touched jobs, commit durably; only then are the outcomes returned. `ServerLog` is the
/// in-memory reference this must agree with (the tests compare them).
public struct LedgerService<Storage: LedgerStorage>: Sendable {
    public let storage: Storage

    /// Makes a service over `storage`.
    public init(storage: Storage) {
        self.storage = storage
    }

    /// A device's change set: only its own replica's actions, each made by its own user and role.
    public func push(_ changeSet: ChangeSet, from device: DeviceCredential) throws -> PushResponse {
        guard changeSet.replica == device.replica else {
            throw ServiceError(.forbidden, "A device may only push its own actions; check the device token.")
        }
        guard changeSet.actions.allSatisfy({ $0.actor == device.actor }) else {
            throw ServiceError(.forbidden, "Every action must be made by the token's user and role (\(device.actor.user.rawValue)); nothing was applied.")
        }
        return try push(changeSet, company: device.company)
    }

    /// Handles one replica's change set and returns the answer after the commit.
    public func push(_ changeSet: ChangeSet, company: CompanyID) throws -> PushResponse {
        try storage.write(company) { tx in try Self.push(changeSet, in: tx) }
    }

    /// An office user's action through the server's JSON API: made as the company's server
    /// replica, having seen the whole log, at the server's clock. Returns its outcome.
    public func act(company: CompanyID, actor: Actor, job: JobID?, payload: ActionPayload, day: CalendarDate, wallMillis: Int64) throws -> Outcome {
        try storage.write(company) { tx in
            let replica = try tx.serverReplica()
            let counter = try tx.highestCounter(of: replica) + 1
            var clock = HybridLogicalClock(last: try tx.lastHLC(of: replica) ?? HLCTimestamp(wallMillis: 0))
            let action = Action(dot: Dot(replica: replica, counter: counter), hlc: clock.tick(physicalMillis: wallMillis), actor: actor, job: job,
                                seenSequence: try tx.head().sequence, businessDay: day, payload: payload)
            let response = try Self.push(ChangeSet(replica: replica, lastAppliedSequence: action.seenSequence, appVersion: "server",
                                                   clock: action.hlc, actions: [action]), in: tx)
            guard let outcome = response.outcomes.first else {
                throw ServiceError(.storageFailed, "The server's own action was not handled.")
            }
            return outcome
        }
    }

    static func push(_ changeSet: ChangeSet, in tx: any LedgerTransaction) throws -> PushResponse {
        var (sequence, logDigest) = try tx.head()
        var highest = try tx.highestCounter(of: changeSet.replica)
        let fresh = changeSet.actions.filter { $0.dot.counter > highest }
        let touched = Set(fresh.compactMap(\.touchedJob)).sorted()
        let company = try tx.companyState()
        var ledger = try Ledger(settings: company.settings, companyReviewCases: company.reviewCases, jobs: try tx.jobs(touched))
        let openBefore = ledger.openReviewCases.count
        var outcomes: [Outcome] = [], appended: [StoredEntry] = []
        var sendFrom: UInt64?, flagged = false
        pushing: for action in changeSet.actions {
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
            let bodyDigest = CanonicalEncoding.digest(of: action)
            sequence += 1
            let entry = LogEntry(sequence: sequence, action: action, outcome: ledger.apply(action, sequence: sequence))
            logDigest = LogDigest.next(logDigest, entry)
            appended.append(StoredEntry(entry: entry, bodyDigest: bodyDigest, logDigest: logDigest))
            outcomes.append(entry.outcome)
            highest = action.dot.counter
        }
        if !appended.isEmpty {
            try tx.append(appended)
            try tx.save(jobs: ledger.jobs)
            let after = CompanyState(settings: ledger.settings, reviewCases: ledger.companyReviewCases)
            if after != company { try tx.save(companyState: after) }
            let openAfter = ledger.openReviewCases.count
            if openAfter != openBefore { try tx.setOpenReviewCaseCount(try tx.openReviewCaseCount() + openAfter - openBefore) }
        }
        if flagged { try tx.flag(changeSet.replica) }
        return PushResponse(outcomes: outcomes, sendFrom: sendFrom, serverSequence: sequence)
    }

    /// Up to `limit` entries after `cursor`, ending at a checkpoint. The page that reaches the
    /// head carries the digests of the jobs it touched, as they are at the head.
    public func pull(company: CompanyID, after cursor: UInt64, limit: Int) throws -> PullPage {
        try storage.read(company) { tx in
            let head = try tx.head()
            guard cursor <= head.sequence else {
                throw ServiceError(.cursorAhead, "This device's cursor (\(cursor)) is past the server's log (\(head.sequence)); the device's replica needs repair.")
            }
            let stored = try tx.entries(after: cursor, limit: max(1, min(limit, ServerSyncSession.pageEntriesMax)))
            let last = stored.last?.entry.sequence ?? cursor
            let caughtUp = last == head.sequence
            var digests: [JobDigest] = []
            if caughtUp {
                let touched = Set(stored.compactMap(\.entry.action.touchedJob))
                digests = try tx.jobs(touched.sorted()).map(\.digest)
            }
            let logDigest: [UInt8]
            if let entry = stored.last {
                logDigest = entry.logDigest
            } else if cursor == 0 {
                logDigest = LogDigest.empty
            } else {
                logDigest = try tx.entries(after: cursor - 1, limit: 1).first?.logDigest ?? LogDigest.empty
            }
            return PullPage(entries: stored.map(\.entry), checkpoint: Checkpoint(sequence: last, logDigest: logDigest, jobs: digests, caughtUp: caughtUp))
        }
    }

    /// The company as its stored projections say: settings, company cases and every job.
    public func projectedLedger(company: CompanyID) throws -> Ledger {
        try storage.read(company) { tx in
            let state = try tx.companyState()
            return try Ledger(settings: state.settings, companyReviewCases: state.reviewCases, jobs: try tx.allJobs())
        }
    }

    /// The company as a fold of its whole log from the state it was created with.
    public func foldedLedger(company: CompanyID) throws -> Ledger {
        try storage.read(company) { tx in try Self.fold(tx) }
    }

    /// Replaces the projections with a fold of the log, in one transaction.
    public func rebuildProjections(company: CompanyID) throws {
        try storage.write(company) { tx in
            let folded = try Self.fold(tx)
            try tx.deleteAllJobs()
            try tx.save(jobs: folded.jobs)
            try tx.save(companyState: CompanyState(settings: folded.settings, reviewCases: folded.companyReviewCases))
            try tx.setOpenReviewCaseCount(folded.openReviewCases.count)
        }
    }

    /// Review cases waiting for a person in every company (for the metrics).
    public func openReviewCaseCount() throws -> Int {
        try storage.companies().reduce(0) { total, company in total + (try storage.read(company) { try $0.openReviewCaseCount() }) }
    }

    /// The last sequence of a company's log.
    public func head(company: CompanyID) throws -> UInt64 {
        try storage.read(company) { try $0.head().sequence }
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
