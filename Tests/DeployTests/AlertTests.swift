import CurlKit
import Foundation
import TestSupport
import Testing

@testable import Deploy
@testable import TradingCore
@testable import TradingStore

/// Alerts through libcurl to a real local HTTP server: what is sent, when it is not sent again,
/// what happens when the hook is down, and that no URL (it holds the hook's token) leaks.
@Suite(.serialized) struct AlertTests {
    @Test func curlSendsChecksAndCapsAndNeverNamesTheToken() throws {
        let server = try WebhookServer()
        let ok = try HTTPClient.send(.postJSON(server.url("/hook/TOKEN123"), Array(#"{"a": 1}"#.utf8)))
        #expect(ok.status == 200 && ok.text.contains("true"))
        let got = try #require(server.requests().first)
        #expect(got.method == "POST" && got.path == "/hook/TOKEN123" && got.body == #"{"a": 1}"#)

        #expect(throws: HTTPError.self) {
            _ = try HTTPClient.send(HTTPRequest(url: server.url("/big"), maxResponseBytes: 4))
        }
        for bad in ["file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://x"] {
            #expect(throws: HTTPError.self, "\(bad)") { _ = try HTTPClient.send(HTTPRequest(url: bad)) }
        }
        // A refused connection names the host, never the path with its token.
        do {
            _ = try HTTPClient.send(HTTPRequest(url: "http://127.0.0.1:1/hook/TOKEN123", timeoutSeconds: 5))
            Issue.record("a closed port answered")
        } catch {
            #expect("\(error)".contains("127.0.0.1") && !"\(error)".contains("TOKEN123"), "\(error)")
        }
        try server.answer(503)
        let refused = try HTTPClient.send(HTTPRequest(url: server.url("/x")))
        #expect(refused.status == 503 && !refused.isSuccess)
    }

    @Test func eachWebhookGetsItsOwnShape() {
        let alert = Alert(
            kind: .fault, key: "stalled", headline: "STALLED", what: "last heartbeat 400 s ago", home: "/srv/bot",
            release: "r1", action: "restarted the engine", next: "deployctl status --home /srv/bot",
            at: Instant(microseconds: 0))
        #expect(AlertFormat.resolve("auto", url: "https://api.telegram.org/botX/sendMessage") == .telegram)
        #expect(AlertFormat.resolve("auto", url: "https://discord.com/api/webhooks/1/x") == .discord)
        #expect(AlertFormat.resolve("auto", url: "https://hooks.slack.com/services/T/B/x") == .slack)
        #expect(AlertFormat.resolve("auto", url: "https://example.org/hook") == .generic)
        #expect(AlertFormat.resolve("slack", url: "https://example.org/hook") == .slack)
        let telegram = AlertFormat.telegram.body(alert, chatID: "42").objectValue
        #expect(telegram?["chat_id"] == "42")
        #expect(telegram?["text"]?.stringValue?.contains("STALLED") == true)
        #expect(AlertFormat.discord.body(alert, chatID: nil).objectValue?.keys == ["content"])
        #expect(AlertFormat.slack.body(alert, chatID: nil).objectValue?.keys == ["text"])
        let generic = AlertFormat.generic.body(alert, chatID: nil).objectValue
        #expect(generic?["release"] == "r1" && generic?["next"] == "deployctl status --home /srv/bot")
        // What the operator reads: what happened, where, what was done, what to run next.
        for part in ["STALLED", "/srv/bot", "r1", "restarted the engine", "deployctl status --home /srv/bot"] {
            #expect(alert.text.contains(part), "\(part)")
        }
    }

    func home() throws -> Home {
        let home = Home(root: try Fixtures.temporaryDirectory("alerts"))
        try home.createDirectories()
        try FileManager.default.createDirectory(atPath: home.configDir, withIntermediateDirectories: true)
        try FileIO.copy(Fixtures.repoRoot + "/config/bot.json", to: home.botConfig)
        return home
    }

    func watchdog(
        _ home: Home, _ server: WebhookServer, running: Bool, cooldown: Int = 1800, recovery: Int = 0,
        dashboard: Bool = false
    ) -> Watchdog {
        var config = DeployConfig()
        config.watchdog.alertCooldownSeconds = cooldown
        config.watchdog.recoverySeconds = recovery
        let health = ServiceHealth(state: running ? "RUNNING" : "FATAL", running: running, gaveUp: false, restarts: nil)
        return Watchdog(
            home: home, config: config, manager: FakeManager(fixed: health, dashboard: dashboard),
            now: { WallClock.now },
            environment: [
                "TRADINGBOT_ALERT_WEBHOOK": server.url("/hook/TOKEN"), "TRADINGBOT_DEADMAN_URL": server.url("/ping"),
            ])
    }

    func beat(_ home: Home, pricesFrozenFor frozen: Double = 0, age: Double = 0) throws {
        let now = WallClock.now.adding(seconds: -age)
        try HeartbeatStore(home: home).write(
            Heartbeat(
                pid: Int(getpid()), release: "", cycle: 20, phase: "idle", writtenAt: now, symbolsEvaluated: 16,
                signalsEvaluated: 160, lastSignalsAt: now, lastPriceChangeAt: now.adding(seconds: -frozen)))
    }

    func hooks(_ server: WebhookServer) -> [[String: Any]] {
        server.requests().filter { $0.path == "/hook/TOKEN" }.map(\.json)
    }

    @Test func aFaultIsAlertedOnceRetriedWhenTheHookIsDownAndItsRecoveryOnce() throws {
        let server = try WebhookServer()
        let home = try home()
        try server.answer(500)
        let down = watchdog(home, server, running: false)
        // Nothing ever released or started here: not a fault, nothing to alert.
        let fresh = down.runOnce(dryRun: false)
        #expect(fresh.verdict == "not_deployed" && fresh.exitCode == 0 && server.requests().isEmpty)
        // An engine started by hand that died: judged and alerted, nothing to roll back.
        try beat(home, age: 3600)
        #expect(down.runOnce(dryRun: false).verdict == "not_running")
        #expect(hooks(server).count == 1, "tried once")
        var state = WatchdogState.load(home.stateDir + "/watchdog.json")
        #expect(state.pending.count == 1, "kept for the next run")
        let log = try JSONLAppender.readAll(home.logsDir + "/watchdog.jsonl").compactMap { $0.objectValue }
        #expect(log.contains { $0["sent"] == .bool(false) && $0["result"]?.stringValue?.contains("HTTP 500") == true })
        let logText = try String(contentsOfFile: home.logsDir + "/watchdog.jsonl", encoding: .utf8)
        #expect(logText.contains("refused"), "the hook's answer is logged")
        #expect(!logText.contains("TOKEN"), "the hook's token is never logged, not even echoed by it")

        try server.answer(200)
        _ = down.runOnce(dryRun: false)
        _ = down.runOnce(dryRun: false)
        let faults = hooks(server)
        #expect(faults.count == 2, "the pending alert is sent once; the same fault is not re-sent: \(faults)")
        let fault = try #require(faults.last)
        #expect(fault["headline"] as? String == "NOT RUNNING, NEEDS YOU")
        #expect(fault["home"] as? String == home.root)
        #expect((fault["next"] as? String)?.contains("tradingbot run --home \(home.root)") == true)
        state = WatchdogState.load(home.stateDir + "/watchdog.json")
        #expect(state.pending.isEmpty && state.openFault == "not_running")

        try beat(home)
        let up = watchdog(home, server, running: true)
        #expect(up.runOnce(dryRun: false).verdict == "healthy")
        #expect(up.runOnce(dryRun: false).verdict == "healthy")
        let after = hooks(server)
        #expect(after.count == 3, "the recovery once")
        #expect(after.last?["headline"] as? String == "HEALTHY AGAIN")
        #expect(
            server.requests().filter { $0.path == "/ping" && $0.method == "GET" }.count == 2, "a ping per healthy run")

        // A new incident after the recovery is news again, cooldown or not.
        try beat(home, age: 3600)
        #expect(down.runOnce(dryRun: false).verdict == "not_running")
        #expect(hooks(server).count == 4)

        // A flapping engine: healthy for less than recovery_seconds is no recovery, and the
        // fault it keeps falling back into stays under its cooldown.
        try beat(home)
        let flapping = watchdog(home, server, running: true, recovery: 300)
        #expect(flapping.runOnce(dryRun: false).verdict == "healthy")
        try beat(home, age: 3600)
        #expect(down.runOnce(dryRun: false).verdict == "not_running")
        #expect(hooks(server).count == 4, "no recovery announced, the same fault not re-sent")

        // A hook that refuses for good (404: deleted) is not retried every run.
        try server.answer(404)
        let refused = watchdog(home, server, running: false, cooldown: 0)
        _ = refused.runOnce(dryRun: false)
        #expect(WatchdogState.load(home.stateDir + "/watchdog.json").pending.isEmpty)
        let dropped = try String(contentsOfFile: home.logsDir + "/watchdog.jsonl", encoding: .utf8)
        #expect(dropped.contains("dropped: fix the webhook, then deployctl alert test"))

        // A secrets.env this user cannot read keeps the alerts waiting, not dropped as "none".
        try server.answer(200)
        let noEnv = Watchdog(
            home: home, config: DeployConfig(),
            manager: FakeManager(fixed: ServiceHealth(state: "FATAL", running: false, gaveUp: false, restarts: nil)),
            now: { WallClock.now }, environment: [:])
        try FileManager.default.createDirectory(
            atPath: home.root + "/config/secrets.env", withIntermediateDirectories: true)
        try FileManager.default.removeItem(atPath: home.stateDir + "/watchdog.json")
        _ = noEnv.runOnce(dryRun: false)
        #expect(WatchdogState.load(home.stateDir + "/watchdog.json").pending.count == 1)
        #expect(
            try String(contentsOfFile: home.logsDir + "/watchdog.jsonl", encoding: .utf8).contains("cannot be read"))
    }

    /// A frozen feed is most often the exchange: an unproven release is restarted for it, never
    /// marked bad; a stall of the same release is rolled back.
    @Test func aTradingStallIsRestartedNeverRolledBack() throws {
        let home = try home()
        let health = ServiceHealth(state: "RUNNING", running: true, gaveUp: false, restarts: nil)
        let watchdog = Watchdog(
            home: home, config: DeployConfig(), manager: FakeManager(fixed: health), now: { WallClock.now })
        var e = WatchdogEvidence()
        e.liveRelease = "r1"
        e.liveState = .probation
        var state = WatchdogState()
        #expect(watchdog.decide(.tradingStall, e, &state).description == "restart the engine")
        #expect(watchdog.decide(.stalled, e, &state).description == "roll back the unproven release")
        // An unproven release whose engine never evaluated one signal is the release's fault
        // (the chaos soak's "never evaluates a signal" commit was restarted for ever).
        e.signalsSeen = false
        #expect(watchdog.decide(.tradingStall, e, &state).description == "roll back the unproven release")
        e.liveState = .good
        #expect(watchdog.decide(.tradingStall, e, &state).description == "restart the engine")
    }

    /// The URL's token never shows, even when the host itself is the secret part.
    @Test func redactionKeepsOnlyWhatIsNotSecret() {
        #expect(HTTPRequest(url: "https://discord.com/api/webhooks/1/SECRET").redactedURL == "https://discord.com/…")
        #expect(HTTPRequest(url: "https://eo1x2y3z4.m.pipedream.net/").redactedURL == "https://…pipedream.net/…")
        #expect(HTTPRequest(url: "http://127.0.0.1:8080/x").redactedURL == "http://127.0.0.1:8080/…")
        let answer = scrubbed(
            "Cannot POST /api/webhooks/1/SECRETTOKEN\n", url: "https://x.org/api/webhooks/1/SECRETTOKEN")
        #expect(!answer.contains("SECRETTOKEN") && answer.contains("Cannot POST"), "\(answer)")
    }

    @Test func criticalEventsOnceAnErrorBurstAndAFrozenFeed() throws {
        let server = try WebhookServer()
        let home = try home()
        try beat(home)
        let watchdog = watchdog(home, server, running: true)
        // The first look starts at the end of bot.jsonl: old news is not alerted.
        let log = try JSONLAppender(path: home.botLog)
        try log.append(["level": "critical", "event": "circuit_breaker", "change": "old trip"])
        #expect(watchdog.runOnce(dryRun: false).verdict == "healthy")
        #expect(hooks(server).isEmpty)

        try log.append([
            "ts": .string(WallClock.now.iso8601), "level": "critical", "event": "circuit_breaker",
            "change": "circuit breaker tripped: kill switch",
        ])
        #expect(watchdog.runOnce(dryRun: false).verdict == "healthy")
        #expect(watchdog.runOnce(dryRun: false).verdict == "healthy")
        let events = hooks(server)
        #expect(events.count == 1, "once per event")
        #expect(events.first?["headline"] as? String == "ENGINE: CIRCUIT BREAKER")
        #expect((events.first?["what"] as? String)?.contains("kill switch") == true)
        // An open position the engine cannot value: the alert says which and the command to run.
        try log.append([
            "ts": .string(WallClock.now.iso8601), "level": "critical", "event": "positions_unreadable",
            "fields": ["open_positions[1] (DOGEUSDT) field \"entry_price\": is NaN"],
        ])
        #expect(watchdog.runOnce(dryRun: false).verdict == "healthy")
        let unvalued = try #require(hooks(server).last)
        #expect(unvalued["headline"] as? String == "ENGINE: POSITIONS UNREADABLE")
        #expect((unvalued["what"] as? String)?.contains("DOGEUSDT") == true, "\(unvalued)")
        #expect((unvalued["next"] as? String)?.contains("deployctl check data --positions") == true, "\(unvalued)")

        for n in 0..<10 { try log.append(["level": "error", "event": "order_failed", "n": .int(n)]) }
        let burst = watchdog.runOnce(dryRun: false)
        #expect(burst.verdict == "erroring" && burst.detail.contains("10 error events"), "\(burst.detail)")
        #expect(burst.evidence.objectValue?["new_error_events"] == .int(10))
        #expect(watchdog.runOnce(dryRun: false).verdict == "healthy", "a burst is counted once")
        // Errors logged long ago (a log read again after a restore, a long gap) are no burst.
        for n in 0..<10 {
            try log.append(["ts": "2026-01-01T00:00:00Z", "level": "error", "event": "old", "n": .int(n)])
        }
        #expect(watchdog.runOnce(dryRun: false).verdict == "healthy", "old errors are not a burst")

        try beat(home, pricesFrozenFor: 3600)
        let frozen = watchdog.runOnce(dryRun: false)
        #expect(frozen.verdict == "trading_stall" && frozen.detail.contains("frozen"), "\(frozen.detail)")
        #expect(hooks(server).last?["headline"] as? String == "TRADING STALL, NEEDS YOU")
    }

    /// Capital scaling may step down on each fall: its critical events are alerted once per
    /// cooldown, while another event is alerted each time.
    @Test func scalingStepsDownAreAlertedOncePerCooldown() throws {
        let server = try WebhookServer()
        let home = try home()
        try beat(home)
        let watchdog = watchdog(home, server, running: true)
        let log = try JSONLAppender(path: home.botLog)
        #expect(watchdog.runOnce(dryRun: false).verdict == "healthy")
        for (from, to) in [(1.0, 0.75), (0.75, 0.5)] {
            try log.append([
                "ts": .string(WallClock.now.iso8601), "level": "critical", "event": "capital_scaled",
                "from": .double(from), "to": .double(to), "reason": "drawdown",
            ])
            #expect(watchdog.runOnce(dryRun: false).verdict == "healthy")
        }
        let scaled = hooks(server).filter { $0["headline"] as? String == "ENGINE: CAPITAL SCALED" }
        #expect(scaled.count == 1, "once per cooldown: \(scaled)")
        #expect((scaled.first?["what"] as? String)?.contains("to: 0.75") == true)
        #expect((scaled.first?["next"] as? String)?.contains("Why is it trading smaller?") == true)
    }

    /// A dashboard that stops answering is alerted once and its return once; the engine's
    /// verdict, exit code and actions do not change: the dashboard does not trade.
    @Test func aDeadDashboardIsAlertedWithoutTouchingTrading() throws {
        let server = try WebhookServer()
        let home = try home()
        func dashboardOn(_ port: Int) throws {
            var bot = try JSONValue.parse(try FileIO.read(home.botConfig)).objectValue ?? JSONObject()
            bot["dashboard"] = ["port": .int(port)]
            try Fixtures.write(JSONValue.object(bot).serialized(indent: 2), to: home.botConfig)
        }
        let stand = try WebhookServer()  // answers /healthz with 200, like a live dashboard
        try dashboardOn(stand.port)
        try beat(home)
        let watchdog = watchdog(home, server, running: true, dashboard: true)
        let up = watchdog.runOnce(dryRun: false)
        #expect(up.verdict == "healthy" && up.dashboard == "up", "\(up.dashboard)")
        #expect(stand.requests().contains { $0.path == "/healthz" })
        stand.stop()
        for _ in 0..<2 {
            try beat(home)
            let down = watchdog.runOnce(dryRun: false)
            #expect(down.verdict == "healthy" && down.exitCode == 0 && down.action == "none", "trading untouched")
            #expect(
                down.dashboard.hasPrefix("down:") && down.dashboard.contains("does not answer"), "\(down.dashboard)")
        }
        var headlines = hooks(server).compactMap { $0["headline"] as? String }
        #expect(headlines == ["DASHBOARD DOWN"], "once per cooldown: \(headlines)")
        let back = try WebhookServer()
        try dashboardOn(back.port)
        try beat(home)
        #expect(watchdog.runOnce(dryRun: false).dashboard == "up")
        headlines = hooks(server).compactMap { $0["headline"] as? String }
        #expect(headlines == ["DASHBOARD DOWN", "DASHBOARD UP AGAIN"])
        // A dashboard disabled here (no enabled unit, not supervised): nothing is probed.
        #expect(self.watchdog(home, server, running: true).runOnce(dryRun: false).dashboard == "not checked")
    }
}
