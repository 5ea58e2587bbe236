import Foundation
import GRDB
import LedgerCore
import LedgerService
import LedgerTestSupport
import StorageTestSupport
import Testing

@Suite("A group commit that fails")
struct FailedCommitTests {
    @Test("When the database refuses part of a push, the whole push is refused, the memory matches the log again, and a retry converges",
          arguments: Backend.all)
    func refusedInsert(_ backend: Backend) throws {
        try backend.withSite { site in
            let fixture = try ServiceFixture(site: site)
            let traffic = try LedgerServiceTests.workload(seed: 19)
            _ = try fixture.pushInLogOrder(traffic.setup.map(\.action))
            // A real failure from the database itself: a trigger that aborts one log insert.
            let failing = traffic.setup.count + 150
            try Self.refuse(sequence: failing, at: site)
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
            try Self.allow(at: site)
            // The devices send everything again; what was logged answers "exists".
            let outcomes = try fixture.pushInLogOrder(traffic.entries.map(\.action))
            #expect(outcomes.filter { $0 == .exists }.count == Int(head) - traffic.setup.count)
            #expect(try fixture.service.projectedLedger(company: fixture.company).stateDigest == traffic.ledger.stateDigest)
        }
    }

    static func refuse(sequence: Int, at site: StorageSite) throws {
        switch site {
        case .sqlite(let path):
            try DatabaseQueue(path: path).write { db in
                try db.execute(sql: "CREATE TRIGGER refuse_one BEFORE INSERT ON log WHEN NEW.sequence = \(sequence) BEGIN SELECT RAISE(ABORT, 'injected'); END")
            }
        case .postgres(let url):
            try PostgresServer.execute("""
                CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF NEW.sequence = \(sequence) THEN RAISE EXCEPTION 'injected'; END IF;
                  RETURN NEW;
                END $$;
                CREATE TRIGGER refuse_one BEFORE INSERT ON log FOR EACH ROW EXECUTE FUNCTION refuse_one();
                """, url: url)
        }
    }

    static func allow(at site: StorageSite) throws {
        switch site {
        case .sqlite(let path): try DatabaseQueue(path: path).write { db in try db.execute(sql: "DROP TRIGGER refuse_one") }
        case .postgres(let url): try PostgresServer.execute("DROP TRIGGER refuse_one ON log", url: url)
        }
    }
}
