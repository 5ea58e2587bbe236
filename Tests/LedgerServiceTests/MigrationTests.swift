import Foundation
import GRDB
import LedgerCore
import LedgerService
import LedgerTestSupport
import SQLiteLedgerStorage
import Testing

@Suite("SQLite migrations")
struct MigrationTests {
    @Test("A database from before v6 (JSON rows, projections at the head) opens with the same ledger")
    func jsonToCanonical() throws {
        let fixture = try ServiceFixture()
        let traffic = try LedgerServiceTests.workload(seed: 18)
        let log = traffic.setup + traffic.entries
        _ = try fixture.pushInLogOrder(log.map(\.action))
        try fixture.service.storeSnapshots()
        // Turn the file back into what v5 wrote: JSON in every blob, v6 not yet applied.
        let queue = try DatabaseQueue(path: fixture.path)
        try queue.write { db in
            func toJSON<T: Codable>(_ type: T.Type, table: String, column: String, keys: [String]) throws {
                for row in try Row.fetchAll(db, sql: "SELECT \(keys.joined(separator: ", ")), \(column) AS value FROM \(table)") {
                    let value = try CanonicalEncoding.decode(T.self, from: Array(row["value"] as Data))
                    let json = try JSONEncoder().encode(value)
                    try db.execute(sql: "UPDATE \(table) SET \(column) = ? WHERE \(keys.map { "\($0) = ?" }.joined(separator: " AND "))",
                                   arguments: StatementArguments([json.databaseValue] + keys.map { row[$0] as DatabaseValue }))
                }
            }
            try toJSON(CompanyState.self, table: "company", column: "state", keys: ["key"])
            try toJSON(CompanyState.self, table: "company", column: "initial_state", keys: ["key"])
            try toJSON(Job.self, table: "job", column: "state", keys: ["company", "id"])
            try toJSON(LogEntry.self, table: "log", column: "entry", keys: ["company", "sequence"])
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier LIKE 'v6:%'")
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM grdb_migrations") == 5)
        }
        try queue.close()
        let migrated = LedgerService(storage: try SQLiteLedgerStorage(path: fixture.path))
        #expect(try migrated.projectedLedger(company: fixture.company) == traffic.ledger)
        #expect(try migrated.foldedLedger(company: fixture.company) == traffic.ledger)
        let page = try migrated.pull(company: fixture.company, after: 0, limit: 5_000)
        #expect(page.entries == Array(log.prefix(page.entries.count)))
    }
}
