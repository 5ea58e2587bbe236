import Foundation
import LedgerCore
@testable import SQLiteLedgerStorage
import Testing

@Suite("SQLite connections: durability and lock waits")
struct SQLiteConnectionTests {
    @Test("Every connection syncs fully (the writer too, after GRDB's WAL set-up) and waits for locks")
    func everyConnectionIsDurableAndPatient() throws {
        let fixture = try ServiceFixture()
        // A restart on the same file sets its connections up again; check both.
        for storage in [try #require(fixture.service.storage.base as? SQLiteLedgerStorage), try SQLiteLedgerStorage(path: fixture.path)] {
            let synchronous = try storage.pragma("synchronous")
            // 2 = FULL: a commit the server acknowledged survives losing power (1 = NORMAL does not).
            #expect(synchronous.writer == 2)
            #expect(synchronous.reader == 2)
            #expect(synchronous.checkpointer == 2)
            let busy = try storage.pragma("busy_timeout")
            let waitMillis = Int(SQLiteLimits.busyTimeoutSeconds * 1_000)
            #expect(busy.writer == waitMillis)
            #expect(busy.checkpointer == waitMillis)
            #expect((busy.reader ?? 0) > 0)
        }
    }
}
