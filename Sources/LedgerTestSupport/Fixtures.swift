import LedgerCore

/// Ready-made values for tests: replicas, actors, dates and jobs with invoices.
///
/// Every helper here traps on input it could not build, because a broken fixture is a bug in
/// the test, not a case to handle.
public enum Fixtures {
    /// The technician's device.
    public static let technicianDevice = ReplicaID(high: 0x1111_1111_1111_4111, low: 0x8111_1111_1111_1111)
    /// The office's device.
    public static let officeDevice = ReplicaID(high: 0x2222_2222_2222_4222, low: 0x8222_2222_2222_2222)

    public static let technician = Actor(user: try! UserID("tech-ana"), role: .technician)
    public static let office = Actor(user: try! UserID("office-ben"), role: .office)
    public static let owner = Actor(user: try! UserID("owner-cy"), role: .owner)

    /// A date from "YYYY-MM-DD" (traps on a typo).
    public static func date(_ text: String) -> CalendarDate { try! CalendarDate.parse(text) }

    /// An amount in minor units from text as people write it, in USD.
    public static func cents(_ text: String) -> Int64 { try! Money.parse(text, currency: .usd).amountMinor }

    /// A dot on `replica` with `counter`.
    public static func dot(_ counter: UInt64, on replica: ReplicaID = officeDevice) -> Dot {
        Dot(replica: replica, counter: counter)
    }

    /// A USD job with an open invoice of `total` dated `invoiceDate`.
    public static func job(
        total: String, invoiceDate: String? = "2026-06-01", id: UInt64 = 1, number: String = "J-1001",
        customer: String = "Dana Whitfield", department: String? = "HVAC"
    ) -> Job {
        var job = try! Job(id: JobID(dot(id)), number: number, customer: Customer(name: customer), department: department, currency: .usd)
        try! job.setInvoice(number: "HV-\(2000 + id)", baseTotalMinor: cents(total), issuedOn: invoiceDate.map(date))
        return job
    }

    /// A completed (or `state`) payment of `amount` with id counter `counter`.
    public static func payment(
        _ amount: String, counter: UInt64, method: PaymentMethod = .cash, state: PaymentState = .completed,
        on day: String = "2026-06-02", at millis: Int64? = nil, by actor: Actor = technician, replica: ReplicaID = technicianDevice
    ) -> Payment {
        Payment(id: PaymentID(dot(counter, on: replica)), amountMinor: cents(amount), currency: .usd, method: method, state: state,
                occurredAt: HLCTimestamp(wallMillis: millis ?? Int64(counter) * 1_000), occurredOn: date(day), actor: actor)
    }

    /// A refund of `amount` against `payment` with id counter `counter`.
    public static func refund(
        _ amount: String, of payment: PaymentID, counter: UInt64, cancelsRemainingPlan: Bool = false,
        on day: String = "2026-06-10", by actor: Actor = office
    ) -> Refund {
        Refund(id: RefundID(dot(counter)), paymentID: payment, amountMinor: cents(amount), currency: .usd, reason: "customer request",
               cancelsRemainingPlan: cancelsRemainingPlan, occurredAt: HLCTimestamp(wallMillis: Int64(counter) * 1_000),
               occurredOn: date(day), actor: actor)
    }

    /// A draft of rows by amount; `nil` amounts take the remainder.
    public static func amountDraft(_ rows: [(String, String?)], dueDates: [String?] = []) -> PlanDraft {
        PlanDraft(mode: .amount, rows: rows.enumerated().map { index, row in
            PlanDraft.Row(label: row.0, amountMinor: row.1.map(cents),
                          dueDate: index < dueDates.count ? dueDates[index].map(date) : nil)
        })
    }
}
