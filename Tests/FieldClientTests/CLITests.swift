import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// The built `fieldledger` and `fieldledger-server` binaries, run as real processes.
enum Binaries {
    static func url(_ name: String) -> URL {
        // The test runner sits in the build products directory (or one level below), beside the executables.
        let here = Bundle.main.bundleURL
        return [here, here.deletingLastPathComponent()].map { $0.appendingPathComponent(name) }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? here.appendingPathComponent(name)
    }

    /// Runs a binary to its end: its exit status, standard output and standard error.
    @discardableResult
    static func run(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = url(name)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read before waiting: a full pipe would block the child.
        let output = out.fileHandleForReading.readDataToEndOfFile(), error = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: error, as: UTF8.self))
    }
}

/// `fieldledger-server serve` on a loopback port, with its data in a temporary folder.
final class LiveServer: @unchecked Sendable {
    let data: String
    let port: Int
    private var process: Process?

    init(data: String) throws {
        self.data = data
        // A free port, kept across restarts so devices set up against it find it again.
        port = Int.random(in: 20_000...60_000)
    }

    func admin(_ arguments: [String]) throws -> String {
        let result = try Binaries.run("fieldledger-server", arguments + ["--data", data])
        guard result.status == 0 else { throw CLIFailure(message: "fieldledger-server \(arguments): \(result.err)") }
        return result.out
    }

    /// Issues a token; returns it.
    func token(_ company: String, _ user: String) throws -> String {
        let printed = try admin(["token", "issue", company, user])
        guard let line = printed.split(separator: "\n").first(where: { $0.hasPrefix("token:") }) else { throw CLIFailure(message: printed) }
        return line.split(separator: " ").last.map(String.init) ?? ""
    }

    func start() async throws {
        let process = Process()
        process.executableURL = Binaries.url("fieldledger-server")
        process.arguments = ["serve", "--host", "127.0.0.1", "--port", String(port), "--data", data]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        for _ in 0..<200 {
            if let (_, response) = try? await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/healthz")!),
               (response as? HTTPURLResponse)?.statusCode == 200 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw CLIFailure(message: "the server did not come up on port \(port)")
    }

    func stop() {
        guard let process, process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    deinit { stop() }

    /// A server report as CSV, read with an office token.
    func reportCSV(_ name: String, token: String, today: String) async throws -> String {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/reports/\(name)?format=csv&today=\(today)")!)
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        let (data, _) = try await URLSession.shared.data(for: request)
        return String(decoding: data, as: UTF8.self)
    }
}

struct CLIFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// A device: the CLI with its own home folder and a fixed clock.
struct Device {
    let home: String
    let now: String

    @discardableResult
    func run(_ arguments: [String], expect status: Int32 = 0, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let result = try Binaries.run("fieldledger", arguments + ["--home", home], environment: ["FIELDLEDGER_NOW": now])
        #expect(result.status == status, "fieldledger \(arguments.joined(separator: " ")): \(result.err)", sourceLocation: sourceLocation)
        return result.out
    }

    func json(_ arguments: [String]) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(try run(arguments + ["--json"]).utf8))
    }
}

@Suite("The field CLI against the real server binary")
struct CLITests {
    @Test("Two devices offline with concurrent edits sync to identical reports; a case resolved twice shows as refused while later actions sync")
    func twoDevices() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fieldledger-cli-\(UUID().uuidString)").path
        let server = try LiveServer(data: root + "/server")
        _ = try server.admin(["company", "create", "acme"])
        _ = try server.admin(["user", "add", "acme", "ben", "--role", "office"])
        _ = try server.admin(["user", "add", "acme", "ana", "--role", "technician"])
        let officeToken = try server.token("acme", "ben"), techToken = try server.token("acme", "ana"), secondOfficeToken = try server.token("acme", "ben")
        try await server.start()
        let address = "http://127.0.0.1:\(server.port)"
        let now = "2026-06-01T15:00:00Z"
        let office = Device(home: root + "/office", now: now), tech = Device(home: root + "/tech", now: now), laptop = Device(home: root + "/laptop", now: now)
        try office.run(["init", "--server", address, "--token", officeToken])
        try tech.run(["init", "--server", address, "--token", techToken])
        try laptop.run(["init", "--server", address, "--token", secondOfficeToken])
        try office.run(["job", "create", "--number", "J-1001", "--customer", "Dana Whitfield"])
        try office.run(["invoice", "J-1001", "--number", "HV-2001", "--total", "3,000.00"])
        try office.run(["plan", "set", "J-1001", "--template", "Thirds"])
        for device in [office, tech, laptop] { try device.run(["sync"]) }

        // The server goes away: the devices keep working; a sync fails with exit 3 and loses nothing.
        server.stop()
        try tech.run(["plan", "set", "J-1001", "--percent", "50,50", "--labels", "Deposit,Final"])
        let paid = try tech.run(["pay", "J-1001", "1,500.00", "--method", "check", "--reference", "1042"])
        #expect(paid.contains("balance now $1,500.00"))
        try office.run(["pay", "J-1001", "500", "--method", "card"])
        try office.run(["plan", "set", "J-1001", "--template", "60/40 Deposit"])
        let clock = ContinuousClock(), offline = clock.now
        try tech.run(["sync"], expect: 3)
        #expect(clock.now - offline < .seconds(15), "no signal fails fast")
        #expect((try tech.json(["status"]) as? [String: Any])?["pending"] as? Int == 2)

        try await server.start()
        try tech.run(["sync"])
        try office.run(["sync"])
        try tech.run(["sync"])
        try laptop.run(["sync"])
        // Both devices and the server agree to the byte.
        let officeCSV = try office.run(["report", "outstanding-draws", "--csv"])
        #expect(officeCSV == (try tech.run(["report", "outstanding-draws", "--csv"])))
        #expect(officeCSV == (try await server.reportCSV("outstanding-draws", token: officeToken, today: "2026-06-01")))
        // The technician's 50/50 stands; the deposit is paid, the final row has the office's 500 on it.
        #expect(officeCSV.hasSuffix("Dana Whitfield,J-1001,HV-2001,2,Final,USD,1500.00,1000.00,0.00,,No Due Date,0\n"), "\(officeCSV)")
        #expect(try office.run(["job", "list", "--json"]) == (try tech.run(["job", "list", "--json"])))
        let cases = try #require(try office.json(["review", "list"]) as? [[String: Any]])
        #expect(cases.count == 1, "the office's plan edit had not seen the deposit: parked with both versions")
        let caseID = try #require(cases.first?["id"] as? String)
        #expect(cases.first?["kind"] as? String == "plan-edit-after-unseen-payment")

        // Two office devices decide the same case offline; the second to sync is refused, and its
        // payment made after it still reaches the server.
        try office.run(["review", "resolve", caseID, "--resolution", "keep-current", "--note", "customer agreed with Ana"])
        try laptop.run(["review", "resolve", caseID, "--resolution", "keep-current", "--note", "same"])
        try laptop.run(["pay", "J-1001", "100", "--method", "cash"])
        try office.run(["sync"])
        try laptop.run(["sync"])
        let status = try #require(try laptop.json(["status"]) as? [String: Any])
        #expect(status["pending"] as? Int == 0)
        #expect(status["rejected"] as? Int == 1)
        #expect((status["refused"] as? [[String: Any]])?.first?["outcome"] as? String == "rejected: review_case_resolved")
        #expect(try laptop.run(["status"]).contains("refused: resolveReviewCase"))
        try office.run(["sync"])
        let jobs = try #require(try office.json(["job", "list"]) as? [[String: Any]])
        #expect(jobs.first?["completedMinor"] as? Int == 210_000, "1,500 + 500 + 100, each once")
        #expect(jobs.first?["openReviewCases"] as? Int == 0)
        server.stop()
    }

    @Test("Errors say what to do and exit with the documented codes")
    func errors() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("fieldledger-cli-\(UUID().uuidString)").path
        let device = Device(home: home, now: "2026-06-01T15:00:00Z")
        let notSetUp = try Binaries.run("fieldledger", ["job", "list", "--home", home])
        #expect(notSetUp.status == 2)
        #expect(notSetUp.err.contains("fieldledger init"))
        let insecure = try Binaries.run("fieldledger", ["init", "--server", "http://office.example.com", "--token", "t", "--home", home])
        #expect(insecure.status == 1)
        #expect(insecure.err.contains("https://"))
        #expect(!FileManager.default.fileExists(atPath: home + "/replica.sqlite"))
        _ = device
    }
}
