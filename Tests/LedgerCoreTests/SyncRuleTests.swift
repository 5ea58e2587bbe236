import LedgerCore
import LedgerTestSupport
import Testing

/// A company with one job ($3,000.00 on three $1,000.00 installments) that the office set up
/// and the technician has pulled, so both start from the same view.
struct TwoDevices {
    var server: ServerLog
    var office: TestDevice
    var tech: TestDevice
    let job: JobID
    let day = Fixtures.date("2026-06-01")

    init(settings: CompanySettings = CompanySettings()) throws {
        let initial = try Ledger(settings: settings)
        server = ServerLog(ledger: initial)
        office = TestDevice(replica: Fixtures.officeDevice, actor: Fixtures.office, initial: initial)
        tech = TestDevice(replica: Fixtures.technicianDevice, actor: Fixtures.technician, initial: initial)
        let created = office.perform(.createJob(number: "J-1042", customer: Customer(name: "Dana Whitfield"), department: "HVAC", currency: .usd, notes: ""),
                                     job: nil, day: day, physicalMillis: 1_000)
        job = JobID(created.action!.dot)
        office.perform(.setInvoice(number: "HV-2048", baseTotalMinor: 300_000, issuedOn: day), job: job, day: day, physicalMillis: 1_001)
        office.perform(.createPlan(Fixtures.amountDraft([("Deposit", "1,000.00"), ("Progress", "1,000.00"), ("Final", nil)])),
                       job: job, day: day, physicalMillis: 1_002)
        try sync(.office)
        try sync(.tech)
    }

    enum Who { case office, tech }

    /// Pushes everything the device has and pulls everything the server has.
    mutating func sync(_ who: Who) throws {
        var device = who == .office ? office : tech
        defer { if who == .office { office = device } else { tech = device } }
        try sync(&device)
    }

    /// The same for a device the test holds itself.
    mutating func sync(_ device: inout TestDevice) throws {
        device.push(to: &server)
        try device.pull(from: server)
    }

    /// The payload performed by one of the two devices from its view; it must be accepted locally.
    @discardableResult
    mutating func act(_ who: Who, _ payload: ActionPayload, at millis: Int64) throws -> Action {
        var device = who == .office ? office : tech
        defer { if who == .office { office = device } else { tech = device } }
        return try act(device: &device, payload, at: millis)
    }

    /// The same for a device the test holds itself.
    @discardableResult
    func act(device: inout TestDevice, _ payload: ActionPayload, at millis: Int64) throws -> Action {
        let result = device.perform(payload, job: job, day: day, physicalMillis: millis)
        return try #require(result.action, "the device refused its own action: \(result.outcome)")
    }

    func serverJob() throws -> Job { try server.ledger.job(job) }

    func outcome(of action: Action) -> Outcome? { server.entries.first { $0.action.dot == action.dot }?.outcome }

    func reviewCase(_ outcome: Outcome?) throws -> ReviewCase {
        let id: ReviewCaseID
        switch outcome {
        case .parkedForReview(let caseID)?, .appliedWithException(let caseID)?: id = caseID
        default: throw LedgerError(.reviewCaseUnknown, "expected a review case, got \(String(describing: outcome))")
        }
        return try #require(try serverJob().sync.reviewCases.first { $0.id == id })
    }
}

@Suite("The merge rules of DESIGN §4, each with both sides written out")
struct SyncRuleTests {
    static func pay(_ amount: String, method: PaymentMethod = .cash, pending: Bool = false) -> ActionPayload {
        .recordPayment(PaymentRequest(amountMinor: Fixtures.cents(amount), currency: .usd, method: method, pending: pending))
    }

    @Test("Payments under concurrency are booked; the one that overshoots leaves the excess as credit with a review case")
    func concurrentPayments() throws {
        var world = try TwoDevices()
        // Technician, offline, has seen the plan and nothing paid: collects $1,000.00 cash on site.
        let techPayment = try world.act(.tech, Self.pay("1,000.00"), at: 2_000)
        // Office, also seeing nothing paid: records a $2,500.00 portal payment.
        let officePayment = try world.act(.office, Self.pay("2,500.00", method: .card), at: 2_100)
        try world.sync(.tech)
        try world.sync(.office)
        #expect(world.outcome(of: techPayment) == .applied)
        let credit = try world.reviewCase(world.outcome(of: officePayment))
        #expect(credit.kind == .customerCredit)
        #expect(credit.amountMinor == 50_000)
        #expect(credit.raisedBy.device == Fixtures.officeDevice)
        #expect(credit.payment == PaymentID(officePayment.dot), "the case names the payment that overshot")
        let job = try world.serverJob()
        #expect(job.totals.creditMinor == 50_000)
        #expect(job.allocation(of: job.plan!).allSatisfy { $0.isPaid })
        #expect(world.server.ledger.invariantViolations().isEmpty)
    }

    @Test("A card confirmed after the balance was paid elsewhere leaves credit, and the case names that card")
    func confirmationCreatesCredit() throws {
        var world = try TwoDevices()
        // The technician captures a card for the whole job offline; it is pending.
        let card = try world.act(.tech, Self.pay("3,000.00", method: .card, pending: true), at: 2_000)
        try world.sync(.tech)
        // The office, seeing a pending card, still takes a $1,000.00 check; then the card settles.
        _ = try world.act(.office, Self.pay("1,000.00", method: .check), at: 2_100)
        try world.sync(.office)
        let confirm = try world.act(.tech, .confirmPayment(PaymentID(card.dot)), at: 2_200)
        try world.sync(.tech)
        let credit = try world.reviewCase(world.outcome(of: confirm))
        #expect(credit.kind == .customerCredit)
        #expect(credit.amountMinor == 100_000)
        #expect(credit.payment == PaymentID(card.dot))
        #expect(try world.serverJob().mergeInvariantViolations().isEmpty)
    }

    @Test("The same payment sent twice is applied once (exists); the same dot with another body is rejected and flagged")
    func dedupeByDot() throws {
        var world = try TwoDevices()
        let payment = try world.act(.tech, Self.pay("100.00"), at: 2_000)
        let first = world.server.push([payment])
        let stateAfterFirst = world.server.ledger.stateDigest
        let retry = world.server.push([payment])
        #expect(first.outcomes == [.applied])
        #expect(retry.outcomes == [.exists])
        #expect(world.server.ledger.stateDigest == stateAfterFirst)
        let tampered = Action(dot: payment.dot, hlc: payment.hlc, actor: payment.actor, job: payment.job, seenSequence: payment.seenSequence,
                              businessDay: payment.businessDay, payload: Self.pay("900.00"))
        let conflict = world.server.push([tampered])
        guard case .rejected(let error)? = conflict.outcomes.first else { Issue.record("expected a rejection, got \(conflict)"); return }
        #expect(error.code == .dotReused)
        #expect(world.server.flaggedReplicas == [Fixtures.technicianDevice])
        #expect(try world.serverJob().totals.completedMinor == 10_000, "the original is kept")
        #expect(world.server.ledger.stateDigest == stateAfterFirst)
    }

    @Test("A push with a gap is refused from the gap on, with the counter to send from")
    func gapRefusal() throws {
        var world = try TwoDevices()
        let a = try world.act(.tech, Self.pay("10.00"), at: 2_000)
        let b = try world.act(.tech, Self.pay("20.00"), at: 2_001)
        let c = try world.act(.tech, Self.pay("30.00"), at: 2_002)
        let result = world.server.push([a, c])
        #expect(result.outcomes == [.applied])
        #expect(result.sendFrom == b.dot.counter)
        #expect(world.server.push([b, c]).outcomes == [.applied, .applied])
    }

    @Test("The case names the payment the editor missed even when the editor's own payment came after it")
    func unseenPaymentNamedAfterOwnPayment() throws {
        var world = try TwoDevices()
        let deposit = try world.act(.tech, Self.pay("1,000.00"), at: 2_000)
        try world.sync(.tech)
        // The office records a portal payment, then renames the last installment (allowed once
        // paid), never having seen the deposit.
        let portal = try world.act(.office, Self.pay("50.00"), at: 2_050)
        let last = try #require(try world.serverJob().plan?.rows.last?.id)
        let edit = try world.act(.office, .editInstallment(last, label: "Balance", dueDate: .keep), at: 2_100)
        try world.sync(.office)
        #expect(world.outcome(of: portal) == .applied)
        let review = try world.reviewCase(world.outcome(of: edit))
        #expect(review.kind == .planEditAfterUnseenPayment)
        #expect(review.otherSide?.dot == deposit.dot, "not the office's own later payment")
    }

    @Test("A plan edit that had not seen a payment is parked for review; the payment stands")
    func planEditAfterUnseenPayment() throws {
        var world = try TwoDevices()
        // Technician collects the deposit on site; the office has not seen it.
        let deposit = try world.act(.tech, Self.pay("1,000.00"), at: 2_000)
        // Office, seeing an unpaid plan, re-splits it 50/50.
        let edit = try world.act(.office, .editPlan(PlanDraft(template: .fiftyFifty)), at: 2_100)
        try world.sync(.tech)
        try world.sync(.office)
        #expect(world.outcome(of: deposit) == .applied)
        let review = try world.reviewCase(world.outcome(of: edit))
        #expect(review.kind == .planEditAfterUnseenPayment)
        #expect(review.otherSide?.dot == deposit.dot, "the case names the payment the office had not seen")
        #expect(review.proposed == .editPlan(PlanDraft(template: .fiftyFifty)))
        #expect(review.currentPlan?.rows.map(\.amountMinor) == [100_000, 100_000, 100_000])
        #expect(review.suggestedResolutions == [.applyProposed, .keepCurrent])
        #expect(Reports.reconciliation(world.server.ledger, today: world.day).first?.openReviewCases == 1)
        let job = try world.serverJob()
        #expect(job.plan!.rows.map(\.amountMinor) == [100_000, 100_000, 100_000])
        #expect(job.allocation(of: job.plan!)[0].isPaid)
    }

    @Test("A plan edit sees another device's payment once pulled, and the author's own unsynced payment (decision 0009)")
    func seenPaymentsDoNotPark() throws {
        var world = try TwoDevices()
        let deposit = try world.act(.tech, Self.pay("1,000.00"), at: 2_000)
        try world.sync(.tech)
        // The office pulls the deposit, then, offline, takes a check and renames an installment.
        try world.sync(.office)
        let check = try world.act(.office, Self.pay("500.00", method: .check), at: 2_100)
        let finalRow = try #require(try world.serverJob().plan?.rows.last?.id)
        let edit = try world.act(.office, .editInstallment(finalRow, label: "Walkthrough", dueDate: .keep), at: 2_150)
        #expect(edit.seenSequence == UInt64(world.server.entries.count), "the office had folded the whole log")
        try world.sync(.office)
        #expect([deposit, check, edit].map { world.outcome(of: $0) } == [.applied, .applied, .applied])
        #expect(try world.serverJob().sync.openReviewCases.isEmpty)
    }

    @Test("An action claiming a log sequence the log had not reached is rejected and changes nothing")
    func seenSequenceFromTheFuture() throws {
        var world = try TwoDevices()
        let before = world.server.ledger.stateDigest
        let head = UInt64(world.server.entries.count)
        let claim = world.tech.enqueueUnchecked(.editPlan(PlanDraft(template: .fiftyFifty)), job: world.job, seenSequence: head + 1,
                                                day: world.day, physicalMillis: 2_000)
        let tech = world.tech
        tech.push(to: &world.server)
        guard case .rejected(let error)? = world.outcome(of: claim) else { Issue.record("expected a rejection"); return }
        #expect(error.code == .actionMalformed)
        #expect(world.server.ledger.stateDigest == before)
    }

    @Test("Two concurrent plan edits: the first in server order applies, the other is parked with both versions")
    func concurrentPlanEdits() throws {
        var world = try TwoDevices()
        // Both see the same unpaid plan. The technician switches to 60/40 at the customer's request…
        let techEdit = try world.act(.tech, .editPlan(PlanDraft(template: .sixtyForty)), at: 2_000)
        // …while the office switches it to 50/50.
        let officeEdit = try world.act(.office, .editPlan(PlanDraft(template: .fiftyFifty)), at: 2_050)
        try world.sync(.tech)   // the technician reaches the server first
        try world.sync(.office)
        #expect(world.outcome(of: techEdit) == .applied)
        let review = try world.reviewCase(world.outcome(of: officeEdit))
        #expect(review.kind == .concurrentPlanEdit)
        #expect(review.otherSide?.dot == techEdit.dot)
        #expect(review.currentPlan?.rows.map(\.amountMinor) == [180_000, 120_000], "the version in force: the technician's 60/40")
        #expect(review.proposed == .editPlan(PlanDraft(template: .fiftyFifty)), "the other version: the office's 50/50")
        #expect(try world.serverJob().plan!.rows.map(\.amountMinor) == [180_000, 120_000])
        // The office resolves it by applying its own version after all.
        let resolve = try world.act(.office, .resolveReviewCase(review.id, .applyProposed, note: "customer confirmed 50/50"), at: 3_000)
        try world.sync(.office)
        #expect(world.outcome(of: resolve) == .applied)
        #expect(try world.serverJob().plan!.rows.map(\.amountMinor) == [150_000, 150_000])
        #expect(try world.serverJob().sync.openReviewCases.isEmpty)
        #expect(world.office.confirmed == world.server.ledger)
    }

    @Test("A technician's plan edit after the office turned override off is parked, never dropped")
    func editAfterOverrideOff() throws {
        var world = try TwoDevices()
        var settings = world.office.view.settings
        settings.allowTechnicianOverride = false
        let turnOff = try #require(world.office.perform(.updateSettings(settings, baseVersion: settings.version), job: nil, day: world.day, physicalMillis: 2_000).action)
        try world.sync(.office)
        // The technician, who has not synced since, changes the split.
        let edit = try world.act(.tech, .editPlan(PlanDraft(template: .fiftyFifty)), at: 2_100)
        try world.sync(.tech)
        #expect(world.outcome(of: turnOff) == .applied)
        let review = try world.reviewCase(world.outcome(of: edit))
        #expect(review.kind == .intentionRefused)
        #expect(review.reason?.code == .technicianOverrideOff)
        #expect(review.proposed == .editPlan(PlanDraft(template: .fiftyFifty)))
        #expect(try world.serverJob().plan!.rows.count == 3)
        #expect(world.tech.pending.isEmpty, "the technician's outbox drained: the edit has a visible outcome")
    }

    @Test("A refund and a plan cancel made concurrently both apply, in either order, to the same state; cancel is idempotent")
    func refundAndCancelCommute() throws {
        var base = try TwoDevices()
        let payment = try base.act(.tech, Self.pay("1,500.00"), at: 2_000)
        try base.sync(.tech)
        try base.sync(.office)
        var first = base, second = base
        for order in [0, 1] {
            var world = order == 0 ? first : second
            // Office refunds $200.00 of the payment; the technician's supervisor cancels the rest of the plan.
            _ = try world.act(.office, .recordRefund(RefundRequest(paymentID: PaymentID(payment.dot), amountMinor: 20_000, currency: .usd)), at: 3_000)
            var supervisor = TestDevice(replica: ReplicaID(high: 9, low: 9), actor: Fixtures.owner, initial: try Ledger())
            try supervisor.pull(from: world.server)
            _ = try world.act(device: &supervisor, .cancelPlan, at: 3_100)
            _ = try world.act(device: &supervisor, .cancelPlan, at: 3_101)
            if order == 0 { try world.sync(.office); try world.sync(&supervisor) } else { try world.sync(&supervisor); try world.sync(.office) }
            #expect(world.server.entries.suffix(3).allSatisfy { $0.outcome == .applied })
            if order == 0 { first = world } else { second = world }
        }
        #expect(try first.serverJob().plan == second.serverJob().plan)
        #expect(try first.serverJob().totals == second.serverJob().totals)
        #expect(try first.serverJob().allocation(of: first.serverJob().plan!).map(\.completedMinor) == [100_000, 50_000, 0])
    }

    @Test("A payment on a plan cancelled elsewhere, or on a voided invoice, is booked with a review case")
    func paymentOnCancelledOrVoided() throws {
        var world = try TwoDevices()
        _ = try world.act(.office, .cancelPlan, at: 2_000)
        try world.sync(.office)
        // The technician had not seen the cancel and collects the deposit anyway.
        let payment = try world.act(.tech, Self.pay("1,000.00"), at: 2_100)
        try world.sync(.tech)
        let review = try world.reviewCase(world.outcome(of: payment))
        #expect(review.kind == .paymentOnCancelledPlan)
        #expect(try world.serverJob().totals.balanceMinor == 200_000, "the money reduces the plain bill")
        #expect(try world.serverJob().allocation(of: world.serverJob().plan!).allSatisfy { $0.completedMinor == 0 })

        var voided = try TwoDevices()
        _ = try voided.act(.office, .voidInvoice, at: 2_000)
        try voided.sync(.office)
        let late = try voided.act(.tech, Self.pay("500.00"), at: 2_100)
        try voided.sync(.tech)
        let voidCase = try voided.reviewCase(voided.outcome(of: late))
        #expect(voidCase.kind == .paymentOnVoidedInvoice)
        #expect(try voided.serverJob().totals.creditMinor == 50_000)
    }

    @Test("A change order approved after the plan's target was snapshotted keeps the target, flags it and raises a case")
    func changeOrderAfterSnapshot() throws {
        var world = try TwoDevices()
        let proposal = try world.act(.tech, .proposeChangeOrder(summary: "Add a zone damper", amountMinor: 45_000, currency: .usd), at: 2_000)
        try world.sync(.tech)
        try world.sync(.office)
        let approval = try world.act(.office, .approveChangeOrder(ChangeOrderID(proposal.dot), reason: "signed"), at: 2_100)
        try world.sync(.office)
        let review = try world.reviewCase(world.outcome(of: approval))
        #expect(review.kind == .targetDiffersFromInvoice)
        #expect(review.amountMinor == 45_000)
        let job = try world.serverJob()
        #expect(job.plan!.targetMinor == 300_000)
        #expect(job.totals.invoiceTotalMinor == 345_000)
        #expect(job.planTargetDiffersFromInvoice)
        // A technician may never approve: rejected, not parked.
        let second = try world.act(.tech, .proposeChangeOrder(summary: "Extra vent", amountMinor: 5_000, currency: .usd), at: 2_200)
        let bad = world.tech.enqueueUnchecked(.approveChangeOrder(ChangeOrderID(second.dot), reason: "ok"), job: world.job,
                                              day: world.day, physicalMillis: 2_300)
        let before = world.server.ledger
        try world.sync(.tech)
        guard case .rejected(let error)? = world.outcome(of: bad) else { Issue.record("expected a rejection"); return }
        #expect(error.code == .officeRoleRequired)
        #expect(try world.serverJob().changeOrders.count == before.job(world.job).changeOrders.count + 1, "only the proposal landed")
    }

    @Test("Informational fields: the later HLC wins whatever the arrival order, ties go to the higher replica, the loser stays in history")
    func lastWriterWinsInfo() throws {
        for techFirst in [true, false] {
            var world = try TwoDevices()
            // Technician writes the gate code at HLC 5,000; the office writes "call first" at HLC 4,000.
            _ = try world.act(.tech, .updateJobInfo(JobInfoUpdate(notes: "gate code 1234")), at: 5_000)
            _ = try world.act(.office, .updateJobInfo(JobInfoUpdate(notes: "call first")), at: 4_000)
            if techFirst { try world.sync(.tech); try world.sync(.office) } else { try world.sync(.office); try world.sync(.tech) }
            let job = try world.serverJob()
            #expect(job.notes == "gate code 1234", "tech first: \(techFirst)")
            #expect(job.sync.superseded.map(\.value).contains("call first"))
        }
        var tie = try TwoDevices()
        _ = try tie.act(.tech, .updateJobInfo(JobInfoUpdate(customerName: "Dana W.")), at: 7_000)
        _ = try tie.act(.office, .updateJobInfo(JobInfoUpdate(customerName: "Dana Whitfield-Ortiz")), at: 7_000)
        try tie.sync(.office)
        try tie.sync(.tech)
        let higher = max(Fixtures.technicianDevice, Fixtures.officeDevice) == Fixtures.officeDevice ? "Dana Whitfield-Ortiz" : "Dana W."
        #expect(try tie.serverJob().customer.name == higher)
    }

    @Test("Refunds from two devices that together exceed the payment are both booked; the excess raises a case")
    func concurrentOverRefund() throws {
        var world = try TwoDevices()
        let payment = try world.act(.tech, Self.pay("1,000.00"), at: 2_000)
        try world.sync(.tech)
        try world.sync(.office)
        let refund = RefundRequest(paymentID: PaymentID(payment.dot), amountMinor: 60_000, currency: .usd)
        let techRefund = try world.act(.tech, .recordRefund(refund), at: 3_000)
        let officeRefund = try world.act(.office, .recordRefund(refund), at: 3_010)
        try world.sync(.tech)
        try world.sync(.office)
        #expect(world.outcome(of: techRefund) == .applied)
        let review = try world.reviewCase(world.outcome(of: officeRefund))
        #expect(review.kind == .refundExceedsPayment)
        #expect(review.amountMinor == 20_000)
        #expect(try world.serverJob().totals.refundedMinor == 120_000)
        #expect(world.server.ledger.invariantViolations().isEmpty, "an over-refund with its review case is sound")
    }

    @Test("A card settled one way on one device and the other way elsewhere raises a settlement conflict")
    func settlementConflict() throws {
        var world = try TwoDevices()
        let card = try world.act(.tech, Self.pay("1,000.00", method: .card, pending: true), at: 2_000)
        try world.sync(.tech)
        try world.sync(.office)
        _ = try world.act(.tech, .confirmPayment(PaymentID(card.dot)), at: 3_000)
        let fail = try world.act(.office, .failPayment(PaymentID(card.dot)), at: 3_100)
        try world.sync(.tech)
        try world.sync(.office)
        let review = try world.reviewCase(world.outcome(of: fail))
        #expect(review.kind == .settlementConflict)
        #expect(review.suggestedResolutions == [.acknowledge])
        #expect(try world.serverJob().totals.completedMinor == 100_000)
    }

    @Test("Invalid actions are rejected and leave the ledger byte-identical: bad amount, unknown job, technician settings edit")
    func rejectionsChangeNothing() throws {
        var world = try TwoDevices()
        let before = world.server.ledger.stateDigest
        let badAmount = world.tech.enqueueUnchecked(Self.pay("1.00").withAmount(0), job: world.job, day: world.day, physicalMillis: 2_000)
        let unknownJob = world.tech.enqueueUnchecked(Self.pay("1.00"), job: JobID(Fixtures.dot(999)), day: world.day, physicalMillis: 2_001)
        let settings = world.tech.enqueueUnchecked(.updateSettings(CompanySettings(), baseVersion: 1), job: nil, day: world.day, physicalMillis: 2_002)
        let good = try world.act(.tech, Self.pay("1.00"), at: 2_003)
        try world.sync(.tech)
        let codes = [badAmount, unknownJob, settings].map { action -> LedgerError.Code? in
            if case .rejected(let error)? = world.outcome(of: action) { return error.code }
            return nil
        }
        #expect(codes == [.amountNotPositive, .jobUnknown, .officeRoleRequired])
        #expect(world.outcome(of: good) == .applied, "a rejection never blocks the actions behind it")
        #expect(world.tech.pending.isEmpty)
        // Replaying the log without the one good payment must give back the state from before.
        var replay = try Ledger()
        for entry in world.server.entries where entry.action.dot != good.dot { _ = replay.apply(entry.action, sequence: entry.sequence) }
        #expect(replay.stateDigest == before, "the three rejected actions left no trace")
    }

    @Test("Resolving a case is an audited office action; it cannot be resolved twice or by a technician")
    func resolvingCases() throws {
        var world = try TwoDevices()
        _ = try world.act(.tech, Self.pay("1,000.00"), at: 2_000)
        let edit = try world.act(.office, .editPlan(PlanDraft(template: .fiftyFifty)), at: 2_100)
        try world.sync(.tech)
        try world.sync(.office)
        let review = try world.reviewCase(world.outcome(of: edit))
        // Applying the parked edit now fails: the plan is locked by the deposit. The case stays open.
        let refused = world.office.perform(.resolveReviewCase(review.id, .applyProposed, note: ""), job: world.job, day: world.day, physicalMillis: 3_000)
        guard case .rejected(let error) = refused.outcome else { Issue.record("expected a refusal, got \(refused.outcome)"); return }
        #expect(error.code == .resolutionRefused)
        let techTry = world.tech.perform(.resolveReviewCase(review.id, .keepCurrent, note: ""), job: world.job, day: world.day, physicalMillis: 3_050)
        guard case .rejected(let techError) = techTry.outcome else { Issue.record("expected a refusal"); return }
        #expect(techError.code == .officeRoleRequired)
        let keep = try world.act(.office, .resolveReviewCase(review.id, .keepCurrent, note: "deposit already taken"), at: 3_100)
        try world.sync(.office)
        #expect(world.outcome(of: keep) == .applied)
        let resolved = try #require(try world.serverJob().sync.reviewCases.first { $0.id == review.id })
        #expect(resolved.decision?.resolution == .keepCurrent)
        #expect(resolved.decision?.by.actor == Fixtures.office)
        let again = world.office.perform(.resolveReviewCase(review.id, .keepCurrent, note: ""), job: world.job, day: world.day, physicalMillis: 3_200)
        guard case .rejected(let againError) = again.outcome else { Issue.record("expected a refusal"); return }
        #expect(againError.code == .reviewCaseResolved)
    }

    @Test("Two office users editing settings concurrently: the second is parked as a company review case")
    func concurrentSettings() throws {
        var world = try TwoDevices()
        var second = TestDevice(replica: ReplicaID(high: 7, low: 7), actor: Fixtures.owner, initial: try Ledger())
        try second.pull(from: world.server)
        var a = world.office.view.settings
        a.intervalName = "Draw"
        var b = second.view.settings
        b.intervalDays = 14
        let first = try #require(world.office.perform(.updateSettings(a, baseVersion: a.version), job: nil, day: world.day, physicalMillis: 2_000).action)
        let other = try #require(second.perform(.updateSettings(b, baseVersion: b.version), job: nil, day: world.day, physicalMillis: 2_001).action)
        try world.sync(.office)
        try world.sync(&second)
        #expect(world.outcome(of: first) == .applied)
        guard case .parkedForReview(let id)? = world.outcome(of: other) else { Issue.record("expected parking"); return }
        #expect(world.server.ledger.companyReviewCases.map(\.id) == [id])
        #expect(world.server.ledger.settings.intervalName == "Draw")
        #expect(world.server.ledger.settings.intervalDays == 30)
    }
}

extension ActionPayload {
    func withAmount(_ minor: Int64) -> ActionPayload {
        guard case .recordPayment(let request) = self else { return self }
        return .recordPayment(PaymentRequest(amountMinor: minor, currency: request.currency, method: request.method, reference: request.reference, pending: request.pending))
    }
}
