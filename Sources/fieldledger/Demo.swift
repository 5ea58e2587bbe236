import ArgumentParser
import FieldClient
import Foundation
import LedgerCore
import LedgerReports
import LedgerServer
import LedgerService
import Logging

/// `fieldledger demo`: a whole sync story on this machine, nothing to set up. An embedded server
/// (SQLite in a temporary folder, a loopback port), an office device and a technician's device
/// (replica files beside it), a technician offline in a basement while the office edits the
/// same job, then both sync.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "demo", abstract: "Play a short offline sync story against an embedded server (needs nothing running).")

    @Flag(help: "Keep the temporary folder (server data and both replicas) and print where it is.")
    var keep = false

    func run() async throws {
        try await reporting {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fieldledger-demo-\(UUID().uuidString)")
            defer { if !keep { try? FileManager.default.removeItem(at: folder) } }
            let server = try FieldLedgerServer(dataDirectory: folder.appendingPathComponent("server").path)
            // The story reports its own failures; the embedded server's shutdown on cancellation
            // is not one of them.
            var logger = Logger(label: "fieldledger-demo")
            logger.logLevel = .critical
            let (ports, portSink) = AsyncStream<Int>.makeStream()
            let app = try server.application(host: "127.0.0.1", port: 0, logger: logger) { port in portSink.yield(port) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await app.runService(gracefulShutdownSignals: []) }
                var waiting = ports.makeAsyncIterator()
                guard let port = await waiting.next() else { throw Failure("The embedded server did not start.") }
                try await DemoStory(server: server, address: "http://127.0.0.1:\(port)", folder: folder).play()
                group.cancelAll()
            }
            server.service.close()
            if keep { print("\nThe server's data and both replicas are in \(folder.path).") }
        }
    }
}

/// The story itself, told with the library a device uses.
struct DemoStory {
    let server: FieldLedgerServer
    let address: String
    let folder: URL
    let day = try! CalendarDate.parse("2026-06-01")

    func play() async throws {
        let company = try CompanyID("demo-hvac")
        let admin = server.administration
        try admin.createCompany(company)
        try admin.setUser(try UserID("maria"), role: .office, company: company)
        try admin.setUser(try UserID("luis"), role: .technician, company: company)
        let office = try await device("maria", token: try admin.issueToken(company: company, user: try UserID("maria")).token)
        let tech = try await device("luis", token: try admin.issueToken(company: company, user: try UserID("luis")).token)
        print("An embedded server at \(address); Maria works in the office, Luis in the field.\n")

        var clock: Int64 = 1_780_300_800_000
        func at(_ minutes: Int64) -> Int64 { clock + minutes * 60_000 }
        let create = try office.perform(.createJob(number: "J-1042", customer: Customer(name: "Dana Whitfield"), department: "HVAC", currency: .usd,
                                                   notes: "Furnace replacement"), job: nil, day: day, wallMillis: at(0))
        let job = JobID(create.action.dot)
        try office.perform(.setInvoice(number: "HV-2042", baseTotalMinor: 480_000, issuedOn: day), job: job, day: day, wallMillis: at(1))
        try office.perform(.createPlan(PlanDraft(template: .thirds)), job: job, day: day, wallMillis: at(2))
        try await sync(office, "Maria opens job J-1042: invoice $4,800.00 on a Thirds plan")
        try await sync(tech, "Luis's phone fetches it before he drives out")

        clock += 3_600_000
        print("\nLuis is in the customer's basement: no signal.")
        let split = try tech.perform(.editPlan(PlanDraft(template: .fiftyFifty)), job: job, day: day, wallMillis: at(0))
        print("  Dana asks for two payments instead of three: Luis sets a 50/50 split (\(describe(split.outcome)) on his phone)")
        let deposit = try tech.perform(.recordPayment(PaymentRequest(amountMinor: 240_000, currency: .usd, method: .check, reference: "1042")),
                                       job: job, day: day, wallMillis: at(5))
        print("  Luis collects the deposit, a $2,400.00 check (\(describe(deposit.outcome)) on his phone)")
        print("Meanwhile, in the office:")
        try office.perform(.recordPayment(PaymentRequest(amountMinor: 50_000, currency: .usd, method: .card)), job: job, day: day, wallMillis: at(7))
        print("  Dana's $500.00 card payment arrives through the customer portal")
        try office.perform(.editPlan(PlanDraft(template: .sixtyForty)), job: job, day: day, wallMillis: at(9))
        print("  Maria, not knowing about Luis's visit, switches the plan to 60/40")
        let waiting = try tech.status(nowMillis: at(30))
        print("Luis's phone holds \(waiting.pending) actions, the oldest waiting \(waiting.oldestPendingAgeMillis.map { $0 / 60_000 } ?? 0) minutes.\n")

        try await sync(tech, "Luis drives out of the basement; his phone syncs")
        try await sync(office, "Maria's office syncs")
        try await sync(tech, "Luis's phone syncs again")

        let ledger = try office.view
        let merged = try ledger.job(job)
        let totals = merged.totals
        print("\nThe merged ledger, the same on both devices and the server (\(try office.view == (try tech.view) ? "checked" : "NOT equal")):")
        print("J-1042 · Dana Whitfield · invoice HV-2042 \(money(totals.invoiceTotalMinor, .usd)); collected \(money(totals.netCollectedMinor, .usd)), balance \(money(totals.balanceMinor, .usd))")
        if let plan = merged.plan { print(planTable(plan, job: merged)) }
        print(table(["payment", "by", "method", "amount"], merged.payments.map { [$0.reference.map { "check #\($0)" } ?? "\($0.method.rawValue)", $0.actor.user.rawValue, $0.method.rawValue, money($0.amountMinor, .usd)] },
                    rightAligned: [3]))

        let draws = try ReportCatalog.render(.outstandingDraws, ledger, ReportCatalog.Options(today: day)).table
        print("\nOutstanding draws:")
        print(table(draws))

        for item in ledger.openReviewCases {
            print("")
            print(caseLines(item, in: ledger).joined(separator: "\n"))
        }
    }

    /// Sets a device up as `fieldledger init` does, with a token the office issued.
    func device(_ user: String, token: String) async throws -> FieldReplica {
        let identity = try await HTTPSyncTransport(server: address, token: token).identify()
        return try FieldReplica.create(at: folder.appendingPathComponent("\(user).sqlite").path, identity: identity)
    }

    func sync(_ replica: FieldReplica, _ what: String) async throws {
        let report = try await replica.sync(over: try replica.identity.transport())
        let notes = report.outcomes.compactMap { dot, outcome -> String? in
            outcome == .applied || outcome == .exists ? nil : "action \(dot.counter) \(describe(outcome))"
        }
        print("\(what): sent \(report.outcomes.count), received \(report.entriesFolded)\(notes.isEmpty ? "" : " — " + notes.joined(separator: "; "))")
    }
}
