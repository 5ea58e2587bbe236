import FieldClient
import Foundation
import LedgerCore
import LedgerTestSupport
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// `fieldledger-server serve` on a loopback port, with its data in a temporary folder, or in a
/// PostgreSQL database when `database` is a URL.
final class LiveServer: @unchecked Sendable {
    let data: String
    let database: String?
    let port: Int
    private var process: Process?

    init(data: String, database: String? = nil) throws {
        self.data = data
        self.database = database
        // Kept across restarts so devices set up against it find it again; below the ephemeral
        // range, so no outgoing connection holds it (TestPorts).
        port = TestPorts.next()
    }

    /// A server in a new temporary folder (returned too) with company "acme" and `users`
    /// (name and role), not started.
    static func acme(_ users: [(String, String)], database: String? = nil) throws -> (root: String, server: LiveServer) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fieldledger-cli-\(UUID().uuidString)").path
        let server = try LiveServer(data: root + "/server", database: database)
        _ = try server.admin(["company", "create", "acme"])
        for (user, role) in users { _ = try server.admin(["user", "add", "acme", user, "--role", role]) }
        return (root, server)
    }

    func admin(_ arguments: [String]) throws -> String {
        let result = try Binaries.run("fieldledger-server", arguments + storageArguments)
        guard result.status == 0 else { throw CLIFailure(message: "fieldledger-server \(arguments): \(result.err)") }
        return result.out
    }

    /// Issues a token; returns it.
    func token(_ company: String, _ user: String) throws -> String {
        let printed = try admin(["token", "issue", company, user])
        guard let line = printed.split(separator: "\n").first(where: { $0.hasPrefix("token:") }) else { throw CLIFailure(message: printed) }
        return line.split(separator: " ").last.map(String.init) ?? ""
    }

    /// Starts `serve` (with `arguments`, or on this server's port and data) and waits until it answers.
    func start(arguments: [String]? = nil) async throws {
        let process = Process()
        process.executableURL = Binaries.url("fieldledger-server")
        process.arguments = arguments ?? ["serve", "--host", "127.0.0.1", "--port", String(port)] + storageArguments
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

    /// Kills the process at once (SIGKILL): no request finishes, no commit is waited for.
    func kill() {
        guard let process, process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    var storageArguments: [String] { database.map { ["--database", $0] } ?? ["--data", data] }

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
        try await Self.twoDevicesStory(database: nil)
    }

    @Test("The same story with the server on PostgreSQL", .enabled(if: PostgresServer.available || PostgresServer.required,
                                                                  "PostgreSQL is not installed here: the server on PostgreSQL is NOT TESTED"))
    func twoDevicesOnPostgres() async throws {
        let postgres = try PostgresServer()
        defer { postgres.stop() }
        try await Self.twoDevicesStory(database: try postgres.makeDatabase())
    }

    @Test("Three server processes on one PostgreSQL, one killed with SIGKILL while a device pushes to it: every payment once, every device and process agrees",
          .enabled(if: PostgresServer.available || PostgresServer.required, "PostgreSQL is not installed here: several server processes are NOT TESTED"))
    func threeProcessesOnPostgres() async throws {
        let postgres = try PostgresServer()
        defer { postgres.stop() }
        let url = try postgres.makeDatabase()
        let (root, first) = try LiveServer.acme([("ben", "office"), ("ana", "technician"), ("luis", "technician")], database: url)
        let servers = [first, try LiveServer(data: root + "/unused-1", database: url), try LiveServer(data: root + "/unused-2", database: url)]
        let tokens = [try first.token("acme", "ben"), try first.token("acme", "ana"), try first.token("acme", "luis")]
        for server in servers { try await server.start() }
        let now = "2026-06-01T15:00:00Z"
        // Each device syncs through its own process.
        let devices = ["office", "ana", "luis"].map { Device(home: root + "/" + $0, now: now) }
        for (index, device) in devices.enumerated() {
            try device.run(["init", "--server", "http://127.0.0.1:\(servers[index].port)", "--token", tokens[index]])
        }
        let (office, ana, luis) = (devices[0], devices[1], devices[2])
        for number in 1...2 {
            try office.run(["job", "create", "--number", "J-\(number)", "--customer", "Customer \(number)"])
            try office.run(["invoice", "J-\(number)", "--number", "I-\(number)", "--total", "10,000.00"])
            try office.run(["plan", "set", "J-\(number)", "--template", "Thirds"])
        }
        for device in devices { try device.run(["sync"]) }

        // Offline, both technicians collect on both jobs; the office takes one more.
        for index in 1...12 {
            try ana.run(["pay", "J-\(index % 2 + 1)", "10", "--method", "cash", "--reference", "a\(index)"])
            try luis.run(["pay", "J-\(index % 2 + 1)", "5", "--method", "check", "--reference", "l\(index)"])
        }
        try office.run(["pay", "J-1", "1", "--method", "card"])
        // Ana's process dies while her push may be in flight; her sync fails or finishes, and the
        // others go on through theirs.
        let sync = Process()
        sync.executableURL = Binaries.url("fieldledger")
        sync.arguments = ["sync", "--home", ana.home]
        sync.environment = ProcessInfo.processInfo.environment.merging(["FIELDLEDGER_NOW": now]) { $1 }
        sync.standardOutput = FileHandle.nullDevice
        sync.standardError = FileHandle.nullDevice
        try sync.run()
        try await Task.sleep(for: .milliseconds(40))
        servers[1].kill()
        sync.waitUntilExit()
        #expect([0, 3].contains(sync.terminationStatus), "a sync cut off by the server's death fails as unreachable (3), or had finished (0)")
        try luis.run(["sync"])
        try office.run(["sync"])
        try await servers[1].start()
        for _ in 0..<2 { for device in devices { try device.run(["sync"]) } }

        for device in devices { #expect((try device.json(["status"]) as? [String: Any])?["pending"] as? Int == 0) }
        let jobs = try #require(try office.json(["job", "list"]) as? [[String: Any]])
        // Per job: 6 of Ana's 10.00 and 6 of Luis's 5.00 (J-1 also the office's 1.00), each once.
        #expect(jobs.map { $0["completedMinor"] as? Int } == [9_100, 9_000])
        let csv = try office.run(["report", "outstanding-draws", "--csv"])
        for device in [ana, luis] { #expect(try device.run(["report", "outstanding-draws", "--csv"]) == csv) }
        for server in servers { #expect(try await server.reportCSV("outstanding-draws", token: tokens[0], today: "2026-06-01") == csv) }
        #expect(try office.run(["job", "list", "--json"]) == (try ana.run(["job", "list", "--json"])))
        for server in servers { server.stop() }
    }

    static func twoDevicesStory(database: String?) async throws {
        let (root, server) = try LiveServer.acme([("ben", "office"), ("ana", "technician")], database: database)
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

    @Test("Every command of the README's quick start runs and succeeds, in order")
    func readmeQuickStart() async throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        let marker = try #require(text.range(of: "<!-- quick-start:"))
        // The two ```sh blocks after the marker.
        var blocks: [[String]] = []
        var rest = text[marker.upperBound...]
        while blocks.count < 2, let open = rest.range(of: "```sh\n"), let close = rest[open.upperBound...].range(of: "```") {
            blocks.append(rest[open.upperBound..<close.lowerBound].split(separator: "\n").map(String.init))
            rest = rest[close.upperBound...]
        }
        #expect(blocks.count == 2)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fieldledger-readme-\(UUID().uuidString)").path
        let server = try LiveServer(data: root + "/data")
        var tokens: [String] = []
        var ran = 0
        for line in blocks.joined() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            var words = Self.words(line)
            let program = words.removeFirst()
            words = words.map { word in
                var word = word.replacingOccurrences(of: "127.0.0.1:8080", with: "127.0.0.1:\(server.port)")
                for folder in ["data", "office", "tech"] where word == "./\(folder)" { word = root + "/" + folder }
                if word == "$MARIA_TOKEN" { word = tokens.first ?? "" }
                if word == "$LUIS_TOKEN" { word = tokens.dropFirst().first ?? "" }
                return word == "8080" ? String(server.port) : word
            }
            if program == "fieldledger-server" && words.first == "serve" {
                try await server.start(arguments: words)
            } else {
                let result = try Binaries.run(program, words, environment: ["FIELDLEDGER_NOW": "2026-06-01T15:00:00Z"])
                #expect(result.status == 0, "\(line): \(result.err)")
                if words.starts(with: ["token", "issue"]), let token = result.out.split(separator: "\n").first(where: { $0.hasPrefix("token:") })?.split(separator: " ").last {
                    tokens.append(String(token))
                }
            }
            ran += 1
        }
        #expect(ran == 22, "the quick start has 6 server and 16 device commands")
        server.stop()
    }

    /// Splits a shell line into words: double quotes group, `#` starts a comment.
    static func words(_ line: String) -> [String] {
        var words: [String] = [], current = "", quoted = false, started = false
        for character in line {
            if character == "\"" { quoted.toggle(); started = true; continue }
            if !quoted && character == "#" { break }
            if !quoted && character == " " {
                if started { words.append(current) }
                current = ""
                started = false
                continue
            }
            current.append(character)
            started = true
        }
        if started { words.append(current) }
        return words
    }

    @Test("A sync killed with SIGKILL mid-push and mid-pull, then run again, loses nothing and counts nothing twice")
    func killedSyncs() async throws {
        let (root, server) = try LiveServer.acme([("ben", "office")])
        let officeToken = try server.token("acme", "ben"), laptopToken = try server.token("acme", "ben")
        try await server.start()
        let address = "http://127.0.0.1:\(server.port)"
        // An office device with 3,000 payments waiting, made through the library (a process per
        // action would take minutes).
        try FileManager.default.createDirectory(atPath: root + "/office", withIntermediateDirectories: true)
        let office = try FieldReplica.create(at: root + "/office/replica.sqlite", identity: try await HTTPSyncTransport(server: address, token: officeToken).identify())
        let day = try CalendarDate.parse("2026-06-01")
        let job = JobID(try office.perform(.createJob(number: "J-1", customer: Customer(name: "A"), department: nil, currency: .usd, notes: ""),
                                           job: nil, day: day, wallMillis: 1_000).action.dot)
        try office.perform(.setInvoice(number: "HV-1", baseTotalMinor: 100_000_000, issuedOn: day), job: job, day: day, wallMillis: 1_001)
        for index in 0..<3_000 {
            try office.perform(.recordPayment(PaymentRequest(amountMinor: 100, currency: .usd, method: .cash)), job: job, day: day, wallMillis: 2_000 + Int64(index))
        }
        let laptop = Device(home: root + "/laptop", now: "2026-06-01T15:00:00Z")
        try laptop.run(["init", "--server", address, "--token", laptopToken])
        var killed = [0, 0]
        for (index, home) in [root + "/office", root + "/laptop"].enumerated() {
            // Killed at later and later moments (doubling from 2 ms, so that the first kill
            // always lands and even a pull that takes a tenth of a second is cut more than once)
            // until a run finishes on its own.
            for attempt in 1...13 {
                let process = Process()
                process.executableURL = Binaries.url("fieldledger")
                process.arguments = ["sync", "--home", home]
                process.standardOutput = FileHandle.nullDevice
                process.standardError = FileHandle.nullDevice
                try process.run()
                // A blocking sleep on purpose: with every cooperative thread busy in other
                // tests, `Task.sleep` once resumed only after the whole pull had finished, and
                // no kill landed.
                usleep(UInt32(2_000 << (attempt - 1)))
                // Whether the kill landed is read from how the process ended, not from
                // `isRunning` (which a loaded machine once reported false for a process still
                // starting, and the kill was skipped).
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                guard process.terminationReason == .uncaughtSignal else { break }
                killed[index] += 1
            }
            try Binaries.run("fieldledger", ["sync", "--home", home])
        }
        #expect(killed[0] > 0 && killed[1] > 0, "each sync was killed at least once: \(killed)")
        let officeDevice = Device(home: root + "/office", now: "2026-06-01T15:00:00Z")
        for device in [officeDevice, laptop] {
            let status = try #require(try device.json(["status"]) as? [String: Any])
            #expect(status["pending"] as? Int == 0)
            #expect(status["lastConfirmedSequence"] as? Int == 3_002, "every action logged exactly once")
        }
        let jobs = try #require(try laptop.json(["job", "list"]) as? [[String: Any]])
        #expect(jobs.first?["completedMinor"] as? Int == 300_000)
        #expect(try laptop.run(["job", "list", "--json"]) == (try officeDevice.run(["job", "list", "--json"])))
        #expect(try FieldReplica.open(at: root + "/office/replica.sqlite").outbox().allSatisfy { $0.status == .acknowledged && $0.outcome == .applied })
        server.stop()
    }

    @Test("The README's run command: `fieldledger demo` plays its story against an embedded server and prints the merged ledger, the draws and the review case with both versions")
    func demo() throws {
        let result = try Binaries.run("fieldledger", ["demo"])
        #expect(result.status == 0, "fieldledger demo: \(result.err)")
        let out = result.out
        for expected in ["An embedded server at http://127.0.0.1:", "Luis is in the customer's basement: no signal.",
                         "The merged ledger, the same on both devices and the server (checked):",
                         "collected $2,900.00, balance $1,900.00", "Outstanding draws:", "Final Payment",
                         "(plan-edit-after-unseen-payment) on J-1042: waiting for a person.",
                         "In force: Deposit $2,400.00, Final Payment $2,400.00", "Proposed: 60/40"] {
            #expect(out.contains(expected), "the demo's output lacks: \(expected)")
        }
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
