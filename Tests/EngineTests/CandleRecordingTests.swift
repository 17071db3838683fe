import Foundation
import TestSupport
import Testing

@testable import Engine
@testable import Exchange
@testable import TradingCore
@testable import TradingStore

/// The service keeps each cycle's newest candles (a week) for the dashboard; a store it cannot
/// open is logged once and never stops trading.
@Suite struct CandleRecordingTests {
    func engine(_ home: Home, start: Instant, settings: EngineSettings = EngineSettings()) throws -> TradingEngine {
        let universe = try ConfigFiles.assetUniverse(Fixtures.repoRoot + "/config/asset_universe.json")
        let config = try ConfigFiles.bot(Fixtures.repoRoot + "/config/bot.json")
        return try TradingEngine(
            config: config, universe: universe,
            feed: SimulatedFeed(symbols: universe.symbols, seed: 2, intervalSeconds: 60, start: start),
            stores: try EngineStores(home: home), settings: settings)
    }

    @Test func theServiceKeepsTheCandlesItSaw() throws {
        let home = Home(root: try Fixtures.temporaryDirectory("candles"))
        let start = try #require(Instant(year: 2025, month: 12, day: 19, hour: 12))
        let engine = try engine(home, start: start)
        for i in 0..<3 { _ = try engine.runCycle(now: start.adding(seconds: Double(60 * i))) }
        let store = try CandleStore(path: home.candleStore, readOnly: true)
        let btc = try store.candles("BTCUSDT", from: start.adding(seconds: -3600), to: start.adding(seconds: 3600))
        #expect(btc.count == 3, "one candle per cycle: \(btc.count)")
        #expect(btc.last?.close == engine.lastMarket["BTCUSDT"]?.lastPrice, "the newest is the one the engine saw")
    }

    @Test func aStoreThatCannotOpenIsLoggedOnceAndTradingGoesOn() throws {
        let home = Home(root: try Fixtures.temporaryDirectory("candlesfail"))
        try home.createDirectories()
        try FileManager.default.createDirectory(atPath: home.candleStore, withIntermediateDirectories: true)
        let start = try #require(Instant(year: 2025, month: 12, day: 19, hour: 12))
        let engine = try engine(home, start: start)
        for i in 0..<5 { #expect(try engine.runCycle(now: start.adding(seconds: Double(60 * i))) != nil) }
        let logged = try JSONLAppender.readAll(home.botLog).compactMap { $0.objectValue }.filter {
            $0["event"] == "candles_not_recorded"
        }
        #expect(logged.count == 1, "once, not every cycle: \(logged.count)")
    }
}
