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

        let dashboard = try DashboardProcess(home: home, ["--bind", "0.0.0.0"])
        let port = dashboard.port
        #expect(dashboard.firstLine.hasPrefix("listening on 0.0.0.0:"), "with a password it may listen beyond loopback")

        let health = try HTTPClient.send(HTTPRequest(url: "http://127.0.0.1:\(port)/healthz", timeoutSeconds: 30))
        #expect(health.status == 200 && health.text.contains("\"dashboard\": \"up\""), "\(health.text)")
        let login = try HTTPClient.send(HTTPRequest(url: "http://127.0.0.1:\(port)/login", timeoutSeconds: 30))
        #expect(login.status == 200 && login.text.contains("type=\"password\""), "a password is asked")

        let stopped = dashboard.stop()
        #expect(stopped.ended && stopped.status == 0, "SIGTERM stops the dashboard cleanly")
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
