extension Job {
    /// Applies one action to this job as the server, and every replica folding the log, does.
    ///
    /// `sequence` is the log sequence the action takes (`ChangeMarks.unlogged` for a device's own
    /// pending action). Deterministic: the outcome and the resulting job depend only on the job,
    /// the settings, the action and its sequence. A rejected action leaves the job unchanged.
    mutating func apply(_ action: Action, sequence: UInt64, settings: CompanySettings) -> Outcome {
        let kind = action.payload.kind
        // The reference, not the plan: a copy of the plan retained its rows and strings on every
        // action, and most actions leave the plan's reference as it was.
        let planBefore = planHeld
        let creditBefore = totals.creditMinor
        var outcome: Outcome
        let author = action.dot.replica
        if kind.isPlanEdit && sync.paymentMarks.hasChanges(unseenBy: author, seen: action.seenSequence) {
            outcome = raise(.planEditAfterUnseenPayment, for: action, otherSide: unseenPayment(by: author, seen: action.seenSequence))
        } else if kind.isPlanEdit && sync.planMarks.hasChanges(unseenBy: author, seen: action.seenSequence) {
            outcome = raise(.concurrentPlanEdit, for: action, otherSide: sync.lastPlanChange)
        } else {
            outcome = perform(action, settings: settings)
        }
        // However credit arose (an invoice lowered, a change order taking work away), a person
        // hears of it: every applied action that leaves the customer more credit opens a case.
        if totals.creditMinor > creditBefore, !casesRaised(by: action.dot).contains(where: { ReviewCase.Kind.creditKinds.contains($0.kind) }) {
            let payment: PaymentID? = switch action.payload {
            case .recordPayment: PaymentID(action.dot)
            case .confirmPayment(let id): id
            default: nil
            }
            let raised = raise(.customerCredit, for: action, amountMinor: totals.creditMinor - creditBefore, payment: payment, exception: true)
            if outcome == .applied { outcome = raised }
        }
        // `Held`'s equality is identity first, then the values, as `plan != planBefore` was.
        record(action, sequence: sequence, outcome: outcome, planChanged: planHeld != planBefore)
        return outcome
    }

    /// `apply`, also saying how many review cases it raised. Every case is raised through an
    /// outcome that names one (`raise` returns it and every caller passes it on), and an
    /// action's cases sit together at the end of the list, so only those outcomes look there.
    mutating func applyCountingRaised(_ action: Action, sequence: UInt64, settings: CompanySettings) -> (outcome: Outcome, raised: Int) {
        let outcome = apply(action, sequence: sequence, settings: settings)
        switch outcome {
        case .appliedWithException, .parkedForReview: return (outcome, casesRaised(by: action.dot).count)
        case .applied, .exists, .rejected: return (outcome, 0)
        }
    }

    private mutating func record(_ action: Action, sequence: UInt64, outcome: Outcome, planChanged: Bool) {
        guard outcome.changedLedger else { return }
        sync.versionVector.record(action.dot)
        sync.dots.append(action.dot)
        switch outcome {
        case .applied, .appliedWithException:
            if [.recordPayment, .confirmPayment, .failPayment].contains(action.payload.kind) {
                sync.paymentMarks.record(action.dot.replica, sequence: sequence)
                sync.lastPayment = action.summary
            }
            if planChanged {
                sync.planMarks.record(action.dot.replica, sequence: sequence)
                sync.lastPlanChange = action.summary
            }
        default: break
        }
    }

    /// Runs the rule for the action's payload and turns a refusal into an outcome.
    private mutating func perform(_ action: Action, settings: CompanySettings) -> Outcome {
        let kind = action.payload.kind
        do {
            switch action.payload {
            case .createJob, .updateSettings:
                return .rejected(LedgerError(.actionMalformed, "This action is not about an existing job; send it without a job id."))
            case .updateJobInfo(let update):
                try applyInfo(update, stamp: FieldStamp(hlc: action.hlc, dot: action.dot))
                return .applied
            case .setInvoice(let number, let baseTotalMinor, let issuedOn):
                let differedBefore = planTargetDiffersFromInvoice
                try setInvoice(number: number, baseTotalMinor: baseTotalMinor, issuedOn: issuedOn)
                return flagTargetIfNewlyDiffering(action, differedBefore: differedBefore)
            case .finalizeInvoice:
                try finalizeInvoice(on: action.businessDay)
                return .applied
            case .voidInvoice:
                try voidInvoice(on: action.businessDay, actor: action.actor, settings: settings)
                return .applied
            case .createPlan(let draft):
                try createPlan(id: PlanID(action.dot), draft: draft, planDay: action.businessDay, actor: action.actor, settings: settings)
                return .applied
            case .editPlan(let draft):
                try editPlan(draft: draft, planDay: action.businessDay, actor: action.actor, settings: settings, editDot: action.dot)
                return .applied
            case .cancelPlan:
                try cancelPlan(day: action.businessDay, actor: action.actor, settings: settings)
                return .applied
            case .editInstallment(let row, let label, let change):
                let dueDate: CalendarDate?? = switch change {
                case .keep: nil
                case .set(let date): .some(date)
                case .clear: .some(nil)
                }
                try editInstallment(row, label: label, dueDate: dueDate, day: action.businessDay, actor: action.actor, settings: settings)
                return .applied
            case .recordPayment(let request):
                return try book(request, action: action)
            case .confirmPayment(let id):
                return try settle(id, confirm: true, action: action)
            case .failPayment(let id):
                return try settle(id, confirm: false, action: action)
            case .recordRefund(let request):
                return try bookRefund(request, action: action, settings: settings)
            case .proposeChangeOrder(let summary, let amountMinor, let currency):
                try proposeChangeOrder(ChangeOrder(id: ChangeOrderID(action.dot), summary: summary, amountMinor: amountMinor, currency: currency,
                                                   proposedBy: action.actor, proposedOn: action.businessDay))
                return .applied
            case .approveChangeOrder(let id, let reason):
                let differedBefore = planTargetDiffersFromInvoice
                try approveChangeOrder(id, reason: reason, day: action.businessDay, actor: action.actor)
                return flagTargetIfNewlyDiffering(action, differedBefore: differedBefore)
            case .rejectChangeOrder(let id, let reason):
                try rejectChangeOrder(id, reason: reason, day: action.businessDay, actor: action.actor)
                return .applied
            case .resolveReviewCase(let id, let resolution, let note):
                return resolve(id, resolution: resolution, note: note, action: action, settings: settings)
            }
        } catch {
            return Job.refusesAsInvalid(error, kind: kind) ? .rejected(error) : raise(.intentionRefused, for: action, reason: error)
        }
    }

    /// Whether a refusal means the action itself is wrong (rejected, shown to its author) rather
    /// than an intention the state no longer allows (parked for a person).
    static func refusesAsInvalid(_ error: LedgerError, kind: ActionKind) -> Bool {
        if error.code == .officeRoleRequired {
            // A technician may not approve change orders or void invoices, ever; but a plan
            // becomes office-only when a payment locks it, which the technician may not have seen.
            return !(kind.isPlanEdit || kind == .cancelPlan)
        }
        return invalidCodes.contains(error.code)
    }

    private static let invalidCodes: Set<LedgerError.Code> = [
        .amountNotPositive, .amountTooLarge, .amountOverflow, .amountMalformed, .currencyInvalid, .currencyMismatch,
        .percentageMalformed, .dateInvalid, .idMalformed, .settingsInvalid, .templateInvalid, .templateUnknown,
        .stageCountInvalid, .percentagesNotWhole, .labelInvalid, .textTooLong, .jobUnknown, .jobExists, .planMissing,
        .paymentUnknown, .paymentExists, .refundExists, .changeOrderUnknown, .changeOrderExists, .installmentUnknown,
        .dueDatesOutOfOrder, .dueDateBeforePlanDay, .limitExceeded, .actionMalformed, .dotReused,
        .reviewCaseUnknown, .reviewCaseResolved, .resolutionNotOffered, .resolutionRefused,
    ]

    private mutating func book(_ request: PaymentRequest, action: Action) throws(LedgerError) -> Outcome {
        let voided = invoice?.voidedOn != nil
        let cancelledUnseen = plan.map { !$0.isActive } == true && sync.planMarks.hasChanges(unseenBy: action.dot.replica, seen: action.seenSequence)
        let payment = Payment(id: PaymentID(action.dot), amountMinor: request.amountMinor, currency: request.currency, method: request.method,
                              reference: request.reference, state: request.pending ? .pending : .completed,
                              occurredAt: action.hlc, occurredOn: action.businessDay, actor: action.actor)
        try recordPayment(payment)
        if voided { return raise(.paymentOnVoidedInvoice, for: action, amountMinor: request.amountMinor, payment: payment.id) }
        if cancelledUnseen { return raise(.paymentOnCancelledPlan, for: action, otherSide: sync.lastPlanChange, amountMinor: request.amountMinor, payment: payment.id) }
        return .applied
    }

    private mutating func settle(_ id: PaymentID, confirm: Bool, action: Action) throws(LedgerError) -> Outcome {
        guard let payment = payment(id) else {
            throw LedgerError(.paymentUnknown, "This job has no payment with that id; list the job's payments.")
        }
        switch (payment.state, confirm) {
        case (.completed, true), (.failed, false):
            return .applied // the same settlement again changes nothing
        case (.completed, false), (.failed, true):
            return raise(.settlementConflict, for: action, otherSide: sync.lastPayment, amountMinor: payment.amountMinor, payment: id)
        case (.pending, true):
            try confirmPayment(id)
            return .applied
        case (.pending, false):
            try failPayment(id)
            return .applied
        }
    }

    private mutating func bookRefund(_ request: RefundRequest, action: Action, settings: CompanySettings) throws(LedgerError) -> Outcome {
        var cancelRefusal: LedgerError?
        if request.cancelsRemainingPlan, plan?.isActive == true {
            do { try checkCancelAuthority(actor: action.actor, settings: settings) } catch { cancelRefusal = error }
        }
        // The refund is money that left; it is booked even when its cancel is refused.
        let refund = Refund(id: RefundID(action.dot), paymentID: request.paymentID, amountMinor: request.amountMinor, currency: request.currency,
                            reason: request.reason, cancelsRemainingPlan: request.cancelsRemainingPlan && cancelRefusal == nil,
                            occurredAt: action.hlc, occurredOn: action.businessDay, actor: action.actor)
        let excess = try recordRefund(refund, settings: settings, bookingExcess: true)
        if excess > 0 {
            return raise(.refundExceedsPayment, for: action, amountMinor: excess, payment: request.paymentID, exception: true)
        }
        if let cancelRefusal {
            return raise(.intentionRefused, for: action, proposed: .cancelPlan, reason: cancelRefusal, exception: true)
        }
        return .applied
    }

    private mutating func flagTargetIfNewlyDiffering(_ action: Action, differedBefore: Bool) -> Outcome {
        guard !differedBefore, planTargetDiffersFromInvoice, let plan else { return .applied }
        return raise(.targetDiffersFromInvoice, for: action, otherSide: sync.lastPlanChange,
                     amountMinor: totals.invoiceTotalMinor - plan.invoiceTotalAtSnapshotMinor, exception: true)
    }

    /// Opens a review case raised by `action`. Refused intentions are parked (their payload kept
    /// for "apply proposed"); money anomalies and flags on applied actions are exceptions.
    private mutating func raise(
        _ kind: ReviewCase.Kind, for action: Action, otherSide: ActionSummary? = nil, proposed: ActionPayload? = nil,
        amountMinor: Int64 = 0, payment: PaymentID? = nil, reason: LedgerError? = nil, exception: Bool = false
    ) -> Outcome {
        #if PLANT_DROP_INTENTION
        // Planted bug (issue F, Simulator/README.md): a refused intention is dropped as if handled.
        if !exception { return .exists }
        #endif
        let id = ReviewCaseID(action.dot, index: casesRaised(by: action.dot).count)
        if cache.lastCaseDot != action.dot { cache.lastCaseStart = sync.reviewCases.endIndex }
        let parked = !exception
        let suggestions: [Resolution] = parked && kind != .settlementConflict ? [.applyProposed, .keepCurrent] : [.acknowledge]
        sync.reviewCases.append(ReviewCase(
            id: id, kind: kind, job: self.id, raisedBy: action.summary, otherSide: otherSide,
            proposed: proposed ?? (parked ? action.payload : nil), heldPlan: planHeld, amountMinor: amountMinor, payment: payment,
            reason: reason, suggestedResolutions: suggestions, decision: nil))
        cache.lastCaseDot = action.dot
        return parked ? .parkedForReview(id) : .appliedWithException(id)
    }

    /// The payment a plan edit had not seen, for its review case: the latest one by the replica
    /// whose change the author missed. The job's last payment may be the author's own (made
    /// after the one it missed), which would name the wrong side to the person deciding.
    private func unseenPayment(by author: ReplicaID, seen: UInt64) -> ActionSummary? {
        guard let missed = sync.paymentMarks.latestChange(unseenBy: author, seen: seen) else { return sync.lastPayment }
        if sync.lastPayment?.dot.replica == missed.replica { return sync.lastPayment }
        // A confirmation or failure by that replica of someone else's payment leaves no payment of
        // its own to name: the job's last payment is the best there is.
        guard let payment = payments.last(where: { $0.id.dot.replica == missed.replica }) else { return sync.lastPayment }
        return ActionSummary(dot: payment.id.dot, actor: payment.actor, hlc: payment.occurredAt, kind: .recordPayment)
    }

    // The cases one action raised sit together at the end of the list while it is applied, and
    // the cache knows where they start: this reads no case, however many the job has collected.
    private func casesRaised(by dot: Dot) -> ArraySlice<ReviewCase> {
        guard cache.lastCaseDot == dot else { return [] }
        return sync.reviewCases[cache.lastCaseStart...]
    }

    private mutating func resolve(_ caseID: ReviewCaseID, resolution: Resolution, note: String, action: Action, settings: CompanySettings) -> Outcome {
        guard action.actor.role.isOffice else {
            return .rejected(LedgerError(.officeRoleRequired, "Only the office may resolve a review case; ask the office."))
        }
        guard let index = sync.reviewCases.firstIndex(where: { $0.id == caseID }) else {
            return .rejected(LedgerError(.reviewCaseUnknown, "This job has no such review case; list the open cases."))
        }
        let reviewCase = sync.reviewCases[index]
        if let failure = Job.checkResolvable(reviewCase, resolution: resolution, note: note) { return .rejected(failure) }
        let decision = ReviewCase.Decision(resolution: resolution, by: action.summary, note: note)
        guard resolution == .applyProposed, let proposed = reviewCase.proposed else {
            sync.reviewCases[index].decision = decision
            return .applied
        }
        // Re-run the intention as the resolver, who has now seen everything on the job (even
        // what a device applied before the log has it).
        let retry = Action(dot: action.dot, hlc: action.hlc, actor: action.actor, job: id, seenSequence: ChangeMarks.unlogged,
                           businessDay: action.businessDay, payload: proposed)
        var trial = self
        let outcome = trial.perform(retry, settings: settings)
        switch outcome {
        case .applied, .appliedWithException:
            self = trial
            sync.reviewCases[index].decision = decision
            return outcome
        case .parkedForReview, .rejected, .exists:
            let why = Job.reasonText(outcome, in: trial)
            return .rejected(LedgerError(.resolutionRefused, "The proposed change cannot be applied now (\(why)); choose another resolution or make a new change."))
        }
    }

    static func checkResolvable(_ reviewCase: ReviewCase, resolution: Resolution, note: String) -> LedgerError? {
        guard reviewCase.isOpen else {
            return LedgerError(.reviewCaseResolved, "This review case was already resolved; see its decision.")
        }
        guard reviewCase.suggestedResolutions.contains(resolution) else {
            return LedgerError(.resolutionNotOffered, "That resolution is not offered for this case; pick one of its suggested resolutions.")
        }
        guard note.utf8.count <= Limits.textLengthMax else {
            return LedgerError(.textTooLong, "The note is longer than \(Limits.textLengthMax) bytes; shorten it.")
        }
        return nil
    }

    private static func reasonText(_ outcome: Outcome, in job: Job) -> String {
        switch outcome {
        case .rejected(let error): return error.code.rawValue
        case .parkedForReview(let id): return job.sync.reviewCases.first { $0.id == id }?.reason?.code.rawValue ?? "it conflicts again"
        default: return "it conflicts again"
        }
    }

    // Last writer wins per field, by (HLC, replica, counter); the loser is kept, never shown.
    private mutating func applyInfo(_ update: JobInfoUpdate, stamp: FieldStamp) throws(LedgerError) {
        var values: [(InfoField, String)] = []
        if let number = update.number {
            values.append((.number, try Validate.text(number, what: "job number", limit: Limits.shortTextLengthMax)))
        }
        if let name = update.customerName { values.append((.customerName, try Validate.label(name, what: "customer name"))) }
        if let optOut = update.remindersOptOut { values.append((.remindersOptOut, optOut ? "true" : "false")) }
        switch update.department {
        case .set(let name)?: values.append((.department, try Validate.label(name, what: "department name")))
        case .clear?: values.append((.department, ""))
        case nil: break
        }
        if let notes = update.notes { values.append((.notes, try Validate.text(notes, what: "note"))) }
        for (field, value) in values {
            let slot = InfoField.allCases.firstIndex(of: field)!
            if let current = sync.fieldStamps[slot], stamp < current {
                sync.superseded.append(SupersededValue(field: field, value: value, stamp: stamp))
                continue
            }
            if let current = sync.fieldStamps[slot] {
                sync.superseded.append(SupersededValue(field: field, value: infoValue(field), stamp: current))
            }
            setInfo(field, value)
            sync.fieldStamps[slot] = stamp
        }
    }

    func infoValue(_ field: InfoField) -> String {
        switch field {
        case .number: number
        case .customerName: customer.name
        case .remindersOptOut: customer.remindersOptOut ? "true" : "false"
        case .department: department ?? ""
        case .notes: notes
        }
    }

    private mutating func setInfo(_ field: InfoField, _ value: String) {
        switch field {
        case .number: number = value
        case .customerName: customer.name = value
        case .remindersOptOut: customer.remindersOptOut = value == "true"
        case .department: department = value.isEmpty ? nil : value
        case .notes: notes = value
        }
    }

    /// Stamps every informational field with the job's creation, so later writes compare with it.
    mutating func stampCreation(_ action: Action) {
        let stamp = FieldStamp(hlc: action.hlc, dot: action.dot)
        sync.fieldStamps = Array(repeating: stamp, count: InfoField.allCases.count)
        sync.versionVector.record(action.dot)
        sync.dots.append(action.dot)
    }
}
