import Foundation
import LedgerCore
import SwiftProtobuf

/// Writes actions as the columns of `ActionColumns` and reads them back.
enum ActionColumnsCodec {
    /// Where the dots of the actions come from.
    enum Dots {
        /// A change set: one replica, counters following by one from `first`.
        case consecutive(replica: ReplicaID, first: UInt64)
        /// A pull page: every action's dot is in the dot columns.
        case explicit
    }

    static func encode(_ actions: [Action], tables: inout Interner, withDots: Bool, schema: UInt32) throws(ProtocolError) -> WireActionColumns {
        // Columns are built in local arrays and set once: a generated message's repeated field
        // has only get and set, so appending to it in place copies the whole column each time
        // (measured: most of the cost of a 5,000-entry pull page).
        var dotReplica: [UInt32] = [], dotCounterStep: [UInt64] = [], logical: [UInt32] = [], actor: [UInt32] = []
        var jobReplica: [UInt32] = [], dayDelta: [Int32] = [], seenSequenceDelta: [Int64] = [], paymentCode: [UInt32] = []
        var payloads: [WirePayload] = []
        var firstWall: Int64 = 0, previousWall: Int64 = 0, previousDay = 0
        var wallSteps: [Int64] = [], jobCounters: [Int64] = []
        var payments = PaymentRows(schema: schema)
        var authors: [AuthorState] = [AuthorState()]
        logical.reserveCapacity(actions.count)
        actor.reserveCapacity(actions.count)
        jobReplica.reserveCapacity(actions.count)
        jobCounters.reserveCapacity(actions.count)
        dayDelta.reserveCapacity(actions.count)
        seenSequenceDelta.reserveCapacity(actions.count)
        paymentCode.reserveCapacity(actions.count)
        for action in actions {
            var slot = 0
            if withDots {
                slot = Int(tables.replica(action.dot.replica))
                while authors.count <= slot { authors.append(AuthorState()) }
                guard action.dot.counter > authors[slot].counter else {
                    throw ProtocolError(.invalidValue, "A replica's actions must appear in counter order.")
                }
                dotReplica.append(UInt32(slot))
                dotCounterStep.append(action.dot.counter - authors[slot].counter)
                authors[slot].counter = action.dot.counter
            }
            if logical.isEmpty {
                firstWall = action.hlc.wallMillis
            } else {
                let (step, overflow) = action.hlc.wallMillis.subtractingReportingOverflow(previousWall)
                guard !overflow else { throw ProtocolError(.invalidValue, "An HLC reading is too far from the previous one to encode.") }
                wallSteps.append(step)
            }
            previousWall = action.hlc.wallMillis
            logical.append(action.hlc.logical)
            let actorCode = tables.user(action.actor.user) * 4 + roleCode(action.actor.role)
            actor.append(actorCode == authors[slot].actorCode ? 0 : actorCode + 1)
            authors[slot].actorCode = actorCode
            if let job = action.job {
                guard let counter = Int64(exactly: job.dot.counter), counter > 0 else {
                    throw ProtocolError(.invalidValue, "A job id's counter is outside 1…2^63−1.")
                }
                jobReplica.append(tables.replica(job.dot.replica) + 1)
                jobCounters.append(counter)
            } else {
                jobReplica.append(0)
                jobCounters.append(0)
            }
            let day = action.businessDay.daysSinceEpoch
            dayDelta.append(Int32(day - previousDay))
            previousDay = day
            seenSequenceDelta.append(Int64(bitPattern: action.seenSequence &- authors[slot].seen))
            authors[slot].seen = action.seenSequence
            if case .recordPayment(let request) = action.payload {
                paymentCode.append(try payments.append(request, tables: &tables))
            } else {
                payloads.append(try PayloadCodec.encode(action.payload, tables: &tables, near: schema >= 2 ? action.job : nil))
                paymentCode.append(0)
            }
        }
        var columns = WireActionColumns()
        columns.dotReplica = dotReplica
        columns.dotCounterStep = dotCounterStep
        if !logical.isEmpty { columns.firstWall = firstWall }
        columns.logical = logical
        columns.actor = actor
        columns.jobReplica = jobReplica
        columns.dayDelta = dayDelta
        columns.seenSequenceDelta = seenSequenceDelta
        columns.paymentCode = paymentCode
        columns.payloads = payloads
        // An empty packed column is left unset, as proto3 leaves every empty field.
        if !wallSteps.isEmpty { columns.wallSteps = PackedColumnCodec.encode(wallSteps) }
        if !jobCounters.isEmpty { columns.jobCounter = PackedColumnCodec.encode(jobCounters) }
        payments.write(to: &columns)
        return columns
    }

    static func decode(_ columns: WireActionColumns, tables: Tables, dots: Dots, schema: UInt32) throws(ProtocolError) -> [Action] {
        let count = columns.paymentCode.count
        guard count <= ProtocolLimits.actionsPerMessageMax else {
            throw ProtocolError(.limitExceeded, "A message carries at most \(ProtocolLimits.actionsPerMessageMax) actions.")
        }
        let paymentCount = columns.paymentCode.count { $0 != 0 }
        let perAction = [columns.logical.count, columns.actor.count, columns.jobReplica.count, columns.dayDelta.count,
                         columns.seenSequenceDelta.count, columns.payloads.count + paymentCount]
        guard perAction.allSatisfy({ $0 == count }) else {
            throw ProtocolError(.columnMismatch, "The action columns have different lengths.")
        }
        switch dots {
        case .consecutive:
            guard columns.dotReplica.isEmpty, columns.dotCounterStep.isEmpty else {
                throw ProtocolError(.columnMismatch, "A change set does not carry dot columns; its dots follow from the first counter.")
            }
        case .explicit:
            guard columns.dotReplica.count == count, columns.dotCounterStep.count == count else {
                throw ProtocolError(.columnMismatch, "The dot columns do not match the number of actions.")
            }
        }
        guard count > 0 || columns.firstWall == 0 else {
            throw ProtocolError(.invalidValue, "A message without actions must not give a first clock reading.")
        }
        let wallSteps = try PackedColumnCodec.decode(columns.wallSteps, count: max(0, count - 1))
        let jobCounters = try PackedColumnCodec.decode(columns.jobCounter, count: count)
        var payments = try PaymentRows.Reader(columns, tables: tables, schema: schema)

        // The generated message keeps its fields in shared storage; read each column once.
        let dotReplicas = columns.dotReplica, dotSteps = columns.dotCounterStep, actorColumn = columns.actor
        let jobReplicas = columns.jobReplica, dayDeltas = columns.dayDelta, seenDeltas = columns.seenSequenceDelta
        let logicals = columns.logical, payloads = columns.payloads, paymentCodes = columns.paymentCode
        var payloadAt = 0
        var actions: [Action] = []
        actions.reserveCapacity(count)
        var wall = columns.firstWall, day = 0
        // One slot per interned replica (the table's length bounds it); a change set has one author.
        var authors = [AuthorState](repeating: AuthorState(), count: max(1, tables.replicas.count))
        func nextPayload(job: JobID?) throws(ProtocolError) -> ActionPayload {
            defer { payloadAt += 1 }
            return try PayloadCodec.decode(payloads[payloadAt], tables: tables, near: schema >= 2 ? job : nil)
        }
        for index in 0..<count {
            let dot: Dot
            var slot = 0
            switch dots {
            case .consecutive(let replica, let first):
                let (counter, overflow) = first.addingReportingOverflow(UInt64(index))
                guard !overflow, first > 0 else { throw ProtocolError(.invalidValue, "Action counters start at 1 and must not overflow.") }
                dot = Dot(replica: replica, counter: counter)
            case .explicit:
                let replica = try tables.replica(dotReplicas[index])
                slot = Int(dotReplicas[index])
                let (counter, overflow) = authors[slot].counter.addingReportingOverflow(dotSteps[index])
                guard !overflow, dotSteps[index] > 0 else {
                    throw ProtocolError(.invalidValue, "A replica's counters must increase within a message and not overflow.")
                }
                authors[slot].counter = counter
                dot = Dot(replica: replica, counter: counter)
            }
            if index > 0 {
                let (nextWall, overflow) = wall.addingReportingOverflow(wallSteps[index - 1])
                guard !overflow else { throw ProtocolError(.invalidValue, "An HLC reading overflows.") }
                wall = nextWall
            }
            let actorCode: UInt32
            if actorColumn[index] == 0 {
                guard let previous = authors[slot].actorCode else {
                    throw ProtocolError(.invalidValue, "An actor repeats the previous action's of its replica, but there is none in the message.")
                }
                actorCode = previous
            } else {
                actorCode = actorColumn[index] - 1
                guard actorCode != authors[slot].actorCode else {
                    throw ProtocolError(.invalidValue, "An actor equal to the previous action's of its replica must be written as 0.")
                }
            }
            authors[slot].actorCode = actorCode
            guard let role = role(actorCode % 4) else { throw ProtocolError(.invalidValue, "An actor has an unknown role.") }
            let actor = Actor(user: try tables.user(actorCode / 4), role: role)
            var job: JobID?
            if jobReplicas[index] > 0 {
                guard jobCounters[index] > 0 else { throw ProtocolError(.invalidValue, "A job id's counter must be at least 1.") }
                job = JobID(Dot(replica: try tables.replica(jobReplicas[index] - 1), counter: UInt64(jobCounters[index])))
            } else {
                guard jobCounters[index] == 0 else { throw ProtocolError(.invalidValue, "An action without a job must give 0 as its job counter.") }
            }
            day += Int(dayDeltas[index])
            guard let businessDay = try? CalendarDate(daysSinceEpoch: day) else {
                throw ProtocolError(.invalidValue, "An action's business day is outside the years the ledger accepts.")
            }
            authors[slot].seen = authors[slot].seen &+ UInt64(bitPattern: seenDeltas[index])
            actions.append(Action(dot: dot, hlc: HLCTimestamp(wallMillis: wall, logical: logicals[index]), actor: actor, job: job,
                                  seenSequence: authors[slot].seen, businessDay: businessDay,
                                  payload: try paymentCodes[index] != 0 ? .recordPayment(payments.next(code: paymentCodes[index])) : nextPayload(job: job)))
        }
        return actions
    }

    /// What the columns remember of one author's previous action in the message: its counter,
    /// actor and seen sequence are written relative to it.
    struct AuthorState {
        var counter: UInt64 = 0
        var actorCode: UInt32?
        var seen: UInt64 = 0
    }

    static func roleCode(_ role: Role) -> UInt32 {
        switch role {
        case .technician: 0
        case .office: 1
        case .owner: 2
        }
    }

    static func role(_ code: UInt32) -> Role? {
        switch code {
        case 0: .technician
        case 1: .office
        case 2: .owner
        default: nil
        }
    }
}

/// Writes and reads the payload of each action kind.
enum PayloadCodec {
    /// `job`: the action's job in body schema 2, which references on its replica are written
    /// relative to (nil in schema 1).
    static func encode(_ payload: ActionPayload, tables: inout Interner, near job: JobID?) throws(ProtocolError) -> WirePayload {
        var wire = WirePayload()
        switch payload {
        case .createJob(let number, let customer, let department, let currency, let notes):
            wire.createJob = .with {
                $0.number = number
                $0.customerName = customer.name
                $0.remindersOptOut = customer.remindersOptOut
                if let department { $0.department = department }
                $0.currency = tables.currency(currency)
                $0.notes = notes
            }
        case .updateJobInfo(let update):
            wire.updateJobInfo = .with {
                if let number = update.number { $0.number = number }
                if let name = update.customerName { $0.customerName = name }
                if let optOut = update.remindersOptOut { $0.remindersOptOut = optOut }
                switch update.department {
                case .set(let name)?: $0.department = name
                case .clear?: $0.clearDepartment_p = true
                case nil: break
                }
                if let notes = update.notes { $0.notes = notes }
            }
        case .setInvoice(let number, let baseTotalMinor, let issuedOn):
            wire.setInvoice = .with {
                $0.number = number
                (minor: $0.baseTotalMinor, hundreds: $0.baseTotalHundreds) = AmountCodec.split(baseTotalMinor)
                if let issuedOn { $0.issuedOn = Int32(issuedOn.daysSinceEpoch) }
            }
        case .finalizeInvoice: wire.finalizeInvoice = true
        case .voidInvoice: wire.voidInvoice = true
        case .createPlan(let draft): wire.createPlan = encode(draft, tables: &tables, near: job)
        case .editPlan(let draft): wire.editPlan = encode(draft, tables: &tables, near: job)
        case .cancelPlan: wire.cancelPlan = true
        case .editInstallment(let row, let label, let change):
            wire.editInstallment = .with {
                $0.rowOrigin = tables.ref(row.origin, near: job)
                $0.rowIndex = UInt32(row.index)
                if let label { $0.label = label }
                switch change {
                case .keep: $0.dueDateChange = .keep
                case .set(let date): $0.dueDateChange = .set; $0.dueDate = Int32(date.daysSinceEpoch)
                case .clear: $0.dueDateChange = .clear
                }
            }
        case .recordPayment:
            throw ProtocolError(.invalidValue, "A payment is written in the payment columns, not as a payload.")
        case .confirmPayment(let id): wire.confirmPayment = tables.ref(id.dot, near: job)
        case .failPayment(let id): wire.failPayment = tables.ref(id.dot, near: job)
        case .recordRefund(let request):
            wire.recordRefund = .with {
                $0.payment = tables.ref(request.paymentID.dot, near: job)
                (minor: $0.amountMinor, hundreds: $0.amountHundreds) = AmountCodec.split(request.amountMinor)
                $0.currency = tables.currency(request.currency)
                $0.reason = request.reason
                $0.cancelsRemainingPlan = request.cancelsRemainingPlan
            }
        case .proposeChangeOrder(let summary, let amountMinor, let currency):
            wire.proposeChangeOrder = .with {
                $0.summary = summary
                (minor: $0.amountMinor, hundreds: $0.amountHundreds) = AmountCodec.split(amountMinor)
                $0.currency = tables.currency(currency)
            }
        case .approveChangeOrder(let id, let reason):
            wire.approveChangeOrder = .with { $0.changeOrder = tables.ref(id.dot, near: job); $0.reason = reason }
        case .rejectChangeOrder(let id, let reason):
            wire.rejectChangeOrder = .with { $0.changeOrder = tables.ref(id.dot, near: job); $0.reason = reason }
        case .updateSettings(let settings, let baseVersion):
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            guard let json = try? encoder.encode(settings) else { throw ProtocolError(.invalidValue, "The settings could not be written.") }
            wire.updateSettings = .with { $0.baseVersion = baseVersion; $0.settingsJson = json }
        case .resolveReviewCase(let id, let resolution, let note):
            wire.resolveReviewCase = .with {
                $0.caseOrigin = tables.ref(id.dot, near: job)
                $0.caseIndex = UInt32(id.index)
                $0.resolution = switch resolution {
                case .applyProposed: .applyProposed
                case .keepCurrent: .keepCurrent
                case .acknowledge: .acknowledge
                }
                $0.note = note
            }
        }
        return wire
    }

    static func encode(_ draft: PlanDraft, tables: inout Interner, near job: JobID?) -> WirePlanDraft {
        .with { wire in
            wire.mode = draft.mode == .percentage ? .percentage : .amount
            if let name = draft.templateName { wire.templateName = name }
            wire.rows = draft.rows.map { row in
                .with {
                    $0.label = row.label
                    if let percentage = row.percentage { $0.percentagePpm = percentage.value }
                    if let amount = row.amountMinor {
                        let (minor, hundreds) = AmountCodec.split(amount)
                        if hundreds != 0 { $0.amountHundreds = hundreds } else { $0.amountMinor = minor }
                    }
                    if let date = row.dueDate { $0.dueDate = Int32(date.daysSinceEpoch) }
                    if let id = row.id { $0.idOrigin = tables.ref(id.origin, near: job); $0.idIndex = UInt32(id.index) }
                }
            }
        }
    }

    static func decode(_ wire: WirePayload, tables: Tables, near job: JobID?) throws(ProtocolError) -> ActionPayload {
        switch wire.kind {
        case nil:
            throw ProtocolError(.invalidValue, "An action has no payload, or one this version does not know; update the app.")
        case .createJob(let job)?:
            return .createJob(number: try text(job.number), customer: Customer(name: try text(job.customerName), remindersOptOut: job.remindersOptOut),
                              department: job.hasDepartment ? try text(job.department) : nil, currency: try tables.currency(job.currency),
                              notes: try text(job.notes))
        case .updateJobInfo(let update)?:
            guard !(update.hasDepartment && update.clearDepartment_p) else {
                throw ProtocolError(.invalidValue, "An update both sets and clears the department.")
            }
            return .updateJobInfo(JobInfoUpdate(
                number: update.hasNumber ? try text(update.number) : nil,
                customerName: update.hasCustomerName ? try text(update.customerName) : nil,
                remindersOptOut: update.hasRemindersOptOut ? update.remindersOptOut : nil,
                department: update.hasDepartment ? .set(try text(update.department)) : (update.clearDepartment_p ? .clear : nil),
                notes: update.hasNotes ? try text(update.notes) : nil))
        case .setInvoice(let invoice)?:
            return .setInvoice(number: try text(invoice.number), baseTotalMinor: try AmountCodec.join(invoice.baseTotalMinor, invoice.baseTotalHundreds),
                               issuedOn: invoice.hasIssuedOn ? try date(invoice.issuedOn) : nil)
        case .finalizeInvoice?: return .finalizeInvoice
        case .voidInvoice?: return .voidInvoice
        case .createPlan(let draft)?: return .createPlan(try decode(draft, tables: tables, near: job))
        case .editPlan(let draft)?: return .editPlan(try decode(draft, tables: tables, near: job))
        case .cancelPlan?: return .cancelPlan
        case .editInstallment(let edit)?:
            let change: DueDateChange = switch edit.dueDateChange {
            case .keep: .keep
            case .set: .set(try date(edit.dueDate))
            case .clear: .clear
            case .UNRECOGNIZED: throw ProtocolError(.invalidValue, "An installment edit has an unknown kind of date change.")
            }
            return .editInstallment(InstallmentID(origin: try tables.dot(edit.rowOrigin, near: job), index: Int(edit.rowIndex)),
                                    label: edit.hasLabel ? try text(edit.label) : nil, dueDate: change)
        case .confirmPayment(let ref)?: return .confirmPayment(PaymentID(try tables.dot(ref, near: job)))
        case .failPayment(let ref)?: return .failPayment(PaymentID(try tables.dot(ref, near: job)))
        case .recordRefund(let refund)?:
            return .recordRefund(RefundRequest(paymentID: PaymentID(try tables.dot(refund.payment, near: job)), amountMinor: try AmountCodec.join(refund.amountMinor, refund.amountHundreds),
                                               currency: try tables.currency(refund.currency), reason: try text(refund.reason),
                                               cancelsRemainingPlan: refund.cancelsRemainingPlan))
        case .proposeChangeOrder(let order)?:
            return .proposeChangeOrder(summary: try text(order.summary), amountMinor: try AmountCodec.join(order.amountMinor, order.amountHundreds), currency: try tables.currency(order.currency))
        case .approveChangeOrder(let decision)?:
            return .approveChangeOrder(ChangeOrderID(try tables.dot(decision.changeOrder, near: job)), reason: try text(decision.reason))
        case .rejectChangeOrder(let decision)?:
            return .rejectChangeOrder(ChangeOrderID(try tables.dot(decision.changeOrder, near: job)), reason: try text(decision.reason))
        case .updateSettings(let update)?:
            guard update.settingsJson.count <= ProtocolLimits.settingsBytesMax else {
                throw ProtocolError(.limitExceeded, "The settings document is larger than \(ProtocolLimits.settingsBytesMax) bytes.")
            }
            guard let settings = try? JSONDecoder().decode(CompanySettings.self, from: update.settingsJson) else {
                throw ProtocolError(.invalidValue, "The settings document is not valid settings JSON.")
            }
            return .updateSettings(settings, baseVersion: update.baseVersion)
        case .resolveReviewCase(let resolve)?:
            let resolution: Resolution = switch resolve.resolution {
            case .applyProposed: .applyProposed
            case .keepCurrent: .keepCurrent
            case .acknowledge: .acknowledge
            case .UNRECOGNIZED: throw ProtocolError(.invalidValue, "A resolution is unknown to this version; update the app.")
            }
            return .resolveReviewCase(ReviewCaseID(try tables.dot(resolve.caseOrigin, near: job), index: Int(resolve.caseIndex)), resolution, note: try text(resolve.note))
        }
    }

    static func decode(_ wire: WirePlanDraft, tables: Tables, near job: JobID?) throws(ProtocolError) -> PlanDraft {
        // A plan has at most 12 rows; a few more still decode so the core can say what is wrong.
        guard wire.rows.count <= Limits.planRowsMax * 2 else {
            throw ProtocolError(.limitExceeded, "A plan draft has more than \(Limits.planRowsMax * 2) rows.")
        }
        let mode: PlanMode = switch wire.mode {
        case .percentage: .percentage
        case .amount: .amount
        case .UNRECOGNIZED: throw ProtocolError(.invalidValue, "A plan draft has an unknown mode.")
        }
        var rows: [PlanDraft.Row] = []
        for row in wire.rows {
            var percentage: PartsPerMillion?
            if row.hasPercentagePpm {
                guard let value = try? PartsPerMillion(row.percentagePpm) else { throw ProtocolError(.invalidValue, "A percentage is outside 0–100%.") }
                percentage = value
            }
            var amount: Int64?
            switch (row.hasAmountMinor, row.hasAmountHundreds) {
            case (false, false): amount = nil
            case (true, false): amount = try AmountCodec.join(row.amountMinor, 0)
            case (false, true): amount = try AmountCodec.join(0, row.amountHundreds)
            case (true, true): throw ProtocolError(.invalidValue, "A plan row gives its amount twice; send minor units or hundreds, not both.")
            }
            rows.append(PlanDraft.Row(label: try text(row.label), percentage: percentage, amountMinor: amount,
                                      dueDate: row.hasDueDate ? try date(row.dueDate) : nil,
                                      id: row.hasIDOrigin ? InstallmentID(origin: try tables.dot(row.idOrigin, near: job), index: Int(row.idIndex)) : nil))
        }
        return PlanDraft(mode: mode, rows: rows, templateName: wire.hasTemplateName ? try text(wire.templateName) : nil)
    }

    static func method(_ method: PaymentMethod) -> WirePaymentMethod {
        switch method {
        case .card: .card
        case .cash: .cash
        case .check: .check
        case .ach: .ach
        case .other: .other
        }
    }

    static func method(_ wire: WirePaymentMethod) throws(ProtocolError) -> PaymentMethod {
        switch wire {
        case .card: .card
        case .cash: .cash
        case .check: .check
        case .ach: .ach
        case .other: .other
        case .UNRECOGNIZED: throw ProtocolError(.invalidValue, "A payment method is unknown to this version; update the app.")
        }
    }

    static func text(_ value: String) throws(ProtocolError) -> String {
        guard value.utf8.count <= ProtocolLimits.stringBytesMax else {
            throw ProtocolError(.limitExceeded, "A string is longer than \(ProtocolLimits.stringBytesMax) bytes.")
        }
        return value
    }

    static func date(_ days: Int32) throws(ProtocolError) -> CalendarDate {
        guard let date = try? CalendarDate(daysSinceEpoch: Int(days)) else {
            throw ProtocolError(.invalidValue, "A date is outside the years the ledger accepts.")
        }
        return date
    }
}

/// The two wire forms of an amount (Protocol/README.md §8): hundreds of minor units for a
/// nonzero multiple of 100, which most amounts people type are, else minor units.
enum AmountCodec {
    static func split(_ minor: Int64) -> (minor: Int64, hundreds: Int64) {
        minor != 0 && minor % 100 == 0 ? (0, minor / 100) : (minor, 0)
    }

    /// The amount of a field pair; refuses both forms at once and a multiple of 100 in minor
    /// units, so every amount has one encoding.
    static func join(_ minor: Int64, _ hundreds: Int64) throws(ProtocolError) -> Int64 {
        guard hundreds != 0 else {
            guard minor == 0 || minor % 100 != 0 else {
                throw ProtocolError(.invalidValue, "An amount that is a multiple of 100 minor units must be sent as hundreds.")
            }
            return minor
        }
        guard minor == 0 else { throw ProtocolError(.invalidValue, "An amount is given twice; send minor units or hundreds, not both.") }
        let (value, overflow) = hundreds.multipliedReportingOverflow(by: 100)
        guard !overflow else { throw ProtocolError(.invalidValue, "An amount overflows 64 bits.") }
        return value
    }
}

/// The payment columns of `ActionColumns`: one row per payment, in action order.
///
/// Body schema 1 scales each amount (hundreds × 2, or minor units × 2 + 1); schema 2 writes
/// hundreds or minor units as they are and says which in the payment code (+ 30 for minor
/// units), so the amount column, nearly all hundreds, loses a bit a payment.
struct PaymentRows {
    /// The payment code's flag for an amount in minor units (body schema 2).
    static let minorUnitsCode: UInt32 = 30
    let schema: UInt32
    var amounts: [Int64] = []
    var currencies: [UInt32] = []
    var referenceNumbers: [Int64] = []
    var referenceTexts: [String] = []

    /// Scaled amounts keep a whole number of hundreds small: 1,250.00 is 2,500, 12.34 is 2,469.
    static func scaled(_ amount: Int64) throws(ProtocolError) -> Int64 {
        if amount % 100 == 0 { return amount / 100 * 2 }
        guard let twice = Int64(exactly: Int128(amount) * 2 + 1) else {
            throw ProtocolError(.invalidValue, "A payment amount is too large to encode.")
        }
        return twice
    }

    static func unscaled(_ value: Int64) throws(ProtocolError) -> Int64 {
        let half = value >> 1  // floor, so odd negative values come back exactly
        guard value & 1 == 1 else {
            guard let amount = Int64(exactly: Int128(half) * 100) else { throw ProtocolError(.invalidValue, "A payment amount overflows 64 bits.") }
            return amount
        }
        guard half % 100 != 0 else {
            throw ProtocolError(.invalidValue, "A payment amount that is a multiple of 100 must be sent as hundreds.")
        }
        return half
    }

    /// A reference written as a number: 1 to 18 decimal digits, no leading zero (check numbers).
    static func number(_ reference: String) -> Int64? {
        let digits = reference.utf8
        guard (1...18).contains(digits.count), digits.allSatisfy({ (48...57).contains($0) }), digits.first != 48 || digits.count == 1 else { return nil }
        return Int64(reference)
    }

    init(schema: UInt32) {
        self.schema = schema
    }

    /// Adds a payment's row and returns its payment code (1 + method + 5 × pending + 10 ×
    /// reference form, + 30 for an amount in minor units in schema 2).
    mutating func append(_ request: PaymentRequest, tables: inout Interner) throws(ProtocolError) -> UInt32 {
        var minorUnits: UInt32 = 0
        if schema >= 2 {
            let (minor, hundreds) = AmountCodec.split(request.amountMinor)
            amounts.append(hundreds != 0 || minor == 0 ? hundreds : minor)
            minorUnits = minor != 0 ? Self.minorUnitsCode : 0
        } else {
            amounts.append(try Self.scaled(request.amountMinor))
        }
        currencies.append(tables.currency(request.currency))
        var form: UInt32 = 0
        if let reference = request.reference {
            if let number = Self.number(reference) {
                referenceNumbers.append(number)
                form = 1
            } else {
                referenceTexts.append(reference)
                form = 2
            }
        }
        return 1 + UInt32(PayloadCodec.method(request.method).rawValue) + (request.pending ? 5 : 0) + 10 * form + minorUnits
    }

    func write(to columns: inout WireActionColumns) {
        // An empty packed column is left unset, as proto3 leaves every empty field.
        if !amounts.isEmpty { columns.paymentAmount = PackedColumnCodec.encode(amounts) }
        if !referenceNumbers.isEmpty { columns.paymentReferenceNumber = PackedColumnCodec.encode(referenceNumbers) }
        columns.paymentCurrency = currencies
        columns.paymentReferenceText = referenceTexts
    }

    /// Reads the rows back, after checking every column's length against the payment codes.
    struct Reader {
        private let amounts: [Int64], currencies: [UInt32], numbers: [Int64], texts: [String]
        private let tables: Tables
        private let schema: UInt32
        private var row = 0, number = 0, text = 0

        init(_ columns: WireActionColumns, tables: Tables, schema: UInt32) throws(ProtocolError) {
            var payments = 0, numbers = 0, texts = 0
            let codeMax = schema >= 2 ? 2 * PaymentRows.minorUnitsCode : PaymentRows.minorUnitsCode
            for code in columns.paymentCode where code != 0 {
                guard code <= codeMax else { throw ProtocolError(.invalidValue, "A payment code is unknown to this version; update the app.") }
                payments += 1
                switch (code - 1) % PaymentRows.minorUnitsCode / 10 {
                case 1: numbers += 1
                case 2: texts += 1
                default: break
                }
            }
            guard columns.paymentCurrency.count == payments, columns.paymentReferenceText.count == texts else {
                throw ProtocolError(.columnMismatch, "The payment columns do not match the payment codes.")
            }
            amounts = try PackedColumnCodec.decode(columns.paymentAmount, count: payments)
            self.numbers = try PackedColumnCodec.decode(columns.paymentReferenceNumber, count: numbers)
            guard self.numbers.allSatisfy({ (0...999_999_999_999_999_999).contains($0) }) else {
                throw ProtocolError(.invalidValue, "A numeric payment reference has more than 18 digits or is negative.")
            }
            currencies = columns.paymentCurrency
            self.texts = columns.paymentReferenceText
            self.tables = tables
            self.schema = schema
        }

        mutating func next(code: UInt32) throws(ProtocolError) -> PaymentRequest {
            defer { row += 1 }
            let minorUnits = code - 1 >= PaymentRows.minorUnitsCode
            let flags = (code - 1) % PaymentRows.minorUnitsCode
            guard let method = WirePaymentMethod(rawValue: Int(flags % 5)) else { throw ProtocolError(.invalidValue, "A payment method is unknown.") }
            var reference: String?
            switch flags / 10 {
            case 1:
                reference = String(numbers[number])
                number += 1
            case 2:
                let value = try PayloadCodec.text(texts[text])
                guard PaymentRows.number(value) == nil else {
                    throw ProtocolError(.invalidValue, "A numeric payment reference must be sent as a number.")
                }
                reference = value
                text += 1
            default: break
            }
            guard !minorUnits || amounts[row] != 0 else {
                throw ProtocolError(.invalidValue, "A payment amount of 0 is written as 0 hundreds, without the minor-units flag.")
            }
            let amount = schema >= 2 ? try AmountCodec.join(minorUnits ? amounts[row] : 0, minorUnits ? 0 : amounts[row])
                : try PaymentRows.unscaled(amounts[row])
            return PaymentRequest(amountMinor: amount, currency: try tables.currency(currencies[row]),
                                  method: try PayloadCodec.method(method), reference: reference, pending: flags % 10 >= 5)
        }
    }
}
