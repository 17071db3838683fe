import Foundation
import TestSupport
import Testing

/// `tradingbot run` on BloFin's feed and `tradingbot exchange ping`, from the built binary,
/// against the local server that speaks BloFin's format.
@Suite(.serialized) struct ExchangeCommandTests {
    /// No keys from the machine running the tests.
    let noKeys = ["BLOFIN_API_KEY": "", "BLOFIN_API_SECRET": "", "BLOFIN_PASSPHRASE": "", "BLOFIN_BASE_URL": ""]

    func env(_ server: BloFinServer, _ extra: [String: String] = [:]) -> [String: String] {
        var e = noKeys
        e["BLOFIN_BASE_URL"] = server.baseURL
        for (k, v) in extra { e[k] = v }
        return e
    }

    func home(exchange: String) throws -> String {
        try CommandRunner.makeHome(
            botConfig: """
                {"wallet_reset": {"at": "2025-01-01T00:00:00Z", "starting_capital": 10000}, "exchange": \(exchange)}
                """)
    }

    func writeSecrets(_ home: String, passphrase: String = BloFinServer.passphrase) throws {
        let path = home + "/config/secrets.env"
        try Fixtures.write(
            "BLOFIN_API_KEY=\(BloFinServer.key)\nBLOFIN_API_SECRET=\(BloFinServer.secret)\nBLOFIN_PASSPHRASE=\(passphrase)\n",
            to: path)
        chmod(path, 0o600)
    }

    func lines(_ path: String) -> [[String: Any]] { ScriptServer.jsonLines(path) }

    @Test func paperTradingRunsOnBloFinsMarketFromBotJson() throws {
        let server = try BloFinServer(symbols: 4)
        let home = try home(exchange: #"{"feed": "blofin", "bar": "1m"}"#)
        try server.inject([["path": "/api/v1/market/tickers", "kind": "status", "status": 429]])
        let run = try CommandRunner.run(
            "tradingbot", ["run", "--home", home, "--max-cycles", "3", "--cycle-seconds", "1"], environment: env(server)
        )
        #expect(run.status == 0, "\(run.stderr)")
        let decisions = lines(home + "/logs/enriched_decisions.jsonl")
        #expect(decisions.count == 3)
        #expect(decisions.allSatisfy { $0["feed"] as? String == "blofin" })
        // At one-second cycles the budget is 4 requests a cycle (240 a minute): the first cycle
        // spends it on instruments, tickers twice (the 429 and its retry) and funding, so the
        // listed symbols' candles arrive over the next cycles.
        #expect(decisions.map { $0["symbols"] as? Int ?? 0 } == [0, 2, 2], "\(decisions)")
        let events = lines(home + "/logs/bot.jsonl").compactMap { $0["event"] as? String }
        #expect(events.contains("feed_symbols_unlisted") && events.contains("feed_input_unavailable"))
        #expect(!events.contains("cycle_failed"))
        // The rate-limited tickers call was retried, and the log says so.
        #expect(events.filter { $0 == "exchange_retry" }.count == 1)
        // Paper trading signs nothing and orders nothing.
        #expect(server.requests().allSatisfy { !$0.signed })
        #expect(server.requests().contains { $0.path.hasPrefix("/api/v1/market/candles?instId=BTC-USDT&bar=1m") })
    }

    @Test func ordersAreRefusedUntilTheOperatorAllowsThem() throws {
        let server = try BloFinServer()
        // live without "live": true in bot.json.
        var home = try home(exchange: #"{"feed": "blofin"}"#)
        try writeSecrets(home)
        var run = try CommandRunner.run(
            "tradingbot", ["run", "--home", home, "--mode", "live", "--max-cycles", "1"], environment: env(server))
        #expect(run.status == 2 && run.stderr.contains(#""live": true"#), "\(run.stderr)")
        // live on the production host without allow_production.
        home = try self.home(exchange: #"{"feed": "blofin", "mode": "live", "live": true}"#)
        try writeSecrets(home)
        run = try CommandRunner.run(
            "tradingbot", ["run", "--home", home, "--max-cycles", "1"],
            environment: env(server, ["BLOFIN_BASE_URL": "https://openapi.blofin.com"]))
        #expect(run.status == 2 && run.stderr.contains("allow_production"), "\(run.stderr)")
        // selfcheck (which a release runs before any flip) says so too, without network.
        let check = try CommandRunner.run(
            "tradingbot", ["selfcheck", "--home", home],
            environment: env(server, ["BLOFIN_BASE_URL": "https://openapi.blofin.com"]))
        #expect(check.status == 1 && check.stdout.contains("allow_production"), "\(check.stdout)")
        // demo without keys.
        home = try self.home(exchange: #"{"feed": "blofin", "mode": "demo"}"#)
        run = try CommandRunner.run(
            "tradingbot", ["run", "--home", home, "--max-cycles", "1"], environment: env(server))
        #expect(run.status == 2 && run.stderr.contains("BLOFIN_API_KEY"), "\(run.stderr)")
        // demo on the simulated market makes no sense.
        run = try CommandRunner.run(
            "tradingbot", ["run", "--home", home, "--feed", "sim", "--max-cycles", "1"], environment: env(server))
        #expect(run.status == 2 && run.stderr.contains("needs --feed blofin"), "\(run.stderr)")
        // A misspelt mode in bot.json names the file and field.
        home = try self.home(exchange: #"{"mode": "paper-trading"}"#)
        run = try CommandRunner.run(
            "tradingbot", ["run", "--home", home, "--max-cycles", "1"], environment: env(server))
        #expect(run.status == 2 && run.stderr.contains("exchange.mode"), "\(run.stderr)")
        #expect(server.requests().allSatisfy { !$0.path.hasPrefix("/api/v1/trade/") })
    }

    @Test func demoTradingReadsItsKeysFromTheSecretsFile() throws {
        let server = try BloFinServer(symbols: 3)
        let home = try home(exchange: #"{"feed": "blofin", "mode": "demo"}"#)
        try writeSecrets(home)
        let run = try CommandRunner.run(
            "tradingbot", ["run", "--home", home, "--max-cycles", "2", "--cycle-seconds", "1"], environment: env(server)
        )
        #expect(run.status == 0, "\(run.stderr)")
        let check = try CommandRunner.run("tradingbot", ["selfcheck", "--home", home], environment: env(server))
        #expect(
            check.status == 0 && check.stdout.contains("demo orders to \(server.baseURL), keys present"),
            "\(check.stdout)")
        let signed = server.requests().filter(\.signed)
        // Each cycle reconciles: positions asked every cycle, every signature accepted.
        #expect(signed.filter { $0.path == "/api/v1/account/positions" }.count == 2)
        #expect(signed.allSatisfy { $0.code == "0" })
        let log = (try? String(contentsOfFile: home + "/logs/bot.jsonl", encoding: .utf8)) ?? ""
        #expect(!log.contains(BloFinServer.secret) && !log.contains(BloFinServer.passphrase))
    }

    @Test func pingSaysWhatAnsweredInTheOperatorsWords() throws {
        let server = try BloFinServer(symbols: 5)
        let home = try home(exchange: #"{"feed": "blofin"}"#)
        var ping = try CommandRunner.run("tradingbot", ["exchange", "ping", "--home", home], environment: env(server))
        #expect(ping.status == 0, "\(ping.stdout)\(ping.stderr)")
        #expect(ping.stdout.contains("server time") && ping.stdout.contains("5 listed (5 live)"))
        #expect(ping.stdout.contains("All answered."))
        // Signed: the keys from the 0600 secrets file.
        ping = try CommandRunner.run(
            "tradingbot", ["exchange", "ping", "--private", "--home", home], environment: env(server))
        #expect(ping.status == 1 && ping.stdout.contains("no BloFin API keys"), "\(ping.stdout)")
        try writeSecrets(home)
        ping = try CommandRunner.run(
            "tradingbot", ["exchange", "ping", "--private", "--home", home, "--json"], environment: env(server))
        #expect(ping.status == 0, "\(ping.stdout)")
        let json = try ping.json()
        #expect(json["ok"] as? Bool == true)
        let checks = json["checks"] as? [[String: Any]] ?? []
        #expect(checks.map { $0["name"] as? String ?? "" } == ["server time", "instruments", "balance"])
        #expect((checks.last?["detail"] as? String)?.contains("10000.50 USDT equity, 9000.25 USDT available") == true)
        // The environment wins over the file; a wrong passphrase is explained, never printed.
        ping = try CommandRunner.run(
            "tradingbot", ["exchange", "ping", "--private", "--home", home],
            environment: env(server, ["BLOFIN_PASSPHRASE": "wrong-phrase-123"]))
        #expect(ping.status == 1 && ping.stdout.contains("passphrase is wrong"), "\(ping.stdout)")
        #expect(!(ping.stdout + ping.stderr).contains("wrong-phrase-123"))
        #expect(!(ping.stdout + ping.stderr).contains(BloFinServer.secret))
        // Nothing listening.
        server.stop()
        ping = try CommandRunner.run("tradingbot", ["exchange", "ping", "--home", home], environment: env(server))
        #expect(ping.status == 1 && ping.stdout.contains("no answer from BloFin"), "\(ping.stdout)")
    }
}
