import ArgumentParser
import FieldClient
import Foundation
import LedgerCore
import LedgerReports

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
        case .actionRefused, .insecureServer: code = Exit.refused
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
    var out: [UInt8] = []
    writeTable(report.header, rowCount: report.rows.count, rightAligned: []) { out += $0 } cell: { row, column in
        column < report.rows[row].count ? report.rows[row][column].plain : ""
    }
    return String(decoding: out, as: UTF8.self)
}

/// Prints a report's table for people as it is built, a block at a time (a large company's is
/// megabytes; holding it whole as well would double what the command needs).
func printTable(_ report: CSVTable) {
    fflush(nil) // what `print` buffered goes first
    // The widths in a pass over the cells as they are, not through `writeTable`'s accessor:
    // for a large report that pass is a good part of the command.
    var widths = report.header.map(displayWidth)
    for row in report.rows {
        for (column, cell) in row.enumerated() where column < widths.count {
            switch cell {
            case .text(let text), .number(let text): widths[column] = max(widths[column], displayWidth(text))
            }
        }
    }
    writeTable(report.header, rowCount: report.rows.count, rightAligned: [], widths: widths) { block in
        FileHandle.standardOutput.write(Data(block))
    } cell: { row, column in
        column < report.rows[row].count ? report.rows[row][column].plain : ""
    }
}

/// Columns padded to their widest cell; numbers right-aligned.
func table(_ header: [String], _ rows: [[String]], rightAligned: Set<Int> = []) -> String {
    var out: [UInt8] = []
    writeTable(header, rowCount: rows.count, rightAligned: rightAligned) { out += $0 } cell: { row, column in
        column < rows[row].count ? rows[row][column] : ""
    }
    return String(decoding: out, as: UTF8.self)
}

/// Characters on the screen: the UTF-8 count where the text is ASCII (counting characters is
/// the slow path).
func displayWidth(_ text: String) -> Int {
    let utf8 = text.utf8
    return utf8.allSatisfy { $0 < 0x80 } ? utf8.count : text.count
}

/// Columns padded to their widest cell, two spaces apart, a rule under the header, no trailing
/// blanks, a newline after every line but the last; handed to `emit` in blocks. `widths` when
/// the caller measured the columns already.
func writeTable(_ header: [String], rowCount: Int, rightAligned: Set<Int>, widths known: [Int]? = nil, emit: ([UInt8]) -> Void,
                cell: (_ row: Int, _ column: Int) -> String) {
    let width = displayWidth
    var widths = known ?? header.map(width)
    if known == nil {
        for row in 0..<rowCount { for column in widths.indices { widths[column] = max(widths[column], width(cell(row, column))) } }
    }
    let aligned = widths.indices.map { rightAligned.contains($0) }
    let blockBytes = 1 << 20
    var out: [UInt8] = []
    out.reserveCapacity(blockBytes + 4096)
    func pad(_ count: Int) { if count > 0 { out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: count)) } }
    func line(last: Bool, _ text: (Int) -> String) {
        for column in widths.indices {
            if column > 0 { pad(2) }
            var value = text(column)
            let padding = widths[column] - width(value)
            if aligned[column] { pad(padding) }
            value.withUTF8 { out.append(contentsOf: $0) }
            if !aligned[column] { pad(padding) }
        }
        while out.last == UInt8(ascii: " ") { out.removeLast() }
        if !last { out.append(UInt8(ascii: "\n")) }
        if out.count >= blockBytes || last {
            emit(out)
            out.removeAll(keepingCapacity: true)
        }
    }
    line(last: false) { header[$0] }
    line(last: rowCount == 0) { String(repeating: "-", count: widths[$0]) }
    for row in 0..<rowCount { line(last: row == rowCount - 1) { cell(row, $0) } }
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
