@testable import LedgerCore
import LedgerTestSupport
import Testing

@Suite("The canonical form: the streaming encoder, reading it back, replica ids as text")
struct CanonicalFormTests {
    static func traffic() throws -> FieldWorkload {
        try FieldWorkload(.init(seed: 21, jobs: 30, devices: 3, actions: 500, gapMillisMax: 30_000, pullEvery: 5,
                                vocabulary: .init(userPrefix: "t", jobPrefix: "J-", invoicePrefix: "I-", department: "HVAC",
                                                  installmentLabels: ["Final"], refundReason: "r", changeOrders: ["Vent"])))
    }

    @Test("The streaming encoder writes exactly the bytes of the tree-building reference")
    func sameBytesAsTheReference() throws {
        let traffic = try Self.traffic()
        for entry in traffic.setup + traffic.entries {
            #expect(CanonicalEncoding.bytes(of: entry) == (try ReferenceCanonicalEncoding.bytes(of: entry)), "entry \(entry.sequence)")
        }
        for job in traffic.ledger.jobs { #expect(CanonicalEncoding.bytes(of: job) == (try ReferenceCanonicalEncoding.bytes(of: job))) }
        // Every payload kind, written by hand (settings and job info through the generic path).
        var rng = SeededRandom(seed: 8)
        var kinds = Set<ActionKind>()
        for counter in 1...3_000 as ClosedRange<UInt64> {
            let action = RandomActions.action(Dot(replica: RandomActions.others[0], counter: counter), &rng)
            kinds.insert(action.payload.kind)
            #expect(CanonicalEncoding.bytes(of: action) == (try ReferenceCanonicalEncoding.bytes(of: action)), "\(action.payload)")
            #expect(CanonicalEncoding.bytes(of: action.payload) == (try ReferenceCanonicalEncoding.bytes(of: action.payload)), "\(action.payload)")
            let entry = LogEntry(sequence: counter, action: action, outcome: .applied)
            #expect(try CanonicalEncoding.decodeEntry(CanonicalEncoding.bytes(of: entry)) == entry)
        }
        #expect(kinds.count == ActionKind.allCases.count)
        // Jobs are written by hand too: also every part the workloads leave out (JobRecordTests
        // checks those jobs have them), and a voided invoice.
        var voided = Fixtures.job(total: "100.00", department: nil)
        try voided.voidInvoice(on: Fixtures.date("2026-06-03"), actor: Fixtures.office, settings: CompanySettings())
        for job in try JobRecordTests.jobs() + [voided] {
            #expect(CanonicalEncoding.bytes(of: job) == (try ReferenceCanonicalEncoding.bytes(of: job)), "job \(job.id)")
        }
        // Review cases and superseded values are written by hand: every optional part is there.
        let jobs = try JobRecordTests.jobs() + traffic.ledger.jobs, cases = jobs.flatMap(\.sync.reviewCases)
        #expect(cases.contains { $0.reason != nil } && cases.contains { $0.decision != nil } && cases.contains { $0.otherSide != nil })
        #expect(cases.contains { $0.currentPlan != nil } && cases.contains { $0.payment != nil } && cases.contains { $0.proposed != nil })
        #expect(jobs.contains { !$0.sync.superseded.isEmpty })
        // A plan behind a reference is written once and copied while the reference repeats: cases
        // under the job's own plan, and cases under an earlier one, are both here.
        #expect(jobs.contains { job in job.sync.reviewCases.contains { $0.heldPlan != nil && $0.heldPlan === job.planHeld } })
        #expect(jobs.contains { job in job.sync.reviewCases.contains { $0.heldPlan != nil && $0.heldPlan !== job.planHeld } })
        #expect(CanonicalEncoding.bytes(of: traffic.ledger) == (try ReferenceCanonicalEncoding.bytes(of: traffic.ledger)))
        let odd: [[Int64?]] = [[], [nil], [Int64.min, -1, 0, 1, Int64.max], [nil, 300]]
        #expect(CanonicalEncoding.bytes(of: odd) == (try ReferenceCanonicalEncoding.bytes(of: odd)))
        #expect(CanonicalEncoding.bytes(of: ["", "é", "a\u{0}b"]) == (try ReferenceCanonicalEncoding.bytes(of: ["", "é", "a\u{0}b"])))
        // Outcomes and review case ids are written by hand; every case, alone and nested.
        let raised = ReviewCaseID(Dot(replica: ReplicaID(high: 1, low: 2), counter: 300), index: 2)
        let outcomes: [Outcome] = [.applied, .exists, .appliedWithException(raised), .parkedForReview(raised),
                                   .rejected(LedgerError(.jobUnknown, "No such job."))]
        for outcome in outcomes { #expect(CanonicalEncoding.bytes(of: outcome) == (try ReferenceCanonicalEncoding.bytes(of: outcome)), "\(outcome)") }
        #expect(CanonicalEncoding.bytes(of: outcomes) == (try ReferenceCanonicalEncoding.bytes(of: outcomes)))
        #expect(CanonicalEncoding.bytes(of: raised) == (try ReferenceCanonicalEncoding.bytes(of: raised)))
        // Actions too, with and without a job, a payment with and without a reference.
        let base = traffic.entries[0].action
        let payments = [PaymentRequest(amountMinor: -5, currency: .usd, method: .check, reference: "1042"),
                        PaymentRequest(amountMinor: 12_345, currency: .usd, method: .card, pending: true)]
        for job in [base.job, nil] {
            for payload in payments.map(ActionPayload.recordPayment) + [.cancelPlan] {
                let action = Action(dot: base.dot, hlc: base.hlc, actor: base.actor, job: job, seenSequence: 9, businessDay: base.businessDay, payload: payload)
                #expect(CanonicalEncoding.bytes(of: action) == (try ReferenceCanonicalEncoding.bytes(of: action)), "\(action)")
            }
        }
    }

    @Test("Entries, jobs and the whole ledger read back from their canonical bytes unchanged")
    func roundTrip() throws {
        let traffic = try Self.traffic()
        for entry in traffic.setup + traffic.entries {
            let bytes = CanonicalEncoding.bytes(of: entry)
            #expect(try CanonicalEncoding.decode(LogEntry.self, from: bytes) == entry)
            #expect(CanonicalEncoding.entryBytes(sequence: entry.sequence, actionBytes: CanonicalEncoding.bytes(of: entry.action), outcome: entry.outcome) == bytes)
        }
        for job in traffic.ledger.jobs { #expect(try CanonicalEncoding.decode(Job.self, from: CanonicalEncoding.bytes(of: job)) == job) }
        let ledger = try CanonicalEncoding.decode(Ledger.self, from: CanonicalEncoding.bytes(of: traffic.ledger))
        #expect(ledger == traffic.ledger)
        #expect(ledger.stateDigest == traffic.ledger.stateDigest)
        let odd: [[Int64?]] = [[], [nil], [Int64.min, -1, 0, 1, Int64.max], [nil, 300]]
        #expect(try CanonicalEncoding.decode([[Int64?]].self, from: CanonicalEncoding.bytes(of: odd)) == odd)
    }

    @Test("Log entries read back by the hand-written reader equal the generic decoder's, for every payload and outcome; damaged ones are refused")
    func entriesByHand() throws {
        let traffic = try Self.traffic()
        var entries = traffic.setup + traffic.entries
        let base = traffic.entries[0].action
        let raised = ReviewCaseID(Dot(replica: ReplicaID(high: 1, low: 2), counter: 300), index: 2)
        let payments = [PaymentRequest(amountMinor: 12_345, currency: try Currency(code: "CAD"), method: .check, reference: "1042"),
                        PaymentRequest(amountMinor: -5, currency: .usd, method: .card, pending: true)]
        for (index, payload) in (payments.map(ActionPayload.recordPayment) + [.cancelPlan, .finalizeInvoice]).enumerated() {
            for outcome in [Outcome.applied, .exists, .appliedWithException(raised), .parkedForReview(raised), .rejected(LedgerError(.jobUnknown, "No such job."))] {
                for job in [base.job, nil] {
                    let action = Action(dot: Dot(replica: base.dot.replica, counter: 900 + UInt64(index)), hlc: base.hlc, actor: base.actor, job: job,
                                        seenSequence: 9, businessDay: base.businessDay, payload: payload)
                    entries.append(LogEntry(sequence: 77, action: action, outcome: outcome))
                }
            }
        }
        var rng = SeededRandom(seed: 9)
        for counter in 1...2_000 as ClosedRange<UInt64> {
            entries.append(LogEntry(sequence: counter, action: RandomActions.action(Dot(replica: RandomActions.others[1], counter: counter), &rng), outcome: .applied))
        }
        #expect(Set(entries.map(\.action.payload.kind)).count == ActionKind.allCases.count)
        for entry in entries {
            let bytes = CanonicalEncoding.bytes(of: entry)
            #expect(try CanonicalEncoding.decodeEntry(bytes) == entry, "entry \(entry.sequence) \(entry.action.payload.kind)")
            // The hand-written reader itself, not the fallback, must read every entry.
            var scanner = EntryScanner(bytes: bytes)
            #expect(try scanner.entry() == entry)
            #expect(scanner.offset == bytes.count)
            // An action and an outcome alone (a device's outbox) read back the same way.
            let actionBytes = CanonicalEncoding.bytes(of: entry.action)
            #expect(try CanonicalEncoding.decodeAction(actionBytes) == entry.action)
            var actionScanner = EntryScanner(bytes: actionBytes)
            #expect(try actionScanner.action() == entry.action && actionScanner.offset == actionBytes.count)
            #expect(try CanonicalEncoding.decodeOutcome(CanonicalEncoding.bytes(of: entry.outcome)) == entry.outcome)
        }
        let actionBytes = CanonicalEncoding.bytes(of: entries[0].action)
        for length in 0..<actionBytes.count { #expect(throws: (any Error).self) { try CanonicalEncoding.decodeAction(Array(actionBytes.prefix(length))) } }
        #expect(throws: (any Error).self) { try CanonicalEncoding.decodeAction(actionBytes + [0]) }
        let bytes = CanonicalEncoding.bytes(of: entries.first { if case .recordPayment = $0.action.payload { true } else { false } }!)
        for length in 0..<bytes.count { #expect(throws: (any Error).self) { try CanonicalEncoding.decodeEntry(Array(bytes.prefix(length))) } }
        #expect(throws: (any Error).self) { try CanonicalEncoding.decodeEntry(bytes + [0]) }
    }

    @Test("Damaged bytes are refused, never misread: every truncation, extra bytes, unknown tags, wrong types, deep nesting")
    func damaged() throws {
        let traffic = try Self.traffic()
        let entry = traffic.entries[7]
        let bytes = CanonicalEncoding.bytes(of: entry)
        for cut in 0..<bytes.count {
            #expect(throws: (any Error).self, "cut at \(cut)") { try CanonicalEncoding.decode(LogEntry.self, from: Array(bytes.prefix(cut))) }
        }
        #expect(throws: (any Error).self) { try CanonicalEncoding.decode(LogEntry.self, from: bytes + [0]) }
        #expect(throws: (any Error).self) { try CanonicalEncoding.decode(LogEntry.self, from: [9] + bytes.dropFirst()) }
        #expect(throws: (any Error).self) { try CanonicalEncoding.decode(Job.self, from: bytes) }
        #expect(throws: (any Error).self) { try CanonicalEncoding.decode(Int32.self, from: CanonicalEncoding.bytes(of: Int64.max)) }
        #expect(throws: (any Error).self) { try CanonicalEncoding.decode(UInt64.self, from: CanonicalEncoding.bytes(of: Int64(-1))) }
        #expect(throws: (any Error).self) { try CanonicalEncoding.decode([Int].self, from: [UInt8](repeating: 6, count: 100) + [0]) }
        // A count larger than the bytes left is refused before anything is reserved.
        #expect(throws: (any Error).self) { try CanonicalEncoding.decode([Int].self, from: [6, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]) }
    }

    @Test("Replica ids go to text and back; malformed text is refused")
    func replicaText() throws {
        var random = SeededRandom(seed: 5)
        for _ in 0..<500 {
            let id = ReplicaID(high: random.next(), low: random.next())
            #expect(id.description.utf8.count == 36)
            #expect(try ReplicaID(uuidString: id.description) == id)
            #expect(try ReplicaID(uuidString: id.description.uppercased()) == id)
        }
        #expect(ReplicaID(high: 0, low: 1).description == "00000000-0000-0000-0000-000000000001")
        #expect(try ReplicaID(uuidString: "6f1c2b3a-0d4e-4f5a-9b6c-7d8e9fa0b1c2") == ReplicaID(high: 0x6f1c_2b3a_0d4e_4f5a, low: 0x9b6c_7d8e_9fa0_b1c2))
        for bad in ["", "6f1c2b3a0d4e4f5a9b6c7d8e9fa0b1c2", "6f1c2b3a-0d4e-4f5a-9b6c-7d8e9fa0b1c", "6f1c2b3a-0d4e-4f5a-9b6c-7d8e9fa0b1cg",
                    "6f1c2b3a-0d4e-4f5a-9b6c-7d8e9fa0b1c2-", "6f1c2b3a0-d4e-4f5a-9b6c-7d8e9fa0b1c2", "+f1c2b3a-0d4e-4f5a-9b6c-7d8e9fa0b1c2",
                    "6f1c2b3a-0d4e-4f5a-9b6c-7d8e9fa0b1c\u{e9}"] {
            #expect(throws: LedgerError.self, "\(bad)") { try ReplicaID(uuidString: bad) }
        }
    }
}
