import Foundation
import LedgerCore
import LedgerTestSupport
import Testing

@Suite("Reports")
struct ReportTests {
    /// A job whose plan has fixed rows with given due dates, plus payments, in a fresh ledger.
    static func job(
        id: UInt64, total: String, rows: [(String, String?)], due: [String?], paid: [String] = [],
        customer: String = "Dana Whitfield", invoiceDate: String = "2026-05-01", settings: CompanySettings = CompanySettings()
    ) throws -> Job {
        var job = Fixtures.job(total: total, invoiceDate: invoiceDate, id: id, number: "J-\(1000 + id)", customer: customer)
        try job.createPlan(id: PlanID(Fixtures.dot(id * 100)), draft: Fixtures.amountDraft(rows, dueDates: due),
                           planDay: Fixtures.date(invoiceDate), actor: Fixtures.office, settings: settings)
        for (index, amount) in paid.enumerated() {
            try job.recordPayment(Fixtures.payment(amount, counter: id * 100 + UInt64(index) + 1, on: invoiceDate))
        }
        return job
    }

    static func ledger(_ jobs: [Job], settings: CompanySettings = CompanySettings()) throws -> Ledger {
        var ledger = try Ledger(settings: settings)
        for job in jobs { try ledger.addJob(job) }
        #expect(ledger.invariantViolations().isEmpty)
        return ledger
    }

    @Test("Outstanding draws are ordered Past Due, Due Today, Upcoming, then by due date; paid rows are left out")
    func outstandingOrdering() throws {
        let upcoming = try Self.job(id: 1, total: "300.00", rows: [("Deposit", "100.00"), ("Final", nil)], due: ["2026-05-01", "2026-06-15"], paid: ["100.00"])
        let today = try Self.job(id: 2, total: "300.00", rows: [("Deposit", "100.00"), ("Final", nil)], due: ["2026-06-10", "2026-06-20"])
        let pastDue = try Self.job(id: 3, total: "300.00", rows: [("Deposit", "100.00"), ("Final", nil)], due: ["2026-06-01", "2026-06-12"], paid: ["50.00"])
        var undated = Fixtures.job(total: "200.00", invoiceDate: nil, id: 4, number: "J-1004")
        try undated.createPlan(id: PlanID(Fixtures.dot(400)), draft: PlanDraft(template: .fiftyFifty), planDay: Fixtures.date("2026-05-01"),
                               actor: Fixtures.office, settings: CompanySettings())
        let ledger = try Self.ledger([upcoming, today, pastDue, undated])
        let rows = Reports.outstandingDraws(ledger, today: Fixtures.date("2026-06-10"))
        #expect(rows.map { "\($0.jobNumber)/\($0.installmentNumber) \($0.status.rawValue)" } == [
            "J-1003/1 Past Due", "J-1002/1 Due Today", "J-1003/2 Upcoming", "J-1001/2 Upcoming", "J-1002/2 Upcoming",
            "J-1004/1 No Due Date", "J-1004/2 No Due Date",
        ])
        #expect(rows[0].daysOverdue == 9)
        #expect(rows[0].remainingMinor == 5_000)
        #expect(rows.dropFirst().allSatisfy { $0.daysOverdue == 0 })
        let csv = Reports.outstandingDrawsCSV(Array(rows.prefix(1)), settings: CompanySettings(intervalName: "Draw")).render()
        #expect(csv == """
            Customer,Job,Invoice,Draw #,Draw,Currency,Amount,Remaining,Pending,Due Date,Status,Days Overdue
            Dana Whitfield,J-1003,HV-2003,1,Deposit,USD,100.00,50.00,0.00,2026-06-01,Past Due,9

            """)
    }

    @Test("Cancelled plans and voided invoices drop out of outstanding draws; pending money is shown apart")
    func outstandingExclusions() throws {
        var cancelled = try Self.job(id: 1, total: "300.00", rows: [("Deposit", "100.00"), ("Final", nil)], due: ["2026-05-01", "2026-06-15"])
        try cancelled.cancelPlan(day: Fixtures.date("2026-05-02"), actor: Fixtures.office, settings: CompanySettings())
        var pending = try Self.job(id: 2, total: "300.00", rows: [("Deposit", "100.00"), ("Final", nil)], due: ["2026-05-01", "2026-06-15"])
        try pending.recordPayment(Fixtures.payment("100.00", counter: 9, method: .card, state: .pending))
        var voided = try Self.job(id: 3, total: "300.00", rows: [("Deposit", "100.00"), ("Final", nil)], due: ["2026-05-01", "2026-06-15"])
        try voided.voidInvoice(on: Fixtures.date("2026-05-02"), actor: Fixtures.office, settings: CompanySettings())
        let rows = Reports.outstandingDraws(try Self.ledger([cancelled, pending, voided]), today: Fixtures.date("2026-05-10"))
        #expect(rows.map(\.jobNumber) == ["J-1002", "J-1002"])
        #expect(rows[0].pendingMinor == 10_000)
        #expect(rows[0].remainingMinor == 10_000, "pending money does not count as collected")
    }

    @Test("Revenue sub-labels follow the interval name: here it is renamed \"Draw\"")
    func revenueSubLabelsWithDraw() throws {
        let settings = try CompanySettings(intervalName: "Draw").validated()
        let rows = [("Deposit", Optional("5,000.00")), ("Progress Payment", Optional("5,000.00")), ("Final Payment", nil)]
        let due: [String?] = ["2026-05-05", "2026-06-04", "2026-07-09"]
        let onTrack = try Self.job(id: 1, total: "15,000.00", rows: rows, due: due, paid: ["5,000.00"], settings: settings)
        #expect(onTrack.balanceSubLabels(settings: settings, today: Fixtures.date("2026-05-20")) == [
            "Progress Payment: $5,000.00 due 06/04/2026", "Next Draw: Final Payment · Due 07/09/2026",
        ])
        let late = try Self.job(id: 2, total: "5,000.00", rows: [("Deposit", "2,500.00"), ("Final Payment", nil)],
                                due: ["2026-05-21", "2026-07-09"], settings: settings)
        #expect(late.balanceSubLabels(settings: settings, today: Fixtures.date("2026-06-01")) == [
            "⚠ Past Due: $2,500.00 — Was Due 05/21/2026", "Next Draw: Final Payment · Due 07/09/2026",
        ])
        var refunded = try Self.job(id: 3, total: "15,000.00", rows: rows, due: due, paid: ["15,000.00"], settings: settings)
        #expect(refunded.balanceSubLabels(settings: settings, today: Fixtures.date("2026-07-10")) == ["All draws collected."])
        try refunded.recordRefund(Fixtures.refund("250.00", of: refunded.payments[0].id, counter: 50), settings: settings)
        try refunded.finalizeInvoice(on: Fixtures.date("2026-07-10"))
        #expect(refunded.balanceSubLabels(settings: settings, today: Fixtures.date("2026-07-10")) == [
            "All draws collected. A refund was issued — a balance remains.",
        ])
        let ledger = try Self.ledger([onTrack, late, refunded], settings: settings)
        let revenue = Reports.revenue(ledger, today: Fixtures.date("2026-07-10"))
        #expect(revenue.map(\.jobNumber) == ["J-1003"], "only finalized invoices are revenue")
        #expect(revenue[0].balanceMinor == 25_000)
        #expect(Reports.revenueCSV(revenue, settings: settings).header.last == "Payment Schedule Status")
    }

    @Test("With the default interval name the same sub-labels say \"Installment\"")
    func revenueSubLabelsDefault() throws {
        let settings = CompanySettings()
        let late = try Self.job(id: 2, total: "5,000.00", rows: [("Deposit", "2,500.00"), ("Final Payment", nil)], due: ["2026-05-21", "2026-07-09"], paid: ["2,500.00"])
        #expect(late.balanceSubLabels(settings: settings, today: Fixtures.date("2026-06-01")) == ["Final Payment: $2,500.00 due 07/09/2026"])
        #expect(late.balanceSubLabels(settings: settings, today: Fixtures.date("2026-07-10")) == ["⚠ Past Due: $2,500.00 — Was Due 07/09/2026"])
        let early = try Self.job(id: 3, total: "5,000.00", rows: [("Deposit", "2,500.00"), ("Final Payment", nil)], due: ["2026-05-21", "2026-07-09"])
        #expect(early.balanceSubLabels(settings: settings, today: Fixtures.date("2026-05-01")) == [
            "Deposit: $2,500.00 due 05/21/2026", "Next Installment: Final Payment · Due 07/09/2026",
        ])
        var done = try Self.job(id: 4, total: "100.00", rows: [("Deposit", "50.00"), ("Final", nil)], due: [nil, nil], paid: ["100.00"])
        let order = ChangeOrder(id: ChangeOrderID(Fixtures.dot(90)), summary: "Extra vent", amountMinor: 2_000, currency: .usd, proposedBy: Fixtures.office,
                                proposedOn: Fixtures.date("2026-05-02"))
        try done.proposeChangeOrder(order)
        try done.approveChangeOrder(order.id, reason: "signed", day: Fixtures.date("2026-05-02"), actor: Fixtures.office)
        #expect(done.balanceSubLabels(settings: settings, today: Fixtures.date("2026-05-03")) == ["All installments collected. $20.00 remains on the invoice."])
    }

    @Test("Pending revenue lists open invoices with a balance, filtered by whether a plan schedules them")
    func pendingRevenue() throws {
        let onPlan = try Self.job(id: 1, total: "300.00", rows: [("Deposit", "100.00"), ("Final", nil)], due: [nil, nil], paid: ["100.00"])
        let plain = Fixtures.job(total: "80.00", id: 2, number: "J-1002")
        var finalized = Fixtures.job(total: "50.00", id: 3, number: "J-1003")
        try finalized.finalizeInvoice(on: Fixtures.date("2026-06-05"))
        var settled = Fixtures.job(total: "10.00", id: 4, number: "J-1004")
        try settled.recordPayment(Fixtures.payment("10.00", counter: 40))
        let ledger = try Self.ledger([onPlan, plain, finalized, settled])
        #expect(Reports.pendingRevenue(ledger).map(\.jobNumber) == ["J-1001", "J-1002"])
        #expect(Reports.pendingRevenue(ledger, filter: .onPlan).map(\.jobNumber) == ["J-1001"])
        #expect(Reports.pendingRevenue(ledger, filter: .notOnPlan).map(\.jobNumber) == ["J-1002"])
        #expect(Reports.pendingRevenue(ledger)[0].balanceMinor == 20_000)
        #expect(Reports.pendingRevenueCSV(Reports.pendingRevenue(ledger), settings: CompanySettings(programName: "Draw Schedule")).render() == """
            Customer,Job,Invoice,Currency,Invoice Total,Collected,Balance,On Draw Schedule
            Dana Whitfield,J-1001,HV-2001,USD,300.00,100.00,200.00,Yes
            Dana Whitfield,J-1002,HV-2002,USD,80.00,0.00,80.00,No

            """)
    }

    @Test("Reconciliation shows each installment as paid, partial, overdue, pending, unpaid or cancelled")
    func reconciliation() throws {
        var job = try Self.job(id: 1, total: "500.00", rows: [("A", "100.00"), ("B", "100.00"), ("C", "100.00"), ("D", "100.00"), ("E", nil)],
                               due: ["2026-05-01", "2026-05-02", "2026-06-20", "2026-06-25", "2026-06-30"], paid: ["150.00"])
        try job.recordPayment(Fixtures.payment("100.00", counter: 7, method: .card, state: .pending))
        try job.recordRefund(Fixtures.refund("20.00", of: job.payments[0].id, counter: 8), settings: CompanySettings())
        var cancelled = try Self.job(id: 2, total: "200.00", rows: [("Deposit", "100.00"), ("Final", nil)], due: [nil, nil], paid: ["100.00"])
        try cancelled.cancelPlan(day: Fixtures.date("2026-05-03"), actor: Fixtures.office, settings: CompanySettings())
        let report = Reports.reconciliation(try Self.ledger([job, cancelled]), today: Fixtures.date("2026-06-10"))
        #expect(report[0].installments.map(\.status) == [.paid, .overdue, .pending, .unpaid, .unpaid])
        #expect(report[0].installments.map(\.paidMinor) == [10_000, 5_000, 0, 0, 0])
        #expect(report[0].refundedMinor == 2_000)
        #expect(report[0].pendingMinor == 10_000)
        #expect(report[0].balanceMinor == 37_000)
        #expect(report[1].installments.map(\.status) == [.paid, .cancelled])
        #expect(report[1].planState == .cancelled)
        // Pending money outranks a partial payment; without it the same row reads "partial".
        #expect(Reports.reconciliation(try Self.ledger([job]), today: Fixtures.date("2026-05-01"))[0].installments[1].status == .pending)
        let noPending = try Self.job(id: 3, total: "300.00", rows: [("A", "100.00"), ("B", nil)], due: ["2026-05-01", "2026-06-01"], paid: ["150.00"])
        #expect(Reports.reconciliation(try Self.ledger([noPending]), today: Fixtures.date("2026-05-01"))[0].installments.map(\.status) == [.paid, .partial])
        let csv = Reports.reconciliationCSV(report, settings: CompanySettings()).render()
        #expect(csv.split(separator: "\n").count == 1 + 5 + 2)
    }

    @Test("Collections total completed payments and refunds per day, week (from Monday) and month")
    func collections() throws {
        var job = Fixtures.job(total: "10,000.00")
        try job.recordPayment(Fixtures.payment("100.00", counter: 1, on: "2026-06-01"))
        try job.recordPayment(Fixtures.payment("200.00", counter: 2, on: "2026-06-03"))
        try job.recordPayment(Fixtures.payment("400.00", counter: 3, on: "2026-06-08"))
        try job.recordPayment(Fixtures.payment("800.00", counter: 4, on: "2026-07-02"))
        try job.recordPayment(Fixtures.payment("999.00", counter: 5, method: .card, state: .pending, on: "2026-06-03"))
        try job.recordRefund(Fixtures.refund("50.00", of: job.payments[2].id, counter: 6, on: "2026-06-10"), settings: CompanySettings())
        let ledger = try Self.ledger([job])
        let range = (Fixtures.date("2026-06-01"), Fixtures.date("2026-07-31"))
        let describe = { (rows: [CollectionPeriodRow]) in rows.map { "\($0.periodLabel) \($0.paymentCount) \($0.collectedMinor) \($0.refundedMinor)" } }
        #expect(describe(Reports.collections(ledger, period: .day, from: range.0, through: range.1)) == [
            "2026-06-01 1 10000 0", "2026-06-03 1 20000 0", "2026-06-08 1 40000 0", "2026-06-10 0 0 5000", "2026-07-02 1 80000 0",
        ])
        #expect(describe(Reports.collections(ledger, period: .week, from: range.0, through: range.1)) == [
            "Week of 2026-06-01 2 30000 0", "Week of 2026-06-08 1 40000 5000", "Week of 2026-06-29 1 80000 0",
        ])
        #expect(describe(Reports.collections(ledger, period: .month, from: range.0, through: range.1)) == [
            "2026-06 3 70000 5000", "2026-07 1 80000 0",
        ])
        #expect(Reports.collections(ledger, period: .month, from: range.0, through: Fixtures.date("2026-06-02")).map(\.collectedMinor) == [10_000])
        #expect(Reports.collectionsCSV(Reports.collections(ledger, period: .month, from: range.0, through: range.1)).render()
                    .hasPrefix("Period,Currency,Payments,Collected,Refunded,Net\n2026-06,USD,3,700.00,50.00,650.00\n"))
    }

    @Test("Reminders: installments due that day, not the deposit, not undated, not covered, not for opted-out customers")
    func reminders() throws {
        let rows = [("Deposit", Optional("100.00")), ("Progress", Optional("100.00")), ("Final", nil)]
        let due: [String?] = ["2026-07-01", "2026-07-01", "2026-07-31"]
        let remind = try Self.job(id: 1, total: "300.00", rows: rows, due: due)
        let optedOut = try Self.job(id: 2, total: "300.00", rows: rows, due: due, customer: "Quiet Customer").withRemindersOff()
        var covered = try Self.job(id: 3, total: "300.00", rows: rows, due: due, paid: ["100.00"])
        try covered.recordPayment(Fixtures.payment("100.00", counter: 9, method: .card, state: .pending))
        var undated = Fixtures.job(total: "300.00", invoiceDate: nil, id: 4, number: "J-1004")
        try undated.createPlan(id: PlanID(Fixtures.dot(400)), draft: PlanDraft(template: .thirds), planDay: Fixtures.date("2026-05-01"),
                               actor: Fixtures.office, settings: CompanySettings())
        let ledger = try Self.ledger([remind, optedOut, covered, undated])
        let dueToday = Reports.remindersDue(ledger, on: Fixtures.date("2026-07-01"))
        #expect(dueToday.map { "\($0.jobNumber)/\($0.installmentNumber)" } == ["J-1001/2"])
        #expect(Reports.remindersDue(ledger, on: Fixtures.date("2026-07-31")).map(\.jobNumber) == ["J-1001", "J-1003"])
        #expect(Reports.remindersDue(ledger, on: Fixtures.date("2026-07-02")).isEmpty)
    }

    @Test("CSV quotes commas and quotes, and defuses text that a spreadsheet would run as a formula")
    func csvEscaping() {
        let table = CSVTable(header: ["Customer", "Amount"], rows: [
            [.text("Smith, \"Bob\""), .number("-5.00")],
            [.text("=HYPERLINK(\"x\")"), .number("1.00")],
        ])
        #expect(table.render() == "Customer,Amount\n\"Smith, \"\"Bob\"\"\",-5.00\n\"'=HYPERLINK(\"\"x\"\")\",1.00\n")
        // Rows are kept end to end; they read back as given.
        #expect(table.rowCount == 2)
        #expect(table.rows == [[.text("Smith, \"Bob\""), .number("-5.00")], [.text("=HYPERLINK(\"x\")"), .number("1.00")]])
        #expect(table.cellCount == 4)
        #expect(CSVTable(header: ["A"], rows: []).render() == "A\n")
        // Built cell by cell it is the same table; text that is not ASCII is marked as such.
        var cells = CSVTable.Builder(cells: 0, bytes: 0)
        for cell in [CSVTable.Cell.text("Smith, \"Bob\""), .number("-5.00"), .text("=HYPERLINK(\"x\")"), .number("1.00")] { cells.append(cell) }
        #expect(cells.table(header: ["Customer", "Amount"]) == table)
        cells.text("Zoë")
        cells.text("")
        let wider = cells.table(header: ["Customer", "Amount"])
        #expect(wider.rowCount == 3 && wider.rows.last == [.text("Zoë"), .text("")])
        #expect(wider.isASCII(cell: 3) && !wider.isASCII(cell: 4) && wider.isASCII(cell: 5))
        #expect(wider.cellBytes[wider.range(ofCell: 4)].count == 4 && wider.range(ofCell: 5).isEmpty)
    }

    @Test("CSV written from the cells' bytes equals a field-by-field reference over random cells, and quotes what a character-by-character check missed")
    func csvBytesAgainstReference() {
        // A slow reference on Unicode scalars: quote a field holding , " LF or CR (doubling its
        // quotes), and put an apostrophe before text that starts like a formula.
        func field(_ text: String, defusing: Bool) -> String {
            let special: Set<Unicode.Scalar> = [",", "\"", "\n", "\r"]
            var body = text
            if defusing, let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { body = "'" + body }
            guard text.unicodeScalars.contains(where: special.contains) else { return body }
            return "\"" + body.unicodeScalars.map { $0 == "\"" ? "\"\"" : String($0) }.joined() + "\""
        }
        let pieces = ["a", "Smith", ",", "\"", "\n", "\r", "\r\n", "=", "+", "-", "@", "\t", "'", " ", "Zoë", "e\u{301}", "\u{301}", "漢字", "🧱", "1250.00", ""]
        var rng = SeededRandom(seed: 41)
        for round in 0..<200 {
            let columns = 1 + rng.int(in: 0...4)
            let header = (0..<columns).map { "H\($0)" + (round % 7 == 0 ? pieces[rng.int(in: 0...(pieces.count - 1))] : "") }
            var cells = CSVTable.Builder(cells: 0, bytes: 0)
            var expected = header.map { field($0, defusing: false) }.joined(separator: ",") + "\n"
            for _ in 0..<rng.int(in: 0...6) {
                var line: [String] = []
                for _ in 0..<columns {
                    let text = (0..<rng.int(in: 0...4)).map { _ in pieces[rng.int(in: 0...(pieces.count - 1))] }.joined()
                    if rng.int(in: 0...3) == 0 {
                        cells.number(text)
                        line.append(text)
                    } else {
                        cells.text(text)
                        line.append(field(text, defusing: true))
                    }
                }
                expected += line.joined(separator: ",") + "\n"
            }
            let table = cells.table(header: header)
            #expect(table.csvBytes() == Array(expected.utf8), "round \(round)")
            #expect(table.render() == expected)
        }
        // Compared as characters, "\r\n" is neither "\r" nor "\n" and "\"" with a combining
        // mark is not "\"": such fields went out unquoted, and the file then had the wrong rows.
        let lineBreak = CSVTable(header: ["Note"], rows: [[.text("gate code\r\n1234")], [.text("\"\u{301}x")], [.text("=\u{301}1+1")]])
        #expect(lineBreak.render() == "Note\n\"gate code\r\n1234\"\n\"\"\"\u{301}x\"\n'=\u{301}1+1\n")
        #expect(CSVTable(header: [], rows: []).render() == "\n")
    }

    @Test("Report rows encode to JSON with minor units, currency codes and ISO dates")
    func jsonEncoding() throws {
        let job = try Self.job(id: 1, total: "300.00", rows: [("Deposit", "100.00"), ("Final", nil)], due: ["2026-05-01", "2026-06-15"])
        let rows = Reports.outstandingDraws(try Self.ledger([job]), today: Fixtures.date("2026-06-10"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = try #require(String(data: try encoder.encode(rows[0]), encoding: .utf8))
        #expect(json.contains("\"remainingMinor\":10000"))
        #expect(json.contains("\"currency\":\"USD\""))
        #expect(json.contains("\"dueDate\":\"2026-05-01\""))
        #expect(json.contains("\"status\":\"Past Due\""))
        let decoded = try JSONDecoder().decode(OutstandingDrawRow.self, from: try encoder.encode(rows[0]))
        #expect(decoded == rows[0])
    }

    @Test("The outstanding draws' JSON written by hand is JSONEncoder's, byte for byte, and the table gathered from records is the rows' table, whatever the names hold")
    func drawsJSONAgainstEncoder() throws {
        var awkward = String(String.UnicodeScalarView((0..<0x20).map { Unicode.Scalar(UInt8($0)) }))
        awkward += "\"\\/ é\u{2028}\u{7f}🧱 'Bob' & <Co>"
        let names = ["Plain", awkward, "Zoë Ångström", "a/b", "\u{0}x"]
        var jobs: [Job] = []
        for (index, name) in names.enumerated() {
            jobs.append(try Self.job(id: UInt64(index + 1), total: "300.00", rows: [(name, "100.00"), ("Final \(name)", nil)],
                                     due: ["2026-05-01", index % 2 == 0 ? nil : "2026-06-15"], paid: index == 2 ? ["40.00"] : [], customer: name))
        }
        let ledger = try Self.ledger(jobs)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for today in ["2026-04-01", "2026-05-01", "2026-06-10"].map(Fixtures.date) {
            let installments = ledger.jobs.flatMap(Reports.outstandingInstallments)
            let written = Reports.outstandingDrawsJSON(installments, today: today)
            #expect(written == Array(try encoder.encode(Reports.outstandingDraws(ledger, today: today))))
            #expect(try JSONDecoder().decode([OutstandingDrawRow].self, from: Data(written)) == Reports.outstandingDraws(ledger, today: today))
            // The table gathered from the stored records carries such names byte for byte.
            var gatherer = Reports.DrawsTableGatherer(today: today, rows: 1)
            for job in ledger.jobs { try JobRecord.bytes(of: Reports.outstandingInstallments(of: job)).withUnsafeBytes { try gatherer.append(record: $0) } }
            #expect(gatherer.table(settings: ledger.settings) == Reports.outstandingDrawsCSV(installments, today: today, settings: ledger.settings))
            gatherer.sort()
            #expect(Reports.DrawsTableOrder(merging: [gatherer]).columnWidths == measuredWidths(Reports.outstandingDrawsCSV(installments, today: today, settings: ledger.settings)))
        }
        #expect(Reports.outstandingDrawsJSON([], today: Fixtures.date("2026-06-10")) == Array("[]".utf8))
    }
}

extension Job {
    func withRemindersOff() throws -> Job {
        var copy = self
        try copy.updateInfo(customer: Customer(name: customer.name, remindersOptOut: true))
        return copy
    }
}
