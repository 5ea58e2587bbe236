import ArgumentParser
import FieldClient
import Foundation
import LedgerCore
import LedgerReports
import Synchronization

/// Exit codes scripts can rely on (the README lists them).
enum Exit {
    /// The ledger rules refused the action, or an argument is not valid: nothing changed.
    static let refused: Int32 = 1
    /// This device is not set up, or its replica file cannot be used.
    static let notSetUp: Int32 = 2
    /// The sync could not finish (no network, server busy, server refused): nothing was lost.
    static let syncIncomplete: Int32 = 3
    /// The server refused the device token.
    static let unauthorized: Int32 = 4
    /// This device's copy differs from the server's.
    static let diverged: Int32 = 5
}

/// A failure the CLI reports as one line on stderr and an exit code.
struct Failure: Error, CustomStringConvertible {
    let message: String
    let code: Int32

    var description: String { message }

    init(_ message: String, code: Int32 = Exit.refused) {
        self.message = message
        self.code = code
    }

    init(_ error: ClientError) {
        message = error.message
        switch error.code {
        case .actionRefused, .insecureServer, .replicaChanged: code = Exit.refused
        case .replicaUnusable, .replicaExists: code = Exit.notSetUp
        case .serverUnreachable, .serverBusy, .syncFailed: code = Exit.syncIncomplete
        case .unauthorized: code = Exit.unauthorized
        case .diverged: code = Exit.diverged
        }
    }
}

/// Runs a command body, turning every known error into a message and an exit code.
func reporting(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let failure as Failure {
        FileHandle.standardError.write(Data("fieldledger: \(failure.message)\n".utf8))
        throw ExitCode(failure.code)
    } catch let error as ClientError {
        try await reporting { throw Failure(error) }
    } catch let error as LedgerError {
        try await reporting { throw Failure(error.message) }
    }
}

/// Options every command that reads the replica takes.
struct HomeOptions: ParsableArguments {
    @Option(help: "The device's folder (environment: FIELDLEDGER_HOME; default ~/.fieldledger). Several devices can live on one machine, one folder each.")
    var home: String?

    @Flag(help: "Print JSON for scripts instead of tables.")
    var json = false

    var folder: String {
        home ?? ProcessInfo.processInfo.environment["FIELDLEDGER_HOME"]
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".fieldledger").path
    }

    var replicaPath: String { URL(fileURLWithPath: folder).appendingPathComponent("replica.sqlite").path }

    func open() throws -> FieldReplica {
        guard FileManager.default.fileExists(atPath: replicaPath) else {
            throw Failure("This device is not set up in \(folder); run `fieldledger init --server URL --token TOKEN` first.", code: Exit.notSetUp)
        }
        return try FieldReplica.open(at: replicaPath)
    }
}

/// The device's clock and calendar: now, and today in the company's business time zone
/// (decision 0002). `FIELDLEDGER_NOW` (ISO 8601, for example 2026-06-01T09:30:00Z) fixes the
/// clock for scripts and tests.
enum DeviceClock {
    static var now: Date {
        if let text = ProcessInfo.processInfo.environment["FIELDLEDGER_NOW"], let date = ISO8601DateFormatter().date(from: text) { return date }
        return Date()
    }

    static var nowMillis: Int64 { Int64((now.timeIntervalSince1970 * 1000).rounded(.down)) }

    static func today(in settings: CompanySettings) throws -> CalendarDate {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: settings.businessTimeZone) ?? TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day], from: now)
        return try CalendarDate.parse(String(format: "%04d-%02d-%02d", parts.year ?? 1970, parts.month ?? 1, parts.day ?? 1))
    }
}

/// Finds a job by its number (as people know it) or its id (`<replica>/<counter>`), reading only
/// the jobs that could match.
func resolveJob(_ reference: String, in replica: FieldReplica) throws -> Job {
    let byNumber = try replica.jobs(numbered: reference)
    if byNumber.count == 1 { return byNumber[0] }
    if byNumber.count > 1 {
        throw Failure("Several jobs have the number \(reference): \(byNumber.map { JobSummary.text($0.id) }.joined(separator: ", ")); give the id instead.")
    }
    let parts = reference.split(separator: "/")
    if parts.count == 2, let device = try? ReplicaID(uuidString: String(parts[0])), let counter = UInt64(parts[1]),
       let job = try replica.job(JobID(Dot(replica: device, counter: counter))) {
        return job
    }
    throw Failure("There is no job \(reference) on this device; `fieldledger job list` shows them (sync first if it is new).")
}

/// Reads an amount in the job's currency.
func amount(_ text: String, _ currency: Currency) throws -> Int64 {
    do {
        return try Money.parse(text, currency: currency).amountMinor
    } catch {
        throw Failure("'\(text)' is not an amount: \(error.message)")
    }
}

func money(_ minor: Int64, _ currency: Currency) -> String {
    (try? Money(minor: minor, currency).formatted()) ?? "\(minor)"
}

/// A report's table for people (the same cells as its CSV).
func table(_ report: CSVTable) -> String {
    TableText.render(report)
}

/// Prints a report's table for people a block at a time as it is built (a large company's is
/// megabytes; holding it whole as well would double what the command needs).
func printTable(_ report: CSVTable) {
    let rows = report.rowCount
    // A long table is measured in two halves at once, as `printRows` writes it.
    let table: TableText
    if threadCount(for: rows, perThreadMin: ClientLimits.tableRowsPerThreadMin) > 1 {
        let halves = inParallel(2) { part in TableText(measuring: report, rows: part == 0 ? 0..<(rows / 2) : (rows / 2)..<rows) }
        table = halves[0].widened(to: halves[1])
    } else {
        table = TableText(measuring: report)
    }
    printRows(rows) { rows, first, emit in table.write(report, rows: rows, header: first, emit: emit) }
}

/// Prints the outstanding draws as a table for people, or as CSV, a batch of rows at a time:
/// the columns are known before any cell is written, so no cell of the whole table is held.
func printDraws(_ draws: Reports.DrawsTableOrder, settings: CompanySettings, csv: Bool) {
    let header = draws.header(settings: settings)
    let text = csv ? nil : TableText(draws: draws, header: header)
    printRows(draws.rowCount) { rows, first, emit in
        draws.write(rows: rows, header: header, text: text, withHeader: first, batchRows: ClientLimits.tableRowsPerBatch, emit: emit)
    }
}

/// Prints `rows` rows that `write` writes (a range of them, whether the range is the table's
/// start, where to hand the bytes). A long table's second half is written on another core while
/// the first half is printed, then printed after it.
private func printRows(_ rows: Int, write: @escaping @Sendable (Range<Int>, Bool, (UnsafeBufferPointer<UInt8>) -> Void) -> Void) {
    guard threadCount(for: rows, perThreadMin: ClientLimits.tableRowsPerThreadMin) > 1 else {
        write(0..<rows, true) { block in printBytes(UnsafeRawBufferPointer(block)) }
        return
    }
    let secondHalf = Mutex<[[UInt8]]>([])
    let written = DispatchSemaphore(value: 0)
    DispatchQueue.global().async {
        var blocks: [[UInt8]] = []
        write((rows / 2)..<rows, false) { blocks.append(Array($0)) }
        secondHalf.withLock { $0 = blocks }
        written.signal()
    }
    write(0..<(rows / 2), true) { block in printBytes(UnsafeRawBufferPointer(block)) }
    written.wait()
    for block in secondHalf.withLock({ $0 }) { printBytes(block) }
}

/// Writes bytes to standard output as they are (a report's CSV or JSON can be megabytes; made
/// into a `String` for `print` it was copied and checked once more).
func printBytes(_ bytes: some ContiguousBytes, lineEnd: Bool = false) {
    fflush(nil) // what `print` buffered goes first
    bytes.withUnsafeBytes { buffer in
        guard let base = buffer.baseAddress, !buffer.isEmpty else { return }
        // Written from where the bytes are, not copied into a `Data` first.
        FileHandle.standardOutput.write(Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: buffer.count, deallocator: .none))
    }
    if lineEnd { FileHandle.standardOutput.write(Data([UInt8(ascii: "\n")])) }
}

/// Columns padded to their widest cell; numbers right-aligned.
func table(_ header: [String], _ rows: [[String]], rightAligned: Set<Int> = []) -> String {
    TableText.render(header, rows, rightAligned: rightAligned)
}

/// JSON with sorted keys and indentation, for scripts.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// How an outcome reads for people.
func describe(_ outcome: Outcome) -> String {
    switch outcome {
    case .applied: "applied"
    case .exists: "already recorded"
    case .appliedWithException(let id): "recorded; the office will review it (case \(id))"
    case .parkedForReview(let id): "waiting for the office to review it (case \(id))"
    case .rejected(let error): "refused: \(error.message)"
    }
}

/// What an action did, as scripts read it.
struct ActionResult: Encodable {
    let action: String
    let job: String?
    let outcome: String
    let reviewCase: String?
    let warnings: [String]

    init(_ action: Action, _ outcome: Outcome, warnings: [String] = []) {
        self.action = "\(action.dot.replica)/\(action.dot.counter)"
        job = action.touchedJob.map(JobSummary.text)
        switch outcome {
        case .applied: (self.outcome, reviewCase) = ("applied", nil)
        case .exists: (self.outcome, reviewCase) = ("exists", nil)
        case .appliedWithException(let id): (self.outcome, reviewCase) = ("applied_with_exception", id.description)
        case .parkedForReview(let id): (self.outcome, reviewCase) = ("parked_for_review", id.description)
        case .rejected(let error): (self.outcome, reviewCase) = ("rejected: \(error.code)", nil)
        }
        self.warnings = warnings
    }
}
