extension Ledger {
    /// Applies one action as the server does when the log gives it `sequence`; every replica
    /// folding the log runs the same code and gets the same outcome and the same state.
    ///
    /// Deduplication by dot and the gap check belong to whoever keeps the log (`ServerLog`);
    /// this is the merge itself. A rejected action changes nothing.
    public mutating func apply(_ action: Action, sequence: UInt64) -> Outcome {
        applyCountingJobCases(action, sequence: sequence).outcome
    }

    private mutating func applyCountingJobCases(_ action: Action, sequence: UInt64) -> (outcome: Outcome, jobCasesRaised: Int) {
        guard action.seenSequence < sequence else {
            return (.rejected(LedgerError(.actionMalformed, "The action claims to have seen log entries that did not exist yet; the device must send the sequence it had folded.")), 0)
        }
        return merge(action, sequence: sequence)
    }

    /// Applies a device's own action before the log has it: to check it, and to show the
    /// device's view with its pending actions on top.
    public mutating func apply(_ action: Action) -> Outcome {
        merge(action, sequence: ChangeMarks.unlogged).outcome
    }

    /// The outcome, and how many review cases the action raised on its job (company-wide ones
    /// are counted by whoever asks, from `companyReviewCases`).
    private mutating func merge(_ action: Action, sequence: UInt64) -> (outcome: Outcome, jobCasesRaised: Int) {
        switch action.payload {
        case .createJob(let number, let customer, let department, let currency, let notes):
            return (createJob(action, number: number, customer: customer, department: department, currency: currency, notes: notes), 0)
        case .updateSettings(let proposed, let baseVersion):
            return (updateSettings(action, proposed: proposed, baseVersion: baseVersion), 0)
        case .resolveReviewCase(let id, let resolution, let note) where action.job == nil:
            return (resolveCompanyCase(action, id: id, resolution: resolution, note: note), 0)
        default:
            // In place: `jobsByID[jobID]` would move the whole job out into an optional and
            // back on every action (measured: a third of the cost of a plan edit).
            let settings = settings
            guard let jobID = action.job,
                  let result = jobsByID.update(jobID, { $0.applyCountingRaised(action, sequence: sequence, settings: settings) }) else {
                return (.rejected(LedgerError(.jobUnknown, "There is no job with that id in this company; sync to get the latest jobs.")), 0)
            }
            return (result.outcome, result.raised)
        }
    }

    private mutating func createJob(_ action: Action, number: String, customer: Customer, department: String?, currency: Currency, notes: String) -> Outcome {
        let id = JobID(action.dot)
        guard action.job == nil || action.job == id else {
            return .rejected(LedgerError(.actionMalformed, "A new job's id is its action's dot; send the create without another job id."))
        }
        guard !jobsByID.contains(id) else {
            return .rejected(LedgerError(.jobExists, "A job with this id already exists; it was not created twice."))
        }
        do {
            var job = try Job(id: id, number: number, customer: customer, department: department, currency: currency, notes: notes)
            job.stampCreation(action)
            jobsByID[id] = job
            return .applied
        } catch {
            return .rejected(error)
        }
    }

    private mutating func updateSettings(_ action: Action, proposed: CompanySettings, baseVersion: Int64) -> Outcome {
        guard action.actor.role.isOffice else {
            return .rejected(LedgerError(.officeRoleRequired, "Only the office may change company settings; ask the office."))
        }
        guard baseVersion == settings.version else {
            let id = ReviewCaseID(action.dot)
            companyReviewCases.append(ReviewCase(
                id: id, kind: .concurrentSettingsEdit, job: nil, raisedBy: action.summary, otherSide: nil,
                proposed: action.payload, currentPlan: nil, amountMinor: 0, payment: nil, reason: nil,
                suggestedResolutions: [.applyProposed, .keepCurrent], decision: nil))
            return .parkedForReview(id)
        }
        do {
            try updateSettings(proposed, actor: action.actor)
            return .applied
        } catch {
            return .rejected(error)
        }
    }

    private mutating func resolveCompanyCase(_ action: Action, id: ReviewCaseID, resolution: Resolution, note: String) -> Outcome {
        guard action.actor.role.isOffice else {
            return .rejected(LedgerError(.officeRoleRequired, "Only the office may resolve a review case; ask the office."))
        }
        guard let index = companyReviewCases.firstIndex(where: { $0.id == id }) else {
            return .rejected(LedgerError(.reviewCaseUnknown, "The company has no such review case; list the open cases."))
        }
        if let failure = Job.checkResolvable(companyReviewCases[index], resolution: resolution, note: note) { return .rejected(failure) }
        if resolution == .applyProposed, case .updateSettings(let proposed, _)? = companyReviewCases[index].proposed {
            var trial = self
            do {
                try trial.updateSettings(proposed, actor: action.actor)
            } catch {
                return .rejected(LedgerError(.resolutionRefused, "The proposed settings cannot be applied now (\(error.code)); choose another resolution."))
            }
            self = trial
        }
        companyReviewCases[index].decision = ReviewCase.Decision(resolution: resolution, by: action.summary, note: note)
        return .applied
    }

    /// `apply(_:sequence:)`, also saying by how much the number of open review cases changed
    /// (the server keeps a company's count this way rather than recounting every job).
    ///
    /// Cases are only ever appended, open, and only an applied resolution decides one (exactly
    /// one), so the change is the cases added minus that one; a test holds it to a recount.
    public mutating func applyCountingOpenCases(_ action: Action, sequence: UInt64) -> (outcome: Outcome, openCasesDelta: Int) {
        // The merge counts the cases it raises on the job as it goes: counting the job's cases
        // before and after found the job twice more and read the head of its case list, a cache
        // miss on a large job, for every action (server-bench profile at a million entries: a
        // twentieth of the writer's time).
        let companyBefore = companyReviewCases.count
        let (outcome, raised) = applyCountingJobCases(action, sequence: sequence)
        var delta = raised + companyReviewCases.count - companyBefore
        if case .resolveReviewCase = action.payload, outcome.changedLedger { delta -= 1 }
        return (outcome, delta)
    }

    /// Every open review case, company-wide ones first, then by job and raising dot.
    public var openReviewCases: [ReviewCase] {
        companyReviewCases.filter(\.isOpen) + jobs.flatMap { $0.sync.openReviewCases }
    }

    /// The SHA-256 of the canonical encoding of the whole ledger: equal on every replica that
    /// folded the same log.
    public var stateDigest: [UInt8] { CanonicalEncoding.digest(of: self) }
}

extension Ledger: Codable {
    enum CodingKeys: String, CodingKey { case settings, jobs, companyReviewCases }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        settings = try container.decode(CompanySettings.self, forKey: .settings)
        jobsByID = JobTable()
        for job in try container.decode([Job].self, forKey: .jobs) { jobsByID[job.id] = job }
        companyReviewCases = try container.decode([ReviewCase].self, forKey: .companyReviewCases)
    }

    /// Jobs are written in id order, so the encoding never depends on dictionary order.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(settings, forKey: .settings)
        try container.encode(jobs, forKey: .jobs)
        try container.encode(companyReviewCases, forKey: .companyReviewCases)
    }
}

/// One entry of the server's canonical log: the action, its gap-free sequence number within the
/// company, and the outcome the server gave it.
public struct LogEntry: Hashable, Sendable, Codable {
    public let sequence: UInt64
    public let action: Action
    public let outcome: Outcome

    /// Makes a log entry.
    public init(sequence: UInt64, action: Action, outcome: Outcome) {
        self.sequence = sequence
        self.action = action
        self.outcome = outcome
    }
}

/// Folding a log entry gave another outcome than the server recorded: this replica's state
/// differs from the server's and the job needs repair.
public struct FoldDivergence: Error, Sendable, Equatable {
    public let sequence: UInt64
    public let recorded: Outcome
    public let recomputed: Outcome
}

extension Ledger {
    /// Folds one canonical log entry: re-runs its action and checks the server's outcome.
    ///
    /// Throws `FoldDivergence` when the outcomes differ; the state has then taken the action as
    /// recomputed, and the caller repairs the job from the server.
    public mutating func fold(_ entry: LogEntry) throws(FoldDivergence) {
        let outcome = apply(entry.action, sequence: entry.sequence)
        guard outcome == entry.outcome else {
            throw FoldDivergence(sequence: entry.sequence, recorded: entry.outcome, recomputed: outcome)
        }
    }

    /// A device's view: its confirmed state with its own pending actions replayed on top.
    ///
    /// Returns each pending action's outcome as it would be now: a parked one "will be
    /// reviewed", a rejected one is shown; none vanishes.
    public func replaying(_ pending: [Action]) -> (view: Ledger, outcomes: [Outcome]) {
        var view = self
        let outcomes = pending.map { view.apply($0) }
        return (view, outcomes)
    }
}
