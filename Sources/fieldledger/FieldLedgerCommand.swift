// The field CLI: a device's replica of its company's ledger, usable with no signal, synced with
// the office server when there is one. Built on FieldClient; every action is checked by the same
// core rules as on the server before it is queued.
import ArgumentParser
import FieldClient
import Foundation
import LedgerCore
import LedgerReports
import SyncProtocol

@main
struct FieldLedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fieldledger",
        abstract: "A device's ledger: jobs, payment plans and payments, offline first; `sync` meets the office server.",
        subcommands: [Init.self, Jobs.self, Invoice.self, Plans.self, Pay.self, Payment.self, Refund.self, ChangeOrders.self, Sync.self, Status.self,
                      Reviews.self, Report.self, Demo.self])

    /// The processor's SHA instructions for the replica's digests, before anything hashes.
    static func main() async {
        HardwareSHA256.installIfAvailable()
        await main(nil)
    }
}

struct Init: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Set this device up with the server's address and a device token from the office.")

    @Option(help: "The server, for example https://office.example.com:8080.") var server: String
    @Option(help: "The device token `fieldledger-server token issue` printed.") var token: String
    @Flag(name: .customLong("allow-insecure-http"), help: "Allow plain HTTP to another machine (a trusted network only: the token and payments travel in clear).")
    var allowInsecureHTTP = false
    @OptionGroup var home: HomeOptions

    func run() async throws {
        try await reporting {
            guard !FileManager.default.fileExists(atPath: home.replicaPath) else {
                throw Failure("This device is already set up in \(home.folder); use another --home for a second device.", code: Exit.notSetUp)
            }
            let identity = try await HTTPSyncTransport(server: server, token: token, allowInsecure: allowInsecureHTTP).identify()
            try FileManager.default.createDirectory(atPath: home.folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            _ = try FieldReplica.create(at: home.replicaPath, identity: identity)
            if home.json {
                try printJSON(["company": identity.company, "user": identity.actor.user.rawValue, "role": identity.actor.role.rawValue,
                               "replica": identity.replica.description, "home": home.folder])
            } else {
                print("set up \(identity.actor.user.rawValue) (\(identity.actor.role.rawValue)) of \(identity.company) in \(home.folder); run `fieldledger sync` to fetch the jobs")
            }
        }
    }
}

struct Jobs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "job", abstract: "Create, list and show jobs.", subcommands: [Create.self, List.self, Show.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create", abstract: "Open a job.")
        @Option(help: "The job number people use, for example J-1042.") var number: String
        @Option(help: "The customer's name.") var customer: String
        @Option(help: "The department, if any.") var department: String?
        @Option(help: "The currency's ISO code.") var currency = "USD"
        @Option(help: "Notes.") var notes = ""
        @OptionGroup var home: HomeOptions

        func run() async throws {
            try await reporting {
                let replica = try home.open()
                let settings = replica.settings
                let (action, outcome) = try replica.perform(.createJob(number: number, customer: Customer(name: customer), department: department,
                                                                       currency: try Currency(code: currency), notes: notes),
                                                            job: nil, day: try DeviceClock.today(in: settings), wallMillis: DeviceClock.nowMillis)
                if home.json { try printJSON(ActionResult(action, outcome)) } else { print("job \(number) created (\(JobSummary.text(JobID(action.dot))))") }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "The jobs on this device, with what is owed.")
        @OptionGroup var home: HomeOptions

        func run() async throws {
            try await reporting {
                let jobs = try home.open().view.jobs
                if home.json { return try printJSON(jobs.map(JobSummary.init)) }
                print(table(["job", "customer", "invoiced", "collected", "pending", "balance", "cases"], jobs.map { job in
                    let totals = job.totals
                    return [job.number, job.customer.name, money(totals.invoiceTotalMinor, job.currency), money(totals.netCollectedMinor, job.currency),
                            money(totals.pendingMinor, job.currency), money(totals.balanceMinor, job.currency), "\(job.sync.openReviewCases.count)"]
                }, rightAligned: [2, 3, 4, 5, 6]))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "One job: invoice, plan, payments and open review cases.")
        @Argument(help: "The job's number or id.") var job: String
        @OptionGroup var home: HomeOptions

        func run() async throws {
            try await reporting {
                let job = try resolveJob(self.job, in: try home.open())
                if home.json { return try printJSON(job) }
                let totals = job.totals
                print("\(job.number) · \(job.customer.name)\(job.department.map { " · \($0)" } ?? "")  [\(JobSummary.text(job.id))]")
                if let invoice = job.invoice { print("invoice \(invoice.number): \(money(totals.invoiceTotalMinor, job.currency))") } else { print("no invoice yet") }
                print("collected \(money(totals.netCollectedMinor, job.currency)), pending \(money(totals.pendingMinor, job.currency)), balance \(money(totals.balanceMinor, job.currency))")
                if let plan = job.plan { print(""); print(planTable(plan, job: job)) }
                if !job.payments.isEmpty {
                    print("")
                    print(table(["payment", "day", "by", "method", "reference", "amount", "state"], job.payments.enumerated().map { index, paid in
                        ["\(index + 1)", paid.occurredOn.iso, paid.actor.user.rawValue, paid.method.rawValue, paid.reference ?? "", money(paid.amountMinor, job.currency), "\(paid.state)"]
                    }, rightAligned: [5]))
                }
                if !job.changeOrders.isEmpty {
                    print("")
                    print(table(["change order", "summary", "amount", "status"], job.changeOrders.enumerated().map { index, order in
                        ["\(index + 1)", order.summary, money(order.amountMinor, job.currency), order.status.rawValue]
                    }, rightAligned: [2]))
                }
                let open = job.sync.openReviewCases
                if !open.isEmpty { print(""); print("\(open.count) open review case(s): `fieldledger review list`") }
            }
        }
    }
}

/// A plan's rows with what each has collected.
func planTable(_ plan: Plan, job: Job) -> String {
    let allocation = job.allocation(of: plan)
    return table(["#", "installment", "due", "amount", "paid", "remaining"], plan.rows.enumerated().map { index, row in
        let paid = allocation.first { $0.id == row.id }
        return ["\(index + 1)", row.label, row.dueDate?.iso ?? "", money(row.amountMinor, job.currency), money(paid?.completedMinor ?? 0, job.currency),
                money(paid?.remainingMinor ?? row.amountMinor, job.currency)]
    }, rightAligned: [3, 4, 5])
}

struct Invoice: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "invoice", abstract: "Set a job's invoice number and total.")
    @Argument(help: "The job's number or id.") var job: String
    @Option(help: "The invoice number.") var number: String
    @Option(help: "The invoice total, for example 3,000.00.") var total: String
    @Option(help: "The day it was issued (YYYY-MM-DD).") var issued: String?
    @OptionGroup var home: HomeOptions

    func run() async throws {
        try await reporting {
            let replica = try home.open()
            let job = try resolveJob(self.job, in: replica)
            let (action, outcome) = try replica.perform(.setInvoice(number: number, baseTotalMinor: try amount(total, job.currency), issuedOn: try issued.map(CalendarDate.parse)),
                                                        job: job.id, day: try DeviceClock.today(in: replica.settings), wallMillis: DeviceClock.nowMillis)
            if home.json { try printJSON(ActionResult(action, outcome)) } else { print("invoice \(number) set on \(job.number): \(describe(outcome))") }
        }
    }
}

struct Plans: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "plan", abstract: "Set, show, edit and cancel payment plans.", subcommands: [Set.self, Show.self, EditRow.self, Cancel.self])

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Set (or replace) a job's payment plan: from a template, by percentages, or by amounts.",
            discussion: "Examples: --template Thirds · --percent 30,40,30 --labels Deposit,Rough-in,Final · --amounts 1000,1500 (the last row takes the remainder).")
        @Argument(help: "The job's number or id.") var job: String
        @Option(help: "A template's name (`50/50 Split`, `60/40 Deposit`, `Thirds`, or the company's own).") var template: String?
        @Option(help: "Percentages of the total, comma-separated, adding up to 100.") var percent: String?
        @Option(help: "Amounts, comma-separated.") var amounts: String?
        @Option(help: "Row labels, comma-separated.") var labels: String?
        @Option(help: "Due dates (YYYY-MM-DD), comma-separated; leave one empty for the default.") var due: String?
        @OptionGroup var home: HomeOptions

        func run() async throws {
            try await reporting {
                let replica = try home.open()
                let job = try resolveJob(self.job, in: replica)
                let draft = try self.draft(replica.settings, currency: job.currency)
                let payload: ActionPayload = job.plan == nil ? .createPlan(draft) : .editPlan(draft)
                let (action, outcome) = try replica.perform(payload, job: job.id, day: try DeviceClock.today(in: replica.settings), wallMillis: DeviceClock.nowMillis)
                if home.json { return try printJSON(ActionResult(action, outcome)) }
                print("plan on \(job.number): \(describe(outcome))")
                if let saved = try replica.job(job.id), let plan = saved.plan { print(planTable(plan, job: saved)) }
            }
        }

        func draft(_ settings: CompanySettings, currency: Currency) throws -> PlanDraft {
            let choices = [template != nil, percent != nil, amounts != nil].filter { $0 }.count
            guard choices == 1 else { throw Failure("Give exactly one of --template, --percent or --amounts.") }
            let dueDates = try (due?.split(separator: ",", omittingEmptySubsequences: false) ?? []).map { text -> CalendarDate? in
                let trimmed = text.trimmingCharacters(in: .whitespaces)
                return trimmed.isEmpty ? nil : try CalendarDate.parse(trimmed)
            }
            if let template {
                guard let found = settings.templates.first(where: { $0.name.lowercased() == template.lowercased() }) else {
                    throw Failure("There is no template '\(template)'; the templates are \(settings.templates.map(\.name).joined(separator: ", ")).")
                }
                return PlanDraft(template: found, dueDates: dueDates)
            }
            let values = (percent ?? amounts ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let names = labels?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } ?? []
            let rows = try values.enumerated().map { index, value in
                PlanDraft.Row(label: index < names.count ? names[index] : "Payment \(index + 1)",
                              percentage: percent == nil ? nil : try PartsPerMillion.parse(value),
                              amountMinor: amounts == nil ? nil : try amount(value, currency),
                              dueDate: index < dueDates.count ? dueDates[index] : nil)
            }
            return PlanDraft(mode: percent == nil ? .amount : .percentage, rows: rows)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "A job's plan with what each installment has collected.")
        @Argument(help: "The job's number or id.") var job: String
        @OptionGroup var home: HomeOptions

        func run() async throws {
            try await reporting {
                let job = try resolveJob(self.job, in: try home.open())
                guard let plan = job.plan else { throw Failure("\(job.number) has no plan; `fieldledger plan set` makes one.") }
                if home.json { return try printJSON(plan) }
                print("\(job.number): \(plan.templateName ?? "custom plan"), \(money(plan.targetMinor, job.currency))")
                print(planTable(plan, job: job))
            }
        }
    }
}

struct Pay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pay", abstract: "Record a payment taken on a job (works offline).")
    @Argument(help: "The job's number or id.") var job: String
    @Argument(help: "The amount, for example 1,000.00.") var amount: String
    @Option(help: "cash, card, check, ach or other.") var method: String
    @Option(help: "A check number or card slip reference.") var reference: String?
    @Flag(help: "Captured but not settled yet (a card or ACH taken offline).") var pending = false
    @OptionGroup var home: HomeOptions

    func run() async throws {
        try await reporting {
            guard let method = PaymentMethod(rawValue: method) else { throw Failure("The method is cash, card, check, ach or other.") }
            let replica = try home.open()
            let job = try resolveJob(self.job, in: replica)
            let minor = try FieldLedger.amount(amount, job.currency)
            let (action, outcome) = try replica.perform(.recordPayment(PaymentRequest(amountMinor: minor, currency: job.currency,
                                                                                      method: method, reference: reference, pending: pending)),
                                                        job: job.id, day: try DeviceClock.today(in: replica.settings), wallMillis: DeviceClock.nowMillis)
            let after = try replica.job(job.id)?.totals ?? job.totals
            var warnings: [String] = []
            if case .appliedWithException = outcome { warnings.append("This payment is more than the balance; the office will review the credit.") }
            if method == .card || method == .ach, pending { warnings.append("Pending until it settles; the balance counts it once it does.") }
            if home.json { return try printJSON(ActionResult(action, outcome, warnings: warnings)) }
            print("\(money(minor, job.currency)) \(method.rawValue) on \(job.number): \(describe(outcome))")
            for warning in warnings { print("warning: \(warning)") }
            print("balance now \(money(after.balanceMinor, job.currency)); it reaches the office at the next sync")
        }
    }
}

/// The module's name, to reach the free function `amount` past a property of the same name.
enum FieldLedger {
    static func amount(_ text: String, _ currency: Currency) throws -> Int64 { try fieldledger.amount(text, currency) }
}

struct Sync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sync", abstract: "Send this device's actions to the server, then fetch everything new.")
    @OptionGroup var home: HomeOptions

    func run() async throws {
        try await reporting {
            let replica = try home.open()
            let interactive = isatty(STDERR_FILENO) == 1 && !home.json
            let report = try await replica.sync(over: try replica.identity.transport()) { cursor in
                if interactive { FileHandle.standardError.write(Data("\rsyncing… log entry \(cursor)".utf8)) }
            }
            if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            let status = try replica.status(nowMillis: DeviceClock.nowMillis)
            if home.json {
                return try printJSON(["sent": report.outcomes.count, "received": report.entriesFolded, "cursor": Int(report.cursor),
                                      "pending": status.pending, "rejected": status.rejected])
            }
            print("sent \(report.outcomes.count) action(s), received \(report.entriesFolded) log entr\(report.entriesFolded == 1 ? "y" : "ies"); up to date at \(report.cursor)")
            for (dot, outcome) in report.outcomes where outcome != .applied && outcome != .exists { print("  action \(dot.counter): \(describe(outcome))") }
            if status.rejected > 0 { print("\(status.rejected) action(s) were refused by the server: `fieldledger status`") }
        }
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "What waits to be sent, what the server refused, and how far this device has synced.")
    @OptionGroup var home: HomeOptions

    func run() async throws {
        try await reporting {
            let replica = try home.open()
            let status = try replica.status(nowMillis: DeviceClock.nowMillis)
            let rejected = try replica.outbox().filter { $0.status == .rejected }
            if home.json {
                struct Output: Encodable {
                    let pending, acknowledged, rejected: Int
                    let oldestPendingAgeSeconds: Int64?
                    let lastConfirmedSequence: UInt64
                    let refused: [ActionResult]
                }
                return try printJSON(Output(pending: status.pending, acknowledged: status.acknowledged, rejected: status.rejected,
                                            oldestPendingAgeSeconds: status.oldestPendingAgeMillis.map { $0 / 1000 }, lastConfirmedSequence: status.lastConfirmedSequence,
                                            refused: rejected.map { ActionResult($0.action, $0.outcome ?? .applied) }))
            }
            print("\(replica.identity.actor.user.rawValue) (\(replica.identity.actor.role.rawValue)) of \(replica.identity.company) at \(replica.identity.server)")
            print("pending \(status.pending)\(status.oldestPendingAgeMillis.map { ", oldest waiting \($0 / 60_000) min" } ?? ""); acknowledged \(status.acknowledged); refused \(status.rejected); synced to log entry \(status.lastConfirmedSequence)")
            for entry in rejected { print("  refused: \(entry.action.payload.kind.rawValue) (action \(entry.action.dot.counter)): \(entry.outcome.map(describe) ?? "")") }
        }
    }
}

struct Reviews: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "review", abstract: "Review cases: disagreements the rules left to a person.", subcommands: [List.self, Show.self, Resolve.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "The open review cases on this device.")
        @OptionGroup var home: HomeOptions

        func run() async throws {
            try await reporting {
                let view = try home.open().view
                let open = view.openReviewCases
                if home.json {
                    struct Row: Encodable {
                        let id, kind, job, raisedBy: String
                        let otherSide: String?
                        let suggested: [String]
                    }
                    return try printJSON(open.map { item in
                        Row(id: item.id.description, kind: item.kind.rawValue, job: item.job.flatMap { try? view.job($0).number } ?? "",
                            raisedBy: item.raisedBy.actor.user.rawValue, otherSide: item.otherSide?.actor.user.rawValue,
                            suggested: item.suggestedResolutions.map(\.rawValue))
                    })
                }
                print(table(["case", "kind", "job", "raised by", "suggested"], open.map { item in
                    [item.id.description, item.kind.rawValue, item.job.flatMap { try? view.job($0).number } ?? "(company)",
                     item.raisedBy.actor.user.rawValue, item.suggestedResolutions.map(\.rawValue).joined(separator: ", ")]
                }))
            }
        }
    }
}

/// A review case for people: what is in force, what was proposed, why, and what may be decided.
func caseLines(_ item: ReviewCase, in ledger: Ledger) -> [String] {
    let currency = item.job.flatMap { try? ledger.job($0).currency } ?? .usd
    let job = item.job.flatMap { try? ledger.job($0).number } ?? "the company"
    var lines = ["Review case \(item.id) (\(item.kind.rawValue)) on \(job): \(item.isOpen ? "waiting for a person" : "decided")."]
    lines.append("  Raised by \(item.raisedBy.actor.user.rawValue)'s \(item.raisedBy.kind.rawValue)" + (item.otherSide.map { ", against \($0.actor.user.rawValue)'s \($0.kind.rawValue)" } ?? ""))
    if let current = item.currentPlan {
        lines.append("  In force: " + current.rows.map { "\($0.label) \(money($0.amountMinor, currency))" }.joined(separator: ", "))
    }
    switch item.proposed {
    case .editPlan(let draft)?, .createPlan(let draft)?:
        lines.append("  Proposed: \(draft.templateName ?? "custom") — " + draft.rows.map { row in
            "\(row.label)\(row.percentage.map { " \($0)" } ?? "")\(row.amountMinor.map { " \(money($0, currency))" } ?? "")"
        }.joined(separator: ", "))
    case let proposed?:
        lines.append("  Proposed: \(proposed.kind.rawValue)")
    case nil:
        break
    }
    if item.amountMinor != 0 { lines.append("  Amount: \(money(item.amountMinor, currency))") }
    if let reason = item.reason { lines.append("  Why: \(reason.message)") }
    if let decision = item.decision {
        lines.append("  Decided: \(decision.resolution.rawValue) by \(decision.by.actor.user.rawValue)\(decision.note.isEmpty ? "" : ": \(decision.note)")")
    } else {
        lines.append("  The office decides: \(item.suggestedResolutions.map(\.rawValue).joined(separator: " or ")) (`fieldledger review resolve \(item.id) --resolution …`).")
    }
    return lines
}

extension Reviews {
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "One review case with both sides.")
        @Argument(help: "The case, as `review list` shows it.") var id: String
        @OptionGroup var home: HomeOptions

        func run() async throws {
            try await reporting {
                let view = try home.open().view
                let all = view.companyReviewCases + view.jobs.flatMap(\.sync.reviewCases)
                guard let item = all.first(where: { $0.id.description == id }) else {
                    throw Failure("There is no review case \(id) on this device; `fieldledger review list` shows the open ones.")
                }
                if home.json { return try printJSON(item) }
                print(caseLines(item, in: view).joined(separator: "\n"))
            }
        }
    }

    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "resolve", abstract: "Decide an open review case (office and owner devices).")
        @Argument(help: "The case, as `review list` shows it.") var id: String
        @Option(help: "apply-proposed, keep-current or acknowledge (the case's suggestions).") var resolution: String
        @Option(help: "Why, for the record.") var note = ""
        @OptionGroup var home: HomeOptions

        func run() async throws {
            try await reporting {
                guard let resolution = Resolution(rawValue: resolution) else { throw Failure("The resolution is apply-proposed, keep-current or acknowledge.") }
                let replica = try home.open()
                let view = try replica.view
                guard let item = view.openReviewCases.first(where: { $0.id.description == id }) else {
                    throw Failure("There is no open review case \(id) on this device; `fieldledger review list` shows them.")
                }
                let (action, outcome) = try replica.perform(.resolveReviewCase(item.id, resolution, note: note), job: item.job,
                                                            day: try DeviceClock.today(in: view.settings), wallMillis: DeviceClock.nowMillis)
                if home.json { return try printJSON(ActionResult(action, outcome)) }
                print("case \(id): \(resolution.rawValue), \(describe(outcome)); it reaches the office at the next sync")
            }
        }
    }
}

struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "report", abstract: "A report over this device's view: outstanding-draws, pending-revenue, revenue, reconciliation, collections, reminders.")
    @Argument(help: "The report's name.") var name: String
    @Flag(help: "Print CSV (the same bytes as the server's ?format=csv).") var csv = false
    @Option(help: "Collections: day, week or month.") var period: String?
    @Option(help: "Collections: the first day (YYYY-MM-DD).") var from: String?
    @Option(help: "Collections: the last day (YYYY-MM-DD).") var through: String?
    @Option(help: "Pending revenue: all, on-plan or not-on-plan.") var plans: String?
    @OptionGroup var home: HomeOptions

    func run() async throws {
        try await reporting {
            let replica = try home.open()
            let settings = replica.settings
            var options = ReportCatalog.Options(today: try DeviceClock.today(in: settings))
            if let period { guard let value = CollectionPeriod(rawValue: period) else { throw Failure("--period is day, week or month.") }; options.period = value }
            if let plans { guard let value = PlanFilter(rawValue: plans) else { throw Failure("--plans is all, on-plan or not-on-plan.") }; options.plans = value }
            options.from = try from.map(CalendarDate.parse)
            options.through = try through.map(CalendarDate.parse)
            let rendered: ReportCatalog.Rendered
            do {
                let report = try ReportCatalog.name(name)
                // The most asked-for report reads what is kept beside each job, not every job,
                // and its rows are written straight from those bytes.
                if report == .outstandingDraws, !home.json {
                    printDraws(try replica.outstandingDrawsRows(today: options.today), settings: settings, csv: csv)
                    return
                }
                if report == .outstandingDraws {
                    rendered = ReportCatalog.outstandingDraws(try replica.outstandingInstallments(), settings: settings, options)
                } else {
                    rendered = try ReportCatalog.render(report, try replica.view, options)
                }
            } catch let error as ReportError {
                throw Failure(error.message)
            }
            if home.json {
                printBytes(rendered.json, lineEnd: true)
            } else if csv {
                printBytes(rendered.table.csvBytes())
            } else {
                printTable(rendered.table)
            }
        }
    }
}
