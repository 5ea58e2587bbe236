import Foundation
import GRDB
import LedgerCore
import LedgerService
import LedgerTestSupport
import SQLiteLedgerStorage
import Testing

@Suite("A group commit that fails")
struct FailedCommitTests {
    @Test("When SQLite refuses part of a push, the whole push is refused, the memory matches the log again, and a retry converges")
    func refusedInsert() throws {
        let fixture = try ServiceFixture()
        let traffic = try LedgerServiceTests.workload(seed: 19)
        _ = try fixture.pushInLogOrder(traffic.setup.map(\.action))
        // A real failure from SQLite itself: a trigger that aborts one log insert.
        let failing = traffic.setup.count + 150
        let queue = try DatabaseQueue(path: fixture.path)
        try queue.write { db in
            try db.execute(sql: "CREATE TRIGGER refuse_one BEFORE INSERT ON log WHEN NEW.sequence = \(failing) BEGIN SELECT RAISE(ABORT, 'injected'); END")
        }
        var refused: ServiceError?
        do {
            _ = try fixture.pushInLogOrder(traffic.entries.map(\.action))
        } catch let error as ServiceError {
            refused = error
        }
        #expect(refused?.code == .storageFailed, "\(String(describing: refused))")
        let head = try fixture.service.head(company: fixture.company)
        #expect(head < UInt64(failing) && head > UInt64(traffic.setup.count), "the runs before the failing one committed, none of it")
        // The memory was dropped and reloaded: it is the fold of what the log holds.
        #expect(try fixture.service.projectedLedger(company: fixture.company) == (try fixture.service.foldedLedger(company: fixture.company)))
        try queue.write { db in try db.execute(sql: "DROP TRIGGER refuse_one") }
        try queue.close()
        // The devices send everything again; what was logged answers "exists".
        let outcomes = try fixture.pushInLogOrder(traffic.entries.map(\.action))
        #expect(outcomes.filter { $0 == .exists }.count == Int(head) - traffic.setup.count)
        #expect(try fixture.service.projectedLedger(company: fixture.company).stateDigest == traffic.ledger.stateDigest)
    }
}
