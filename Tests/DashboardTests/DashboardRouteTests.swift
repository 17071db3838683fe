import CurlKit
@testable import Dashboard
import Foundation
import TestSupport
import Testing
import TradingCore
import TradingStore

/// The dashboard over a real socket, driven like a browser: login, its failures, the CSRF
/// guard, session expiry, and each page on the sample data, an empty home, a home whose reset
/// excludes every trade and a torn positions file.
@Suite(.serialized) struct DashboardRouteTests {
    @Test func logsInAndShowsTheNumbersOfReport() async throws {
        let home = try DashboardHarness.home()
        let dash = try await DashboardHarness(home: home)
        #expect(try await dash.request("/").status == 303, "a page needs a login")
        let wrong = try await dash.logIn("not the password")
        #expect(wrong.status == 401 && wrong.text.contains("Wrong password."))
        let right = try await dash.logIn()
        #expect(right.status == 303 && right.headers(named: "Location") == ["/"])
        let cookie = try #require(right.headers(named: "Set-Cookie").first { $0.hasPrefix("tb_session=") })
        #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "\(cookie)")
        #expect(!cookie.contains("Secure"), "Secure only when configured behind TLS")

        let page = try await dash.request("/")
        #expect(page.status == 200)
        // The same numbers as `tradingbot report` on this file (ReportCommandTests pins them).
        let report = try PositionsStore(home: home).report(reset: try ConfigFiles.bot(home.botConfig).walletReset)
        #expect(page.text.contains(HTMLText.escape(money(report.balance))) && money(report.balance) == "$10,036.60")
        #expect(
            page.text.contains("id=\"closed-trades\"><div class=\"label\">Closed trades</div><div class=\"value\">25<"))
        #expect(page.text.contains("1,075 in the file before the reset are not counted"))
        #expect(page.text.contains("<svg id=\"equity-chart\""))
        #expect(page.text.contains("System health"))
        #expect(page.text.contains("Recording") && page.text.contains("nothing recorded yet"), "the recorder's state")
        for header in ["Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options"] {
            #expect(!page.headers(named: header).isEmpty, "\(header) missing")
        }
        #expect(page.headers(named: "Cache-Control") == ["no-store"], "account data is never cached")

        let summary = try JSONValue.parse(Array(try await dash.request("/api/summary").body)).objectValue
        #expect(summary?["balance"]?.doubleValue == 10036.6 && summary?["closed_trades"]?.doubleValue == 25)
        let positions = try JSONValue.parse(Array(try await dash.request("/api/positions").body)).objectValue
        #expect(positions?["open"]?.arrayValue?.count == 4)
    }

    @Test func wrongPasswordsAreRateLimitedPerAddress() async throws {
        let dash = try await DashboardHarness(home: try DashboardHarness.home())
        for _ in 0..<5 { #expect(try await dash.logIn("guess").status == 401) }
        let limited = try await dash.logIn()
        #expect(limited.status == 429, "even the right password waits")
        #expect(limited.text.contains("Too many failed logins") && !limited.headers(named: "Retry-After").isEmpty)
        dash.advance(seconds: 301)
        #expect(try await dash.logIn().status == 303, "the window passed")

        // Twenty guesses at once: the limit is checked and counted together, so at most five
        // are even tried.
        let parallel = try await DashboardHarness(home: try DashboardHarness.home(positions: nil))
        let token = try #require(DashboardHarness.csrf(try await parallel.request("/login")))
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<20 {
                group.addTask {
                    try await parallel.request(
                        "/login", method: "POST", form: ["csrf": token, "password": "guess \(i)"]
                    ).status
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.filter { $0 == 401 }.count <= 5 && statuses.filter { $0 == 429 }.count >= 15, "\(statuses)")
    }

    @Test func aFormWithoutTheSessionsTokenChangesNothing() async throws {
        let home = try DashboardHarness.home()
        let dash = try await DashboardHarness(home: home)
        _ = try await dash.logIn()
        let forged = try await dash.request("/kill-switch", method: "POST", form: ["set": "on", "confirm": "yes"])
        #expect(forged.status == 403)
        let wrongToken = try await dash.request(
            "/kill-switch", method: "POST",
            form: ["set": "on", "confirm": "yes", "csrf": String(repeating: "0", count: 64)])
        #expect(wrongToken.status == 403)
        #expect(!FileIO.exists(home.stateDir + "/kill_switch"), "a forged form set the kill switch")
        // Through the page, with its token and the confirmation: on, then off.
        let page = try await dash.request("/kill-switch")
        let csrf = try #require(DashboardHarness.csrf(page))
        let unconfirmed = try await dash.request("/kill-switch", method: "POST", form: ["set": "on", "csrf": csrf])
        #expect(unconfirmed.status == 400 && !FileIO.exists(home.stateDir + "/kill_switch"))
        let on = try await dash.request(
            "/kill-switch", method: "POST", form: ["set": "on", "confirm": "yes", "csrf": csrf])
        #expect(on.status == 303 && FileIO.exists(home.stateDir + "/kill_switch"))
        #expect(try await dash.request("/kill-switch").text.contains("The kill switch is ON"))
        _ = try await dash.request(
            "/kill-switch", method: "POST", form: ["set": "off", "confirm": "yes", "csrf": csrf])
        #expect(!FileIO.exists(home.stateDir + "/kill_switch"))

        // A login form posted without the cookie the login page set is refused too.
        dash.cookies.withLock { $0 = [:] }
        let noCookie = try await dash.request(
            "/login", method: "POST", form: ["csrf": "x", "password": DashboardHarness.password])
        #expect(noCookie.status == 403)
    }

    @Test func anExpiredSessionMustLogInAgain() async throws {
        let dash = try await DashboardHarness(home: try DashboardHarness.home(), sessionHours: 1)
        _ = try await dash.logIn()
        #expect(try await dash.request("/").status == 200)
        dash.advance(seconds: 3601)
        #expect(try await dash.request("/").status == 303)
        #expect(try await dash.request("/api/summary").status == 401)
    }

    @Test func emptyStatesSayWhy() async throws {
        // No positions file, no heartbeat: a page that says so, never a blank panel or a 500.
        let empty = try await DashboardHarness(home: try DashboardHarness.home(positions: nil))
        _ = try await empty.logIn()
        let page = try await empty.request("/")
        #expect(page.status == 200)
        #expect(page.text.contains("No open positions.") && page.text.contains("No closed trades yet."))
        #expect(page.text.contains("no heartbeat yet"))
        #expect(try await empty.request("/healthz").status == 200)

        // A reset a year late (the wrong year): every trade excluded, and the page names it.
        let late = try await DashboardHarness(home: try DashboardHarness.home(resetAt: "2026-12-18T00:00:00Z"))
        _ = try await late.logIn()
        let excluded = try await late.request("/")
        #expect(excluded.status == 200)
        #expect(excluded.text.contains("excludes all 1,100 closed trades in the file"), "\(excluded.text)")
        #expect(excluded.text.contains("wallet_reset.at"))
    }

    @Test func aTornPositionsFileIsNamedNotA500() async throws {
        let home = try DashboardHarness.home()
        let bytes = try FileIO.read(home.positions)
        try FileIO.writeAtomically(home.positions, Array(bytes.prefix(bytes.count / 2)))
        let dash = try await DashboardHarness(home: home)
        _ = try await dash.logIn()
        let page = try await dash.request("/")
        #expect(page.status == 200)
        #expect(page.text.contains("The positions cannot be shown") && page.text.contains("positions_futures.json"))
        let health = try await dash.request("/healthz")
        #expect(health.status == 503 && health.text.contains("positions_futures.json"))
        // Mended: the new file is seen (the cache is keyed by the file's stamp).
        try FileIO.writeAtomically(home.positions, bytes)
        #expect(try await dash.page("/", containing: "$10,036.60"))
    }

    /// After a change, pages and /healthz answer at once from the previous numbers while one
    /// recompute runs in the background; two requests never compute twice.
    @Test func aRecomputeNeverHoldsAPageAndRunsOnce() async throws {
        let home = try DashboardHarness.home()
        let gate = ComputeGate()
        let dash = try await DashboardHarness(home: home, beforeCompute: { gate.enter() })
        _ = try await dash.logIn()
        #expect(try await dash.request("/").text.contains("$10,036.60") && gate.count == 1)
        gate.hold()
        let bot = try String(contentsOfFile: home.botConfig, encoding: .utf8)
        try Fixtures.write(
            bot.replacingOccurrences(of: "\"starting_capital\": 10000", with: "\"starting_capital\": 20000"),
            to: home.botConfig)
        for _ in 0..<3 {
            // Answered from the previous numbers while the recompute is held midway.
            #expect(try await dash.request("/").text.contains("$10,036.60"))
            #expect(try await dash.request("/healthz").status == 200)
        }
        #expect(gate.count == 2, "one recompute, however many requests: \(gate.count)")
        gate.release()
        #expect(try await dash.page("/", containing: "$20,036.60"), "the recompute's numbers replace the old")
    }

    @Test func noRequestPathReachesTheFileSystem() async throws {
        let dash = try await DashboardHarness(home: try DashboardHarness.home())
        _ = try await dash.logIn()
        for path in ["/static/../config/bot.json", "/static/%2e%2e/config/bot.json", "/config/bot.json", "/etc/passwd"]
        {
            let response = try await dash.request(path)
            #expect(response.status == 404 || response.status == 303, "\(path): \(response.status)")
            #expect(!response.text.contains("wallet_reset"), "\(path) served a file")
        }
    }

    @Test func executiveSummaryAndDeploys() async throws {
        let home = try DashboardHarness.home()
        let ledger = Ledger(path: home.releasesLedger)
        let at = Instant(year: 2025, month: 12, day: 19, hour: 9)!
        try ledger.append("r1", "started", [JSONField("ref", "main"), JSONField("slot", "A")], at: at)
        try ledger.append("r1", "resolved", [JSONField("sha", .string(String(repeating: "a", count: 40)))], at: at)
        try ledger.append(
            "r1", "step", [JSONField("name", "build"), JSONField("ok", true), JSONField("seconds", 151.2)], at: at)
        try ledger.append(
            "r1", "decisions",
            [
                JSONField("verdict", "pass"), JSONField("would_block", true), JSONField("changed", 21),
                JSONField("changed_entries", 17), JSONField("entries", ["current": 18, "candidate": 2]),
                JSONField("strategy_change", "threshold 0.05 -> 0.6 <b>"),
                JSONField(
                    "transitions",
                    [["from": "executed", "to": "skipped:entry_threshold", "count": 17]]),
                JSONField("reasons", ["entries 2 against the live build's 18"]),
            ], at: at)
        try ledger.append("r1", "state", [JSONField("state", "good")], at: at)
        try ledger.append("r2", "started", [JSONField("ref", "v2"), JSONField("slot", "B")], at: at)
        try ledger.append("r2", "resolved", [JSONField("sha", .string(String(repeating: "b", count: 40)))], at: at)
        try ledger.append(
            "r2", "step",
            [JSONField("name", "probation"), JSONField("ok", false), JSONField("detail", "no heartbeat <script>")],
            at: at)
        try ledger.append("r2", "state", [JSONField("state", "bad")], at: at)
        let torn = try FileHandle(forWritingTo: URL(fileURLWithPath: home.releasesLedger))
        torn.seekToEndOfFile()
        torn.write(Data(#"{"ts": "2025-12-19T10:00:00Z", "release": "r3", "ev"#.utf8 + [0x0A]))
        try torn.close()
        // A writer killed mid-line, then later releases: the torn line is skipped and named.
        try ledger.append("r3", "started", [JSONField("ref", "v3"), JSONField("slot", "B")], at: at)

        let dash = try await DashboardHarness(home: home)
        _ = try await dash.logIn()
        let deploys = try await dash.request("/deploys")
        #expect(deploys.status == 200)
        #expect(deploys.text.contains("<b>r2</b> bad") && deploys.text.contains("<b>r1</b> good"))
        #expect(deploys.text.contains("<li><code>\(String(repeating: "b", count: 40))</code></li>"), "the bad sha")
        #expect(deploys.text.contains("no heartbeat &lt;script&gt;"), "ledger text is escaped")
        #expect(deploys.text.contains("Unreadable ledger line(s) 10"), "the torn line is named, not fatal")
        #expect(deploys.text.range(of: "<b>r2</b>")!.lowerBound < deploys.text.range(of: "<b>r1</b>")!.lowerBound)
        #expect(deploys.text.contains("<b>r3</b> started"))
        // Each release's decision diff: its verdict, counts, declared change and transitions.
        #expect(deploys.text.contains("decisions pass") && deploys.text.contains("Decision diff: pass (would block)"))
        #expect(deploys.text.contains("entries 18 (live build) against 2 (candidate)"))
        #expect(deploys.text.contains("threshold 0.05 -&gt; 0.6 &lt;b&gt;"), "escaped")
        #expect(
            deploys.text.contains(
                "<td class=\"num\">17</td><td>executed</td><td>skipped:entry_threshold</td>"), "the transitions")
        let api = try JSONValue.parse(Array(try await dash.request("/api/releases").body)).objectValue
        #expect(api?["releases"]?.arrayValue?.compactMap { $0.objectValue?["id"]?.stringValue } == ["r3", "r2", "r1"])

        let executive = try await dash.request("/executive")
        #expect(executive.status == 200)
        for part in ["Profit factor", "By strategy", "By symbol", "By exit reason", "profit_lock", "Learning"] {
            #expect(executive.text.contains(part), "\(part)")
        }
        #expect(executive.text.contains("No learned weights yet"))
        #expect(executive.text.contains("The engine has not written its health yet"), "an empty state that says why")

        // The engine's view after a replay of January 2018 (Tests/Fixtures/health.json, written by
        // the engine): health, the scaling step with its history, each strategy's allocation.
        try FileManager.default.copyItem(atPath: Fixtures.data + "/health.json", toPath: home.healthView)
        let scaled = try await dash.request("/executive").text
        for part in [
            "Bot health", "55.8", "Capital scaling", "25.0 %", "0.15 of 0.6", "71 / 20",
            "Ensemble-trend_strength", "60.0 %", "Scaling history", "the bot&#39;s health 36.3 is below min_health",
            "volatility_breakout:SHORT",
        ] {
            #expect(scaled.contains(part), "\(part)")
        }
        try Fixtures.write("{torn", to: home.healthView)
        #expect(try await dash.request("/executive").text.contains("state/health.json cannot be read"))

        let empty = try await DashboardHarness(home: try DashboardHarness.home(positions: nil))
        _ = try await empty.logIn()
        #expect(try await empty.request("/executive").text.contains("No closed trades yet: nothing to summarise."))
        #expect(try await empty.request("/deploys").text.contains("No release yet"))
    }

    /// Blocked signals and the hour after them, from signals.jsonl and data/candles.db.
    @Test func missedOpportunitiesSayWhatTheMarketDidAfterABlock() async throws {
        let home = try DashboardHarness.home()
        let blockedAt = Instant(year: 2025, month: 12, day: 19, hour: 9)!
        let lines = [
            #"{"ts": "2025-12-19T09:00:00Z", "symbol": "BTCUSDT", "action": "blocked", "direction": "LONG", "rule": "max_positions"}"#,
            #"{"ts": "2025-12-19T09:00:00Z", "symbol": "ETHUSDT", "action": "blocked", "direction": "SHORT", "rule": "expectancy"}"#,
            #"{"ts": "2025-12-19T09:00:00Z", "symbol": "SOLUSDT", "action": "skipped", "direction": "NONE"}"#,
        ]
        try Fixtures.write(lines.joined(separator: "\n") + "\n", to: home.signalsLog)
        let dash = try await DashboardHarness(home: home)
        _ = try await dash.logIn()
        #expect(try await dash.request("/executive").text.contains("no candles recorded yet"))

        try home.createDirectories()
        let store = try CandleStore(path: home.candleStore)
        func candle(_ minutes: Double, _ close: Double) -> Candle {
            Candle(
                ts: blockedAt.adding(seconds: minutes * 60), open: close, high: close, low: close, close: close,
                volume: 0)
        }
        // BTC rises 2 % after the blocked long (followed); ETH rises 2 % after the blocked short.
        for (i, m) in stride(from: -1.0, through: 60, by: 1).enumerated() {
            try store.record([
                ("BTCUSDT", candle(m, 100 + 2 * Double(i) / 61)), ("ETHUSDT", candle(m, 50 + Double(i) / 61)),
            ])
        }
        let page = try await dash.request("/executive")
        #expect(
            page.text.contains("2 blocked signal(s) with an hour of prices after them: 1 went the signal's way"))
        #expect(page.text.contains("<td>max_positions</td><td class=\"num\">1</td><td class=\"num\">1</td>"))
        #expect(page.text.contains("<td>expectancy</td><td class=\"num\">1</td><td class=\"num\">0</td>"))
    }

    /// Open positions are valued at the newest price the engine kept, by the engine's formula.
    @Test func openPositionsAreValuedAtTheNewestKeptPrice() async throws {
        let home = try DashboardHarness.home()
        let dash = try await DashboardHarness(home: home)
        _ = try await dash.logIn()
        #expect(try await dash.request("/").text.contains("no price yet"), "no candles kept yet: said, not guessed")
        try home.createDirectories()
        let at = Instant(year: 2025, month: 12, day: 19, hour: 11, minute: 59)!
        try CandleStore(path: home.candleStore).record([
            ("XRPUSDT", Candle(ts: at, open: 0.63, high: 0.64, low: 0.62, close: 0.64, volume: 0))
        ])
        let xrp = try #require(try PositionsStore(home: home).load().open.first { $0.symbol == "XRPUSDT" })
        let expected = try #require(xrp.unrealizedPnl(at: 0.64, takerFee: 0.0006))
        let page = try await dash.request("/")
        #expect(page.text.contains("<td class=\"num\">0.64 (60 s ago)</td><td class=\"num\">+\(money(expected))</td>"))
    }

    /// A page on another site whose name points at 127.0.0.1 (DNS rebinding) is refused.
    @Test func anotherHostNameIsRefused() async throws {
        let dash = try await DashboardHarness(home: try DashboardHarness.home(positions: nil))
        let rebound = try await dash.request("/login", headers: ["Host: evil.example:8050"])
        #expect(rebound.status == 421 && rebound.text.contains("allowed_hosts"))
        #expect(try await dash.request("/healthz", headers: ["Host: localhost:8050"]).status == 200)
        #expect(try await dash.request("/healthz", headers: ["Host: [::1]:8050"]).status == 200)
        #expect(DashboardServer.hostName("Bot.Example.COM:443") == "bot.example.com")
    }

    @Test func metricsFromThisMachine() async throws {
        let home = try DashboardHarness.home()
        try FileManager.default.copyItem(atPath: Fixtures.data + "/health.json", toPath: home.healthView)
        let dash = try await DashboardHarness(home: home)
        let metrics = try await dash.request("/metrics")
        for line in [
            #"tradingbot_health_score{scope="bot",name="bot"} 55.79"#,
            #"tradingbot_health_score{scope="strategy",name="Ensemble-momentum"} 81.95"#,
            #"tradingbot_health_score{scope="setup",name="volatility_breakout:SHORT"}"#,
            "tradingbot_capital_scaling_step 0.25",
            #"tradingbot_allocation_share{strategy="Ensemble-trend_strength"} 0.6"#,
        ] {
            #expect(metrics.text.contains(line), "\(line) in \(metrics.text)")
        }
        #expect(metrics.status == 200, "loopback may scrape without a session")
        #expect(metrics.text.contains("tradingbot_balance_usd 10036.6"), "\(metrics.text)")
        #expect(metrics.text.contains("# TYPE tradingbot_open_positions gauge"))
        #expect(metrics.text.contains("tradingbot_kill_switch 0"))
        // Valid for Prometheus itself: Debian's promtool checks and lints the exposition.
        let promtool = "/usr/bin/promtool"
        try #require(
            FileManager.default.isExecutableFile(atPath: promtool), "promtool missing: run scripts/install-deps.sh")
        let check = Process()
        check.executableURL = URL(fileURLWithPath: promtool)
        check.arguments = ["check", "metrics"]
        let input = Pipe()
        let output = Pipe()
        check.standardInput = input
        check.standardOutput = output
        check.standardError = output
        try check.run()
        input.fileHandleForWriting.write(Data(metrics.body))
        try input.fileHandleForWriting.close()
        let said = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        check.waitUntilExit()
        #expect(check.terminationStatus == 0, "promtool check metrics: \(said)")
        // Through a reverse proxy on this machine the request is loopback too: it needs a login.
        let proxied = try await dash.request("/metrics", headers: ["X-Forwarded-For: 203.0.113.9"])
        #expect(proxied.status == 401, "a proxied scrape without a session")
    }
}

/// The dashboard escapes every value; tests compare with the escaped text.
enum HTMLText {
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
    }
}

/// Counts computations and can hold the next ones until released.
final class ComputeGate: @unchecked Sendable {
    private let lock = NSLock()
    private var entered = 0
    private var held = false
    private let open = DispatchSemaphore(value: 0)

    var count: Int { lock.withLock { entered } }
    func hold() { lock.withLock { held = true } }
    func release() {
        lock.withLock { held = false }
        open.signal()
    }
    func enter() {
        let wait = lock.withLock { () -> Bool in
            entered += 1
            return held
        }
        if wait { open.wait() }
    }
}
