import Foundation
import TestSupport
import Testing

@testable import TradingCore
@testable import TradingStore

/// `tradingbot replay` as the operator runs it: never into a home that holds anything, and no
/// temporary folder left behind unless asked.
@Suite struct ReplayCommandTests {
    static var feed: String { Fixtures.data + "/market/perp-xrp-2021-11" }

    @Test func aReplayNeverWritesIntoALiveHome() throws {
        let live = try CommandRunner.makeHome()
        let config = try FileIO.read(live + "/config/bot.json")
        let positions = try FileIO.read(live + "/logs/positions_futures.json")
        let out = try CommandRunner.run(
            "tradingbot", ["replay", "--feed", Self.feed, "--home", live, "--into", live, "--json"])
        #expect(out.status == 2, "\(out.stdout)")
        #expect(out.stderr.contains("is not an empty folder") && out.stderr.contains("config"), "\(out.stderr)")
        #expect(try FileIO.read(live + "/config/bot.json") == config, "the live bot.json is untouched")
        #expect(try FileIO.read(live + "/logs/positions_futures.json") == positions, "the live book is untouched")
        let file = try Fixtures.temporaryDirectory("into") + "/a-file"
        try Fixtures.write("x", to: file)
        #expect(try CommandRunner.run("tradingbot", ["replay", "--feed", Self.feed, "--into", file]).status == 2)

        // A new folder is fine, and the source home is only read.
        let fresh = try Fixtures.temporaryDirectory("into") + "/new"
        let ok = try CommandRunner.run(
            "tradingbot", ["replay", "--feed", Self.feed, "--home", live, "--into", fresh, "--json"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(try ok.json()["home"] as? String == fresh)
        #expect(FileManager.default.fileExists(atPath: fresh + "/logs/positions_futures.json"))
        #expect(try FileIO.read(live + "/config/bot.json") == config)
    }

    @Test func aUniverseOfItsOwnNamesTheSectors() throws {
        let universe = try Fixtures.temporaryDirectory("universe") + "/u.json"
        try Fixtures.write(#"{"symbols": {"XRPUSDT": "payment"}}"#, to: universe)
        let out = try CommandRunner.run(
            "tradingbot", ["replay", "--feed", Self.feed, "--universe", universe, "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        #expect((try out.json()["other_sector_symbols"] as? [String]) == [])
        let missing = try CommandRunner.run(
            "tradingbot", ["replay", "--feed", Self.feed, "--universe", universe + ".nope"])
        #expect(missing.status == 2 && missing.stderr.contains("no such file"), "\(missing.stderr)")
        try Fixtures.write(#"{"symbols": {"XRPUSDT": "moon"}}"#, to: universe)
        let bad = try CommandRunner.run("tradingbot", ["replay", "--feed", Self.feed, "--universe", universe])
        #expect(bad.status == 2 && bad.stderr.contains("moon"), "\(bad.stderr)")
    }

    @Test func theTemporaryHomeIsRemovedUnlessKept() throws {
        let removed = try CommandRunner.run("tradingbot", ["replay", "--feed", Self.feed, "--json"])
        #expect(removed.status == 0, "\(removed.stderr)")
        #expect(try removed.json()["home"] is NSNull, "\(removed.stdout)")
        let kept = try CommandRunner.run("tradingbot", ["replay", "--feed", Self.feed, "--keep", "--json"])
        let home = try #require(try kept.json()["home"] as? String)
        #expect(FileManager.default.fileExists(atPath: home + "/logs/positions_futures.json"))
        #expect(try kept.json()["decisions_hash"] as? String == removed.json()["decisions_hash"] as? String)
        // The numbers strategies are compared by, consistent with the trades in the file.
        let json = try kept.json()
        for key in [
            "total_fees", "funding", "profit_factor", "expectancy", "sharpe", "sortino", "max_drawdown",
            "avg_hold_seconds", "exit_reasons",
        ] {
            #expect(json.keys.contains(key), "\(key) missing")
        }
        let reasons = json["exit_reasons"] as? [String: Int] ?? [:]
        #expect(reasons.values.reduce(0, +) == json["trades"] as? Int)
        let file = try PositionsStore(home: Home(root: home)).load()
        let fees = file.closed.reduce(0.0) { $0 + ($1.extra["fees"]?.doubleValue ?? 0) }
        #expect(abs((json["total_fees"] as? Double ?? -1) - fees) < 0.01)
        // The text says the same drawdown as the JSON, to a tenth of a percent.
        let text = try CommandRunner.run("tradingbot", ["replay", "--feed", Self.feed])
        let shown = text.stdout.components(separatedBy: "max drawdown ").dropFirst().first?
            .components(separatedBy: " %").first.flatMap { Double($0) }
        let percent = (json["max_drawdown"] as? Double ?? -1) * 100
        #expect(shown.map { abs($0 - percent) <= 0.051 } == true, "\(text.stdout) vs \(percent) %")
        try? FileManager.default.removeItem(atPath: home)
    }

    /// The flight recorder through the binaries: an engine killed with SIGKILL mid-run and
    /// restarted, its recording replayed with `replay --recorded`: every signal line of every
    /// recorded cycle comes back byte for byte (the cycle the kill cut short has no line to replay).
    @Test(.timeLimit(.minutes(10))) func aRecordingSurvivesASigkillAndReplaysExactly() throws {
        let home = try CommandRunner.makeHome(
            botConfig: """
                {"wallet_reset": {"at": "2025-12-18T00:00:00Z", "starting_capital": 10000}, "cycle_seconds": 1,
                 "exits": {"min_hold_seconds": 0, "max_hold_seconds": 4},
                 "strategy": {"entry_threshold": 0.05, "min_agreeing": 1}}
                """)
        // The recorder's floor is min_free_disk_mb + 1000 MB: the least a test machine must have.
        try Fixtures.write(#"{"watchdog": {"min_free_disk_mb": 0}}"#, to: home + "/config/deploy.json")
        func cycle() -> Int { (try? HeartbeatStore(home: Home(root: home)).read())?.cycle ?? 0 }
        let first = try CommandRunner.startEngine(home: home)
        defer { if first.isRunning { kill(first.processIdentifier, SIGKILL) } }
        #expect(waitUntil(seconds: 90) { cycle() >= 6 }, "the engine cycles")
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        let second = try CommandRunner.startEngine(home: home)
        defer { if second.isRunning { kill(second.processIdentifier, SIGKILL) } }
        #expect(
            waitUntil(seconds: 90) {
                (try? HeartbeatStore(home: Home(root: home)).read())?.pid == Int(second.processIdentifier)
                    && cycle() >= 4
            })
        kill(second.processIdentifier, SIGTERM)
        second.waitUntilExit()

        let into = try Fixtures.temporaryDirectory("recorded") + "/replay"
        let out = try CommandRunner.run(
            "tradingbot", ["replay", "--recorded", "--home", home, "--into", into, "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        let summary = try out.json()
        #expect((summary["segments"] as? [Any])?.count == 2, "one segment per process: \(out.stdout)")
        #expect((summary["divergences"] as? [Any])?.isEmpty == true, "\(out.stdout)")
        #expect(out.stderr.contains("replay: replaying seg-"), "progress on stderr: \(out.stderr)")

        // The times of the recorded cycles; a signal line of any other cycle was cut short by the kill.
        var recorded: Set<Int64> = []
        for entry in try FileManager.default.contentsOfDirectory(atPath: home + "/data/recording") {
            for line in try JSONLAppender.readAll(home + "/data/recording/" + entry) {
                guard let o = line.objectValue, o["checkpoint"] == nil, o["recording"] == nil,
                    case .number(let t)? = o["t"], let us = Int64(t)
                else { continue }
                recorded.insert(us)
            }
        }
        func lines(_ path: String) throws -> [String] {
            String(decoding: try FileIO.read(path), as: UTF8.self).split(separator: "\n").map(String.init)
        }
        let live = try lines(home + "/logs/signals.jsonl").filter { line in
            let ts = (try? JSONValue.parse(Array(line.utf8)))?.objectValue?["ts"]?.instantValue
            return ts.map { recorded.contains($0.microseconds) } ?? false
        }
        let replayed = try lines(into + "/logs/signals.jsonl")
        #expect(live.count > 50 && replayed == live, "\(live.count) live lines, \(replayed.count) replayed")

        // "What would this setting have done?": the same recording under another bot.json.
        let botPath = home + "/config/bot.json"
        let bot = String(decoding: try FileIO.read(botPath), as: UTF8.self)
        let proposed = try Fixtures.temporaryDirectory("proposed")
        /// `replay --recorded --config` with bot.json changed from `old` to `new`.
        func replayWith(_ name: String, _ old: String, _ new: String, _ extra: [String] = []) throws
            -> CommandRunner.Output
        {
            let text = bot.replacingOccurrences(of: old, with: new)
            #expect(old == new || text != bot, "\(old) is in the recorded bot.json")
            try Fixtures.write(text, to: proposed + "/\(name).json")
            return try CommandRunner.run(
                "tradingbot", ["replay", "--recorded", "--home", home, "--config", proposed + "/\(name).json"] + extra)
        }
        let same = try replayWith("same", "", "")
        #expect(same.status == 2 && same.stderr.contains("nothing to try"), "\(same.stderr)")
        let pace = try replayWith("pace", "\"cycle_seconds\": 1", "\"cycle_seconds\": 30")
        #expect(pace.status == 2 && pace.stderr.contains("cycle_seconds"), "\(pace.stderr)")
        let strictInto = try Fixtures.temporaryDirectory("recorded") + "/strict"
        let strict = try replayWith(
            "strict", "\"entry_threshold\": 0.05", "\"entry_threshold\": 0.9", ["--into", strictInto, "--json"])
        #expect(strict.status == 0, "\(strict.stderr)")
        let change = try strict.json()["config_change"] as? [String: Any]
        #expect(change?["changed"] as? [String] == ["strategy.entry_threshold"], "\(strict.stdout)")
        #expect(try strict.json()["trades"] is Int && strict.json()["net_pnl"] is Double, "\(strict.stdout)")
        let strictLines = try lines(strictInto + "/logs/signals.jsonl")
        func entries(_ lines: [String]) -> Int { lines.filter { $0.contains("\"action\":\"executed\"") }.count }
        #expect(entries(strictLines) < entries(replayed), "a stricter threshold enters less")

        // What a person gets wrong: both sources, neither, or a home that never recorded.
        let both = try CommandRunner.run("tradingbot", ["replay", "--recorded", "--feed", Self.feed, "--home", home])
        #expect(both.status == 2 && both.stderr.contains("exclude each other"), "\(both.stderr)")
        let neither = try CommandRunner.run("tradingbot", ["replay", "--home", home])
        #expect(neither.status == 2, "\(neither.stderr)")
        let fresh = try CommandRunner.makeHome()
        let none = try CommandRunner.run("tradingbot", ["replay", "--recorded", "--home", fresh])
        #expect(none.status == 1 && none.stderr.contains("no recording"), "\(none.stderr)")
    }
}
