/// Turns any `Encodable` value of the ledger into canonical bytes for digests and storage.
///
/// The format is for hashing and comparing, not for the wire: every value carries a type tag,
/// strings and containers a length, and keyed values their key's name, so two different
/// values never give the same bytes. Keyed fields come in the order the type encodes them
/// (declaration order for synthesized conformances), which is the same in every process.
/// Types whose encoding would depend on hash order (dictionaries, sets) must encode themselves
/// as sorted arrays; floating point is refused. `CanonicalEncoding.decode` reads it back.
///
/// Tags: 0 null, 1 bool, 2 signed (zigzag varint), 3 unsigned (varint), 4 string (length,
/// UTF-8), 5 keyed (count, then key string and value for each), 6 list (count, values).
public enum CanonicalEncoding {
    /// The canonical bytes of `value`.
    public static func bytes<T: Encodable>(of value: T) -> [UInt8] {
        let root = Frame(tag: nil)
        root.bytes.reserveCapacity(256)
        do {
            try root.write(value, codingPath: [])
        } catch {
            preconditionFailure("canonical encoding failed: \(error)")
        }
        // Values written by hand have no nested frames: their bytes are the answer as they are.
        if root.splices.isEmpty { return root.bytes }
        var out: [UInt8] = []
        out.reserveCapacity(root.size)
        root.assemble(into: &out)
        return out
    }

    /// The SHA-256 of the canonical bytes of `value`.
    public static func digest<T: Encodable>(of value: T) -> [UInt8] { SHA256.hash(bytes(of: value)) }

    /// The canonical bytes of a log entry made from its action's canonical bytes, so that a
    /// server that already digested the action does not encode it again. The same bytes as
    /// `bytes(of: LogEntry(...))` (a test holds them equal).
    public static func entryBytes(sequence: UInt64, actionBytes: [UInt8], outcome: Outcome) -> [UInt8] {
        entryBytes(sequence: sequence, actionBytes: actionBytes, outcomeBytes: bytes(of: outcome))
    }

    /// The same from the outcome's canonical bytes too, which the server also hashes into the
    /// log digest (`LogDigest.next`), so it encodes them once.
    public static func entryBytes(sequence: UInt64, actionBytes: [UInt8], outcomeBytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [5]
        out.reserveCapacity(actionBytes.count + outcomeBytes.count + 32)
        writeVarint(3, to: &out)
        writeKey("sequence", to: &out)
        out.append(3)
        writeVarint(sequence, to: &out)
        writeKey("action", to: &out)
        out.append(contentsOf: actionBytes)
        writeKey("outcome", to: &out)
        out.append(contentsOf: outcomeBytes)
        return out
    }
}

struct CanonicalEncodingError: Error {
    let message: String
}

/// The bytes of one container (or of the root value) as they are written. A container's
/// count is known only at the end, so nested containers are kept as frames spliced in at
/// the offset where they began, and `assemble` writes each with its tag and count then.
final class Frame {
    let tag: UInt8?
    var count = 0
    var bytes: [UInt8] = []
    var splices: [(offset: Int, frame: Frame)] = []

    init(tag: UInt8?) {
        self.tag = tag
    }

    /// Opens a nested container here.
    func child(tag: UInt8) -> Frame {
        let frame = Frame(tag: tag)
        splices.append((bytes.count, frame))
        return frame
    }

    var size: Int { bytes.count + 10 + splices.reduce(0) { $0 + $1.frame.size } }

    func assemble(into out: inout [UInt8]) {
        if let tag {
            out.append(tag)
            writeVarint(UInt64(count), to: &out)
        }
        var from = 0
        for (offset, frame) in splices {
            out.append(contentsOf: bytes[from..<offset])
            frame.assemble(into: &out)
            from = offset
        }
        out.append(contentsOf: bytes[from...])
    }

    func key(_ key: some CodingKey) {
        count += 1
        writeString(key.stringValue, to: &bytes)
    }

    func null() { bytes.append(0) }
    func bool(_ value: Bool) { bytes.append(1); bytes.append(value ? 1 : 0) }
    func int(_ value: Int64) { bytes.append(2); writeVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)), to: &bytes) }
    func uint(_ value: UInt64) { bytes.append(3); writeVarint(value, to: &bytes) }
    func string(_ value: String) { bytes.append(4); writeString(value, to: &bytes) }

    /// Writes one value: numbers and strings directly, anything else through its `encode(to:)`.
    /// Types are told apart by comparing metadata, which is much cheaper than a dynamic cast.
    func write<T: Encodable>(_ value: T, codingPath: [any CodingKey]) throws {
        if T.self == String.self {
            string(unsafeBitCast(value, to: String.self))
        } else if T.self == UInt64.self {
            uint(unsafeBitCast(value, to: UInt64.self))
        } else if T.self == Int64.self {
            int(unsafeBitCast(value, to: Int64.self))
        } else if T.self == Int.self {
            int(Int64(unsafeBitCast(value, to: Int.self)))
        } else if T.self == Bool.self {
            bool(unsafeBitCast(value, to: Bool.self))
        } else if T.self == Int32.self {
            int(Int64(unsafeBitCast(value, to: Int32.self)))
        } else if T.self == UInt32.self {
            uint(UInt64(unsafeBitCast(value, to: UInt32.self)))
        } else if T.self == UInt.self {
            uint(UInt64(unsafeBitCast(value, to: UInt.self)))
        } else if T.self == Double.self || T.self == Float.self {
            throw CanonicalEncodingError(message: "floating point has no canonical form here")
        } else if try !writeSmall(value, codingPath: codingPath) {
            let encoder = ValueEncoder(frame: self, codingPath: codingPath)
            try value.encode(to: encoder)
            // A value that wrote nothing is null, as a value that encodes nil.
            if !encoder.wrote { null() }
        }
    }

    /// The small types found everywhere in actions and jobs, written straight into the frame:
    /// the bytes their synthesized conformances give through the generic path (the reference
    /// test holds them equal), without the Codable machinery, which for values this small
    /// costs far more than the bytes. False for any other type.
    private func writeSmall<T: Encodable>(_ value: T, codingPath: [any CodingKey]) throws -> Bool {
        if T.self == Dot.self {
            hand { $0.dot(unsafeBitCast(value, to: Dot.self)) }
        } else if T.self == JobID.self {
            hand { $0.dotIdentifier(unsafeBitCast(value, to: JobID.self).dot) }
        } else if T.self == PaymentID.self {
            hand { $0.dotIdentifier(unsafeBitCast(value, to: PaymentID.self).dot) }
        } else if T.self == PlanID.self {
            hand { $0.dotIdentifier(unsafeBitCast(value, to: PlanID.self).dot) }
        } else if T.self == RefundID.self {
            hand { $0.dotIdentifier(unsafeBitCast(value, to: RefundID.self).dot) }
        } else if T.self == ChangeOrderID.self {
            hand { $0.dotIdentifier(unsafeBitCast(value, to: ChangeOrderID.self).dot) }
        } else if T.self == ReplicaID.self {
            hand { $0.replica(unsafeBitCast(value, to: ReplicaID.self)) }
        } else if T.self == HLCTimestamp.self {
            hand { $0.hlc(unsafeBitCast(value, to: HLCTimestamp.self)) }
        } else if T.self == Actor.self {
            hand { $0.actor(unsafeBitCast(value, to: Actor.self)) }
        } else if T.self == Action.self {
            try hand { try $0.action(unsafeBitCast(value, to: Action.self), codingPath: codingPath) }
        } else if T.self == Job.self {
            try hand { try $0.job(unsafeBitCast(value, to: Job.self), codingPath: codingPath) }
        } else if T.self == CalendarDate.self {
            string(unsafeBitCast(value, to: CalendarDate.self).iso)
        } else if T.self == Currency.self {
            string(unsafeBitCast(value, to: Currency.self).code)
        } else if T.self == ReviewCaseID.self {
            hand { $0.reviewCaseID(unsafeBitCast(value, to: ReviewCaseID.self)) }
        } else if T.self == ActionPayload.self {
            // A review case keeps the payload it refused; settings and job-info updates go through
            // their own conformance (the hand-written payload hands them back to this frame).
            let payload = unsafeBitCast(value, to: ActionPayload.self)
            if payload.kind == .updateJobInfo || payload.kind == .updateSettings { return false }
            try hand { try $0.payload(payload, codingPath: codingPath) }
        } else if T.self == Outcome.self {
            hand { $0.outcome(unsafeBitCast(value, to: Outcome.self)) }
        } else if T.self == InstallmentID.self {
            hand { $0.installmentID(unsafeBitCast(value, to: InstallmentID.self)) }
        } else {
            return false
        }
        return true
    }

    private func hand<R>(_ body: (inout HandWriter) throws -> R) rethrows -> R {
        var writer = HandWriter(frame: self)
        swap(&writer.bytes, &bytes)
        defer { swap(&writer.bytes, &bytes) }
        return try body(&writer)
    }

}

/// The hand-written parts of the canonical encoder, writing into a frame's bytes taken out of it
/// for the while: appending to a class's stored array checks exclusive access at run time on
/// every byte written, which was a third of the cost of encoding an action.
struct HandWriter {
    var bytes: [UInt8] = []
    unowned let frame: Frame
    /// The last plan written from behind its reference, and its bytes: a job's cases hold the
    /// job's own plan (decision 0035), dozens of times over, and its bytes were a third of a
    /// job's (session 22), so each later copy is a copy of bytes, not an encoding.
    private var lastPlan: (held: Held<Plan>, bytes: [UInt8])?

    init(frame: Frame) {
        self.frame = frame
    }

    mutating func null() { bytes.append(0) }
    mutating func bool(_ value: Bool) { bytes.append(1); bytes.append(value ? 1 : 0) }
    mutating func int(_ value: Int64) { bytes.append(2); writeVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)), to: &bytes) }
    mutating func uint(_ value: UInt64) { bytes.append(3); writeVarint(value, to: &bytes) }
    mutating func string(_ value: String) { bytes.append(4); writeString(value, to: &bytes) }

    /// A value through the generic path: the bytes go back into the frame while it writes (it
    /// may open nested frames at its current length), then come out again.
    mutating func write<T: Encodable>(_ value: T, codingPath: [any CodingKey]) throws {
        swap(&bytes, &frame.bytes)
        defer { swap(&bytes, &frame.bytes) }
        try frame.write(value, codingPath: codingPath)
    }

    /// The head of a keyed value whose field count is known before its fields.
    mutating func keyed(_ count: UInt64) {
        bytes.append(5)
        writeVarint(count, to: &bytes)
    }

    mutating func dot(_ dot: Dot) {
        keyed(2)
        writeKey("replica", to: &bytes)
        replica(dot.replica)
        writeKey("counter", to: &bytes)
        uint(dot.counter)
    }

    mutating func hlc(_ reading: HLCTimestamp) {
        keyed(2)
        writeKey("wallMillis", to: &bytes)
        int(reading.wallMillis)
        writeKey("logical", to: &bytes)
        uint(UInt64(reading.logical))
    }

    mutating func actor(_ actor: Actor) {
        keyed(2)
        writeKey("user", to: &bytes)
        keyed(1)
        writeKey("rawValue", to: &bytes)
        string(actor.user.rawValue)
        writeKey("role", to: &bytes)
        string(actor.role.rawValue)
    }

    /// Every action the server logs is encoded once on arrival; a payment (most of them) is
    /// written here entirely, other payloads through the generic path. `job` is left out
    /// when nil, as the synthesized conformance does.
    mutating func action(_ action: Action, codingPath: [any CodingKey]) throws {
        keyed(action.job == nil ? 6 : 7)
        writeKey("dot", to: &bytes)
        dot(action.dot)
        writeKey("hlc", to: &bytes)
        hlc(action.hlc)
        writeKey("actor", to: &bytes)
        actor(action.actor)
        if let job = action.job {
            writeKey("job", to: &bytes)
            dotIdentifier(job.dot)
        }
        writeKey("seenSequence", to: &bytes)
        uint(action.seenSequence)
        writeKey("businessDay", to: &bytes)
        date(action.businessDay)
        writeKey("payload", to: &bytes)
        try payload(action.payload, codingPath: codingPath)
    }

    /// A payload as the synthesized conformance writes an enum: the case's name, then its
    /// values keyed by their labels (`_0` when unlabeled), nil optionals left out. Settings and
    /// job-info updates (rare, and nested deepest) go through the generic path.
    mutating func payload(_ payload: ActionPayload, codingPath: [any CodingKey]) throws {
        func named(_ name: StaticString, _ count: UInt64) {
            keyed(1)
            field(name)
            keyed(count)
        }
        switch payload {
        case .createJob(let number, let customer, let department, let currency, let notes):
            named("createJob", department == nil ? 4 : 5)
            field("number")
            string(number)
            field("customer")
            keyed(2)
            field("name")
            string(customer.name)
            field("remindersOptOut")
            bool(customer.remindersOptOut)
            if let department {
                field("department")
                string(department)
            }
            field("currency")
            string(currency.code)
            field("notes")
            string(notes)
        case .setInvoice(let number, let total, let issuedOn):
            named("setInvoice", issuedOn == nil ? 2 : 3)
            field("number")
            string(number)
            field("baseTotalMinor")
            int(total)
            if let issuedOn {
                field("issuedOn")
                date(issuedOn)
            }
        case .finalizeInvoice: named("finalizeInvoice", 0)
        case .voidInvoice: named("voidInvoice", 0)
        case .cancelPlan: named("cancelPlan", 0)
        case .createPlan(let draft), .editPlan(let draft):
            named(payload.kind == .createPlan ? "createPlan" : "editPlan", 1)
            field("_0")
            self.draft(draft)
        case .editInstallment(let id, let label, let due):
            named("editInstallment", label == nil ? 2 : 3)
            field("_0")
            installmentID(id)
            if let label {
                field("label")
                string(label)
            }
            field("dueDate")
            switch due {
            case .keep: named("keep", 0)
            case .clear: named("clear", 0)
            case .set(let day):
                named("set", 1)
                field("_0")
                date(day)
            }
        case .recordPayment(let payment):
            named("recordPayment", 1)
            field("_0")
            keyed(payment.reference == nil ? 4 : 5)
            money(payment.amountMinor, payment.currency, payment.method, reference: payment.reference)
            field("pending")
            bool(payment.pending)
        case .confirmPayment(let id), .failPayment(let id):
            named(payload.kind == .confirmPayment ? "confirmPayment" : "failPayment", 1)
            field("_0")
            dotIdentifier(id.dot)
        case .recordRefund(let refund):
            named("recordRefund", 1)
            field("_0")
            keyed(5)
            field("paymentID")
            dotIdentifier(refund.paymentID.dot)
            field("amountMinor")
            int(refund.amountMinor)
            field("currency")
            string(refund.currency.code)
            field("reason")
            string(refund.reason)
            field("cancelsRemainingPlan")
            bool(refund.cancelsRemainingPlan)
        case .proposeChangeOrder(let summary, let amount, let currency):
            named("proposeChangeOrder", 3)
            field("summary")
            string(summary)
            field("amountMinor")
            int(amount)
            field("currency")
            string(currency.code)
        case .approveChangeOrder(let id, let reason), .rejectChangeOrder(let id, let reason):
            named(payload.kind == .approveChangeOrder ? "approveChangeOrder" : "rejectChangeOrder", 2)
            field("_0")
            dotIdentifier(id.dot)
            field("reason")
            string(reason)
        case .resolveReviewCase(let id, let resolution, let note):
            named("resolveReviewCase", 3)
            field("_0")
            reviewCaseID(id)
            field("_1")
            string(resolution.rawValue)
            field("note")
            string(note)
        case .updateJobInfo, .updateSettings:
            try write(payload, codingPath: codingPath)
        }
    }

    mutating func installmentID(_ id: InstallmentID) {
        keyed(2)
        field("origin")
        dot(id.origin)
        field("index")
        int(Int64(id.index))
    }

    mutating func draft(_ draft: PlanDraft) {
        keyed(draft.templateName == nil ? 2 : 3)
        field("mode")
        string(draft.mode.rawValue)
        field("rows")
        list(draft.rows.count)
        for row in draft.rows {
            keyed(1 + (row.percentage == nil ? 0 : 1) + (row.amountMinor == nil ? 0 : 1) + (row.dueDate == nil ? 0 : 1) + (row.id == nil ? 0 : 1))
            field("label")
            string(row.label)
            if let percentage = row.percentage {
                field("percentage")
                keyed(1)
                field("value")
                int(percentage.value)
            }
            if let amount = row.amountMinor {
                field("amountMinor")
                int(amount)
            }
            if let due = row.dueDate {
                field("dueDate")
                date(due)
            }
            if let id = row.id {
                field("id")
                installmentID(id)
            }
        }
        if let name = draft.templateName {
            field("templateName")
            string(name)
        }
    }

    /// A replica id as its canonical text (the string a `ReplicaID` encodes), made in a buffer on
    /// the stack and appended at once: a dot names one, a job's digest hundreds, and appending
    /// its 38 bytes one at a time checked the array each time.
    mutating func replica(_ replica: ReplicaID) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 38) { text in
            let digits = hexDigits.utf8Start
            // The UUID's groups: 8, 4 and 4 digits of the high word, then 4 and 12 of the low.
            func group(_ word: UInt64, from first: Int, count: Int, at start: Int) {
                for index in 0..<count {
                    text[start + index] = digits[Int(truncatingIfNeeded: word >> UInt64(60 - 4 * (first + index)) & 0xF)]
                }
            }
            text[0] = 4
            text[1] = 36
            group(replica.high, from: 0, count: 8, at: 2)
            text[10] = UInt8(ascii: "-")
            group(replica.high, from: 8, count: 4, at: 11)
            text[15] = UInt8(ascii: "-")
            group(replica.high, from: 12, count: 4, at: 16)
            text[20] = UInt8(ascii: "-")
            group(replica.low, from: 0, count: 4, at: 21)
            text[25] = UInt8(ascii: "-")
            group(replica.low, from: 4, count: 12, at: 26)
            bytes.append(contentsOf: text)
        }
    }

    mutating func list(_ count: Int) {
        bytes.append(6)
        writeVarint(UInt64(count), to: &bytes)
    }

    mutating func field(_ name: StaticString) { writeKey(name, to: &bytes) }

    /// A date as its `iso` string, written straight from its digits (no `String` made).
    mutating func date(_ date: CalendarDate) {
        bytes.append(4)
        writeVarint(UInt64(CalendarDate.isoLength), to: &bytes)
        date.appendISO(to: &bytes)
    }

    /// A job, for its digest (every checkpoint names the jobs its page touched, and both the
    /// server and the device digest each): its common parts by hand in the order the synthesized
    /// conformances write them, nil optionals left out as they leave them out; refunds, change
    /// orders through the generic path. The reference test holds the bytes equal.
    mutating func job(_ job: Job, codingPath: [any CodingKey]) throws {
        keyed(10 + (job.department == nil ? 0 : 1) + (job.invoice == nil ? 0 : 1) + (job.plan == nil ? 0 : 1))
        field("id")
        dotIdentifier(job.id.dot)
        field("number")
        string(job.number)
        field("customer")
        keyed(2)
        field("name")
        string(job.customer.name)
        field("remindersOptOut")
        bool(job.customer.remindersOptOut)
        if let department = job.department {
            field("department")
            string(department)
        }
        field("currency")
        string(job.currency.code)
        field("notes")
        string(job.notes)
        if let invoice = job.invoice {
            field("invoice")
            keyed(2 + (invoice.issuedOn == nil ? 0 : 1) + (invoice.finalizedOn == nil ? 0 : 1) + (invoice.voidedOn == nil ? 0 : 1))
            field("number")
            string(invoice.number)
            field("baseTotalMinor")
            int(invoice.baseTotalMinor)
            if let day = invoice.issuedOn { field("issuedOn"); date(day) }
            if let day = invoice.finalizedOn { field("finalizedOn"); date(day) }
            if let day = invoice.voidedOn { field("voidedOn"); date(day) }
        }
        if let held = job.planHeld {
            field("plan")
            plan(held)
        }
        field("previousPlans")
        list(job.previousPlans.count)
        for plan in job.previousPlans { self.plan(plan) }
        field("payments")
        list(job.payments.count)
        for payment in job.payments { self.payment(payment) }
        field("refunds")
        try write(job.refunds, codingPath: codingPath)
        field("changeOrders")
        try write(job.changeOrders, codingPath: codingPath)
        field("sync")
        try sync(job.sync, codingPath: codingPath)
    }

    /// A plan behind its reference: written once, then copied while the reference is the same.
    mutating func plan(_ held: Held<Plan>) {
        if let last = lastPlan, last.held === held {
            bytes.append(contentsOf: last.bytes)
            return
        }
        let start = bytes.count
        plan(held.value)
        lastPlan = (held, Array(bytes[start...]))
    }

    mutating func plan(_ plan: Plan) {
        keyed(8 + (plan.templateName == nil ? 0 : 1) + (plan.cancellation == nil ? 0 : 1))
        field("id")
        dotIdentifier(plan.id.dot)
        field("mode")
        string(plan.mode.rawValue)
        if let name = plan.templateName {
            field("templateName")
            string(name)
        }
        field("targetMinor")
        int(plan.targetMinor)
        field("rows")
        list(plan.rows.count)
        for row in plan.rows {
            keyed(4 + (row.percentage == nil ? 0 : 1) + (row.dueDate == nil ? 0 : 1))
            field("id")
            keyed(2)
            field("origin")
            dot(row.id.origin)
            field("index")
            int(Int64(row.id.index))
            field("label")
            string(row.label)
            field("amountMinor")
            int(row.amountMinor)
            if let percentage = row.percentage {
                field("percentage")
                keyed(1)
                field("value")
                int(percentage.value)
            }
            if let due = row.dueDate {
                field("dueDate")
                date(due)
            }
            field("dueDateIsDefault")
            bool(row.dueDateIsDefault)
        }
        field("savedOn")
        date(plan.savedOn)
        field("invoiceTotalAtSnapshotMinor")
        int(plan.invoiceTotalAtSnapshotMinor)
        field("baselinePaidMinor")
        int(plan.baselinePaidMinor)
        if let cancellation = plan.cancellation {
            field("cancellation")
            keyed(3)
            field("on")
            date(cancellation.on)
            field("by")
            actor(cancellation.by)
            field("poolCapMinor")
            int(cancellation.poolCapMinor)
        }
        field("revision")
        int(Int64(plan.revision))
    }

    /// The fields a payment request and a recorded payment share, in the order both declare them.
    mutating func money(_ amount: Int64, _ currency: Currency, _ method: PaymentMethod, reference: String?) {
        field("amountMinor")
        int(amount)
        field("currency")
        string(currency.code)
        field("method")
        string(method.rawValue)
        if let reference {
            field("reference")
            string(reference)
        }
    }

    mutating func payment(_ payment: Payment) {
        keyed(payment.reference == nil ? 8 : 9)
        field("id")
        dotIdentifier(payment.id.dot)
        money(payment.amountMinor, payment.currency, payment.method, reference: payment.reference)
        field("state")
        string(payment.state.rawValue)
        field("occurredAt")
        hlc(payment.occurredAt)
        field("occurredOn")
        date(payment.occurredOn)
        field("actor")
        actor(payment.actor)
    }

    mutating func sync(_ sync: JobSyncState, codingPath: [any CodingKey]) throws {
        keyed(7 + (sync.lastPlanChange == nil ? 0 : 1) + (sync.lastPayment == nil ? 0 : 1))
        field("versionVector")
        keyed(1)
        field("entries")
        list(sync.versionVector.entries.count)
        for entry in sync.versionVector.entries {
            keyed(2)
            field("replica")
            replica(entry.replica)
            field("counter")
            uint(entry.counter)
        }
        // A function, not a loop over a two-element array made for each job's digest.
        func changeMarks(_ name: StaticString, _ marks: ChangeMarks) {
            field(name)
            keyed(1)
            field("marks")
            list(marks.marks.count)
            for mark in marks.marks {
                keyed(2)
                field("replica")
                replica(mark.replica)
                field("sequence")
                uint(mark.sequence)
            }
        }
        changeMarks("paymentMarks", sync.paymentMarks)
        changeMarks("planMarks", sync.planMarks)
        if let summary = sync.lastPlanChange {
            field("lastPlanChange")
            self.summary(summary)
        }
        if let summary = sync.lastPayment {
            field("lastPayment")
            self.summary(summary)
        }
        field("dots")
        list(sync.dots.count)
        for dot in sync.dots { self.dot(dot) }
        field("fieldStamps")
        let stamps = sync.fieldStamps  // made afresh on each read (decision 0034)
        list(stamps.count)
        for stamp in stamps {
            guard let stamp else {
                null()
                continue
            }
            keyed(2)
            field("hlc")
            hlc(stamp.hlc)
            field("dot")
            dot(stamp.dot)
        }
        field("superseded")
        list(sync.superseded.count)
        for value in sync.superseded {
            keyed(3)
            field("field")
            string(value.field.rawValue)
            field("value")
            string(value.value)
            field("stamp")
            keyed(2)
            field("hlc")
            hlc(value.stamp.hlc)
            field("dot")
            dot(value.stamp.dot)
        }
        field("reviewCases")
        list(sync.reviewCases.count)
        for reviewCase in sync.reviewCases { try self.reviewCase(reviewCase, codingPath: codingPath) }
    }

    /// A review case as `ReviewCase.encode(to:)` writes it. A busy week raises a case on about
    /// one action in four, and a job keeps every case with the plan and payload it held, so
    /// through the generic path cases were most of the cost of a job's digest.
    mutating func reviewCase(_ reviewCase: ReviewCase, codingPath: [any CodingKey]) throws {
        func present(_ value: (some Any)?) -> UInt64 { value == nil ? 0 : 1 }
        keyed(5 + present(reviewCase.job) + present(reviewCase.otherSide) + present(reviewCase.proposed) + present(reviewCase.currentPlan)
            + present(reviewCase.payment) + present(reviewCase.reason) + present(reviewCase.decision))
        field("id")
        reviewCaseID(reviewCase.id)
        field("kind")
        string(reviewCase.kind.rawValue)
        if let job = reviewCase.job {
            field("job")
            dotIdentifier(job.dot)
        }
        field("raisedBy")
        summary(reviewCase.raisedBy)
        if let otherSide = reviewCase.otherSide {
            field("otherSide")
            summary(otherSide)
        }
        if let proposed = reviewCase.proposed {
            field("proposed")
            try write(proposed, codingPath: codingPath)
        }
        if let held = reviewCase.heldPlan {
            field("currentPlan")
            plan(held)
        }
        field("amountMinor")
        int(reviewCase.amountMinor)
        if let payment = reviewCase.payment {
            field("payment")
            dotIdentifier(payment.dot)
        }
        if let reason = reviewCase.reason {
            field("reason")
            keyed(2)
            field("code")
            string(reason.code.rawValue)
            field("message")
            string(reason.message)
        }
        field("suggestedResolutions")
        list(reviewCase.suggestedResolutions.count)
        for resolution in reviewCase.suggestedResolutions { string(resolution.rawValue) }
        if let decision = reviewCase.decision {
            field("decision")
            keyed(3)
            field("resolution")
            string(decision.resolution.rawValue)
            field("by")
            summary(decision.by)
            field("note")
            string(decision.note)
        }
    }

    mutating func summary(_ summary: ActionSummary) {
        keyed(4)
        field("dot")
        dot(summary.dot)
        field("actor")
        actor(summary.actor)
        field("hlc")
        hlc(summary.hlc)
        field("kind")
        string(summary.kind.rawValue)
    }

    mutating func reviewCaseID(_ id: ReviewCaseID) {
        keyed(2)
        writeKey("dot", to: &bytes)
        dot(id.dot)
        writeKey("index", to: &bytes)
        int(Int64(id.index))
    }

    /// Every outcome, as the synthesized conformance writes an enum: the case's name, then its
    /// values keyed `_0` (a rejection's error as `LedgerError.encode` writes it). Rejections
    /// are common in a backlog (every stale edit), so they are written here too.
    mutating func outcome(_ outcome: Outcome) {
        let name: StaticString, id: ReviewCaseID?
        switch outcome {
        case .applied: (name, id) = ("applied", nil)
        case .exists: (name, id) = ("exists", nil)
        case .appliedWithException(let raised): (name, id) = ("appliedWithException", raised)
        case .parkedForReview(let raised): (name, id) = ("parkedForReview", raised)
        case .rejected(let error):
            keyed(1)
            writeKey("rejected", to: &bytes)
            keyed(1)
            writeKey("_0", to: &bytes)
            keyed(2)
            writeKey("code", to: &bytes)
            string(error.code.rawValue)
            writeKey("message", to: &bytes)
            string(error.message)
            return
        }
        keyed(1)
        writeKey(name, to: &bytes)
        if let id {
            keyed(1)
            writeKey("_0", to: &bytes)
            reviewCaseID(id)
        } else {
            keyed(0)
        }
    }

    mutating func dotIdentifier(_ dot: Dot) {
        keyed(1)
        writeKey("dot", to: &bytes)
        self.dot(dot)
    }
}

/// The encoder of one value, writing into its parent's frame.
final class ValueEncoder: Encoder {
    let frame: Frame
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    /// The container this value opened; asking again gives the same one.
    private var container: Frame?
    var wrote = false

    init(frame: Frame, codingPath: [any CodingKey]) {
        self.frame = frame
        self.codingPath = codingPath
    }

    private func open(tag: UInt8) -> Frame {
        if let container, container.tag == tag { return container }
        wrote = true
        let opened = frame.child(tag: tag)
        container = opened
        return opened
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(KeyedWriter(frame: open(tag: 5), codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer { ListWriter(frame: open(tag: 6), codingPath: codingPath) }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleWriter(encoder: self) }
}

struct KeyedWriter<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let frame: Frame
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws { frame.key(key); frame.null() }
    mutating func encode(_ value: String, forKey key: Key) throws { frame.key(key); frame.string(value) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { frame.key(key); frame.bool(value) }
    mutating func encode(_ value: Int, forKey key: Key) throws { frame.key(key); frame.int(Int64(value)) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { frame.key(key); frame.int(value) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { frame.key(key); frame.uint(value) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        frame.key(key)
        try frame.write(value, codingPath: codingPath)
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        frame.key(key)
        return KeyedEncodingContainer(KeyedWriter<NestedKey>(frame: frame.child(tag: 5), codingPath: codingPath + [key]))
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        frame.key(key)
        return ListWriter(frame: frame.child(tag: 6), codingPath: codingPath + [key])
    }
    /// The value must be written through the encoder before anything else is (none of the
    /// ledger's types uses super encoders).
    mutating func superEncoder() -> any Encoder {
        frame.count += 1
        writeKey("super", to: &frame.bytes)
        return ValueEncoder(frame: frame, codingPath: codingPath)
    }
    mutating func superEncoder(forKey key: Key) -> any Encoder {
        frame.key(key)
        return ValueEncoder(frame: frame, codingPath: codingPath + [key])
    }
}

struct ListWriter: UnkeyedEncodingContainer {
    let frame: Frame
    let codingPath: [any CodingKey]
    var count: Int { frame.count }

    mutating func encodeNil() throws { frame.count += 1; frame.null() }
    mutating func encode(_ value: String) throws { frame.count += 1; frame.string(value) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        frame.count += 1
        try frame.write(value, codingPath: codingPath)
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        frame.count += 1
        return KeyedEncodingContainer(KeyedWriter<NestedKey>(frame: frame.child(tag: 5), codingPath: codingPath))
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        frame.count += 1
        return ListWriter(frame: frame.child(tag: 6), codingPath: codingPath)
    }
    mutating func superEncoder() -> any Encoder {
        frame.count += 1
        return ValueEncoder(frame: frame, codingPath: codingPath)
    }
}

struct SingleWriter: SingleValueEncodingContainer {
    let encoder: ValueEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    mutating func encodeNil() throws { encoder.wrote = true; encoder.frame.null() }
    mutating func encode(_ value: String) throws { encoder.wrote = true; encoder.frame.string(value) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        encoder.wrote = true
        try encoder.frame.write(value, codingPath: encoder.codingPath)
    }
}

private func writeVarint(_ value: UInt64, to out: inout [UInt8]) {
    var rest = value
    while rest >= 0x80 {
        out.append(UInt8(truncatingIfNeeded: rest) | 0x80)
        rest >>= 7
    }
    out.append(UInt8(rest))
}

private let hexDigits: StaticString = "0123456789abcdef"

/// A key the hand-written encoder names: a literal, so its UTF-8 is read in place, without the
/// retain and release a `String`'s bytes cost (a job's digest writes thousands of keys).
private func writeKey(_ key: StaticString, to out: inout [UInt8]) {
    key.withUTF8Buffer { utf8 in
        writeVarint(UInt64(utf8.count), to: &out)
        out.append(contentsOf: utf8)
    }
}

private func writeString(_ value: String, to out: inout [UInt8]) {
    var value = value
    value.withUTF8 { utf8 in
        writeVarint(UInt64(utf8.count), to: &out)
        out.append(contentsOf: utf8)
    }
}
