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
            try Self.jobRowsAsCanonicalBytes(db)
            try toJSON(Job.self, table: "job", column: "state", keys: ["company", "id"])
            try toJSON(LogEntry.self, table: "log", column: "entry", keys: ["company", "sequence"])
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier LIKE 'v6:%' OR identifier LIKE 'v7:%'")
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM grdb_migrations") == 5)
        }
        try queue.close()
        let migrated = LedgerService(storage: try SQLiteLedgerStorage(path: fixture.path))
        #expect(try migrated.projectedLedger(company: fixture.company) == traffic.ledger)
        #expect(try migrated.foldedLedger(company: fixture.company) == traffic.ledger)
        let page = try migrated.pull(company: fixture.company, after: 0, limit: 5_000)
        #expect(page.entries == Array(log.prefix(page.entries.count)))
    }

    /// Turns the job rows back into what every version before v8 wrote: canonical bytes, no format
    /// column (nor v9's sequences).
    static func jobRowsAsCanonicalBytes(_ db: Database) throws {
        for row in try Row.fetchAll(db, sql: "SELECT company, id, format, state FROM job") {
            #expect(row["format"] as Int64 == StoredJobFormat.record.rawValue)
            let job = try JobRecord.job(from: Array(row["state"] as Data))
            try db.execute(sql: "UPDATE job SET state = ? WHERE company = ? AND id = ?",
                           arguments: [Data(CanonicalEncoding.bytes(of: job)), row["company"] as Int64, row["id"] as Data])
        }
        try db.execute(sql: "ALTER TABLE job DROP COLUMN format")
        try db.execute(sql: "ALTER TABLE job DROP COLUMN folded_through")
        try db.execute(sql: "ALTER TABLE company DROP COLUMN snapshot_claimed")
        try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier LIKE 'v8:%' OR identifier LIKE 'v9:%'")
    }

    @Test("A database from before v8 (job rows in canonical bytes) opens with the same ledger, and the next snapshot stores records")
    func jobRowsToRecords() throws {
        let fixture = try ServiceFixture()
        let traffic = try LedgerServiceTests.workload(seed: 31)
        let log = traffic.setup + traffic.entries
        let half = log.count / 2
        _ = try fixture.pushInLogOrder(log.prefix(half).map(\.action))
        try fixture.service.storeSnapshots()
        let queue = try DatabaseQueue(path: fixture.path)
        let jobRows = try queue.write { db in
            try Self.jobRowsAsCanonicalBytes(db)
            return try Int.fetchOne(db, sql: "SELECT count(*) FROM job") ?? 0
        }
        try queue.close()
        #expect(jobRows > 0)
        let migrated = try ServiceFixture(reopening: fixture)
        let formats = { () throws -> [Int64: Int] in
            try DatabaseQueue(path: fixture.path).read { db in
                Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT format, count(*) AS n FROM job GROUP BY format").map { ($0["format"] as Int64, $0["n"] as Int) })
            }
        }
        #expect(try formats() == [StoredJobFormat.canonical.rawValue: jobRows], "v8 marks the old rows canonical and changes none")
        _ = try migrated.pushInLogOrder(log.dropFirst(half).map(\.action))
        #expect(try migrated.service.projectedLedger(company: fixture.company) == traffic.ledger)
        try migrated.service.storeSnapshots()
        let after = try formats()
        #expect(after[StoredJobFormat.record.rawValue, default: 0] > 0, "jobs changed since v8 are stored as records")
        #expect(after.values.reduce(0, +) == traffic.ledger.jobCount)
        // A fresh start reads both kinds of row back into the same ledger.
        let reopened = try ServiceFixture(reopening: migrated)
        #expect(try reopened.service.projectedLedger(company: fixture.company) == traffic.ledger)
        #expect(try reopened.service.foldedLedger(company: fixture.company) == traffic.ledger)
    }

    @Test("A database from before v7 (each log digest over the whole entry) gets the new running digests, and pushes go on from them")
    func logDigestsRecomputed() throws {
        let fixture = try ServiceFixture()
        let traffic = try LedgerServiceTests.workload(seed: 24)
        let log = traffic.setup + traffic.entries
        let half = log.count / 2
        _ = try fixture.pushInLogOrder(log.prefix(half).map(\.action))
        try fixture.service.storeSnapshots()
        // What v6 wrote: SHA-256 of the previous digest and the entry's canonical bytes.
        let queue = try DatabaseQueue(path: fixture.path)
        try queue.write { db in
            var old = LogDigest.empty
            for row in try Row.fetchAll(db, sql: "SELECT sequence, entry FROM log ORDER BY sequence") {
                var hasher = SHA256()
                hasher.update(old)
                hasher.update(Array(row["entry"] as Data))
                old = hasher.finalize()
                try db.execute(sql: "UPDATE log SET log_digest = ? WHERE sequence = ?", arguments: [Data(old), row["sequence"] as Int64])
            }
            try db.execute(sql: "UPDATE company SET log_digest = ?", arguments: [Data(old)])
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier LIKE 'v7:%'")
        }
        try queue.close()
        let migrated = try ServiceFixture(reopening: fixture)
        _ = try migrated.pushInLogOrder(log.dropFirst(half).map(\.action))
        var expected = LogDigest.empty
        var stored: [[UInt8]] = []
        for entry in log { expected = LogDigest.next(expected, entry) }
        var cursor: UInt64 = 0
        while true {
            let page = try migrated.service.pull(company: fixture.company, after: cursor, limit: 5_000)
            guard let last = page.entries.last else { break }
            stored.append(page.checkpoint.logDigest)
            cursor = last.sequence
        }
        #expect(cursor == UInt64(log.count))
        #expect(stored.last == expected, "the digest at the head continues the recomputed chain")
        #expect(try DatabaseQueue(path: fixture.path).read { db in try Data.fetchOne(db, sql: "SELECT log_digest FROM company") } == Data(expected))
    }
}
