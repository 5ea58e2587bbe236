import LedgerCore
import LedgerTestSupport

/// What people do, as actions drawn against what their own device shows: a technician
/// collects deposits and progress payments, refunds, proposes change orders, changes a plan
/// or an installment's due date when the customer asks and notes the job's details; the office opens jobs, re-plans, settles card payments,
/// decides change orders and review cases. Drawn from the device's view, so most actions
/// make sense there; the ones the device's rules refuse are counted and dropped.
enum Workload {
    static let cash: [PaymentMethod] = [.cash, .check, .card, .card, .ach]

    /// The next action of a device with `role` on `view`, or nil when there is nothing to do.
    static func next(role: Role, view: Ledger, jobsMax: Int, serial: Int, today: CalendarDate, rng: inout SeededRandom) -> (payload: ActionPayload, job: JobID?)? {
        let jobs = view.jobs
        let office = role != .technician
        if office && (jobs.isEmpty || (jobs.count < jobsMax && rng.chance(15))) {
            return (.createJob(number: "J-\(serial)", customer: Customer(name: "Customer \(serial)"), department: "HVAC", currency: .usd, notes: ""), nil)
        }
        guard let job = jobs.isEmpty ? nil : rng.pick(jobs) else { return nil }
        let roll = rng.int(in: 0...99)
        if office {
            if job.invoice == nil || roll < 4 {
                return (.setInvoice(number: "INV-\(serial)", baseTotalMinor: rng.int64(in: 50...5_000) * 1_000, issuedOn: nil), job.id)
            }
            if job.plan == nil || roll < 12 {
                let template = rng.pick(PlanTemplate.builtIns)
                return (job.plan == nil ? .createPlan(PlanDraft(template: template)) : .editPlan(PlanDraft(template: template)), job.id)
            }
            if roll < 30, let review = (job.sync.reviewCases + view.companyReviewCases).first(where: \.isOpen) {
                return (.resolveReviewCase(review.id, rng.pick(review.suggestedResolutions), note: "seen"), review.job)
            }
            if roll < 42, let pending = job.payments.first(where: { $0.state == .pending }) {
                return (rng.chance(75) ? .confirmPayment(pending.id) : .failPayment(pending.id), job.id)
            }
            if roll < 52, let proposed = job.changeOrders.first(where: { $0.status == .proposed }) {
                return (rng.chance(70) ? .approveChangeOrder(proposed.id, reason: "ok") : .rejectChangeOrder(proposed.id, reason: "no"), job.id)
            }
            if roll < 55 { return (.cancelPlan, job.id) }
            if roll < 57 { return (.voidInvoice, job.id) }
            if roll < 60 { return (.finalizeInvoice, job.id) }
            if roll < 62 {
                var settings = view.settings
                settings.intervalName = rng.pick(["Draw", "Installment", "Stage"])
                return (.updateSettings(settings, baseVersion: settings.version), nil)
            }
            if roll < 66 { return (info(serial, rng: &rng), job.id) }
        } else if roll < 8 {
            return (.editPlan(PlanDraft(template: rng.pick(PlanTemplate.builtIns))), job.id)
        } else if roll < 12 {
            return (info(serial, rng: &rng), job.id)
        } else if roll < 15, let rows = job.plan?.rows, !rows.isEmpty {
            let due = (try? today.adding(days: rng.int(in: 0...60))).map(DueDateChange.set) ?? .keep
            return (.editInstallment(rng.pick(rows).id, label: rng.chance(50) ? "Stage \(serial)" : nil, dueDate: rng.pick([.keep, .clear, due])), job.id)
        }
        if roll < 70 || office && roll < 80 {
            return (.recordPayment(payment(for: job, rng: &rng)), job.id)
        }
        if roll < 85, let paid = job.payments.filter({ $0.state == .completed }).last {
            let refundable = job.refundableMinor(of: paid.id) ?? 0
            // Sometimes more than this device knows is left: another device may have refunded too.
            let amount = refundable > 0 && rng.chance(80) ? rng.int64(in: 1...refundable) : rng.int64(in: 1...paid.amountMinor)
            return (.recordRefund(RefundRequest(paymentID: paid.id, amountMinor: amount, currency: job.currency, reason: "returned part",
                                                cancelsRemainingPlan: rng.chance(10))), job.id)
        }
        return (.proposeChangeOrder(summary: "extra work \(serial)", amountMinor: rng.int64(in: 1...200) * 500, currency: job.currency), job.id)
    }

    /// A change to the job's details (last writer wins per field).
    static func info(_ serial: Int, rng: inout SeededRandom) -> ActionPayload {
        .updateJobInfo(JobInfoUpdate(customerName: rng.chance(50) ? "Customer \(serial)" : nil, remindersOptOut: rng.chance(20) ? rng.chance(50) : nil,
                                     notes: rng.chance(70) ? "gate code \(serial)" : nil))
    }

    /// A payment a person would take: the installment due as the device sees it, part of it,
    /// or (the customer paying ahead) more.
    static func payment(for job: Job, rng: inout SeededRandom) -> PaymentRequest {
        let due = job.currentInstallment(provisional: true)?.remainingMinor ?? 0
        let amount: Int64
        switch rng.int(in: 0...9) {
        case 0...5 where due > 0: amount = due
        case 6...7 where due > 1: amount = rng.int64(in: 1...(due - 1))
        default: amount = rng.int64(in: 1...400) * 1_000
        }
        let method = rng.pick(cash)
        return PaymentRequest(amountMinor: amount, currency: job.currency, method: method, reference: method == .check ? "chk-\(rng.int(in: 100...999))" : nil,
                              pending: method.maySettleLater && rng.chance(40))
    }
}
