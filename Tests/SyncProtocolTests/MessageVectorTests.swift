import Foundation
import LedgerCore
import LedgerTestSupport
import SyncProtocol
import Testing

/// Protocol/vectors/messages.json: whole envelopes of the messages other than the change set,
/// written by Python encoders apart from the Swift ones.
struct MessageVectorFile: Decodable {
    struct Vector: Decodable, CustomStringConvertible {
        let name: String
        let type: UInt8
        let hex: String
        let what: String
        /// Set on invalid vectors: the code decoding must fail with.
        let error: String?
        var description: String { name }
    }

    let vectors: [Vector]

    static func file() throws -> MessageVectorFile {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Protocol/vectors/messages.json")
        return try JSONDecoder().decode(MessageVectorFile.self, from: Data(contentsOf: url))
    }

    static func load() throws -> [String: [UInt8]] {
        Dictionary(uniqueKeysWithValues: try file().vectors.filter { $0.error == nil }.map { ($0.name, bytes(hex: $0.hex)) })
    }
}

@Suite("Golden vectors of the push response, pull request, pull page and error")
struct MessageVectorTests {
    let replica = try! ReplicaID(uuidString: "6f1c2b3a-0d4e-4f5a-9b6c-7d8e9fa0b1c2")

    /// Decodes a vector, and checks that re-encoding it gives the same bytes.
    func decode(_ name: String) throws -> SyncMessage {
        let wire = try #require(try MessageVectorFile.load()[name])
        let message = try SyncMessage.decode(wire)
        #expect(try message.encoded(compression: try Envelope.decode(wire).compression) == wire, "\(name) must re-encode byte for byte")
        return message
    }

    @Test("Invalid message vectors fail with their specified code", arguments: try MessageVectorFile.file().vectors.filter { $0.error != nil })
    func invalidVectors(vector: MessageVectorFile.Vector) {
        do {
            let message = try SyncMessage.decode(bytes(hex: vector.hex))
            Issue.record("\(vector.name) decoded to \(message); expected \(vector.error!)")
        } catch {
            #expect(error.code.rawValue == vector.error, "\(vector.name): \(vector.what) — \(error.message)")
        }
    }

    @Test("A push response with every kind of outcome, and one stopped by a gap")
    func pushResponses() throws {
        let expected = PushResponse(outcomes: [
            .applied, .exists,
            .appliedWithException(ReviewCaseID(Dot(replica: replica, counter: 7), index: 1)),
            .parkedForReview(ReviewCaseID(Dot(replica: replica, counter: 8), index: 0)),
            .rejected(LedgerError(.amountNotPositive, "The payment amount must be greater than zero.")),
        ], sendFrom: nil, serverSequence: 1207)
        #expect(try decode("push-response") == .pushResponse(expected))
        #expect(try decode("push-response-gap") == .pushResponse(PushResponse(outcomes: [.applied], sendFrom: 12, serverSequence: 88)))
    }

    @Test("A pull request and an error message")
    func pullRequestAndError() throws {
        #expect(try decode("pull-request") == .pullRequest(PullRequest(replica: replica, afterSequence: 4096, limit: 500, schemaVersion: 1)))
        #expect(try decode("pull-request-schema-2") == .pullRequest(PullRequest(replica: replica, afterSequence: 4096, limit: 500, schemaVersion: 2)))
        #expect(try decode("error") == .error(code: "replica_mismatch", message: "This device may only push its own actions; check the device token."))
    }

    @Test("A pull page of two entries with its checkpoint")
    func pullPage() throws {
        guard case .pullPage(let page) = try decode("pull-page") else { Issue.record("expected a pull page"); return }
        let office = Actor(user: try UserID("office-ben"), role: .office)
        #expect(page.entries.map(\.sequence) == [41, 42])
        #expect(page.entries.map(\.action.dot) == [Dot(replica: replica, counter: 1), Dot(replica: replica, counter: 2)])
        #expect(page.entries.allSatisfy { $0.action.actor == office && $0.outcome == .applied })
        #expect(page.entries[1].action.job == JobID(Dot(replica: replica, counter: 1)))
        #expect(page.entries.map(\.action.seenSequence) == [40, 41])
        #expect(page.entries[1].action.hlc == HLCTimestamp(wallMillis: 1_780_272_001_000))
        #expect(page.entries[0].action.businessDay == Fixtures.date("2026-06-01"))
        #expect(page.entries[1].action.payload == .setInvoice(number: "HV-2048", baseTotalMinor: 300_000, issuedOn: Fixtures.date("2026-06-01")))
        #expect(page.checkpoint == Checkpoint(sequence: 42, logDigest: Array(32..<64), jobs: [
            JobDigest(job: JobID(Dot(replica: replica, counter: 1)), eventCount: 2, invoiceTotalMinor: 300_000, completedMinor: 0,
                      pendingMinor: 0, refundedMinor: 0, hash: Array(0..<32)),
        ], caughtUp: true))
    }

    @Test("A pull page leaves out the dot of a review case its entry raised itself")
    func pullPageCases() throws {
        guard case .pullPage(let page) = try decode("pull-page-cases") else { Issue.record("expected a pull page"); return }
        #expect(page.entries.map(\.outcome) == [
            .parkedForReview(ReviewCaseID(Dot(replica: replica, counter: 7), index: 0)),
            .appliedWithException(ReviewCaseID(Dot(replica: replica, counter: 2), index: 1)),
        ])
        guard case .pullPage(let plain) = try decode("pull-page") else { Issue.record("expected a pull page"); return }
        let outcomes = page.entries.map(\.outcome)
        let cases = PullPage(entries: zip(plain.entries, outcomes).map { LogEntry(sequence: $0.sequence, action: $0.action, outcome: $1) },
                             checkpoint: plain.checkpoint, schemaVersion: plain.schemaVersion)
        #expect(try SyncMessage.pullPage(cases).encoded(compression: .zlib) == MessageVectorFile.load()["pull-page-cases"])
    }

    @Test("A pull page in body schema 2 writes a reference on its job's replica as a step from the job")
    func pullPageSchema2() throws {
        guard case .pullPage(let page) = try decode("pull-page-schema-2") else { Issue.record("expected a pull page"); return }
        guard case .pullPage(let plain) = try decode("pull-page") else { Issue.record("expected a pull page"); return }
        #expect(plain.schemaVersion == 1)
        #expect(page.schemaVersion == 2)
        #expect(page.entries[1].action.job == JobID(Dot(replica: replica, counter: 1)))
        #expect(page.entries[1].action.payload == .editInstallment(InstallmentID(origin: Dot(replica: replica, counter: 3), index: 2), label: "Balance", dueDate: .keep))
        // The same page written in schema 1 spells the reference out, and reads back the same.
        var old = page
        old.schemaVersion = 1
        guard case .pullPage(let back) = try SyncMessage.decode(try SyncMessage.pullPage(old).encoded()) else { Issue.record("expected a pull page"); return }
        #expect(back == old)
    }
}
