import Foundation
import GRDB
import LedgerCore
import LedgerService
import LedgerTestSupport
import SQLiteLedgerStorage
import Testing

@Suite("Checkpoints beside the writer")
struct CheckpointTests {
    @Test("Shortly after a commit the database file itself holds the entries, not only the write-ahead log")
    func walCopiedIntoTheFile() async throws {
        let fixture = try ServiceFixture()
        let traffic = try LedgerServiceTests.workload(seed: 23)
        _ = try fixture.pushInLogOrder(traffic.setup.map(\.action))
        let head = try fixture.service.head(company: fixture.company)
        // The main file alone, copied without its WAL, is what a checkpoint has written so far.
        let copy = fixture.path + ".copy"
        var rows: Int64 = 0
        for _ in 0..<100 where rows < Int64(head) {
            try await Task.sleep(for: .milliseconds(20))
            try? FileManager.default.removeItem(atPath: copy)
            try FileManager.default.copyItem(atPath: fixture.path, toPath: copy)
            // A copy taken while the checkpoint writes may be torn: count it as nothing yet.
            rows = (try? await DatabaseQueue(path: copy).read { db in try Int64.fetchOne(db, sql: "SELECT count(*) FROM log") ?? 0 }) ?? 0
        }
        try? FileManager.default.removeItem(atPath: copy)
        #expect(rows == Int64(head), "the file without its WAL holds \(rows) of \(head) entries after 2 s")
    }
}
