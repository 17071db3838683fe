import Foundation
import TestSupport
import Testing

@testable import Engine
@testable import Exchange
@testable import TradingCore
@testable import TradingStore

/// The autonomy controller in the engine: its state survives a restart, a first start computes
/// the step the record justifies, a torn state file does not stop trading, and `enabled: false`
/// trades as before the controller existed.
@Suite struct AutonomyEngineTests {
    let start = Instant(year: 2026, month: 3, day: 2, hour: 12)!

    func config() throws -> (BotConfig, AssetUniverse) {
        let universe = try ConfigFiles.assetUniverse(Fixtures.repoRoot + "/config/asset_universe.json")
        var config = try ConfigFiles.bot(Fixtures.repoRoot + "/config/bot.json")
        config.walletReset.at = start.adding(seconds: -30 * 86_400)
        config.strategy.entryThreshold = 0.05
        config.strategy.minAgreeing = 1
        return (config, universe)
    }

    func engine(_ config: BotConfig, _ universe: AssetUniverse, home: Home, at time: Instant) throws -> TradingEngine {
        try TradingEngine(
            config: config, universe: universe,
            feed: SimulatedFeed(symbols: universe.symbols, seed: 9, intervalSeconds: 60, start: time),
            stores: try EngineStores(home: home))
    }

    /// `count` closed trades of `net` each, an hour apart, ending a day before `start`.
    func closed(_ count: Int, net: Double) -> [Position] {
        (0..<count).map { i in
            let closedAt = start.adding(seconds: -86_400 - Double(count - i) * 3600)
            return Position(
                symbol: "BTCUSDT", direction: "LONG", entryPrice: 100, exitPrice: 101, size: 1, leverage: 5,
                marginCollateral: 20, pnl: net, netPnl: net, openedAt: Timestamp(closedAt.adding(seconds: -600)),
                closedAt: Timestamp(closedAt), strategy: "Ensemble-momentum", botType: "alpha",
                extra: JSONObject([JSONField("setup", .string("momentum:LONG"))]))
        }
    }

    func events(_ home: Home, _ name: String) throws -> [JSONObject] {
        try JSONLAppender.readAll(home.botLog).compactMap { $0.objectValue }.filter { $0["event"]?.stringValue == name }
    }

    /// An engine run for five cycles on a home whose record is 30 losing trades; the time after.
    func fiveCyclesAfterThirtyLosers(_ config: BotConfig, _ universe: AssetUniverse, _ label: String) throws -> (
        TradingEngine, Home, Instant
    ) {
        let home = Home(root: try Fixtures.temporaryDirectory(label))
        try home.createDirectories()
        try PositionsStore(home: home).save(PositionsFile(closed: closed(30, net: -10)))
        let engine = try engine(config, universe, home: home, at: start)
        var t = start
        for _ in 0..<5 {
            _ = try engine.runCycle(now: t)
            t = t.adding(seconds: 60)
        }
        return (engine, home, t)
    }

    func executed(_ home: Home) throws -> [JSONObject] {
        try JSONLAppender.readAll(home.signalsLog).compactMap { $0.objectValue }.filter { $0["action"] == "executed" }
    }

    @Test func aScaledDownStateSurvivesARestartAndIsNotComputedAgain() throws {
        let (config, universe) = try config()
        let home = Home(root: try Fixtures.temporaryDirectory("scaling-restart"))
        try home.createDirectories()
        // A record of 60 winners over 2.5 days: the first start computes two steps up.
        try PositionsStore(home: home).save(PositionsFile(closed: closed(60, net: 10)))
        let first = try engine(config, universe, home: home, at: start)
        _ = try first.runCycle(now: start)
        #expect(first.exposureScale == 1.0)
        let computed = try events(home, "capital_scaled")
        #expect(computed.count == 1 && computed[0]["reason"] == "history" && computed[0]["level"] == "info")

        // A fall from the peak since the last step up: one step down at once, critical.
        let equity = first.balance + first.unrealized()
        first.autonomy.scaling?.peakEquity = equity * 1.02
        _ = try first.runCycle(now: start.adding(seconds: 60))
        #expect(first.exposureScale == 0.75)
        let down = try #require(try events(home, "capital_scaled").last)
        #expect(down["level"] == "critical" && down["reason"] == "drawdown" && down["to"] == .double(0.75))
        #expect(down["health"]?.objectValue?["score"] != nil && down["equity"] != nil, "the inputs that moved it")
        let saved = try #require(CapitalScaling.parse(try ConfigFiles.json(home.scalingState)))
        #expect(saved.level == 0.75, "on disk before the next cycle")

        // A field a newer release wrote survives this one's rewrite.
        var withFuture = try #require(try ConfigFiles.json(home.scalingState).objectValue)
        withFuture["from_a_newer_release"] = .string("kept")
        try FileIO.writeJSON(home.scalingState, .object(withFuture))

        // The restart: the saved step, not the record's (which still justifies 100 %).
        let second = try engine(config, universe, home: home, at: start.adding(seconds: 120))
        _ = try second.runCycle(now: start.adding(seconds: 120))
        #expect(second.exposureScale == 0.75)
        #expect(try events(home, "capital_scaled").count == 2, "nothing computed again")
        second.autonomy.scalingDirty = true
        try second.persist(now: start.adding(seconds: 120))
        #expect(try ConfigFiles.json(home.scalingState).objectValue?["from_a_newer_release"] == .string("kept"))

        // A torn file: the engine trades on, from the step the record justifies, and says so.
        try FileIO.writeAtomically(home.scalingState, Array(#"{"level": 0.7"#.utf8))
        let third = try engine(config, universe, home: home, at: start.adding(seconds: 180))
        _ = try third.runCycle(now: start.adding(seconds: 180))
        #expect(third.exposureScale == 1.0)
        let torn = try #require(try events(home, "capital_scaled").last)
        #expect(torn["level"] == "error" && torn["unreadable"]?.stringValue?.contains("scaling.json") == true)
        #expect(CapitalScaling.parse(try ConfigFiles.json(home.scalingState))?.level == 1.0, "written whole again")
    }

    @Test func aLosingRecordStartsAtTheFloorAndEntriesCarryTheirFactors() throws {
        let (config, universe) = try config()
        let (engine, home, t) = try fiveCyclesAfterThirtyLosers(config, universe, "scaling-floor")
        #expect(engine.exposureScale == 0.25)
        let entries = try executed(home)
        #expect(!entries.isEmpty)
        for line in entries {
            let sizing = try #require(line["sizing"]?.objectValue)
            #expect(sizing["scaling"] == .double(0.25))
        }
        // The losing setup's health is in its entries' size (the others are neutral).
        #expect(engine.setupHealth("momentum:LONG", now: t).score < 30)
        #expect(engine.setupHealth("mean_reversion:SHORT", now: t).score == 100)
    }

    @Test func offTradesAsBeforeTheController() throws {
        var (config, universe) = try config()
        config.risk.scaling.enabled = false
        let (engine, home, _) = try fiveCyclesAfterThirtyLosers(config, universe, "scaling-off")
        #expect(engine.exposureScale == 1)
        #expect(!FileIO.exists(home.scalingState))
        let entries = try executed(home)
        #expect(!entries.isEmpty && entries.allSatisfy { $0["sizing"] == nil })
        #expect(try events(home, "capital_scaled").isEmpty)
    }
}
