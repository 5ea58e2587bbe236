import LedgerCore
import LedgerTestSupport
import Testing

@Suite("Templates, settings and plans")
struct PlanTests {
    let settings = CompanySettings()
    let planDay = Fixtures.date("2026-06-01")

    func amounts(_ job: Job) -> [Int64] { job.plan!.rows.map(\.amountMinor) }

    func planned(_ total: String, _ draft: PlanDraft, actor: Actor = Fixtures.office, invoiceDate: String? = "2026-06-01") throws -> Job {
        var job = Fixtures.job(total: total, invoiceDate: invoiceDate)
        try job.createPlan(id: PlanID(Fixtures.dot(100)), draft: draft, planDay: planDay, actor: actor, settings: settings)
        #expect(job.invariantViolations().isEmpty)
        return job
    }

    @Test("The built-in templates each sum to exactly 100%")
    func builtInTemplates() {
        #expect(PlanTemplate.builtIns.map(\.name) == ["50/50 Split", "60/40 Deposit", "Thirds"])
        for template in PlanTemplate.builtIns {
            #expect(template.stages.reduce(0) { $0 + $1.percentage.value } == 1_000_000)
        }
        #expect(PlanTemplate.thirds.stages.map(\.percentage.value) == [333_334, 333_333, 333_333])
    }

    @Test("Thirds of $1,000.00 is 333.34 / 333.33 / 333.33, the extra cent on row 1")
    func thirdsOfAThousand() throws {
        let job = try planned("1,000.00", PlanDraft(template: .thirds))
        #expect(amounts(job) == [33_334, 33_333, 33_333])
        #expect(job.plan!.rows.map(\.label) == ["Deposit", "Progress Payment", "Final Payment"])
    }

    @Test("60/40 of $2,000.01 is 1,200.01 / 800.00: rows after the first are floored")
    func sixtyFortyOfAnOddTotal() throws {
        let job = try planned("2,000.01", PlanDraft(template: .sixtyForty))
        #expect(amounts(job) == [120_001, 80_000])
    }

    @Test("A by-amount plan with a $1,000.00 first row gives the rest to the last row")
    func byAmountPlan() throws {
        let job = try planned("4,500.00", Fixtures.amountDraft([("Deposit", "1,000.00"), ("Rough-in", "2,000.00"), ("Final", nil)]))
        #expect(amounts(job) == [100_000, 200_000, 150_000])
        #expect(job.plan!.mode == .amount)
        // The last amount may be given if it is exactly the remainder.
        let given = try planned("4,500.00", Fixtures.amountDraft([("Deposit", "1,000.00"), ("Final", "3,500.00")]))
        #expect(amounts(given) == [100_000, 350_000])
    }

    @Test("Blank due dates default to the invoice date plus row index × interval; given dates stay")
    func dueDateDefaults() throws {
        let job = try planned("900.00", PlanDraft(template: .thirds, dueDates: [nil, Fixtures.date("2026-06-15"), nil]))
        let rows = job.plan!.rows
        #expect(rows.map(\.dueDate) == [Fixtures.date("2026-06-01"), Fixtures.date("2026-06-15"), Fixtures.date("2026-07-31")])
        #expect(rows.map(\.dueDateIsDefault) == [true, false, true])
        let undated = try planned("900.00", PlanDraft(template: .thirds), invoiceDate: nil)
        #expect(undated.plan!.rows.allSatisfy { $0.dueDate == nil })
    }

    @Test("A plan's target is the invoice balance snapshotted at save; later totals do not re-price it")
    func targetIsSnapshotted() throws {
        var job = Fixtures.job(total: "1,000.00")
        try job.recordPayment(Fixtures.payment("100.00", counter: 1))
        try job.createPlan(id: PlanID(Fixtures.dot(100)), draft: PlanDraft(template: .fiftyFifty), planDay: planDay, actor: Fixtures.office, settings: settings)
        #expect(job.plan!.targetMinor == 90_000)
        #expect(job.allocation(of: job.plan!).allSatisfy { $0.completedMinor == 0 }, "money paid before the plan is not allocated to it")
        try job.setInvoice(number: "HV-2001", baseTotalMinor: 120_000, issuedOn: planDay)
        #expect(job.plan!.targetMinor == 90_000)
        #expect(job.planTargetDiffersFromInvoice)
        // Saving again before anything is paid against it re-snapshots and clears the flag.
        try job.editPlan(draft: PlanDraft(template: .fiftyFifty), planDay: planDay, actor: Fixtures.office, settings: settings, editDot: Fixtures.dot(101))
        #expect(job.plan!.targetMinor == 110_000)
        #expect(!job.planTargetDiffersFromInvoice)
        #expect(job.invariantViolations().isEmpty)
    }

    @Test("Plans with 1 or 13 rows, empty labels, wrong percentages or bad dates are refused and change nothing")
    func refusesBadPlans() {
        var job = Fixtures.job(total: "1,200.00")
        let create = { (draft: PlanDraft, actor: Actor) in
            { (job: inout Job) throws(LedgerError) in
                try job.createPlan(id: PlanID(Fixtures.dot(100)), draft: draft, planDay: Fixtures.date("2026-06-01"), actor: actor, settings: CompanySettings())
            }
        }
        let percentRows = { (shares: [Int64]) in
            PlanDraft(mode: .percentage, rows: shares.map { PlanDraft.Row(label: "Stage", percentage: try! PartsPerMillion($0)) })
        }
        expectRefusal(.stageCountInvalid, on: &job, create(percentRows([1_000_000]), Fixtures.office))
        expectRefusal(.stageCountInvalid, on: &job, create(percentRows(Array(repeating: 76_923, count: 12) + [76_924]), Fixtures.office))
        expectRefusal(.percentagesNotWhole, on: &job, create(percentRows([500_000, 400_000]), Fixtures.office))
        expectRefusal(.percentagesNotWhole, on: &job, create(percentRows([1_000_000, 0]), Fixtures.office))
        expectRefusal(.labelInvalid, on: &job, create(PlanDraft(mode: .percentage, rows: [
            PlanDraft.Row(label: "Deposit", percentage: try! PartsPerMillion(500_000)),
            PlanDraft.Row(label: "   ", percentage: try! PartsPerMillion(500_000)),
        ]), Fixtures.office))
        expectRefusal(.dueDatesOutOfOrder, on: &job, create(PlanDraft(template: .thirds, dueDates: [
            Fixtures.date("2026-07-01"), Fixtures.date("2026-06-15"), nil,
        ]), Fixtures.office))
        // A blank row whose default date falls before an earlier given date is out of order too.
        expectRefusal(.dueDatesOutOfOrder, on: &job, create(PlanDraft(template: .fiftyFifty, dueDates: [Fixtures.date("2026-08-01"), nil]), Fixtures.office))
        expectRefusal(.dueDateBeforePlanDay, on: &job, create(PlanDraft(template: .fiftyFifty, dueDates: [Fixtures.date("2026-05-31"), nil]), Fixtures.office))
        expectRefusal(.planNotFullyAllocated, on: &job, create(Fixtures.amountDraft([("Deposit", "1,200.00"), ("Final", nil)]), Fixtures.office))
        expectRefusal(.planNotFullyAllocated, on: &job, create(Fixtures.amountDraft([("Deposit", "200.00"), ("Final", "900.00")]), Fixtures.office))
        expectRefusal(.planNotFullyAllocated, on: &job, create(Fixtures.amountDraft([("Deposit", nil), ("Final", nil)]), Fixtures.office))
        expectRefusal(.amountNotPositive, on: &job, create(Fixtures.amountDraft([("Deposit", nil), ("Final", nil)]).withFirstAmount(-5), Fixtures.office))
        var tiny = Fixtures.job(total: "0.02")
        expectRefusal(.installmentNotPositive, on: &tiny, create(PlanDraft(template: .thirds), Fixtures.office))
        var noInvoice = try! Job(id: JobID(Fixtures.dot(9)), number: "J-9", customer: Customer(name: "Lee"), currency: .usd)
        expectRefusal(.invoiceMissing, on: &noInvoice, create(PlanDraft(template: .thirds), Fixtures.office))
    }

    @Test("Custom templates need 2–12 labelled stages summing to 100% and a unique name")
    func customTemplates() throws {
        let stage = { (label: String, ppm: Int64) in PlanTemplate.Stage(label: label, percentage: try! PartsPerMillion(ppm)) }
        let quarters = try PlanTemplate(name: "Quarters", stages: (1...4).map { stage("Q\($0)", 250_000) })
        var custom = CompanySettings(defaultTemplateName: "Quarters", customTemplates: [quarters], intervalName: "Draw")
        custom = try custom.validated()
        #expect(try custom.template(named: "Quarters").stages.count == 4)
        #expect(custom.intervalNamePluralLowercased == "draws")
        expectError(.stageCountInvalid) { () throws(LedgerError) in try PlanTemplate(name: "One", stages: [stage("All", 1_000_000)]) }
        expectError(.stageCountInvalid) { () throws(LedgerError) in
            try PlanTemplate(name: "Many", stages: (1...13).map { stage("S\($0)", $0 == 1 ? 76_924 : 76_923) })
        }
        expectError(.percentagesNotWhole) { () throws(LedgerError) in try PlanTemplate(name: "Short", stages: [stage("A", 500_000), stage("B", 499_999)]) }
        expectError(.labelInvalid) { () throws(LedgerError) in try PlanTemplate(name: "Blank", stages: [stage("A", 500_000), stage("", 500_000)]) }
        expectError(.labelInvalid) { () throws(LedgerError) in try PlanTemplate(name: " ", stages: [stage("A", 500_000), stage("B", 500_000)]) }
        let clash = try PlanTemplate(name: "Thirds", stages: [stage("A", 500_000), stage("B", 500_000)])
        expectError(.templateInvalid) { () throws(LedgerError) in try CompanySettings(customTemplates: [clash]).validated() }
        expectError(.templateUnknown) { () throws(LedgerError) in try CompanySettings(defaultTemplateName: "Nope").validated() }
        expectError(.settingsInvalid) { () throws(LedgerError) in try CompanySettings(intervalDays: 0).validated() }
        expectError(.labelInvalid) { () throws(LedgerError) in try CompanySettings(intervalName: "").validated() }
        expectError(.settingsInvalid) { () throws(LedgerError) in try CompanySettings(businessTimeZone: "").validated() }
    }

    @Test("Settings are edited by office roles only, and each accepted edit advances the version")
    func settingsUpdates() throws {
        var ledger = try Ledger()
        var next = ledger.settings
        next.intervalName = "Draw"
        expectRefusal(.officeRoleRequired, on: &ledger) { (ledger: inout Ledger) throws(LedgerError) in try ledger.updateSettings(next, actor: Fixtures.technician) }
        next.intervalDays = 400
        expectRefusal(.settingsInvalid, on: &ledger) { (ledger: inout Ledger) throws(LedgerError) in try ledger.updateSettings(next, actor: Fixtures.office) }
        next.intervalDays = 14
        try ledger.updateSettings(next, actor: Fixtures.owner)
        #expect(ledger.settings.version == 2)
        #expect(ledger.settings.intervalName == "Draw")
    }

    @Test("Technicians may plan only with the program on, their department in it, not opted out, and override allowed")
    func technicianAuthority() throws {
        let draft = PlanDraft(template: .fiftyFifty)
        func attempt(_ settings: CompanySettings, _ actor: Actor) -> (inout Job) throws(LedgerError) -> Void {
            { (job: inout Job) throws(LedgerError) in
                try job.createPlan(id: PlanID(Fixtures.dot(100)), draft: draft, planDay: Fixtures.date("2026-06-01"), actor: actor, settings: settings)
            }
        }
        var job = Fixtures.job(total: "1,000.00", department: "HVAC")
        expectRefusal(.technicianOverrideOff, on: &job, attempt(CompanySettings(allowTechnicianOverride: false), Fixtures.technician))
        expectRefusal(.programDisabled, on: &job, attempt(CompanySettings(programEnabled: false), Fixtures.technician))
        expectRefusal(.programDisabled, on: &job, attempt(CompanySettings(programEnabled: false), Fixtures.office))
        expectRefusal(.departmentWithoutProgram, on: &job, attempt(CompanySettings(departmentsWithoutProgram: ["HVAC"]), Fixtures.technician))
        expectRefusal(.userOptedOut, on: &job, attempt(CompanySettings(optedOutUsers: [Fixtures.technician.user]), Fixtures.technician))
        // The office is not bound by the technician rules.
        try attempt(CompanySettings(allowTechnicianOverride: false, departmentsWithoutProgram: ["HVAC"]), Fixtures.office)(&job)
        // Turning the program off stops new plans only: the office may still edit one in flight.
        try job.editPlan(draft: PlanDraft(template: .thirds), planDay: planDay, actor: Fixtures.office,
                         settings: CompanySettings(programEnabled: false), editDot: Fixtures.dot(101))
        expectRefusal(.technicianOverrideOff, on: &job) { (job: inout Job) throws(LedgerError) in
            try job.editPlan(draft: PlanDraft(template: .fiftyFifty), planDay: planDay, actor: Fixtures.technician,
                             settings: CompanySettings(allowTechnicianOverride: false), editDot: Fixtures.dot(102))
        }
    }

    @Test("Once paid against, a plan is locked: amounts fixed, only unpaid rows' labels and dates change, by the office")
    func lockOncePaid() throws {
        var job = try planned("900.00", PlanDraft(template: .thirds))
        let rows = job.plan!.rows
        try job.editPlan(draft: PlanDraft(template: .fiftyFifty), planDay: planDay, actor: Fixtures.technician, settings: settings, editDot: Fixtures.dot(101))
        try job.editPlan(draft: PlanDraft(template: .thirds), planDay: planDay, actor: Fixtures.technician, settings: settings, editDot: Fixtures.dot(102))
        #expect(job.plan!.revision == 3)
        #expect(job.plan!.rows.map(\.id) != rows.map(\.id), "a re-sized plan mints new row ids")
        try job.recordPayment(Fixtures.payment("100.00", counter: 1))
        #expect(job.isPlanLocked)
        expectRefusal(.planLocked, on: &job) { (job: inout Job) throws(LedgerError) in
            try job.editPlan(draft: PlanDraft(template: .fiftyFifty), planDay: Fixtures.date("2026-06-02"), actor: Fixtures.office, settings: CompanySettings(), editDot: Fixtures.dot(103))
        }
        let first = job.plan!.rows[0].id, third = job.plan!.rows[2].id
        expectRefusal(.installmentPaid, on: &job) { (job: inout Job) throws(LedgerError) in
            try job.editInstallment(first, label: "Down payment", day: Fixtures.date("2026-06-02"), actor: Fixtures.office, settings: CompanySettings())
        }
        expectRefusal(.officeRoleRequired, on: &job) { (job: inout Job) throws(LedgerError) in
            try job.editInstallment(third, label: "Completion", day: Fixtures.date("2026-06-02"), actor: Fixtures.technician, settings: CompanySettings())
        }
        expectRefusal(.dueDatesOutOfOrder, on: &job) { (job: inout Job) throws(LedgerError) in
            try job.editInstallment(third, dueDate: .some(Fixtures.date("2026-06-20")), day: Fixtures.date("2026-06-02"), actor: Fixtures.office, settings: CompanySettings())
        }
        try job.editInstallment(third, label: "Completion", dueDate: .some(Fixtures.date("2026-08-15")), day: Fixtures.date("2026-06-02"), actor: Fixtures.office, settings: settings)
        #expect(job.plan!.rows[2].label == "Completion")
        #expect(job.plan!.rows[2].dueDate == Fixtures.date("2026-08-15"))
        #expect(job.plan!.rows[2].id == third, "row ids are stable across label and date edits")
        // Thirds of 900.00 by the ppm rule: rows 2 and 3 floor to 299.99, row 1 takes 300.02.
        #expect(job.plan!.rows.map(\.amountMinor) == [30_002, 29_999, 29_999])
        // Technicians cannot cancel a locked plan; the office can, and cancelling again is a no-op.
        expectRefusal(.officeRoleRequired, on: &job) { (job: inout Job) throws(LedgerError) in
            try job.cancelPlan(day: Fixtures.date("2026-06-03"), actor: Fixtures.technician, settings: CompanySettings())
        }
        #expect(try job.cancelPlan(day: Fixtures.date("2026-06-03"), actor: Fixtures.office, settings: settings))
        #expect(try !job.cancelPlan(day: Fixtures.date("2026-06-04"), actor: Fixtures.office, settings: settings))
        #expect(job.invariantViolations().isEmpty)
    }

    @Test("A plan cannot be saved while a payment is pending, so a pending payment is never counted twice")
    func pendingPaymentBlocksSave() throws {
        var job = Fixtures.job(total: "1,000.00")
        try job.recordPayment(Fixtures.payment("100.00", counter: 1, method: .card, state: .pending))
        expectRefusal(.paymentPending, on: &job) { (job: inout Job) throws(LedgerError) in
            try job.createPlan(id: PlanID(Fixtures.dot(100)), draft: PlanDraft(template: .fiftyFifty), planDay: Fixtures.date("2026-06-01"), actor: Fixtures.office, settings: CompanySettings())
        }
        try job.confirmPayment(PaymentID(Fixtures.dot(1, on: Fixtures.technicianDevice)))
        try job.createPlan(id: PlanID(Fixtures.dot(100)), draft: PlanDraft(template: .fiftyFifty), planDay: planDay, actor: Fixtures.office, settings: settings)
        #expect(job.plan!.targetMinor == 90_000)
    }
}

extension PlanDraft {
    func withFirstAmount(_ minor: Int64) -> PlanDraft {
        var copy = self
        copy.rows[0].amountMinor = minor
        return copy
    }
}
