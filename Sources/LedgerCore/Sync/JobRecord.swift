/// A compact binary form of a `Job` for a store's own use (a device's replica file), written and
/// read by hand: about a tenth the size of the canonical bytes and tens of times faster to read,
/// because a report over every job of a large company reads each of them.
///
/// Not a wire format and not what digests are taken of (both stay canonical, Protocol §3). A
/// record starts with its format version and the job's distinct replica ids, 16 bytes each; dots
/// then name their replica by position in that table. Numbers are LEB128 varints (signed ones
/// zigzag), strings a length and UTF-8, optionals a 0/1 byte, enums a fixed code per case.
/// Review cases carry their proposed action and refusal reason as canonical bytes (they are
/// rare). Format 2 writes a case's plan in force once for a run of cases under the same plan
/// (decision 0040); format 1 records still read. See
/// docs/decisions/0016-compact-job-records-on-devices.md.
public enum JobRecord {
    /// The format this code writes; a record of a version it does not know is refused, not
    /// guessed at.
    public static let formatVersion: UInt8 = 2
    /// The formats this code reads: 1 wrote every case's plan in full.
    static let readableVersions: ClosedRange<UInt8> = 1...2

    /// The record of `job`.
    public static func bytes(of job: Job) -> [UInt8] {
        var body = RecordWriter()
        body.job(job)
        return body.record()
    }

    /// The record of outstanding installments (a job's, kept beside it for the report).
    public static func bytes(of installments: [OutstandingInstallment]) -> [UInt8] {
        var body = RecordWriter()
        body.array(installments) { w, row in
            w.string(row.customer)
            w.dot(row.jobID.dot)
            w.string(row.jobNumber)
            w.string(row.invoiceNumber)
            w.dot(row.installmentID.origin)
            w.int(row.installmentID.index)
            w.int(row.installmentNumber)
            w.string(row.installmentLabel)
            w.string(row.currency.code)
            w.int(row.amountMinor)
            w.int(row.remainingMinor)
            w.int(row.pendingMinor)
            w.optional(row.dueDate) { $0.date($1) }
        }
        return body.record()
    }

    /// Reads outstanding installments back from their record.
    public static func installments(from bytes: UnsafeRawBufferPointer) throws(Damaged) -> [OutstandingInstallment] {
        var rows: [OutstandingInstallment] = []
        try installments(from: bytes, appendingTo: &rows)
        return rows
    }

    /// Reads outstanding installments back from their record onto the end of `rows` (a report
    /// gathers a whole company's this way without an array per job); `rows` is unchanged when it
    /// throws.
    public static func installments(from bytes: UnsafeRawBufferPointer, appendingTo rows: inout [OutstandingInstallment]) throws(Damaged) {
        let start = rows.count
        do {
            var reader = try RecordReader(record: bytes)
            let count = try reader.count()
            for _ in 0..<count {
                rows.append(OutstandingInstallment(
                    customer: try reader.string(), jobID: JobID(try reader.dot()), jobNumber: try reader.string(), invoiceNumber: try reader.string(),
                    installmentID: InstallmentID(origin: try reader.dot(), index: try reader.int()), installmentNumber: try reader.int(),
                    installmentLabel: try reader.string(), currency: try reader.currency(), amountMinor: try reader.int64(),
                    remainingMinor: try reader.int64(), pendingMinor: try reader.int64(),
                    dueDate: try reader.optional { r throws(Damaged) in try r.date() }))
            }
            try reader.finish()
        } catch {
            rows.removeSubrange(start...)
            throw error
        }
    }

    /// Reads a job back from its record; throws `JobRecord.Damaged` for anything that is not one.
    public static func job(from bytes: UnsafeRawBufferPointer) throws(Damaged) -> Job {
        var reader = try RecordReader(record: bytes)
        let job = try reader.job()
        try reader.finish()
        return job
    }

    /// Reads a job back from its record in an array.
    public static func job(from bytes: [UInt8]) throws(Damaged) -> Job {
        do {
            return try bytes.withUnsafeBytes { buffer in try job(from: buffer) }
        } catch let error as Damaged {
            throw error
        } catch {
            throw Damaged("\(error)")
        }
    }

    /// Bytes that are not a job record of this format (a damaged store).
    public struct Damaged: Error, Hashable, Sendable, CustomStringConvertible {
        public let message: String
        init(_ message: String) { self.message = message }
        public var description: String { message }
    }
}

// MARK: - Writing

struct RecordWriter {
    var bytes: [UInt8] = []
    /// The replicas dots named so far, in first-use order.
    var replicas: [ReplicaID] = []

    init() { bytes.reserveCapacity(512) }

    mutating func uint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    mutating func int(_ value: Int64) { uint(UInt64(bitPattern: (value << 1) ^ (value >> 63))) }
    mutating func int(_ value: Int) { int(Int64(value)) }
    mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            uint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    /// The whole record: the format version, the replica table, then what was written.
    func record() -> [UInt8] {
        var head = RecordWriter()
        head.bytes.append(JobRecord.formatVersion)
        head.uint(UInt64(replicas.count))
        var out = head.bytes
        out.reserveCapacity(out.count + 16 * replicas.count + bytes.count)
        for replica in replicas { out += replica.bytes }
        out += bytes
        return out
    }

    mutating func optional<T>(_ value: T?, _ write: (inout RecordWriter, T) -> Void) {
        guard let value else { return bytes.append(0) }
        bytes.append(1)
        write(&self, value)
    }

    mutating func array<T>(_ values: [T], _ write: (inout RecordWriter, T) -> Void) {
        uint(UInt64(values.count))
        for value in values { write(&self, value) }
    }

    mutating func replica(_ replica: ReplicaID) {
        // A job's replicas are the few devices that touched it: a scan beats a dictionary.
        if let index = replicas.firstIndex(of: replica) { return uint(UInt64(index)) }
        replicas.append(replica)
        uint(UInt64(replicas.count - 1))
    }

    mutating func dot(_ dot: Dot) {
        replica(dot.replica)
        uint(dot.counter)
    }

    mutating func date(_ date: CalendarDate) { uint(UInt64(date.year) << 9 | UInt64(date.month) << 5 | UInt64(date.day)) }

    mutating func hlc(_ hlc: HLCTimestamp) {
        int(hlc.wallMillis)
        uint(UInt64(hlc.logical))
    }

    mutating func actor(_ actor: Actor) {
        string(actor.user.rawValue)
        bytes.append(RecordCodes.role(actor.role))
    }

    mutating func summary(_ summary: ActionSummary) {
        dot(summary.dot)
        actor(summary.actor)
        hlc(summary.hlc)
        bytes.append(RecordCodes.kind(summary.kind))
    }

    mutating func canonical(_ value: some Encodable) {
        let encoded = CanonicalEncoding.bytes(of: value)
        uint(UInt64(encoded.count))
        bytes += encoded
    }

    mutating func job(_ job: Job) {
        dot(job.id.dot)
        string(job.number)
        string(job.customer.name)
        bool(job.customer.remindersOptOut)
        optional(job.department) { $0.string($1) }
        string(job.currency.code)
        string(job.notes)
        optional(job.invoice) { w, invoice in
            w.string(invoice.number)
            w.int(invoice.baseTotalMinor)
            w.optional(invoice.issuedOn) { $0.date($1) }
            w.optional(invoice.finalizedOn) { $0.date($1) }
            w.optional(invoice.voidedOn) { $0.date($1) }
        }
        optional(job.plan) { $0.plan($1) }
        array(job.previousPlans) { $0.plan($1) }
        array(job.payments) { w, payment in
            w.dot(payment.id.dot)
            w.int(payment.amountMinor)
            w.string(payment.currency.code)
            w.bytes.append(RecordCodes.method(payment.method))
            w.optional(payment.reference) { $0.string($1) }
            w.bytes.append(RecordCodes.state(payment.state))
            w.hlc(payment.occurredAt)
            w.date(payment.occurredOn)
            w.actor(payment.actor)
        }
        array(job.refunds) { w, refund in
            w.dot(refund.id.dot)
            w.dot(refund.paymentID.dot)
            w.int(refund.amountMinor)
            w.string(refund.currency.code)
            w.string(refund.reason)
            w.bool(refund.cancelsRemainingPlan)
            w.hlc(refund.occurredAt)
            w.date(refund.occurredOn)
            w.actor(refund.actor)
        }
        array(job.changeOrders) { w, order in
            w.dot(order.id.dot)
            w.string(order.summary)
            w.int(order.amountMinor)
            w.string(order.currency.code)
            w.actor(order.proposedBy)
            w.date(order.proposedOn)
            w.bytes.append(RecordCodes.orderStatus(order.status))
            w.optional(order.decision) { w, decision in
                w.actor(decision.by)
                w.string(decision.reason)
                w.date(decision.on)
            }
        }
        sync(job.sync)
    }

    mutating func plan(_ plan: Plan) {
        dot(plan.id.dot)
        bytes.append(RecordCodes.mode(plan.mode))
        optional(plan.templateName) { $0.string($1) }
        int(plan.targetMinor)
        array(plan.rows) { w, row in
            w.dot(row.id.origin)
            w.int(row.id.index)
            w.string(row.label)
            w.int(row.amountMinor)
            w.optional(row.percentage) { $0.int($1.value) }
            w.optional(row.dueDate) { $0.date($1) }
            w.bool(row.dueDateIsDefault)
        }
        date(plan.savedOn)
        int(plan.invoiceTotalAtSnapshotMinor)
        int(plan.baselinePaidMinor)
        optional(plan.cancellation) { w, cancellation in
            w.date(cancellation.on)
            w.actor(cancellation.by)
            w.int(cancellation.poolCapMinor)
        }
        int(plan.revision)
    }

    mutating func marks(_ marks: ChangeMarks) {
        array(marks.marks) { w, mark in
            w.replica(mark.replica)
            w.uint(mark.sequence)
        }
    }

    mutating func sync(_ sync: JobSyncState) {
        array(sync.versionVector.entries) { w, entry in
            w.replica(entry.replica)
            w.uint(entry.counter)
        }
        marks(sync.paymentMarks)
        marks(sync.planMarks)
        optional(sync.lastPlanChange) { $0.summary($1) }
        optional(sync.lastPayment) { $0.summary($1) }
        array(sync.dots) { $0.dot($1) }
        array(sync.fieldStamps) { w, stamp in
            w.optional(stamp) { w, stamp in
                w.hlc(stamp.hlc)
                w.dot(stamp.dot)
            }
        }
        array(sync.superseded) { w, value in
            w.bytes.append(RecordCodes.field(value.field))
            w.string(value.value)
            w.hlc(value.stamp.hlc)
            w.dot(value.stamp.dot)
        }
        uint(UInt64(sync.reviewCases.count))
        var previous: ReviewCase?
        for item in sync.reviewCases {
            reviewCase(item, after: previous)
            previous = item
        }
    }

    /// A case; its plan in force, when equal to the case before it's, is written as a mark.
    mutating func reviewCase(_ item: ReviewCase, after previous: ReviewCase?) {
        dot(item.id.dot)
        int(item.id.index)
        bytes.append(RecordCodes.caseKind(item.kind))
        optional(item.job) { $0.dot($1.dot) }
        summary(item.raisedBy)
        optional(item.otherSide) { $0.summary($1) }
        optional(item.proposed) { $0.canonical($1) }
        // A job's cases mostly come in long runs under one plan (each overpayment opens one):
        // written in full, those plans were about a third of a large job's record.
        if let plan = item.heldPlan {
            if let earlier = previous?.heldPlan, earlier == plan {
                bytes.append(RecordCodes.samePlanAsPreviousCase)
            } else {
                bytes.append(1)
                self.plan(plan.value)
            }
        } else {
            bytes.append(0)
        }
        int(item.amountMinor)
        optional(item.payment) { $0.dot($1.dot) }
        optional(item.reason) { w, reason in
            w.string(reason.code.rawValue)
            w.string(reason.message)
        }
        array(item.suggestedResolutions) { $0.bytes.append(RecordCodes.resolution($1)) }
        optional(item.decision) { w, decision in
            w.bytes.append(RecordCodes.resolution(decision.resolution))
            w.summary(decision.by)
            w.string(decision.note)
        }
    }
}

// MARK: - Reading

struct RecordReader {
    let bytes: UnsafeRawBufferPointer
    var at = 0
    var replicas: [ReplicaID] = []
    /// The record's format version.
    private(set) var version: UInt8 = 0

    /// A reader past a record's version and replica table.
    init(record bytes: UnsafeRawBufferPointer) throws(JobRecord.Damaged) {
        self.bytes = bytes
        version = try byte()
        guard JobRecord.readableVersions.contains(version) else {
            throw JobRecord.Damaged("a record of format \(version); this build reads formats \(JobRecord.readableVersions.lowerBound) to \(JobRecord.readableVersions.upperBound)")
        }
        let count = try count()
        replicas.reserveCapacity(count)
        for _ in 0..<count { replicas.append(ReplicaID(high: try fixed64(), low: try fixed64())) }
    }

    /// Checks that nothing follows the value read.
    func finish() throws(JobRecord.Damaged) {
        guard at == bytes.count else { throw JobRecord.Damaged("\(bytes.count - at) bytes follow the record") }
    }

    mutating func byte() throws(JobRecord.Damaged) -> UInt8 {
        guard at < bytes.count else { throw JobRecord.Damaged("the job record ends inside a value") }
        defer { at += 1 }
        return bytes[at]
    }

    mutating func uint() throws(JobRecord.Damaged) -> UInt64 {
        guard let value = readVarint(bytes, at: &at) else { throw JobRecord.Damaged("a number in the job record is cut short or runs past 64 bits") }
        return value
    }

    mutating func int64() throws(JobRecord.Damaged) -> Int64 {
        let zigzag = try uint()
        return Int64(bitPattern: (zigzag >> 1) ^ (0 &- (zigzag & 1)))
    }

    mutating func int() throws(JobRecord.Damaged) -> Int {
        let value = try int64()
        guard let fitted = Int(exactly: value) else { throw JobRecord.Damaged("a number in the job record is out of range") }
        return fitted
    }

    /// A count of items still to read; each takes at least a byte, so a larger count is damage.
    mutating func count() throws(JobRecord.Damaged) -> Int {
        let value = try uint()
        guard value <= UInt64(bytes.count - at) else { throw JobRecord.Damaged("a count in the job record is larger than the record") }
        return Int(value)
    }

    mutating func bool() throws(JobRecord.Damaged) -> Bool {
        switch try byte() {
        case 0: false
        case 1: true
        default: throw JobRecord.Damaged("a flag in the job record is neither 0 nor 1")
        }
    }

    mutating func fixed64() throws(JobRecord.Damaged) -> UInt64 {
        guard bytes.count - at >= 8 else { throw JobRecord.Damaged("the job record ends inside a replica id") }
        var value: UInt64 = 0
        for offset in 0..<8 { value = value << 8 | UInt64(bytes[at + offset]) }
        at += 8
        return value
    }

    mutating func string() throws(JobRecord.Damaged) -> String {
        String(decoding: try utf8().bytes, as: UTF8.self)
    }

    /// A text's bytes, checked to be UTF-8, and whether they are all ASCII.
    mutating func utf8() throws(JobRecord.Damaged) -> (bytes: UnsafeRawBufferPointer, ascii: Bool) {
        let length = try count()
        let slice = UnsafeRawBufferPointer(rebasing: bytes[at..<(at + length)])
        at += length
        // ASCII is valid UTF-8 as it stands; checking that first skips the validator's slower path.
        if slice.allSatisfy({ $0 < 0x80 }) { return (slice, true) }
        guard String(validating: slice, as: UTF8.self) != nil else { throw JobRecord.Damaged("a text in the job record is not UTF-8") }
        return (slice, false)
    }

    mutating func optional<T>(_ read: (inout RecordReader) throws(JobRecord.Damaged) -> T) throws(JobRecord.Damaged) -> T? {
        try bool() ? try read(&self) : nil
    }

    mutating func array<T>(_ read: (inout RecordReader) throws(JobRecord.Damaged) -> T) throws(JobRecord.Damaged) -> [T] {
        let count = try count()
        var values: [T] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try read(&self)) }
        return values
    }

    mutating func code<T>(_ table: [T], _ what: String) throws(JobRecord.Damaged) -> T {
        let code = Int(try byte())
        guard code < table.count else { throw JobRecord.Damaged("an unknown \(what) code \(code) in the job record") }
        return table[code]
    }

    mutating func replica() throws(JobRecord.Damaged) -> ReplicaID {
        let index = try uint()
        guard index < UInt64(replicas.count) else { throw JobRecord.Damaged("a dot in the job record names replica \(index) of \(replicas.count)") }
        return replicas[Int(index)]
    }

    mutating func dot() throws(JobRecord.Damaged) -> Dot { Dot(replica: try replica(), counter: try uint()) }

    mutating func date() throws(JobRecord.Damaged) -> CalendarDate {
        let packed = try uint()
        guard packed < 1 << 30 else { throw JobRecord.Damaged("a date in the job record is out of range") }
        do {
            return try CalendarDate(year: Int(packed >> 9), month: Int(packed >> 5 & 0xF), day: Int(packed & 0x1F))
        } catch {
            throw JobRecord.Damaged("a date in the job record does not exist")
        }
    }

    mutating func hlc() throws(JobRecord.Damaged) -> HLCTimestamp {
        let wall = try int64()
        guard let logical = UInt32(exactly: try uint()) else { throw JobRecord.Damaged("a clock reading in the job record is out of range") }
        return HLCTimestamp(wallMillis: wall, logical: logical)
    }

    mutating func currency() throws(JobRecord.Damaged) -> Currency { try Self.currency(code: try utf8().bytes) }

    /// The currency whose code a record stores as these bytes (USD, the common case, without a `String`).
    static func currency(code: UnsafeRawBufferPointer) throws(JobRecord.Damaged) -> Currency {
        // Three byte compares: a generic comparison with the code's `String` was a few percent
        // of a large report.
        if code.count == 3, code[0] == UInt8(ascii: "U"), code[1] == UInt8(ascii: "S"), code[2] == UInt8(ascii: "D") { return .usd }
        do { return try Currency(code: String(decoding: code, as: UTF8.self)) } catch { throw JobRecord.Damaged("a currency in the job record is not a currency code") }
    }

    mutating func actor() throws(JobRecord.Damaged) -> Actor {
        let name = try string()
        let role = try code(RecordCodes.roles, "role")
        do { return Actor(user: try UserID(name), role: role) } catch { throw JobRecord.Damaged("a user id in the job record is not one") }
    }

    mutating func summary() throws(JobRecord.Damaged) -> ActionSummary {
        ActionSummary(dot: try dot(), actor: try actor(), hlc: try hlc(), kind: try code(RecordCodes.kinds, "action kind"))
    }

    mutating func canonical<T: Decodable>(_ type: T.Type) throws(JobRecord.Damaged) -> T {
        let length = try count()
        let slice = Array(bytes[at..<(at + length)])
        at += length
        do { return try CanonicalEncoding.decode(type, from: slice) } catch { throw JobRecord.Damaged("a \(T.self) in the job record does not read back: \(error)") }
    }

    mutating func job() throws(JobRecord.Damaged) -> Job {
        try Job(record: &self)
    }

    mutating func plan() throws(JobRecord.Damaged) -> Plan {
        let id = PlanID(try dot())
        let mode = try code(RecordCodes.modes, "plan mode")
        let templateName = try optional { r throws(JobRecord.Damaged) in try r.string() }
        let target = try int64()
        let rows = try array { r throws(JobRecord.Damaged) in
            let origin = try r.dot()
            let index = try r.int()
            let label = try r.string()
            let amount = try r.int64()
            let percentage = try r.optional { r throws(JobRecord.Damaged) in
                do { return try PartsPerMillion(try r.int64()) } catch { throw JobRecord.Damaged("a percentage in the job record is out of range") }
            }
            return Installment(id: InstallmentID(origin: origin, index: index), label: label, amountMinor: amount, percentage: percentage,
                               dueDate: try r.optional { r throws(JobRecord.Damaged) in try r.date() }, dueDateIsDefault: try r.bool())
        }
        let savedOn = try date()
        let invoiceTotal = try int64()
        let baseline = try int64()
        let cancellation = try optional { r throws(JobRecord.Damaged) in
            Plan.Cancellation(on: try r.date(), by: try r.actor(), poolCapMinor: try r.int64())
        }
        return Plan(id: id, mode: mode, templateName: templateName, targetMinor: target, rows: rows, savedOn: savedOn,
                    invoiceTotalAtSnapshotMinor: invoiceTotal, baselinePaidMinor: baseline, cancellation: cancellation, revision: try int())
    }

    mutating func marks() throws(JobRecord.Damaged) -> ChangeMarks {
        ChangeMarks(record: try array { r throws(JobRecord.Damaged) in ChangeMarks.Mark(replica: try r.replica(), sequence: try r.uint()) })
    }

    mutating func sync() throws(JobRecord.Damaged) -> JobSyncState {
        var state = JobSyncState()
        state.versionVector = VersionVector(record: try array { r throws(JobRecord.Damaged) in VersionVector.Entry(replica: try r.replica(), counter: try r.uint()) })
        state.paymentMarks = try marks()
        state.planMarks = try marks()
        state.lastPlanChange = try optional { r throws(JobRecord.Damaged) in try r.summary() }
        state.lastPayment = try optional { r throws(JobRecord.Damaged) in try r.summary() }
        state.dots = try array { r throws(JobRecord.Damaged) in try r.dot() }
        let stamps = try array { r throws(JobRecord.Damaged) in
            try r.optional { r throws(JobRecord.Damaged) in FieldStamp(hlc: try r.hlc(), dot: try r.dot()) }
        }
        guard stamps.count == InfoField.allCases.count else { throw JobRecord.Damaged("a job record has \(stamps.count) field stamps") }
        state.fieldStamps = stamps
        state.superseded = try array { r throws(JobRecord.Damaged) in
            SupersededValue(field: try r.code(RecordCodes.fields, "field"), value: try r.string(), stamp: FieldStamp(hlc: try r.hlc(), dot: try r.dot()))
        }
        var previous: ReviewCase?
        state.reviewCases = try array { r throws(JobRecord.Damaged) in
            let next = try r.reviewCase(after: previous)
            previous = next
            return next
        }
        return state
    }

    /// A review case; `previous`, the job's case before it, may lend it its plan.
    mutating func reviewCase(after previous: ReviewCase?) throws(JobRecord.Damaged) -> ReviewCase {
        let id = ReviewCaseID(try dot(), index: try int())
        let kind = try code(RecordCodes.caseKinds, "review case kind")
        let job = try optional { r throws(JobRecord.Damaged) in JobID(try r.dot()) }
        let raisedBy = try summary()
        let otherSide = try optional { r throws(JobRecord.Damaged) in try r.summary() }
        let proposed = try optional { r throws(JobRecord.Damaged) in try r.canonical(ActionPayload.self) }
        var heldPlan: Held<Plan>?, currentPlan: Plan?
        switch try byte() {
        case 0: break
        case 1: currentPlan = try plan()
        case RecordCodes.samePlanAsPreviousCase where version >= 2:
            guard let earlier = previous?.heldPlan else { throw JobRecord.Damaged("a review case names the plan of a case before it that has none") }
            heldPlan = earlier
        default: throw JobRecord.Damaged("a review case's plan in force is neither absent, present nor the case before it's")
        }
        let amount = try int64()
        let payment = try optional { r throws(JobRecord.Damaged) in PaymentID(try r.dot()) }
        let reason = try optional { r throws(JobRecord.Damaged) in LedgerError(LedgerError.Code(rawValue: try r.string()), try r.string()) }
        let suggested = try array { r throws(JobRecord.Damaged) in try r.code(RecordCodes.resolutions, "resolution") }
        let decision = try optional { r throws(JobRecord.Damaged) in
            ReviewCase.Decision(resolution: try r.code(RecordCodes.resolutions, "resolution"), by: try r.summary(), note: try r.string())
        }
        if let heldPlan {
            return ReviewCase(id: id, kind: kind, job: job, raisedBy: raisedBy, otherSide: otherSide, proposed: proposed, heldPlan: heldPlan,
                              amountMinor: amount, payment: payment, reason: reason, suggestedResolutions: suggested, decision: decision)
        }
        // Format 1 wrote equal plans in full, so the case before may lend its plan; in format 2 a
        // plan written in full differs from it, and comparing them would be wasted.
        return ReviewCase(id: id, kind: kind, job: job, raisedBy: raisedBy, otherSide: otherSide, proposed: proposed, currentPlan: currentPlan,
                          amountMinor: amount, payment: payment, reason: reason, suggestedResolutions: suggested, decision: decision,
                          previous: version < 2 ? previous : nil)
    }
}

extension Job {
    init(record r: inout RecordReader) throws(JobRecord.Damaged) {
        id = JobID(try r.dot())
        number = try r.string()
        customer = Customer(name: try r.string(), remindersOptOut: try r.bool())
        department = try r.optional { r throws(JobRecord.Damaged) in try r.string() }
        currency = try r.currency()
        notes = try r.string()
        invoiceHeld = try r.optional { r throws(JobRecord.Damaged) in
            var invoice = Invoice(number: try r.string(), baseTotalMinor: try r.int64(), issuedOn: try r.optional { r throws(JobRecord.Damaged) in try r.date() })
            invoice.finalizedOn = try r.optional { r throws(JobRecord.Damaged) in try r.date() }
            invoice.voidedOn = try r.optional { r throws(JobRecord.Damaged) in try r.date() }
            return Held(invoice)
        }
        planHeld = try r.optional { r throws(JobRecord.Damaged) in Held(try r.plan()) }
        previousPlans = try r.array { r throws(JobRecord.Damaged) in try r.plan() }
        payments = try r.array { r throws(JobRecord.Damaged) in
            Payment(id: PaymentID(try r.dot()), amountMinor: try r.int64(), currency: try r.currency(), method: try r.code(RecordCodes.methods, "payment method"),
                    reference: try r.optional { r throws(JobRecord.Damaged) in try r.string() }, state: try r.code(RecordCodes.states, "payment state"),
                    occurredAt: try r.hlc(), occurredOn: try r.date(), actor: try r.actor())
        }
        refunds = try r.array { r throws(JobRecord.Damaged) in
            Refund(id: RefundID(try r.dot()), paymentID: PaymentID(try r.dot()), amountMinor: try r.int64(), currency: try r.currency(), reason: try r.string(),
                   cancelsRemainingPlan: try r.bool(), occurredAt: try r.hlc(), occurredOn: try r.date(), actor: try r.actor())
        }
        changeOrders = try r.array { r throws(JobRecord.Damaged) in
            var order = ChangeOrder(id: ChangeOrderID(try r.dot()), summary: try r.string(), amountMinor: try r.int64(), currency: try r.currency(),
                                    proposedBy: try r.actor(), proposedOn: try r.date())
            order.status = try r.code(RecordCodes.orderStatuses, "change order status")
            order.decision = try r.optional { r throws(JobRecord.Damaged) in
                ChangeOrder.Decision(by: try r.actor(), reason: try r.string(), on: try r.date())
            }
            return order
        }
        sync = try r.sync()
        cache = JobCache()
        cache = JobCache(rebuildingFrom: self)
    }
}

/// The one-byte code of each enum case in a record. Fixed forever for format 1: a new case takes
/// the next code; reordering a case list here would misread every stored record.
enum RecordCodes {
    /// In place of a review case's optional plan (0 none, 1 one follows), format 2 on: the plan
    /// of the case before it.
    static let samePlanAsPreviousCase: UInt8 = 2
    static let roles: [Role] = [.technician, .office, .owner]
    static let kinds: [ActionKind] = [.createJob, .updateJobInfo, .setInvoice, .finalizeInvoice, .voidInvoice, .createPlan, .editPlan, .cancelPlan,
                                      .editInstallment, .recordPayment, .confirmPayment, .failPayment, .recordRefund, .proposeChangeOrder,
                                      .approveChangeOrder, .rejectChangeOrder, .updateSettings, .resolveReviewCase]
    static let methods: [PaymentMethod] = [.card, .cash, .check, .ach, .other]
    static let states: [PaymentState] = [.pending, .completed, .failed]
    static let modes: [PlanMode] = [.percentage, .amount]
    static let orderStatuses: [ChangeOrder.Status] = [.proposed, .approved, .rejected]
    static let fields: [InfoField] = [.number, .customerName, .remindersOptOut, .department, .notes]
    static let caseKinds: [ReviewCase.Kind] = [.customerCredit, .refundExceedsPayment, .paymentOnCancelledPlan, .paymentOnVoidedInvoice,
                                               .planEditAfterUnseenPayment, .concurrentPlanEdit, .intentionRefused, .targetDiffersFromInvoice,
                                               .settlementConflict, .concurrentSettingsEdit]
    static let resolutions: [Resolution] = [.applyProposed, .keepCurrent, .acknowledge]

    // Encoding looks the case up in the same table, so the two directions cannot disagree; a
    // case missing from a table stops the program rather than writing a wrong code, and
    // JobRecordTests checks each table against `allCases` so that this happens in a test first.
    private static func code<T: Equatable>(_ value: T, _ table: [T]) -> UInt8 {
        guard let index = table.firstIndex(of: value) else { preconditionFailure("\(value) has no job record code") }
        return UInt8(index)
    }

    static func role(_ value: Role) -> UInt8 { code(value, roles) }
    static func kind(_ value: ActionKind) -> UInt8 { code(value, kinds) }
    static func method(_ value: PaymentMethod) -> UInt8 { code(value, methods) }
    static func state(_ value: PaymentState) -> UInt8 { code(value, states) }
    static func mode(_ value: PlanMode) -> UInt8 { code(value, modes) }
    static func orderStatus(_ value: ChangeOrder.Status) -> UInt8 { code(value, orderStatuses) }
    static func field(_ value: InfoField) -> UInt8 { code(value, fields) }
    static func caseKind(_ value: ReviewCase.Kind) -> UInt8 { code(value, caseKinds) }
    static func resolution(_ value: Resolution) -> UInt8 { code(value, resolutions) }
}
