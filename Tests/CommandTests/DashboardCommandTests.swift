import CurlKit
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The dashboard as the operator starts it: `tradingbot hash-password`, the hash in the home's
/// secrets.env, `tradingbot dashboard --port 0`, then SIGTERM.
@Suite struct DashboardCommandTests {
    @Test(.timeLimit(.minutes(20))) func theBinaryServesItsDashboardAndStopsOnSigterm() throws {
        let home = try CommandRunner.makeHome()
        let hashed = try CommandRunner.run("tradingbot", ["hash-password"], stdin: "a long enough password\n")
        #expect(hashed.status == 0, "\(hashed.stderr)")
        let hash = hashed.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(hash.hasPrefix("$2") && hash.count == 60, "\(hash)")
        #expect(!hashed.stdout.contains("a long enough password"))
        try Fixtures.write("TRADINGBOT_DASHBOARD_PASSWORD_HASH='\(hash)'\n", to: home + "/config/secrets.env")
        chmod(home + "/config/secrets.env", 0o600)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandRunner.path("tradingbot"))
        process.arguments = ["dashboard", "--home", home, "--port", "0", "--bind", "0.0.0.0"]
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "TRADINGBOT_DASHBOARD_PASSWORD_HASH")
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        // The first line says where it listens (generous: a busy machine starts slowly).
        var line = ""
        let reader = out.fileHandleForReading
        let deadline = Date().addingTimeInterval(120)
        while !line.contains("\n") && Date() < deadline {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            line += String(decoding: chunk, as: UTF8.self)
        }
        let port = try #require(
            line.split(separator: ":").last.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) },
            "\(line)")
        #expect(line.hasPrefix("listening on 0.0.0.0:"), "with a password it may listen beyond loopback")

        let health = try HTTPClient.send(HTTPRequest(url: "http://127.0.0.1:\(port)/healthz", timeoutSeconds: 30))
        #expect(health.status == 200 && health.text.contains("\"dashboard\": \"up\""), "\(health.text)")
        let login = try HTTPClient.send(HTTPRequest(url: "http://127.0.0.1:\(port)/login", timeoutSeconds: 30))
        #expect(login.status == 200 && login.text.contains("type=\"password\""), "a password is asked")

        process.terminate()
        let stopBy = Date().addingTimeInterval(30)
        while process.isRunning && Date() < stopBy { usleep(50_000) }
        #expect(!process.isRunning, "SIGTERM stops the dashboard")
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
    }

    @Test func refusesToListenBeyondLoopbackWithoutAPassword() throws {
        let home = try CommandRunner.makeHome()
        let open = try CommandRunner.run(
            "tradingbot", ["dashboard", "--home", home, "--bind", "0.0.0.0", "--port", "0"])
        #expect(open.status == 2)
        #expect(open.stderr.contains("TRADINGBOT_DASHBOARD_PASSWORD_HASH") && open.stderr.contains("hash-password"))
        let bad = try CommandRunner.run(
            "tradingbot", ["dashboard", "--home", home, "--port", "0"],
            environment: ["TRADINGBOT_DASHBOARD_PASSWORD_HASH": "plaintext"])
        #expect(bad.status == 2 && bad.stderr.contains("not a bcrypt hash"), "\(bad.stderr)")
        let short = try CommandRunner.run("tradingbot", ["hash-password"], stdin: "short\n")
        #expect(short.status == 2 && short.stdout.isEmpty)
    }
}
