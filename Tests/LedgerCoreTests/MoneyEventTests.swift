import LedgerCore
import LedgerTestSupport
import Testing

@Suite("Payments, refunds, change orders and readiness")
struct MoneyEventTests {
    let settings = CompanySettings()
    let day = Fixtures.date("2026-06-01")

    /// A job with a $3,000.00 invoice on three $1,000.00 installments.
    func threeThousands() throws -> Job {
        var job = Fixtures.job(total: "3,000.00")
        try job.createPlan(id: PlanID(Fixtures.dot(100)), draft: Fixtures.amountDraft([("Deposit", "1,000.00"), ("Progress", "1,000.00"), ("Final", nil)]),
                           planDay: day, actor: Fixtures.office, settings: settings)
        return job
    }

    func completed(_ job: Job) -> [Int64] { job.allocation(of: job.plan!).map(\.completedMinor) }
    func paymentID(_ counter: UInt64) -> PaymentID { PaymentID(Fixtures.dot(counter, on: Fixtures.technicianDevice)) }

    @Test("1,000 / 1,000 / 1,000 paid 2,500.00 cascades: paid, paid, 500.00 of 1,000.00 and current")
    func cascade() throws {
        var job = try threeThousands()
        try job.recordPayment(Fixtures.payment("2,500.00", counter: 1))
        #expect(completed(job) == [100_000, 100_000, 50_000])
        #expect(job.allocation(of: job.plan!).map(\.isPaid) == [true, true, false])
        let current = try #require(job.currentInstallment(provisional: false))
        #expect(current.index == 2)
        #expect(current.remainingMinor == 50_000)
        #expect(job.totals.balanceMinor == 50_000)
        #expect(job.invariantViolations().isEmpty)
    }

    @Test("Collecting warns below or above the current installment and refuses more than the balance")
    func collectionWarnings() throws {
        var job = try threeThousands()
        #expect(try job.collectionCheck(amountMinor: 50_000, settings: settings) == [.lessThanCurrentInstallment])
        #expect(try job.collectionCheck(amountMinor: 100_000, settings: settings) == [])
        #expect(try job.collectionCheck(amountMinor: 150_000, settings: settings) == [.exceedsCurrentInstallment])
        #expect(try job.collectionCheck(amountMinor: 300_000, settings: settings) == [.exceedsCurrentInstallment])
        expectError(.overpaymentNotPermitted) { () throws(LedgerError) in try job.collectionCheck(amountMinor: 300_001, settings: settings) }
        expectError(.amountNotPositive) { () throws(LedgerError) in try job.collectionCheck(amountMinor: 0, settings: settings) }
        // A card still settling counts as collected, so the same deposit is not taken twice.
        try job.recordPayment(Fixtures.payment("1,000.00", counter: 1, method: .card, state: .pending))
        #expect(try job.collectionCheck(amountMinor: 100_000, settings: settings) == [])
        expectError(.overpaymentNotPermitted) { () throws(LedgerError) in try job.collectionCheck(amountMinor: 200_001, settings: settings) }
        #expect(CollectionWarning.exceedsCurrentInstallment.message(intervalName: "Draw") == "This exceeds the current draw; the rest goes to the next ones.")
    }

    @Test("An overpayment that reaches the ledger anyway is booked, and the excess is customer credit")
    func overpaymentBecomesCredit() throws {
        var job = try threeThousands()
        #expect(try job.recordPayment(Fixtures.payment("2,000.00", counter: 1)) == 0)
        #expect(try job.recordPayment(Fixtures.payment("1,500.00", counter: 2, replica: Fixtures.officeDevice)) == 50_000)
        #expect(job.totals.creditMinor == 50_000)
        #expect(job.totals.balanceMinor == 0)
        #expect(completed(job) == [100_000, 100_000, 100_000])
        #expect(job.invariantViolations().isEmpty)
    }

    @Test("Pending card payments allocate provisionally; only completion makes a row paid; failure undoes it")
    func pendingPayments() throws {
        var job = try threeThousands()
        try job.recordPayment(Fixtures.payment("1,000.00", counter: 1, method: .card, state: .pending))
        let rows = job.allocation(of: job.plan!)
        #expect(rows.map(\.completedMinor) == [0, 0, 0])
        #expect(rows.map(\.pendingMinor) == [100_000, 0, 0])
        #expect(job.isPlanLocked)
        #expect(!job.readiness.readyToSchedule)
        try job.confirmPayment(paymentID(1))
        #expect(job.readiness.readyToSchedule)
        try job.recordPayment(Fixtures.payment("1,000.00", counter: 2, method: .ach, state: .pending))
        try job.failPayment(paymentID(2))
        #expect(completed(job) == [100_000, 0, 0])
        #expect(job.totals.pendingMinor == 0)
        expectRefusal(.paymentStateInvalid, on: &job) { (job: inout Job) throws(LedgerError) in try job.confirmPayment(paymentID(2)) }
        expectRefusal(.paymentStateInvalid, on: &job) { (job: inout Job) throws(LedgerError) in try job.failPayment(paymentID(1)) }
        expectRefusal(.paymentUnknown, on: &job) { (job: inout Job) throws(LedgerError) in try job.failPayment(paymentID(99)) }
        #expect(job.invariantViolations().isEmpty)
    }

    @Test("Bad payments are refused and change nothing: zero, negative, too large, duplicate, pending cash, failed")
    func refusesBadPayments() throws {
        var job = try threeThousands()
        try job.recordPayment(Fixtures.payment("10.00", counter: 1))
        let record = { (payment: Payment) in { (job: inout Job) throws(LedgerError) in _ = try job.recordPayment(payment) } }
        let base = Fixtures.payment("10.00", counter: 2)
        func with(amount: Int64) -> Payment {
            Payment(id: base.id, amountMinor: amount, currency: .usd, method: .cash, occurredAt: base.occurredAt, occurredOn: base.occurredOn, actor: base.actor)
        }
        expectRefusal(.amountNotPositive, on: &job, record(with(amount: 0)))
        expectRefusal(.amountNotPositive, on: &job, record(with(amount: -100)))
        expectRefusal(.amountTooLarge, on: &job, record(with(amount: Limits.amountMinorMax + 1)))
        expectRefusal(.paymentExists, on: &job, record(Fixtures.payment("10.00", counter: 1)))
        expectRefusal(.paymentStateInvalid, on: &job, record(Fixtures.payment("10.00", counter: 3, method: .cash, state: .pending)))
        expectRefusal(.paymentStateInvalid, on: &job, record(Fixtures.payment("10.00", counter: 4, method: .card, state: .failed)))
        var ledger = try Ledger()
        try ledger.addJob(job)
        expectRefusal(.jobUnknown, on: &ledger) { (ledger: inout Ledger) throws(LedgerError) in
            try ledger.updateJob(JobID(Fixtures.dot(77))) { (job: inout Job, _: CompanySettings) throws(LedgerError) in _ = try job.recordPayment(base) }
        }
        expectRefusal(.jobExists, on: &ledger) { (ledger: inout Ledger) throws(LedgerError) in try ledger.addJob(job) }
        // A refusal partway through an update leaves the ledger's copy of the job untouched.
        expectRefusal(.paymentExists, on: &ledger) { (ledger: inout Ledger) throws(LedgerError) in
            try ledger.updateJob(job.id) { (job: inout Job, _: CompanySettings) throws(LedgerError) in
                _ = try job.recordPayment(Fixtures.payment("5.00", counter: 5))
                _ = try job.recordPayment(Fixtures.payment("5.00", counter: 5))
            }
        }
    }

    @Test("A payment, refund or change order in a foreign currency is refused and changes nothing")
    func refusesForeignCurrency() throws {
        var job = try threeThousands()
        try job.recordPayment(Fixtures.payment("100.00", counter: 1))
        let euro = try Currency(code: "EUR")
        let base = Fixtures.payment("50.00", counter: 2)
        let euros = Payment(id: base.id, amountMinor: 5_000, currency: euro, method: .cash, occurredAt: base.occurredAt, occurredOn: base.occurredOn, actor: base.actor)
        expectRefusal(.currencyMismatch, on: &job) { (job: inout Job) throws(LedgerError) in _ = try job.recordPayment(euros) }
        let refund = Fixtures.refund("10.00", of: paymentID(1), counter: 3)
        let euroRefund = Refund(id: refund.id, paymentID: refund.paymentID, amountMinor: refund.amountMinor, currency: euro,
                                occurredAt: refund.occurredAt, occurredOn: refund.occurredOn, actor: refund.actor)
        expectRefusal(.currencyMismatch, on: &job) { (job: inout Job) throws(LedgerError) in _ = try job.recordRefund(euroRefund, settings: CompanySettings()) }
        let order = ChangeOrder(id: ChangeOrderID(Fixtures.dot(20)), summary: "Extra", amountMinor: 100, currency: euro, proposedBy: Fixtures.office, proposedOn: day)
        expectRefusal(.currencyMismatch, on: &job) { (job: inout Job) throws(LedgerError) in try job.proposeChangeOrder(order) }
    }

    @Test("A partial refund leaves the installment paid and the balance owed")
    func partialRefund() throws {
        var job = try threeThousands()
        try job.recordPayment(Fixtures.payment("1,000.00", counter: 1))
        try job.recordRefund(Fixtures.refund("200.00", of: paymentID(1), counter: 10), settings: settings)
        #expect(completed(job) == [100_000, 0, 0], "a refund never un-pays an installment")
        #expect(job.readiness.readyToSchedule)
        #expect(job.totals.refundedMinor == 20_000)
        #expect(job.totals.balanceMinor == 220_000)
        #expect(job.refundableMinor(of: paymentID(1)) == 80_000)
        #expect(job.invariantViolations().isEmpty)
    }

    @Test("Refunds beyond what is refundable, of unknown or pending payments, are refused and change nothing")
    func refusesBadRefunds() throws {
        var job = try threeThousands()
        try job.recordPayment(Fixtures.payment("1,000.00", counter: 1))
        try job.recordPayment(Fixtures.payment("500.00", counter: 2, method: .card, state: .pending))
        try job.recordRefund(Fixtures.refund("600.00", of: paymentID(1), counter: 10), settings: settings)
        let refund = { (r: Refund) in { (job: inout Job) throws(LedgerError) in _ = try job.recordRefund(r, settings: CompanySettings()) } }
        expectRefusal(.refundExceedsRefundable, on: &job, refund(Fixtures.refund("400.01", of: paymentID(1), counter: 11)))
        expectRefusal(.paymentUnknown, on: &job, refund(Fixtures.refund("1.00", of: paymentID(42), counter: 12)))
        expectRefusal(.paymentNotRefundable, on: &job, refund(Fixtures.refund("1.00", of: paymentID(2), counter: 13)))
        expectRefusal(.refundExists, on: &job, refund(Fixtures.refund("1.00", of: paymentID(1), counter: 10)))
        expectRefusal(.amountNotPositive, on: &job, refund(Fixtures.refund("1.00", of: paymentID(1), counter: 14).scaled(to: 0)))
        try job.recordRefund(Fixtures.refund("400.00", of: paymentID(1), counter: 15), settings: settings)
        #expect(job.refundableMinor(of: paymentID(1)) == 0)
    }

    @Test("A refund that cancels the remaining plan: unpaid rows drop out, paid rows stay, the invoice is a plain bill")
    func refundCancelsRemainingPlan() throws {
        var ledger = try Ledger()
        var job = try threeThousands()
        try job.recordPayment(Fixtures.payment("1,500.00", counter: 1))
        try job.recordRefund(Fixtures.refund("300.00", of: paymentID(1), counter: 10, cancelsRemainingPlan: true), settings: settings)
        #expect(job.plan?.isActive == false)
        #expect(completed(job) == [100_000, 50_000, 0], "paid rows stay in history")
        #expect(job.totals.balanceMinor == 180_000)
        try ledger.addJob(job)
        #expect(Reports.outstandingDraws(ledger, today: Fixtures.date("2026-06-15")).isEmpty)
        #expect(job.balanceSubLabels(settings: settings, today: Fixtures.date("2026-06-15")) == ["Balance due: $1,800.00"])
        #expect(job.readiness == Job.Readiness(readyToSchedule: true, readyToClose: false))
        // A later payment reduces the plain bill and never reaches the cancelled plan's rows.
        try ledger.updateJob(job.id) { (job: inout Job, _: CompanySettings) throws(LedgerError) in
            _ = try job.recordPayment(Fixtures.payment("1,800.00", counter: 2))
        }
        let after = try ledger.job(job.id)
        #expect(after.allocation(of: after.plan!).map(\.completedMinor) == [100_000, 50_000, 0])
        #expect(after.totals.balanceMinor == 0)
        #expect(after.readiness.readyToClose)
        #expect(ledger.invariantViolations().isEmpty)
    }

    @Test("Change orders: only approved ones change the total; the plan keeps its target and is flagged")
    func changeOrders() throws {
        var job = try threeThousands()
        let order = ChangeOrder(id: ChangeOrderID(Fixtures.dot(20)), summary: "Add a zone damper", amountMinor: 45_000, currency: .usd, proposedBy: Fixtures.technician, proposedOn: day)
        try job.proposeChangeOrder(order)
        #expect(job.totals.invoiceTotalMinor == 300_000)
        expectRefusal(.officeRoleRequired, on: &job) { (job: inout Job) throws(LedgerError) in
            try job.approveChangeOrder(order.id, reason: "ok", day: Fixtures.date("2026-06-02"), actor: Fixtures.technician)
        }
        try job.approveChangeOrder(order.id, reason: "Customer signed", day: Fixtures.date("2026-06-02"), actor: Fixtures.office)
        #expect(job.changeOrders[0].decision?.by == Fixtures.office)
        #expect(job.totals.invoiceTotalMinor == 345_000)
        #expect(job.plan!.targetMinor == 300_000)
        #expect(job.planTargetDiffersFromInvoice)
        expectRefusal(.changeOrderDecided, on: &job) { (job: inout Job) throws(LedgerError) in
            try job.rejectChangeOrder(order.id, reason: "changed my mind", day: Fixtures.date("2026-06-03"), actor: Fixtures.office)
        }
        let credit = ChangeOrder(id: ChangeOrderID(Fixtures.dot(21)), summary: "Remove everything", amountMinor: -400_000, currency: .usd, proposedBy: Fixtures.office, proposedOn: day)
        try job.proposeChangeOrder(credit)
        expectRefusal(.changeOrderNegativeTotal, on: &job) { (job: inout Job) throws(LedgerError) in
            try job.approveChangeOrder(credit.id, reason: "", day: Fixtures.date("2026-06-03"), actor: Fixtures.office)
        }
        try job.rejectChangeOrder(credit.id, reason: "Not agreed", day: Fixtures.date("2026-06-03"), actor: Fixtures.owner)
        #expect(job.totals.invoiceTotalMinor == 345_000)
        expectRefusal(.changeOrderUnknown, on: &job) { (job: inout Job) throws(LedgerError) in
            try job.approveChangeOrder(ChangeOrderID(Fixtures.dot(99)), reason: "", day: Fixtures.date("2026-06-03"), actor: Fixtures.office)
        }
        let zero = ChangeOrder(id: ChangeOrderID(Fixtures.dot(22)), summary: "Nothing", amountMinor: 0, currency: .usd, proposedBy: Fixtures.office, proposedOn: day)
        expectRefusal(.amountNotPositive, on: &job) { (job: inout Job) throws(LedgerError) in try job.proposeChangeOrder(zero) }
        #expect(job.invariantViolations().isEmpty)
    }

    @Test("A finalized invoice cannot be edited or changed by a change order; a void one owes nothing")
    func finalizedAndVoidInvoices() throws {
        var job = try threeThousands()
        try job.recordPayment(Fixtures.payment("500.00", counter: 1))
        try job.finalizeInvoice(on: Fixtures.date("2026-06-05"))
        expectRefusal(.invoiceFinalized, on: &job) { (job: inout Job) throws(LedgerError) in
            try job.setInvoice(number: "HV-2001", baseTotalMinor: 1, issuedOn: nil)
        }
        let order = ChangeOrder(id: ChangeOrderID(Fixtures.dot(20)), summary: "Extra", amountMinor: 100, currency: .usd, proposedBy: Fixtures.office, proposedOn: day)
        try job.proposeChangeOrder(order)
        expectRefusal(.invoiceFinalized, on: &job) { (job: inout Job) throws(LedgerError) in
            try job.approveChangeOrder(order.id, reason: "", day: Fixtures.date("2026-06-06"), actor: Fixtures.office)
        }
        expectRefusal(.officeRoleRequired, on: &job) { (job: inout Job) throws(LedgerError) in
            try job.voidInvoice(on: Fixtures.date("2026-06-06"), actor: Fixtures.technician, settings: CompanySettings())
        }
        try job.voidInvoice(on: Fixtures.date("2026-06-06"), actor: Fixtures.office, settings: settings)
        #expect(job.totals.invoiceTotalMinor == 0)
        #expect(job.totals.creditMinor == 50_000)
        #expect(job.plan?.isActive == false)
        #expect(job.invariantViolations().isEmpty)
    }

    @Test("Readiness: ready to schedule once the deposit is paid, ready to close once every installment is")
    func readiness() throws {
        var job = try threeThousands()
        #expect(job.readiness == Job.Readiness(readyToSchedule: false, readyToClose: false))
        try job.recordPayment(Fixtures.payment("999.99", counter: 1))
        #expect(!job.readiness.readyToSchedule)
        try job.recordPayment(Fixtures.payment("0.01", counter: 2))
        #expect(job.readiness == Job.Readiness(readyToSchedule: true, readyToClose: false))
        try job.recordPayment(Fixtures.payment("2,000.00", counter: 3))
        #expect(job.readiness == Job.Readiness(readyToSchedule: true, readyToClose: true))
        let plain = Fixtures.job(total: "100.00")
        #expect(plain.readiness == Job.Readiness(readyToSchedule: true, readyToClose: false))
    }

    @Test("Which payment covered which row follows (occurred-at, id), not the order payments arrived in")
    func coverageOrder() throws {
        var early = try threeThousands()
        var late = early
        let first = Fixtures.payment("1,500.00", counter: 2, at: 1_000)
        let second = Fixtures.payment("1,000.00", counter: 1, at: 2_000)
        try early.recordPayment(first)
        try early.recordPayment(second)
        try late.recordPayment(second)
        try late.recordPayment(first)
        let describe = { (job: Job) in job.coverage(of: job.plan!).map { "\($0.payment.dot.counter)→\($0.row.index):\($0.amountMinor)" } }
        #expect(describe(early) == describe(late))
        #expect(describe(early) == ["2→0:100000", "2→1:50000", "1→1:50000", "1→2:50000"])
    }
}

extension Refund {
    func scaled(to minor: Int64) -> Refund {
        Refund(id: id, paymentID: paymentID, amountMinor: minor, currency: currency, reason: reason, cancelsRemainingPlan: cancelsRemainingPlan,
               occurredAt: occurredAt, occurredOn: occurredOn, actor: actor)
    }
}
