import Foundation
import Testing

/// Runs a program to its end and returns its exit status and everything it printed.
/// Runs a program to its end: its exit status and what it printed on stdout and stderr.
func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: output, as: UTF8.self))
}

@Suite("HTTPS straight from the server binary")
struct TLSTests {
    @Test("--tls-cert and --tls-key serve HTTPS that curl verifies against the certificate; plain HTTP gets no answer; a half or unreadable TLS setup refuses to start")
    func https() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fieldledger-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let certificate = directory + "/cert.pem", key = directory + "/key.pem"
        let made = try run("/usr/bin/openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                                                "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
                                                "-keyout", key, "-out", certificate])
        try #require(made.status == 0, "openssl: \(made.output)")

        let server = Process()
        server.executableURL = ServerProcess.binary
        server.arguments = ["serve", "--port", "0", "--data", directory + "/data", "--tls-cert", certificate, "--tls-key", key]
        let output = Pipe()
        server.standardOutput = output
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        var line = ""
        while !line.contains("\n") {
            let chunk = output.fileHandleForReading.availableData
            try #require(!chunk.isEmpty, "the server ended before listening")
            line += String(decoding: chunk, as: UTF8.self)
        }
        #expect(line.contains("https://127.0.0.1:"), "\(line)")
        let port = try #require(line.split(separator: ":").dropFirst(2).first.flatMap { Int($0.prefix(while: \.isNumber)) })

        let secure = try run("/usr/bin/curl", ["-sS", "--max-time", "10", "--cacert", certificate, "https://127.0.0.1:\(port)/healthz"])
        #expect(secure.status == 0 && secure.output == "ok\n", "\(secure)")
        let plain = try run("/usr/bin/curl", ["-sS", "--max-time", "10", "http://127.0.0.1:\(port)/healthz"])
        #expect(plain.status != 0 || !plain.output.contains("ok"), "plain HTTP must not be served on the TLS port: \(plain)")

        let half = try run(ServerProcess.binary.path, ["serve", "--port", "0", "--data", directory + "/data", "--tls-cert", certificate])
        #expect(half.status != 0 && half.output.contains("--tls-key"), "\(half)")
        let unreadable = try run(ServerProcess.binary.path, ["serve", "--port", "0", "--data", directory + "/data", "--tls-cert", certificate,
                                                             "--tls-key", directory + "/missing.pem"])
        #expect(unreadable.status != 0 && unreadable.output.contains("missing.pem"), "\(unreadable)")
    }
}
