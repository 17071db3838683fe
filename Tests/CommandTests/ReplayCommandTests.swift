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
}
