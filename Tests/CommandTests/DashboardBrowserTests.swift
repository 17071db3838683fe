import Foundation
import TestSupport
import Testing
import TradingStore

#if canImport(Glibc)
    import Glibc
#endif

/// A real browser (Debian's chromium, headless) logs in to the dashboard the binary serves,
/// opens every tab and saves it as a PNG; what it rendered must equal `tradingbot report`.
@Suite struct DashboardBrowserTests {
    @Test(.timeLimit(.minutes(20))) func chromiumSeesTheNumbersOfReport() throws {
        for tool in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
            try #require(
                FileManager.default.isExecutableFile(atPath: tool), "\(tool) missing: run scripts/install-deps.sh")
        }
        let home = try CommandRunner.makeHome()
        let password = "browser tour password"
        let hashed = try CommandRunner.run("tradingbot", ["hash-password"], stdin: password + "\n")
        try #require(hashed.status == 0, "\(hashed.stderr)")
        try Fixtures.write(
            "TRADINGBOT_DASHBOARD_PASSWORD_HASH=\(hashed.stdout.trimmingCharacters(in: .whitespacesAndNewlines))\n",
            to: home + "/config/secrets.env")
        chmod(home + "/config/secrets.env", 0o600)
        // The engine's view of its health and scaling, as a replay of January 2018 left it.
        try FileIO.copy(Fixtures.data + "/health.json", to: home + "/state/health.json")

        let dashboard = try DashboardProcess(home: home)
        let port = dashboard.port

        let shots = try Fixtures.temporaryDirectory("screenshots")
        let tour = try CommandRunner.execute(
            "/usr/bin/env",
            [
                "python3", Fixtures.repoRoot + "/Tests/Support/scripts/browser_tour.py", "--base",
                "http://127.0.0.1:\(port)", "--password", password, "--out", shots,
            ])
        try #require(tour.status == 0, "\(tour.stderr)")
        let seen = try tour.json()
        let report = try CommandRunner.run("tradingbot", ["report", "--home", home, "--json"]).json()
        let balance = try #require(report["balance"] as? Double)
        #expect(seen["balance"] as? String == "$10,036.60" && balance == 10036.6, "\(seen)")
        #expect(seen["closed_trades"] as? String == "\(report["closed_trades"] as? Int ?? -1)")
        #expect(seen["open_count"] as? String == "\(report["open_positions"] as? Int ?? -1)")
        #expect((seen["health"] as? String)?.contains("System health") == true)
        #expect(seen["bot_health"] as? String == "55.8" && seen["scaling_step"] as? String == "25.0 %", "\(seen)")
        let tabs = try #require(seen["tabs"] as? [String: [String: Any]])
        #expect(Set(tabs.keys) == ["daily", "executive", "deploys", "kill-switch"])
        for (name, tab) in tabs {
            // A real picture of a real page, not an error page: a PNG of some size, with our title.
            #expect((tab["bytes"] as? Int ?? 0) > 20_000, "\(name): \(tab)")
            #expect((tab["title"] as? String)?.hasSuffix("· tradingbot") == true, "\(name): \(tab)")
            let png = try FileIO.read(tab["png"] as? String ?? "")
            #expect(Array(png.prefix(4)) == [0x89, 0x50, 0x4E, 0x47], "\(name) is a PNG")
        }
        print("dashboard screenshots: \(shots)")
    }
}
