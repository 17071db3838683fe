import Foundation
import TestSupport
import Testing

@testable import TradingCore

@Suite struct ConfigTests {
    func bot(_ text: String) throws -> BotConfig { try BotConfig.parse(try JSONValue.parse(text), file: "bot.json") }

    func expectError(_ text: String, field: String, containing: String) {
        #expect {
            _ = try bot(text)
        } throws: { error in
            guard let e = error as? ConfigError else { return false }
            return e.file == "bot.json" && e.field == field && e.description.contains(containing)
        }
    }

    @Test func onlyTheWalletResetIsRequired() throws {
        let config = try bot(#"{"wallet_reset": {"at": "2025-12-18T00:00:00Z", "starting_capital": 10000}}"#)
        #expect(config.walletReset.at == Instant(year: 2025, month: 12, day: 18))
        #expect(config.walletReset.startingCapital == 10_000)
        #expect(config.cycleSeconds == 60)
        #expect(config.risk.maxPositions == 10 && config.risk.maxPerSector == 2)
        #expect(config.fees.taker == 0.0006 && config.fees.maker == 0.0002)
    }

    @Test func errorsNameFileFieldAndAllowedRange() {
        expectError("{}", field: "wallet_reset", containing: "is missing")
        expectError(
            #"{"wallet_reset": {"at": "2025-12-18T00:00:00Z"}}"#, field: "wallet_reset.starting_capital",
            containing: "is missing; expected a number from 1 to 1000000000")
        expectError(
            #"{"wallet_reset": {"at": "18/12/2025", "starting_capital": 1}}"#, field: "wallet_reset.at",
            containing: "cannot read \"18/12/2025\"")
        let reset = #""wallet_reset": {"at": "2025-12-18T00:00:00Z", "starting_capital": 10000}"#
        expectError(
            "{\(reset), \"cycle_seconds\": 0}", field: "cycle_seconds",
            containing: "0 is out of range; allowed a whole number from 1 to 3600")
        expectError("{\(reset), \"cycle_seconds\": 1.5}", field: "cycle_seconds", containing: "expected a whole number")
        expectError(
            "{\(reset), \"fees\": {\"taker\": \"0.06%\", \"maker\": 0}}", field: "fees.taker", containing: "is a string"
        )
        expectError(
            "{\(reset), \"risk\": {\"max_positons\": 10}}", field: "risk.max_positons",
            containing: "is not a known key (did you mean \"max_positions\"?); allowed keys: max_positions,")
        expectError(
            "{\(reset), \"wallet_rest\": 1}", field: "wallet_rest",
            containing: "did you mean \"wallet_reset\"?); allowed keys: wallet_reset, cycle_seconds,")
        expectError(
            "{\(reset), \"risk\": {\"max_positions\": 500}}", field: "risk.max_positions",
            containing: "500 is out of range; allowed a whole number from 1 to 100")
        expectError(
            "{\(reset), \"exits\": {\"max_hold_seconds\": NaN}}", field: "exits.max_hold_seconds",
            containing: "is NaN; expected a number from 1 to 2592000")
        expectError("{\(reset), \"symbols\": [\"BTCUSDT\", 3]}", field: "symbols[1]", containing: "expected a string")
        #expect("\(ConfigError(file: "bot.json", field: "a.b", message: "m"))" == "bot.json: field \"a.b\": m")
        expectError(
            "{\(reset), \"dashboard\": {\"port\": 70000}}", field: "dashboard.port",
            containing: "70000 is out of range; allowed a whole number from 0 to 65535")
        expectError(
            "{\(reset), \"dashboard\": {\"bnd\": \"0.0.0.0\"}}", field: "dashboard.bnd",
            containing: "did you mean \"bind\"?")
        expectError(
            "{\(reset), \"exchange\": {\"requests_per_minute\": 5000}}", field: "exchange.requests_per_minute",
            containing: "5000 is out of range")
        expectError(
            "{\(reset), \"exchange\": {\"mdoe\": \"live\"}}", field: "exchange.mdoe",
            containing: "did you mean \"mode\"?")
    }

    @Test func theDashboardSectionTakesItsDefaults() throws {
        let reset = #""wallet_reset": {"at": "2025-12-18T00:00:00Z", "starting_capital": 10000}"#
        #expect(try bot("{\(reset)}").dashboard == DashboardSettings())
        let custom = try bot("{\(reset), \"dashboard\": {\"port\": 9000, \"secure_cookies\": true}}").dashboard
        #expect(custom.port == 9000 && custom.secureCookies && custom.bind == "127.0.0.1" && custom.sessionHours == 12)
    }

    /// A later version adds keys: a home's older file must keep loading with the defaults, and a
    /// section that names only some keys keeps the defaults of the others.
    @Test func missingKeysTakeTheirDefaults() throws {
        let config = try bot(
            """
            {"wallet_reset": {"at": "2025-12-18T00:00:00Z", "starting_capital": 10000},
             "_comment": "keys that start with an underscore are comments",
             "fees": {"taker": 0.0005}, "risk": {"max_positions": 4}, "exits": {}, "strategy": {"leverage": 3}}
            """)
        #expect(config.fees.taker == 0.0005 && config.fees.maker == 0.0002)
        #expect(config.risk.maxPositions == 4 && config.risk.maxPerSector == 2 && config.risk.maxNotional == 2000)
        #expect(config.exits == ExitPolicy())
        #expect(config.strategy.leverage == 3 && config.strategy.minAgreeing == 3)
        let deploy = try DeployConfig.parse(
            try JSONValue.parse(#"{"repo": "/srv/bot.git", "probation": {"healthy_cycles": 5}, "watchdog": {}}"#),
            file: "deploy.json")
        #expect(deploy.repo == "/srv/bot.git" && deploy.defaultRef == "main")
        #expect(deploy.probation.healthyCycles == 5 && deploy.probation.timeoutSeconds == 600)
        #expect(deploy.watchdog == DeployConfig.Watchdog())
        #expect {
            _ = try DeployConfig.parse(try JSONValue.parse(#"{"probation": {"timeout": 5}}"#), file: "deploy.json")
        } throws: { error in
            "\(error)".contains(
                "deploy.json: field \"probation.timeout\": is not a known key (did you mean \"timeout_seconds\"?)")
        }
        for (text, says) in [
            (#"{"watchdog": {"stall_cycles": 0}}"#, #"field "watchdog.stall_cycles": 0 is out of range"#),
            (#"{"checks": {"skew_seconds": 7200}}"#, #"field "checks.skew_seconds": 7200 is out of range"#),
            (#"{"build": {"timeout_seconds": 1}}"#, #"field "build.timeout_seconds": 1 is out of range"#),
            (#"{"watchdog": {"min_free_disk_mb": -1}}"#, #"field "watchdog.min_free_disk_mb": -1 is out of range"#),
        ] {
            #expect {
                _ = try DeployConfig.parse(try JSONValue.parse(text), file: "deploy.json")
            } throws: { error in "\(error)".contains("deploy.json: " + says) }
        }
        #expect {
            _ = try AssetUniverse.parse(try JSONValue.parse(#"{"symbol": {"BTCUSDT": "mega"}}"#), file: "u.json")
        } throws: { error in "\(error)".contains("field \"symbol\": is not a known key (did you mean \"symbols\"?)") }
    }

    /// The wallet reset has no default: a guessed instant is exactly how data vanished once.
    @Test func theWalletResetInstantStaysRequired() {
        expectError(
            #"{"wallet_reset": {"starting_capital": 10000}}"#, field: "wallet_reset.at", containing: "is missing")
    }

    @Test func maxNotionalMustNotBeBelowMinNotional() {
        let text = """
            {"wallet_reset": {"at": "2025-12-18T00:00:00Z", "starting_capital": 10000},
             "risk": {"max_positions": 10, "max_symbol_fraction": 0.1, "max_exposure_fraction": 0.6, "max_per_sector": 2,
              "min_notional": 500, "max_notional": 200, "max_positions_per_day": 20, "daily_loss_limit_fraction": 0.05}}
            """
        expectError(text, field: "risk.max_notional", containing: "allowed a number from 500 to")
    }

    @Test func committedConfigFilesAreValid() throws {
        func load(_ name: String) throws -> JSONValue {
            try JSONValue.parse(
                [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixtures.repoRoot + "/config/" + name))))
        }
        let bot = try BotConfig.parse(try load("bot.json"), file: "config/bot.json")
        let universe = try AssetUniverse.parse(try load("asset_universe.json"), file: "config/asset_universe.json")
        let deploy = try DeployConfig.parse(try load("deploy.json"), file: "config/deploy.json")
        #expect(Set(universe.sectors.values) == Set(Sector.allCases))
        #expect(bot.symbols.allSatisfy { universe.sectors[$0] != nil }, "every enabled symbol has a sector")
        #expect(deploy.probation.healthyCycles == 3)
        #expect(bot.walletReset.at == Instant(year: 2025, month: 12, day: 18))
    }

    @Test func assetUniverseRejectsUnknownSectors() {
        #expect {
            _ = try AssetUniverse.parse(
                try JSONValue.parse(#"{"symbols": {"BTCUSDT": "mega", "FOO": "gaming"}}"#), file: "u.json")
        } throws: { error in
            "\(error)".contains(
                "field \"symbols.FOO\": \"gaming\" is not allowed; expected one of mega, l1, l2, defi, meme, exchange, payment"
            )
        }
    }

    @Test func deployConfigValidatesServiceManager() {
        #expect(throws: ConfigError.self) {
            _ = try DeployConfig.parse(try JSONValue.parse(#"{"service_manager": "upstart"}"#), file: "deploy.json")
        }
    }

    @Test func heartbeatRoundTrips() throws {
        let beat = Heartbeat(
            pid: 42, release: "r-abc", cycle: 7, phase: "persist",
            cycleStartedAt: Instant(year: 2025, month: 12, day: 18),
            writtenAt: Instant(year: 2025, month: 12, day: 18, second: 3)!, symbolsEvaluated: 16, signalsEvaluated: 160)
        #expect(try Heartbeat.parse(try JSONValue.parse(beat.json.serialized()), file: "hb") == beat)
        #expect(
            beat.isStale(
                now: Instant(year: 2025, month: 12, day: 18, minute: 3, second: 4)!, cycleSeconds: 60, cycles: 3))
        #expect(
            !beat.isStale(
                now: Instant(year: 2025, month: 12, day: 18, minute: 3, second: 3)!, cycleSeconds: 60, cycles: 3))
    }
}
