// A worked example of the progress-billing rules, printed for people. It stands in for the
// README's "run" command until the field CLI's demo exists (issue E).
import LedgerCore

let office = Actor(user: try UserID("office"), role: .office)
let technician = Actor(user: try UserID("tech"), role: .technician)
let device = ReplicaID(high: 1, low: 1)
let today = try CalendarDate.parse("2026-07-15")
var ledger = try Ledger(settings: CompanySettings(intervalName: "Draw"))

let jobID = JobID(Dot(replica: device, counter: 1))
var job = try Job(id: jobID, number: "J-1042", customer: Customer(name: "Dana Whitfield"), department: "HVAC", currency: .usd)
try job.setInvoice(number: "HV-2048", baseTotalMinor: try Money.parse("1,000.00", currency: .usd).amountMinor,
                   issuedOn: try CalendarDate.parse("2026-06-01"))
try ledger.addJob(job)

try ledger.updateJob(jobID) { (job: inout Job, settings: CompanySettings) throws(LedgerError) in
    try job.createPlan(id: PlanID(Dot(replica: device, counter: 2)), draft: PlanDraft(template: .thirds),
                       planDay: try CalendarDate.parse("2026-06-01"), actor: office, settings: settings)
    let amount = try Money.parse("450.00", currency: .usd).amountMinor
    for warning in try job.collectionCheck(amountMinor: amount, settings: settings) {
        print("warning: \(warning.message(intervalName: settings.intervalName))")
    }
    _ = try job.recordPayment(Payment(id: PaymentID(Dot(replica: device, counter: 3)), amountMinor: amount, currency: .usd, method: .cash,
                                      occurredAt: HLCTimestamp(wallMillis: 0), occurredOn: try CalendarDate.parse("2026-06-02"),
                                      actor: technician))
}

let stored = try ledger.job(jobID)
print("Thirds of $1,000.00, then a $450.00 cash payment on 06/02/2026:")
for (row, allocation) in zip(stored.plan!.rows, stored.allocation(of: stored.plan!)) {
    let amount = try Money(minor: row.amountMinor, .usd), paid = try Money(minor: allocation.completedMinor, .usd)
    print("  \(row.label.padding(17)) \(amount.formatted().padding(10)) paid \(paid.formatted().padding(10)) due \(row.dueDate?.usFormatted ?? "—")")
}
print("Revenue sub-labels on \(today.usFormatted): \(stored.balanceSubLabels(settings: ledger.settings, today: today))")
print("\nOutstanding draws on \(today.usFormatted) (CSV):")
print(Reports.outstandingDrawsCSV(Reports.outstandingDraws(ledger, today: today), settings: ledger.settings).render(), terminator: "")

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}
