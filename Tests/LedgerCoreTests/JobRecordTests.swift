import Foundation
@testable import LedgerCore
import LedgerTestSupport
import Testing

@Suite("Job records: the compact form a device stores its jobs in")
struct JobRecordTests {
    /// Jobs of three workloads, then the same jobs after the office decided every review case
    /// (so decisions, re-run proposals and their new cases are in the records too).
    static func jobs() throws -> [Job] {
        var jobs: [Job] = []
        for seed in [41, 42, 43] as [UInt64] {
            let traffic = try FieldWorkload(.init(seed: seed, jobs: 12, devices: 4, actions: 500, gapMillisMax: 30_000, pullEvery: 7,
                                                  vocabulary: .init(userPrefix: "t", jobPrefix: "J-", invoicePrefix: "I-", department: "HVAC",
                                                                    installmentLabels: ["Final"], refundReason: "r", changeOrders: ["Vent"])))
            var ledger = traffic.ledger
            jobs += ledger.jobs
            var sequence = UInt64(traffic.setup.count + traffic.entries.count), counter: UInt64 = 1_000_000
            let office = Actor(user: try UserID("toffice"), role: .office)
            for item in ledger.openReviewCases {
                sequence += 1
                counter += 1
                let resolution: Resolution = item.suggestedResolutions.first ?? .acknowledge
                _ = ledger.apply(Action(dot: Dot(replica: traffic.officeReplica, counter: counter), hlc: HLCTimestamp(wallMillis: 9_000_000_000_000 + Int64(counter)),
                                        actor: office, job: item.job, seenSequence: sequence - 1, businessDay: Fixtures.date("2026-12-01"),
                                        payload: .resolveReviewCase(item.id, resolution, note: "decided")), sequence: sequence)
            }
            jobs += ledger.jobs
        }
        return jobs + [try story()]
    }

    /// What the workloads never do to a job: concurrent info edits (a superseded value), a
    /// decided change order, a plan cancelled and replaced, a voided invoice.
    static func story() throws -> Job {
        var world = try TwoDevices()
        try world.act(.tech, .updateJobInfo(JobInfoUpdate(notes: "gate code 1234")), at: 5_000)
        try world.act(.office, .updateJobInfo(JobInfoUpdate(department: .clear, notes: "call first")), at: 4_000)
        try world.sync(.tech)
        try world.sync(.office)
        let order = try world.act(.office, .proposeChangeOrder(summary: "Extra vent", amountMinor: 25_000, currency: .usd), at: 6_000)
        try world.act(.office, .approveChangeOrder(ChangeOrderID(order.dot), reason: "agreed"), at: 6_001)
        try world.act(.office, .cancelPlan, at: 6_002)
        try world.act(.office, .createPlan(PlanDraft(template: try PlanTemplate(name: "Halves", stages: [.init(label: "First", percentage: try .parse("50")),
                                                                                                   .init(label: "Second", percentage: try .parse("50"))]))),
                      at: 6_003)
        try world.act(.office, .finalizeInvoice, at: 6_004)
        try world.sync(.office)
        return try world.serverJob()
    }

    @Test("Every job reads back equal, with the same canonical digest, and the workloads reach every part of a job")
    func roundTrip() throws {
        let jobs = try Self.jobs()
        var canonicalBytes = 0, recordBytes = 0
        for job in jobs {
            let record = JobRecord.bytes(of: job)
            let back = try JobRecord.job(from: record)
            #expect(back == job, "job \(job.id)")
            #expect(back.digest == job.digest)
            #expect(back.totals == job.totals)
            canonicalBytes += CanonicalEncoding.bytes(of: job).count
            recordBytes += record.count
        }
        // A round trip proves little about parts no job has: check the workloads reach them.
        let cases = jobs.flatMap(\.sync.reviewCases)
        #expect(cases.contains { $0.proposed != nil } && cases.contains { $0.decision != nil } && cases.contains { $0.currentPlan != nil })
        #expect(cases.contains { $0.reason != nil } && cases.contains { $0.otherSide != nil } && cases.contains { $0.payment != nil })
        #expect(jobs.contains { !$0.refunds.isEmpty } && jobs.contains { $0.changeOrders.contains { $0.decision != nil } })
        #expect(jobs.contains { !$0.previousPlans.isEmpty } && jobs.contains { $0.previousPlans.contains { $0.cancellation != nil } })
        #expect(jobs.contains { $0.payments.contains { $0.state == .pending } } && jobs.contains { $0.payments.contains { $0.reference != nil } })
        #expect(jobs.contains { !$0.sync.superseded.isEmpty } && jobs.contains { $0.sync.fieldStamps.contains { $0 != nil } })
        #expect(jobs.contains { $0.plan?.rows.contains { $0.percentage != nil } == true } && jobs.contains { $0.plan?.rows.contains { $0.dueDate != nil } == true })
        // The point of the format: much smaller than the canonical bytes.
        #expect(recordBytes * 3 < canonicalBytes, "records \(recordBytes) B, canonical \(canonicalBytes) B")
    }

    /// A job with cases under two plans, which the workloads never make: overpay, overpay again,
    /// cancel the plan, pay once more.
    static func replanned() throws -> Job {
        var world = try TwoDevices()
        for (index, amount) in [350_000, 10_000].enumerated() {
            try world.act(.office, .recordPayment(PaymentRequest(amountMinor: Int64(amount), currency: .usd, method: .cash)), at: 2_000 + Int64(index))
        }
        try world.act(.office, .cancelPlan, at: 3_000)
        try world.act(.office, .recordPayment(PaymentRequest(amountMinor: 10_000, currency: .usd, method: .cash)), at: 3_002)
        try world.sync(.office)
        return try world.serverJob()
    }

    @Test("A job's cases raised under one plan hold one copy of it, live and read back from a record; a case under another plan holds its own")
    func casesSharePlans() throws {
        let replanned = try Self.replanned()
        #expect(replanned.sync.reviewCases.count >= 3, "\(replanned.sync.reviewCases.map(\.kind))")
        var shared = 0, distinct = 0
        for job in try Self.jobs() + [replanned] {
            let read = try JobRecord.job(from: JobRecord.bytes(of: job))
            for (cases, what) in [(job.sync.reviewCases, "live"), (read.sync.reviewCases, "read back")] {
                for (earlier, later) in zip(cases, cases.dropFirst()) where later.currentPlan != nil {
                    let same = earlier.currentPlan == later.currentPlan
                    #expect(later.sharesPlan(with: earlier) == same, "job \(job.id), case \(later.id), \(what)")
                    if same { shared += 1 } else { distinct += 1 }
                }
            }
        }
        #expect(shared > 100 && distinct >= 2, "\(shared) shared, \(distinct) distinct")
    }

    @Test("A review case whose id, payment or reason is not its raising action's keeps them, live, decided, encoded and read back")
    func casesKeepWhatIsNotTheirRaisers() throws {
        // A case stores its id's dot and its payment only where they differ from the raising
        // action's dot (decision 0042); every case the merge raises has the usual ones.
        let raiser = Dot(replica: ReplicaID(high: 7, low: 7), counter: 41), other = Dot(replica: ReplicaID(high: 9, low: 9), counter: 5)
        let summary = ActionSummary(dot: raiser, actor: Actor(user: try UserID("tech-7"), role: .technician), hlc: HLCTimestamp(wallMillis: 9), kind: .confirmPayment)
        let reason = LedgerError(.planLocked, "locked")
        for (id, payment) in [(ReviewCaseID(raiser, index: 2), PaymentID(raiser)), (ReviewCaseID(other, index: 1), PaymentID(other)),
                              (ReviewCaseID(raiser), PaymentID(other)), (ReviewCaseID(other), PaymentID(raiser))] {
            var made = ReviewCase(id: id, kind: .customerCredit, job: JobID(other), raisedBy: summary, otherSide: nil, proposed: nil, heldPlan: nil,
                                  amountMinor: 500, payment: payment, reason: reason, suggestedResolutions: [.acknowledge], decision: nil)
            #expect(made.id == id && made.payment == payment && made.reason == reason && made.raisedBy == summary)
            let canonical = CanonicalEncoding.bytes(of: made)
            made.decision = ReviewCase.Decision(resolution: .acknowledge, by: summary, note: "seen")
            #expect(made.id == id && made.payment == payment && made.reason == reason && made.isOpen == false)
            made.decision = nil
            #expect(CanonicalEncoding.bytes(of: made) == canonical)
            #expect(try CanonicalEncoding.decode(ReviewCase.self, from: canonical) == made)
        }
        let none = ReviewCase(id: ReviewCaseID(raiser), kind: .concurrentPlanEdit, job: nil, raisedBy: summary, otherSide: nil, proposed: nil,
                              heldPlan: nil, amountMinor: 0, payment: nil, reason: nil, suggestedResolutions: [], decision: nil)
        #expect(none.payment == nil && none.reason == nil && none.job == nil)
    }

    @Test("A job whose fields all carry its creation's stamp keeps the stamp once; a later edit gives each field its own; both read back the same")
    func fieldStampsKeptOnce() throws {
        var world = try TwoDevices()
        let created = try world.serverJob()
        #expect(created.sync.stampsKeptOnce && created.sync.fieldStamps.count == InfoField.allCases.count)
        #expect(Set(created.sync.fieldStamps).count == 1 && created.sync.fieldStamps[0] != nil)
        var copy = created.sync
        copy.fieldStamps = Array(created.sync.fieldStamps)
        #expect(copy == created.sync && copy.stampsKeptOnce)

        try world.act(.office, .updateJobInfo(JobInfoUpdate(notes: "side gate")), at: 7_000)
        try world.sync(.office)
        let edited = try world.serverJob()
        let notes = InfoField.allCases.firstIndex(of: .notes)!
        #expect(!edited.sync.stampsKeptOnce && edited.sync.fieldStamps[notes] != created.sync.fieldStamps[notes])
        #expect(edited.sync.fieldStamps.enumerated().allSatisfy { $0.offset == notes || $0.element == created.sync.fieldStamps[0] })
        for job in [created, edited] {
            let back = try JobRecord.job(from: JobRecord.bytes(of: job))
            #expect(back == job && back.sync.stampsKeptOnce == job.sync.stampsKeptOnce && back.digest == job.digest)
        }
    }

    @Test("A job's outstanding installments read back from their record give the report of the whole ledger, whatever order the jobs come in")
    func installments() throws {
        let traffic = try FieldWorkload(.init(seed: 44, jobs: 40, devices: 4, actions: 600, gapMillisMax: 30_000, pullEvery: 7,
                                              vocabulary: .init(userPrefix: "t", jobPrefix: "J-", invoicePrefix: "I-", department: "HVAC",
                                                                installmentLabels: ["Final"], refundReason: "r", changeOrders: ["Vent"])))
        var stored: [[UInt8]] = []
        for job in traffic.ledger.jobs {
            let rows = Reports.outstandingInstallments(of: job)
            let record = JobRecord.bytes(of: rows)
            #expect(try record.withUnsafeBytes { try JobRecord.installments(from: $0) } == rows)
            stored.append(record)
        }
        var gathered: [OutstandingInstallment] = []
        for record in stored.reversed() { gathered += try record.withUnsafeBytes { try JobRecord.installments(from: $0) } }
        for today in ["2026-01-01", "2026-06-15", "2027-03-01"].map(Fixtures.date) {
            let whole = Reports.outstandingDraws(traffic.ledger, today: today)
            #expect(!whole.isEmpty)
            #expect(Reports.outstandingDraws(gathered, today: today) == whole)
            // The table a device builds straight from installments is the one the rows give.
            let settings = traffic.ledger.settings
            #expect(Reports.outstandingDrawsCSV(gathered, today: today, settings: settings) == Reports.outstandingDrawsCSV(whole, settings: settings))
            // And the JSON written by hand is the encoder's, byte for byte.
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            #expect(Reports.outstandingDrawsJSON(gathered, today: today) == Array(try encoder.encode(whole)))
            // A device's gatherer builds that table from the records themselves, whatever their
            // order, with the jobs it skips handed over as installments.
            let skipped = Set(traffic.ledger.jobs.map(\.id).filter { $0.dot.counter % 3 == 0 })
            var gatherer = Reports.DrawsTableGatherer(today: today, rows: 0)
            for record in stored.reversed() { try record.withUnsafeBytes { try gatherer.append(record: $0, skip: skipped.contains) } }
            for job in traffic.ledger.jobs.reversed() where skipped.contains(job.id) { gatherer.append(Reports.outstandingInstallments(of: job)) }
            #expect(gatherer.rowCount == whole.count)
            #expect(gatherer.table(settings: settings) == Reports.outstandingDrawsCSV(whole, settings: settings))
            // Gathered in parts (a device's threads), each sorted, merged, and written a range
            // of rows per part: the same table, however the records and rows are split.
            for partCount in [1, 2, 3] {
                var parts = [Reports.DrawsTableGatherer](repeating: Reports.DrawsTableGatherer(today: today, rows: 0), count: partCount)
                for (index, record) in stored.enumerated() {
                    try record.withUnsafeBytes { try parts[index * 7 % partCount].append(record: $0, skip: skipped.contains) }
                }
                for job in traffic.ledger.jobs where skipped.contains(job.id) { parts[partCount - 1].append(Reports.outstandingInstallments(of: job)) }
                for index in parts.indices { parts[index].sort() }
                let order = Reports.DrawsTableOrder(merging: parts)
                #expect(order.rowCount == whole.count)
                let cuts = [0] + (1..<partCount).map { order.rowCount * $0 * $0 / (partCount * partCount) } + [order.rowCount]
                let cells = (0..<partCount).map { order.cells(rows: cuts[$0]..<cuts[$0 + 1], room: $0 == 0 ? order.rowCount : 0) }
                #expect(order.table(settings: settings, parts: cells) == Reports.outstandingDrawsCSV(whole, settings: settings), "\(partCount) parts")
                // The widths gathered with the rows are those of the cells written.
                #expect(order.columnWidths == measuredWidths(Reports.outstandingDrawsCSV(whole, settings: settings)), "\(partCount) parts")
            }
            // A record damaged after its first installment adds nothing, not half a job.
            let several = try #require(stored.first { (try? $0.withUnsafeBytes { try JobRecord.installments(from: $0) }.count) ?? 0 >= 2 })
            #expect(throws: JobRecord.Damaged.self) { try several.dropLast().withUnsafeBytes { try gatherer.append(record: UnsafeRawBufferPointer($0)) } }
            #expect(gatherer.rowCount == whole.count)
            #expect(gatherer.table(settings: settings) == Reports.outstandingDrawsCSV(whole, settings: settings))
        }
        #expect(try [UInt8]([JobRecord.formatVersion, 0, 0]).withUnsafeBytes { try JobRecord.installments(from: $0) }.isEmpty)
        #expect(throws: JobRecord.Damaged.self) { try stored[0].dropLast().withUnsafeBytes { try JobRecord.installments(from: UnsafeRawBufferPointer($0)) } }
    }

    @Test("Each payment method and state reads back as itself, and every enum's case list is the one the codes were fixed for")
    func codeTables() throws {
        for method in PaymentMethod.allCases {
            for state in PaymentState.allCases {
                // Only card and ACH payments may wait to settle (or fail).
                guard state == .completed || method.maySettleLater else { continue }
                var job = Fixtures.job(total: "100.00")
                let payment = Fixtures.payment("10.00", counter: 2, method: method, state: state == .completed ? .completed : .pending)
                _ = try job.recordPayment(payment)
                if state == .failed { try job.failPayment(payment.id) }
                let back = try JobRecord.job(from: JobRecord.bytes(of: job))
                #expect(back.payments.first?.method == method && back.payments.first?.state == state)
                #expect(back == job)
            }
        }
        // Every case has exactly one code.
        func covers<T: CaseIterable & Hashable>(_ table: [T]) -> Bool { table.count == Set(table).count && Set(table) == Set(T.allCases) }
        #expect(covers(RecordCodes.roles) && covers(RecordCodes.kinds) && covers(RecordCodes.methods) && covers(RecordCodes.states))
        #expect(covers(RecordCodes.modes) && covers(RecordCodes.orderStatuses) && covers(RecordCodes.fields) && covers(RecordCodes.caseKinds))
        #expect(covers(RecordCodes.resolutions))
        // A new case must get the *next* code (appended, never inserted): these counts make adding
        // one fail here first, where the comment on the tables says what to do.
        #expect(Set(Role.allCases).count == 3 && Set(ActionKind.allCases).count == 18 && Set(ReviewCase.Kind.allCases).count == 10)
        #expect(Set(Resolution.allCases).count == 3 && Set(InfoField.allCases).count == 5 && Set(PlanMode.allCases).count == 2)
        #expect(Set(ChangeOrder.Status.allCases).count == 3 && Set(PaymentMethod.allCases).count == 5 && Set(PaymentState.allCases).count == 3)
    }

    @Test("The format is pinned: a fixed job's record is these bytes")
    func pinned() throws {
        var job = Fixtures.job(total: "1,234.56")
        _ = try job.recordPayment(Fixtures.payment("100.00", counter: 2, method: .check))
        let hex = JobRecord.bytes(of: job).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        #expect(hex == Self.pinnedHex, "a change to the record format needs a new format version and a migration of stored records")
    }

    static let pinnedHex = "020222222222222242228222222222222222111111111111411181111111111111110001064a2d313030310e44616e6120576869746669656c64000104485641430355534400010748562d3230303180890f01c1a93f00000000010102a09c0103555344020001a01f00c2a93f08746563682d616e610000000000000000000500000000000000"

    /// The job of `replanned()` (three customer-credit cases: two under its plan, one under
    /// the plan once cancelled) as format 1 wrote it, every case's plan in full.
    static let formatOneHex = "0101222222222222422282222222222222220001064a2d313034320e44616e6120576869746669656c64000104485641430355534400010748562d32303438c0cf2401c1a93f00000100030100c0cf2403000300074465706f736974c09a0c0001c1a93f010003020850726f6772657373c09a0c0001e1a93f010003040546696e616cc09a0c0001ffa93f01c1a93fc0cf240001c1a93f0a6f66666963652d62656e01c0cf240200030004e0dc2a03555344010001a01f00c1a93f0a6f66666963652d62656e010005a09c0103555344010001a21f00c1a93f0a6f66666963652d62656e010007a09c0103555344010001f42e00c1a93f0a6f66666963652d62656e0100000100070100070100060100060a6f66666963652d62656e01f02e00070100070a6f66666963652d62656e01f42e00090700010002000300040005000600070501d00f00000101d00f00000101d00f00000101d00f00000101d00f00000100030004000001000100040a6f66666963652d62656e01a01f000900000100030100c0cf2403000300074465706f736974c09a0c0001c1a93f010003020850726f6772657373c09a0c0001e1a93f010003040546696e616cc09a0c0001ffa93f01c1a93fc0cf24000002a08d06010004000102000005000001000100050a6f66666963652d62656e01a21f000900000100030100c0cf2403000300074465706f736974c09a0c0001c1a93f010003020850726f6772657373c09a0c0001e1a93f010003040546696e616cc09a0c0001ffa93f01c1a93fc0cf24000002a09c01010005000102000007000001000100070a6f66666963652d62656e01f42e000900000100030100c0cf2403000300074465706f736974c09a0c0001c1a93f010003020850726f6772657373c09a0c0001e1a93f010003040546696e616cc09a0c0001ffa93f01c1a93fc0cf240001c1a93f0a6f66666963652d62656e01c0cf2402a09c0101000700010200"

    @Test("A format 1 record still reads back; format 2 writes a run of cases' plan once, smaller, and reads back the same job with the plans shared")
    func formatOneStillReads() throws {
        let job = try Self.replanned()
        let hex = Array(Self.formatOneHex.utf8)
        let formatOne = try stride(from: 0, to: hex.count, by: 2).map { try #require(UInt8(String(decoding: hex[$0..<$0 + 2], as: UTF8.self), radix: 16)) }
        #expect(formatOne.first == 1)
        let fromOne = try JobRecord.job(from: formatOne)
        #expect(fromOne == job)
        #expect(fromOne.digest == job.digest)
        let record = JobRecord.bytes(of: job)
        #expect(record.first == JobRecord.formatVersion)
        #expect(try JobRecord.job(from: record) == job)
        // The second case names the first one's plan instead of repeating it; the third's plan
        // (the cancelled one) differs and is written in full.
        #expect(record.count < formatOne.count, "format 2 \(record.count) B, format 1 \(formatOne.count) B")
        let cases = try JobRecord.job(from: record).sync.reviewCases
        #expect(cases.count == 3 && cases[1].sharesPlan(with: cases[0]) && !cases[2].sharesPlan(with: cases[1]))
        // The mark for "the case before it's plan" means nothing in format 1.
        var relabelled = record
        relabelled[0] = 1
        #expect(throws: JobRecord.Damaged.self) { try JobRecord.job(from: relabelled) }
    }

    @Test("Damaged records are refused, never misread: every truncation, extra bytes, another version, every flipped byte")
    func damaged() throws {
        // The smallest job with a review case carrying a proposed action: every kind of part,
        // while the quadratic checks below stay quick.
        let job = try #require(try Self.jobs().filter { $0.sync.reviewCases.contains { $0.proposed != nil } }
            .min { JobRecord.bytes(of: $0).count < JobRecord.bytes(of: $1).count })
        let record = JobRecord.bytes(of: job)
        for length in 0..<record.count {
            #expect(throws: JobRecord.Damaged.self) { try JobRecord.job(from: Array(record.prefix(length))) }
        }
        #expect(throws: JobRecord.Damaged.self) { try JobRecord.job(from: record + [0]) }
        #expect(throws: JobRecord.Damaged.self) { try JobRecord.job(from: [JobRecord.formatVersion + 1] + record.dropFirst()) }
        // A flipped byte may still read as some job (a different amount is a valid amount), but
        // it never crashes and never reads back as the original.
        for index in record.indices {
            var flipped = record
            flipped[index] ^= 0x5A
            if let back = try? JobRecord.job(from: flipped) { #expect(back != job || JobRecord.bytes(of: back) != record) }
        }
    }
}

/// The widest cell of each column in characters, measured cell by cell: an ASCII cell's bytes,
/// any other's characters (how a table for people counts them).
func measuredWidths(_ table: CSVTable) -> [Int] {
    var widths = [Int](repeating: 0, count: table.header.count)
    for index in 0..<table.cellCount {
        let bytes = table.cellBytes[table.range(ofCell: index)]
        let shown = table.isASCII(cell: index) ? bytes.count : String(decoding: bytes, as: UTF8.self).count
        widths[index % widths.count] = max(widths[index % widths.count], shown)
    }
    return widths
}
