import Foundation
import TestSupport
import Testing

@testable import TradingCore
@testable import TradingStore

@Suite struct ReportCommandTests {
    @Test func reportOnTheSampleThroughTheHome() throws {
        let home = try CommandRunner.makeHome()
        let out = try CommandRunner.run("tradingbot", ["report", "--home", home, "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        let json = try out.json()
        #expect(json["ok"] as? Bool == true)
        #expect(json["balance"] as? Double == 10036.6)
        #expect(json["starting_capital"] as? Double == 10000)
        #expect(json["reset_at"] as? String == "2025-12-18T00:00:00Z")
        #expect(json["closed_trades"] as? Int == 25)
        #expect(json["closed_trades_total"] as? Int == 1100)
        #expect(json["net_pnl"] as? Double == 36.6)
        #expect(json["open_positions"] as? Int == 4)
        #expect((json["by_day"] as? [Any])?.count == 2)
    }

    /// The reducing state is the engine's, not the positions file's: report reads it from the
    /// heartbeat, and a torn heartbeat never fails the report.
    @Test func reportSaysWhenTheEngineIsReducing() throws {
        let home = try CommandRunner.makeHome()
        let why = "the day's drawdown 1.8 % passed the emergency threshold 1.5 %"
        try Fixtures.write(
            #"{"pid": 4242, "release": "r7", "cycle": 12, "phase": "idle", "written_at": "2025-12-19T12:00:00Z", "#
                + #""symbols_evaluated": 10, "signals_evaluated": 100, "consecutive_errors": 0, "reducing": ""#
                + why + #""}"#,
            to: home + "/state/heartbeat.json")
        let text = try CommandRunner.run("tradingbot", ["report", "--home", home])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("Engine          REDUCING: \(why)"), "\(text.stdout)")
        let json = try CommandRunner.run("tradingbot", ["report", "--home", home, "--json"]).json()
        let engine = try #require(json["engine"] as? [String: Any])
        #expect(engine["reducing"] as? String == why && engine["release"] as? String == "r7")

        try Fixtures.write(#"{"pid": 4242, "release": "r7", "cyc"#, to: home + "/state/heartbeat.json")
        let torn = try CommandRunner.run("tradingbot", ["report", "--home", home, "--json"])
        #expect(torn.status == 0, "a torn heartbeat must not fail the report: \(torn.stderr)")
        let error = try #require((try torn.json()["engine"] as? [String: Any])?["error"] as? String)
        #expect(error.contains("heartbeat.json"), "\(error)")
    }

    /// The trade-based part of the health and capital scaling's state, in words and in JSON.
    @Test func reportSaysTheRecordHealthAndTheScalingStep() throws {
        let home = try CommandRunner.makeHome()
        let before = try CommandRunner.run("tradingbot", ["report", "--home", home])
        #expect(
            before.stdout.contains("Capital scaling 50 % of max_exposure_fraction 0.6 (0.3); no state yet"),
            "\(before.stdout)")
        #expect(before.stdout.contains("Record health   ") && before.stdout.contains("over the newest 20 trades"))
        let state =
            #"{"level": 0.25, "peak_equity": 10100, "changed_at": "2025-12-19T10:00:00Z", "trades_since": 3, "net_since": -4.5, "#
            + #""history": [{"at": "2025-12-19T10:00:00Z", "from": 0.5, "to": 0.25, "reason": "drawdown", "detail": "equity fell"}]}"#
        try Fixtures.write(state, to: home + "/state/scaling.json")
        let text = try CommandRunner.run("tradingbot", ["report", "--home", home])
        #expect(
            text.stdout.contains(
                "Capital scaling 25 % of max_exposure_fraction 0.6 (0.15); last change 2025-12-19T10:00:00Z 50 % -> 25 % (drawdown: equity fell); 3 of 20 closed trades"
            ), "\(text.stdout)")
        let json = try CommandRunner.run("tradingbot", ["report", "--home", home, "--json"]).json()
        let scaling = try #require(json["scaling"] as? [String: Any])
        #expect(scaling["level"] as? Double == 0.25 && scaling["max_exposure_fraction"] as? Double == 0.15)
        let health = try #require(json["record_health"] as? [String: Any])
        let bot = try #require(health["bot"] as? [String: Any])
        #expect(bot["trades"] as? Int == 20 && (bot["score"] as? Double ?? -1) >= 0)
        #expect((health["strategies"] as? [String: Any])?.isEmpty == false, "the sample's trades name their strategy")
        try Fixtures.write("{torn", to: home + "/state/scaling.json")
        let torn = try CommandRunner.run("tradingbot", ["report", "--home", home])
        #expect(torn.status == 0 && torn.stdout.contains("the state cannot be read"), "\(torn.stdout)")
    }

    /// `scaling reset` writes the request the engine applies at its next start, and names the restart.
    @Test func scalingResetAsksTheNextStartAndNamesTheRestart() throws {
        let home = try CommandRunner.makeHome()
        let wrong = try CommandRunner.run("tradingbot", ["scaling", "reset", "--level", "1.5", "--home", home])
        #expect(
            wrong.status == 2 && wrong.stderr.contains("outside risk.scaling's floor 0.25 and ceiling 1"),
            "\(wrong.stderr)")
        #expect(!FileIO.exists(home + "/state/scaling-reset.json"))
        let out = try CommandRunner.run("tradingbot", ["scaling", "reset", "--level", "0.25", "--home", home])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(
            out.stdout.contains("Capital scaling goes to 25 % of max_exposure_fraction when the engine next starts"))
        #expect(out.stdout.contains("Next: restart the engine: supervisorctl -c"), "\(out.stdout)")
        let request = try ConfigFiles.json(home + "/state/scaling-reset.json").objectValue
        #expect(request?["level"] == .double(0.25) && request?["at"]?.instantValue != nil)
        // Off in bot.json: nothing to reset, and it says where.
        let bot = home + "/config/bot.json"
        var config = try ConfigFiles.json(bot).objectValue ?? JSONObject()
        config["risk"] = ["scaling": ["enabled": false]]
        try FileIO.writeJSON(bot, .object(config))
        let off = try CommandRunner.run("tradingbot", ["scaling", "reset", "--home", home])
        #expect(off.status == 1 && off.stderr.contains("capital scaling is off in \(bot)"), "\(off.stderr)")
    }

    @Test func homeFromTheEnvironmentAndTextOutput() throws {
        let home = try CommandRunner.makeHome()
        let out = try CommandRunner.run("tradingbot", ["report"], environment: ["TRADINGBOT_HOME": home])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.contains("Balance         $10,036.60"))
        #expect(out.stdout.contains("25 since the reset, 1,100 in the file"))
    }

    @Test func explicitPositionsAndConfigNeedNoHome() throws {
        let dir = try Fixtures.temporaryDirectory("cfg")
        try Fixtures.write(CommandRunner.botConfig(resetAt: "2025-12-19T00:00:00+00:00"), to: dir + "/bot.json")
        let out = try CommandRunner.run(
            "tradingbot", ["report", "--positions", Fixtures.samplePositions, "--config", dir + "/bot.json", "--json"],
            cwd: dir)
        #expect(out.status == 0, "\(out.stderr)")
        #expect(try out.json()["closed_trades"] as? Int == 7)
    }

    /// One unreadable record must not hide all the others: the report shows what it can count
    /// and names the record it left out.
    @Test func unreadableRecordIsLeftOutAndNamed() throws {
        let home = try CommandRunner.makeHome()
        var text = try String(contentsOfFile: home + "/logs/positions_futures.json", encoding: .utf8)
        text = text.replacingOccurrences(of: "\"2025-10-20T00:50:02Z\"", with: "\"2025-10-20T25:50:02Z\"")
        try Fixtures.write(text, to: home + "/logs/positions_futures.json")
        let out = try CommandRunner.run("tradingbot", ["report", "--home", home])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.contains("Balance         $10,036.60"), "\(out.stdout)")
        #expect(
            out.stdout.contains(
                "WARNING: 1 record(s) left out because a field they need cannot be used, so the balance may be incomplete: closed_positions[0] (BNBUSDT): closed_at cannot read \"2025-10-20T25:50:02Z\""
            ), "\(out.stdout)")
        let json = try CommandRunner.run("tradingbot", ["report", "--home", home, "--json"]).json()
        #expect((json["left_out"] as? [String: Any])?["count"] as? Int == 1)
        #expect(json["closed_trades"] as? Int == 25)
    }

    @Test func missingConfigIsAUsageError() throws {
        let dir = try Fixtures.temporaryDirectory("nohome")
        let out = try CommandRunner.run("tradingbot", ["report", "--home", dir])
        #expect(out.status == 2)
        #expect(out.stderr.contains(dir + "/config/bot.json: not found"))
    }

    @Test func badConfigFieldIsAUsageErrorNamingIt() throws {
        let home = try CommandRunner.makeHome(
            botConfig: #"{"wallet_reset": {"at": "2025-12-18T00:00:00Z", "starting_capital": -5}}"#)
        let out = try CommandRunner.run("tradingbot", ["report", "--home", home])
        #expect(out.status == 2)
        #expect(
            out.stderr.contains("config/bot.json: field \"wallet_reset.starting_capital\": -5 is out of range"),
            "\(out.stderr)")
    }

    @Test func unknownOptionExitsTwo() throws {
        let out = try CommandRunner.run("tradingbot", ["report", "--bogus"])
        #expect(out.status == 2)
        #expect(out.stderr.contains("--bogus"))
    }
}

@Suite struct ReconcileCommandTests {
    @Test func rebuildThenAgreeThenDetectDrift() throws {
        let home = try CommandRunner.makeHome()
        let before = try CommandRunner.run("tradingbot", ["reconcile", "--home", home, "--json"])
        #expect(before.status == 1)
        #expect(try before.json()["database_trades"] as? Int == 0)
        let rebuilt = try CommandRunner.run("tradingbot", ["reconcile", "--home", home, "--rebuild", "--json"])
        #expect(rebuilt.status == 0, "\(rebuilt.stderr)")
        #expect(try rebuilt.json()["database_trades"] as? Int == 1100)
        // A trade removed from the file shows up as drift.
        var text = try String(contentsOfFile: home + "/logs/positions_futures.json", encoding: .utf8)
        let marker = "\"closed_positions\": [\n"
        let start = try #require(text.range(of: marker)).upperBound
        let end = try #require(text.range(of: "},\n", range: start..<text.endIndex)).upperBound
        text.removeSubrange(start..<end)
        try Fixtures.write(text, to: home + "/logs/positions_futures.json")
        let drift = try CommandRunner.run("tradingbot", ["reconcile", "--home", home])
        #expect(drift.status == 1)
        #expect(drift.stdout.contains("0 trade(s) missing from the database, 1 not in the file"), "\(drift.stdout)")
    }
}
