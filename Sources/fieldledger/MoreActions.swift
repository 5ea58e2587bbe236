import ArgumentParser
import FieldClient
import Foundation
import LedgerCore
import LedgerReports

/// Performs one action on a job and prints what became of it (shared by the commands below).
func act(_ home: HomeOptions, job reference: String, describing what: String, _ payload: (Job) throws -> ActionPayload) throws {
    let replica = try home.open()
    let job = try resolveJob(reference, in: replica)
    let (action, outcome) = try replica.perform(try payload(job), job: job.id, day: try DeviceClock.today(in: replica.settings), wallMillis: DeviceClock.nowMillis)
    if home.json { return try printJSON(ActionResult(action, outcome)) }
    print("\(what) on \(job.number): \(describe(outcome))")
}

extension Plans {
    struct EditRow: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "edit-row", abstract: "Change an unpaid installment's label or due date.")
        @Argument(help: "The job's number or id.") var job: String
        @Argument(help: "The installment's number, as `plan show` lists it (1 is the first).") var row: Int
        @Option(help: "A new label.") var label: String?
        @Option(help: "A new due date (YYYY-MM-DD).") var due: String?
        @Flag(help: "Remove the due date.") var clearDue = false
        @OptionGroup var home: HomeOptions

        func run() async throws {
            try await reporting {
                guard label != nil || due != nil || clearDue else { throw Failure("Give --label, --due or --clear-due.") }
                guard due == nil || !clearDue else { throw Failure("Give either --due or --clear-due, not both.") }
                try act(home, job: job, describing: "installment \(row)") { job in
                    guard let plan = job.plan, (1...plan.rows.count).contains(row) else {
                        throw Failure("\(job.number) has no installment \(row); `fieldledger plan show \(job.number)` lists them.")
                    }
                    let change: DueDateChange = clearDue ? .clear : try due.map { .set(try CalendarDate.parse($0)) } ?? .keep
                    return .editInstallment(plan.rows[row - 1].id, label: label, dueDate: change)
                }
            }
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel a job's payment plan (what was paid stays paid).")
        @Argument(help: "The job's number or id.") var job: String
        @OptionGroup var home: HomeOptions

        func run() async throws {
            try await reporting { try act(home, job: job, describing: "plan cancelled") { _ in .cancelPlan } }
        }
    }
}

struct Refund: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "refund", abstract: "Refund part or all of a payment.")
    @Argument(help: "The job's number or id.") var job: String
    @Argument(help: "The payment's number, as `job show` lists it.") var payment: Int
    @Argument(help: "The amount to refund.") var amount: String
    @Option(help: "Why.") var reason = ""
    @Flag(help: "Also cancel what remains of the plan.") var cancelPlan = false
    @OptionGroup var home: HomeOptions

    func run() async throws {
        try await reporting {
            try act(home, job: job, describing: "refund of \(amount)") { job in
                return .recordRefund(RefundRequest(paymentID: try Payment.id(payment, in: job), amountMinor: try FieldLedger.amount(amount, job.currency), currency: job.currency,
                                                   reason: reason, cancelsRemainingPlan: cancelPlan))
            }
        }
    }
}

struct Payment: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "payment", abstract: "Settle a pending card or ACH payment, or mark it failed.", subcommands: [Confirm.self, Fail.self])

    struct Confirm: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "confirm", abstract: "The pending payment settled.")
        @Argument(help: "The job's number or id.") var job: String
        @Argument(help: "The payment's number, as `job show` lists it.") var payment: Int
        @OptionGroup var home: HomeOptions

        func run() async throws {
            try await reporting { try act(home, job: job, describing: "payment \(payment) settled") { .confirmPayment(try Payment.id(payment, in: $0)) } }
        }
    }

    struct Fail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "fail", abstract: "The pending payment did not go through.")
        @Argument(help: "The job's number or id.") var job: String
        @Argument(help: "The payment's number, as `job show` lists it.") var payment: Int
        @OptionGroup var home: HomeOptions

        func run() async throws {
            try await reporting { try act(home, job: job, describing: "payment \(payment) failed") { .failPayment(try Payment.id(payment, in: $0)) } }
        }
    }

    /// The payment `job show` lists as number `number` (1 is the first).
    static func id(_ number: Int, in job: Job) throws -> PaymentID {
        guard number >= 1, number <= job.payments.count else {
            throw Failure("\(job.number) has no payment \(number); `fieldledger job show \(job.number)` lists them.")
        }
        return job.payments[number - 1].id
    }
}

struct ChangeOrders: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "change-order", abstract: "Propose, approve or reject a change to a job's price.",
                                                    subcommands: [Propose.self, Approve.self, Reject.self])

    struct Propose: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "propose", abstract: "Propose a change order (a negative amount lowers the price).")
        @Argument(help: "The job's number or id.") var job: String
        @Argument(help: "The amount, for example 350.00 or -120.00.") var amount: String
        @Option(help: "What changes.") var summary: String
        @OptionGroup var home: HomeOptions

        func run() async throws {
            try await reporting {
                try act(home, job: job, describing: "change order") { job in
                    let minor: Int64
                    do {
                        minor = try Money.parse(amount, currency: job.currency, allowNegative: true).amountMinor
                    } catch let error as LedgerError {
                        throw Failure("'\(amount)' is not an amount: \(error.message)")
                    }
                    return .proposeChangeOrder(summary: summary, amountMinor: minor, currency: job.currency)
                }
            }
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "approve", abstract: "Approve a proposed change order (office and owner devices).")
        @Argument(help: "The job's number or id.") var job: String
        @Argument(help: "The change order's number, as `job show` lists it.") var order: Int
        @Option(help: "Why.") var reason = ""
        @OptionGroup var home: HomeOptions

        func run() async throws {
            try await reporting { try act(home, job: job, describing: "change order \(order) approved") { .approveChangeOrder(try ChangeOrders.id(order, in: $0), reason: reason) } }
        }
    }

    struct Reject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "reject", abstract: "Reject a proposed change order (office and owner devices).")
        @Argument(help: "The job's number or id.") var job: String
        @Argument(help: "The change order's number, as `job show` lists it.") var order: Int
        @Option(help: "Why.") var reason = ""
        @OptionGroup var home: HomeOptions

        func run() async throws {
            try await reporting { try act(home, job: job, describing: "change order \(order) rejected") { .rejectChangeOrder(try ChangeOrders.id(order, in: $0), reason: reason) } }
        }
    }

    /// The change order `job show` lists as number `number` (1 is the first).
    static func id(_ number: Int, in job: Job) throws -> ChangeOrderID {
        guard number >= 1, number <= job.changeOrders.count else {
            throw Failure("\(job.number) has no change order \(number); `fieldledger job show \(job.number)` lists them.")
        }
        return job.changeOrders[number - 1].id
    }
}
