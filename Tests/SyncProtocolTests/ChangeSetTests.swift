import Foundation
import LedgerCore
import LedgerTestSupport
@testable import SyncProtocol
import Testing

/// Protocol/vectors/changesets.json, written by a hand-rolled protobuf encoder in Python.
struct ChangeSetVectorFile: Decodable {
    struct Expected: Decodable {
        let counter: UInt64
        let kind: String
        let job: UInt64?
        let seen: UInt64
        let wall: Int64
        let day: String
    }

    struct Vector: Decodable, CustomStringConvertible {
        let name: String
        let what: String
        let hex: String
        let expect: [Expected]?
        let error: String?
        var description: String { name }
    }

    let replica: String
    let vectors: [Vector]

    static func load() throws -> ChangeSetVectorFile {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Protocol/vectors/changesets.json")
        return try JSONDecoder().decode(ChangeSetVectorFile.self, from: Data(contentsOf: url))
    }
}

@Suite("Change sets: the push body, its columns and its limits")
struct ChangeSetTests {
    @Test("The valid vector decodes to the expected actions and re-encodes byte for byte")
    func validVector() throws {
        let file = try ChangeSetVectorFile.load()
        let vector = try #require(file.vectors.first { $0.expect != nil })
        let body = bytes(hex: vector.hex)
        let changeSet = try ChangeSetCodec.decodeBody(body)
        let replica = try ReplicaID(uuidString: "6f1c2b3a-0d4e-4f5a-9b6c-7d8e9fa0b1c2")
        #expect(changeSet.replica == replica)
        #expect(changeSet.lastAppliedSequence == 41)
        #expect(changeSet.appVersion == "1.0.0")
        let expected = try #require(vector.expect)
        #expect(changeSet.actions.count == expected.count)
        for (action, want) in zip(changeSet.actions, expected) {
            #expect(action.dot == Dot(replica: replica, counter: want.counter))
            #expect(action.payload.kind.rawValue == want.kind)
            #expect(action.job == want.job.map { JobID(Dot(replica: replica, counter: $0)) })
            #expect(action.seenSequence == want.seen)
            #expect(action.hlc.wallMillis == want.wall)
            #expect(action.businessDay == Fixtures.date(want.day))
            #expect(action.actor == Actor(user: try UserID("tech-ana"), role: .technician))
        }
        guard case .recordPayment(let payment) = changeSet.actions[3].payload else { Issue.record("expected a payment"); return }
        #expect(payment == PaymentRequest(amountMinor: 100_000, currency: .usd, method: .cash))
        #expect(changeSet.actions[4].payload == .recordPayment(PaymentRequest(amountMinor: 48_250, currency: .usd, method: .check, reference: "1042")))
        #expect(changeSet.actions[5].payload == .recordPayment(PaymentRequest(amountMinor: 30_000, currency: .usd, method: .card, reference: "AUTH-77",
                                                                              pending: true)))
        guard case .createPlan(let draft) = changeSet.actions[2].payload else { Issue.record("expected a plan"); return }
        #expect(draft == PlanDraft(template: .thirds))
        #expect(try ChangeSetCodec.encodeBody(changeSet) == body, "re-encoding must give the Python encoder's bytes")
    }

    @Test("The schema 2 vector: references on the job's replica go as steps from the job; it re-encodes byte for byte, and schema 1 spells them out")
    func schema2Vector() throws {
        let vector = try #require(try ChangeSetVectorFile.load().vectors.first { $0.name == "schema-2" })
        let body = bytes(hex: vector.hex)
        let changeSet = try ChangeSetCodec.decodeBody(body)
        let replica = try ReplicaID(uuidString: "6f1c2b3a-0d4e-4f5a-9b6c-7d8e9fa0b1c2")
        let other = try ReplicaID(uuidString: "0a1b2c3d-4e5f-4071-8293-a4b5c6d7e8f9")
        #expect(changeSet.schemaVersion == 2)
        let expected = try #require(vector.expect)
        #expect(changeSet.actions.map(\.payload.kind.rawValue) == expected.map(\.kind))
        #expect(changeSet.actions.map(\.dot.counter) == expected.map(\.counter))
        // Schema 2's amounts: hundreds as they are, minor units flagged in the payment code.
        #expect(changeSet.actions[3].payload == .recordPayment(PaymentRequest(amountMinor: 100_000, currency: .usd, method: .cash)))
        #expect(changeSet.actions[4].payload == .recordPayment(PaymentRequest(amountMinor: 48_250, currency: .usd, method: .check, reference: "1042")))
        #expect(changeSet.actions[5].payload == .recordPayment(PaymentRequest(amountMinor: 30_000, currency: .usd, method: .card, reference: "AUTH-77",
                                                                              pending: true)))
        #expect(changeSet.actions[6].payload == .editInstallment(InstallmentID(origin: Dot(replica: replica, counter: 3), index: 2), label: "Balance", dueDate: .keep))
        #expect(changeSet.actions[7].payload == .confirmPayment(PaymentID(Dot(replica: replica, counter: 6))))
        #expect(changeSet.actions[8].payload == .approveChangeOrder(ChangeOrderID(Dot(replica: other, counter: 9)), reason: "ok"))
        #expect(try ChangeSetCodec.encodeBody(changeSet) == body, "re-encoding must give the Python encoder's bytes")
        var old = changeSet
        old.schemaVersion = 1
        let oldBody = try ChangeSetCodec.encodeBody(old)
        #expect(oldBody != body)
        #expect(try ChangeSetCodec.decodeBody(oldBody) == old)
    }

    @Test("Invalid vectors fail with their specified code", arguments: try ChangeSetVectorFile.load().vectors.filter { $0.error != nil })
    func invalidVectors(vector: ChangeSetVectorFile.Vector) throws {
        do {
            let changeSet = try ChangeSetCodec.decodeBody(bytes(hex: vector.hex))
            Issue.record("\(vector.name) decoded to \(changeSet.actions.count) actions; expected \(vector.error!)")
        } catch {
            #expect(error.code.rawValue == vector.error, "\(vector.name): \(vector.what) — \(error.message)")
        }
    }

    @Test("Random change sets of every action kind round-trip through the body and the envelope")
    func roundTrip() throws {
        for seed in UInt64(0)..<200 {
            var rng = SeededRandom(seed: seed)
            let replica = ReplicaID(high: rng.next(), low: rng.next())
            let first = UInt64(rng.int(in: 1...1_000_000))
            let actions = (0..<rng.int(in: 0...60)).map { offset in
                RandomActions.action(Dot(replica: replica, counter: first + UInt64(offset)), &rng)
            }
            let changeSet = ChangeSet(replica: replica, lastAppliedSequence: rng.next() >> 20, appVersion: "2.3.\(seed)",
                                      clock: HLCTimestamp(wallMillis: rng.int64(in: 0...4_000_000_000_000), logical: UInt32(rng.int(in: 0...9))),
                                      actions: actions)
            let decoded = try ChangeSetCodec.decodeBody(try ChangeSetCodec.encodeBody(changeSet))
            #expect(decoded == changeSet, "seed \(seed)")
            #expect(try ChangeSetCodec.decode(try ChangeSetCodec.encode(changeSet, compression: Compression.allCases[Int(seed) % 3])) == changeSet, "seed \(seed)")
        }
    }

    @Test("Random pull pages with interleaved replicas round-trip; counters go as per-replica steps")
    func pullPageRoundTrip() throws {
        for seed in UInt64(0)..<100 {
            var rng = SeededRandom(seed: seed)
            var counters = RandomActions.others.map { _ in UInt64(rng.int(in: 0...50_000)) }
            let first = UInt64(rng.int(in: 1...1_000_000))
            let entries = (0..<rng.int(in: 1...80)).map { offset -> LogEntry in
                let writer = rng.int(in: 0...(counters.count - 1))
                counters[writer] += UInt64(rng.int(in: 1...3))
                let action = RandomActions.action(Dot(replica: RandomActions.others[writer], counter: counters[writer]), &rng)
                return LogEntry(sequence: first + UInt64(offset), action: action, outcome: .applied)
            }
            let page = PullPage(entries: entries, checkpoint: Checkpoint(sequence: entries.last!.sequence, logDigest: Array(repeating: 7, count: 32),
                                                                          jobs: [], caughtUp: seed % 2 == 0))
            #expect(try SyncMessage.decode(try SyncMessage.pullPage(page).encoded()) == .pullPage(page), "seed \(seed)")
        }
    }

    @Test("Packed columns round-trip at every width, including the 64-bit extremes")
    func packedColumns() throws {
        var rng = SeededRandom(seed: 9)
        var cases: [[Int64]] = [[], [0], [Int64.min, Int64.max], [Int64.max, Int64.max], [-5, -5, -4], [1, 0, 255, 256]]
        for _ in 0..<300 {
            let width = rng.int(in: 0...63)
            let base = rng.int64(in: -1_000_000...1_000_000)
            cases.append((0..<rng.int(in: 1...40)).map { _ in base &+ Int64(rng.next() >> UInt64(64 - width)) })
        }
        for values in cases {
            let column = PackedColumnCodec.encode(values)
            #expect(try PackedColumnCodec.decode(column, count: values.count) == values, "\(values)")
            // No other width reads back as the same values (a base below the smallest value is
            // refused: vector packed-not-canonical).
            if !values.isEmpty {
                var wider = column
                wider.width += 1
                #expect((try? PackedColumnCodec.decode(wider, count: values.count)) != values)
            }
        }
    }

    @Test("An encoder refuses a pull page in which one replica's counters go backwards")
    func pageCountersInOrder() throws {
        var rng = SeededRandom(seed: 2)
        let replica = RandomActions.others[0]
        let entries = [UInt64(5), 4].enumerated().map { offset, counter in
            LogEntry(sequence: UInt64(offset + 1), action: RandomActions.action(Dot(replica: replica, counter: counter), &rng), outcome: .applied)
        }
        let page = PullPage(entries: entries, checkpoint: Checkpoint(sequence: 2, logDigest: Array(repeating: 0, count: 32), jobs: [], caughtUp: true))
        #expect(throws: ProtocolError.self) { try SyncMessage.pullPage(page).encoded() }
    }

    @Test("An encoder refuses a change set whose actions are not one replica's consecutive dots")
    func consecutiveDots() {
        var rng = SeededRandom(seed: 1)
        let replica = ReplicaID(high: 1, low: 1)
        let gap = [RandomActions.action(Dot(replica: replica, counter: 1), &rng), RandomActions.action(Dot(replica: replica, counter: 3), &rng)]
        #expect(throws: ProtocolError.self) {
            try ChangeSetCodec.encodeBody(ChangeSet(replica: replica, lastAppliedSequence: 0, appVersion: "1", clock: HLCTimestamp(wallMillis: 0), actions: gap))
        }
    }
}

