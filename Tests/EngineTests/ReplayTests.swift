import Foundation
import TestSupport
import Testing

@testable import Engine
@testable import Exchange
@testable import TradingCore
@testable import TradingStore

@Suite struct ReplayTests {
    func committedConfig() throws -> (BotConfig, AssetUniverse) {
        (
            try ConfigFiles.bot(Fixtures.repoRoot + "/config/bot.json"),
            try ConfigFiles.assetUniverse(Fixtures.repoRoot + "/config/asset_universe.json")
        )
    }

    /// Replays `feed` and checks every risk invariant after every cycle.
    func replay(_ feed: String, config: BotConfig? = nil, universe given: AssetUniverse? = nil) throws -> (
        ReplayRunner.Summary, [String]
    ) {
        var (bot, universe) = try committedConfig()
        if let config { bot = config }
        if let given { universe = given }
        var violations: [String] = []
        var cyclesChecked = 0
        let home = Home(root: try Fixtures.temporaryDirectory("replay"))
        var settings = EngineSettings()
        settings.persistEvery = 250
        let summary = try ReplayRunner.run(
            feedPath: Fixtures.data + "/market/" + feed, home: home, baseConfig: bot, universe: universe,
            settings: settings
        ) { engine, result in
            cyclesChecked += 1
            // Entries are sized on the equity of their moment; allow it to have fallen 5 % since.
            let problems = engine.risk.invariantViolations(
                open: engine.openExposures, equity: engine.balance + engine.unrealized(), equityDrift: 0.05)
            if !problems.isEmpty { violations.append("cycle \(result.cycle): \(problems.joined(separator: ", "))") }
            if engine.openedToday > bot.risk.maxPositionsPerDay {
                violations.append("cycle \(result.cycle): \(engine.openedToday) opened today")
            }
        }
        #expect(cyclesChecked == summary.cycles)
        return (summary, violations)
    }

    /// With a universe that gives the ten recorded markets sectors, and entries eager enough,
    /// the position, per-sector and exposure limits all bind at some point, and none is ever
    /// exceeded on any cycle.
    @Test(.timeLimit(.minutes(20))) func everyLimitBindsAndNoneIsExceededOnTenMarkets() throws {
        var (bot, _) = try committedConfig()
        bot.strategy.entryThreshold = 0.05
        bot.strategy.minAgreeing = 1
        bot.risk.maxPositions = 6
        bot.risk.maxExposureFraction = 0.3
        bot.risk.maxPositionsPerDay = 10_000
        // The configured limits themselves: capital scaling would cap the exposure first.
        bot.risk.scaling.enabled = false
        let universe = try ConfigFiles.assetUniverse(Fixtures.data + "/universe/spot-2018.json")
        let (summary, violations) = try replay("spot-5m-2018-01", config: bot, universe: universe)
        #expect(violations.isEmpty, "\(violations.prefix(5))")
        #expect(summary.otherSectorSymbols.isEmpty, "the universe names every market")
        let signals = try JSONLAppender.readAll(Home(root: summary.home).signalsLog).compactMap { $0.objectValue }
        let bound = Set(signals.compactMap { $0["rule"]?.stringValue })
        for rule in ["max_positions", "max_per_sector", "max_exposure_fraction"] {
            #expect(bound.contains(rule), "\(rule) never bound: \(bound.sorted())")
        }
    }

    @Test(.timeLimit(.minutes(20))) func tenSpotMarketsRespectRiskOnEveryCycleAndAreDeterministic() throws {
        let (first, violations) = try replay("spot-5m-2018-01")
        #expect(violations.isEmpty, "\(violations.prefix(5))")
        #expect(first.cycles == 5760)
        #expect(first.candles == 57_546)
        #expect(first.trades > 20, "the engine trades on real data (\(first.trades) trades)")
        #expect(first.otherSectorSymbols.count == 10, "BTC-quoted spot pairs are not in the universe")
        let (second, _) = try replay("spot-5m-2018-01")
        #expect(second.decisionsHash == first.decisionsHash)
        #expect(second.trades == first.trades && second.netPnl == first.netPnl)

        // The replay home is a real home: report, data checks and the mirror agree with the summary.
        let home = Home(root: first.home)
        let file = try PositionsStore(home: home).load()
        #expect(file.closed.count == first.trades)
        let config = try ConfigFiles.bot(home.botConfig)
        let report = PerformanceReport(file: file, reset: config.walletReset)
        #expect(abs(report.balance - first.balance) < 0.01)
        #expect(try AnalyticsDatabase(path: home.database).reconcile(with: file).agrees)
        for p in file.closed {
            #expect(p.extra["exit_reason"] != nil && p.netPnl != nil && p.pnl != nil)
            #expect((p.netPnl ?? 0) < (p.pnl ?? 0), "net P&L includes fees")
        }
        let signals = try JSONLAppender.readAll(home.signalsLog)
        let executed = signals.filter { $0.objectValue?["action"] == "executed" }.count
        #expect(executed == first.trades + file.open.count)
        let blocked = signals.filter { $0.objectValue?["action"] == "blocked" }
        #expect(blocked.allSatisfy { $0.objectValue?["rule"]?.stringValue?.isEmpty == false })
        // The sizing factors travel on every entry: its signal line and the position's record.
        for line in signals.compactMap(\.objectValue) where line["action"] == "executed" {
            let keys = Set(line["sizing"]?.objectValue?.keys ?? [])
            #expect(keys == ["conviction", "health", "allocation", "scaling"], "\(line)")
        }
        #expect((file.open + file.closed).allSatisfy { $0.extra["sizing"]?.objectValue?["scaling"] != nil })
        try setupsShrinkBeforeTheExpectancyGateBlocks(signals.compactMap(\.objectValue), config: config)
    }

    /// Each setup the expectancy gate blocks on real data was already sized down by its health
    /// before the block: its last entry before the first block had a health under 100 and, where
    /// conviction set the size, a notional below what conviction alone gives.
    func setupsShrinkBeforeTheExpectancyGateBlocks(_ lines: [JSONObject], config: BotConfig) throws {
        var firstBlock: [String: Int] = [:]
        for line in lines where line["action"] == "blocked" && line["rule"] == "expectancy" {
            guard let setup = line["setup"]?.stringValue, let cycle = line["cycle"]?.doubleValue else { continue }
            if firstBlock[setup] == nil { firstBlock[setup] = Int(cycle) }
        }
        #expect(firstBlock.count >= 3, "setups turn from winning to losing in January 2018: \(firstBlock)")
        for (setup, blockedAt) in firstBlock.sorted(by: { $0.key < $1.key }) {
            let entries = lines.filter {
                ($0["action"] == "ordered" || $0["action"] == "executed") && $0["setup"]?.stringValue == setup
                    && Int($0["cycle"]?.doubleValue ?? .infinity) < blockedAt
            }
            let last = try #require(entries.last, "\(setup) entered before it was blocked")
            let sizing = try #require(last["sizing"]?.objectValue)
            let health = try #require(sizing["health"]?.doubleValue)
            #expect(health < 100, "\(setup): its last entry before the block (cycle \(blockedAt)) was sized at full health")
            if last["rule"] == "conviction", let conviction = sizing["conviction"]?.doubleValue,
                let notional = last["notional"]?.doubleValue
            {
                let alone = config.risk.minNotional + (config.risk.maxNotional - config.risk.minNotional) * conviction
                #expect(notional < alone - 0.01, "\(setup): \(notional) is not below conviction's \(alone)")
            }
        }
    }

    @Test func perpetualWithFundingReplays() throws {
        let (summary, violations) = try replay("perp-xrp-2021-11")
        #expect(violations.isEmpty)
        #expect(summary.notes.contains { $0.contains("finer interval") }, "the 1h file is skipped for the 5m one")
        #expect(summary.otherSectorSymbols.isEmpty, "XRPUSDT is in the payment sector")
        let signals = try JSONLAppender.readAll(Home(root: summary.home).signalsLog)
        let withFunding = signals.filter { $0.objectValue?["scores"]?.objectValue?["funding_rate"] != nil }
        let blockedOrExecuted = signals.filter { $0.objectValue?["scores"] != nil }
        #expect(!blockedOrExecuted.isEmpty)
        #expect(withFunding.count > 0, "funding from the recorded 8h file reaches the signal")

        // With entries eager enough to hold positions across funding times, the recorded rates
        // are booked: on the positions, in their net P&L, and in the summary.
        var eager = try committedConfig().0
        eager.strategy.entryThreshold = 0.05
        eager.strategy.minAgreeing = 1
        let (booked, _) = try replay("perp-xrp-2021-11", config: eager)
        let file = try PositionsStore(home: Home(root: booked.home)).load()
        let paid = file.closed.filter { ($0.extra["funding"]?.doubleValue ?? 0) != 0 }
        #expect(!paid.isEmpty, "\(file.closed.count) trades, none across a funding time")
        for p in file.closed {
            let expected = (p.pnl ?? 0) - (p.extra["fees"]?.doubleValue ?? 0) + (p.extra["funding"]?.doubleValue ?? 0)
            #expect(abs((p.netPnl ?? 0) - expected) < 1e-5, "\(p.symbol) \(p.openedAt?.instant.iso8601 ?? "")")
        }
        let total = file.closed.reduce(0.0) { $0 + ($1.extra["funding"]?.doubleValue ?? 0) }
        #expect(abs(booked.statistics.funding - total) < 1e-5)
    }

    /// A replay does not flatter: an entry decided on a candle's close fills at the next
    /// candle's open plus slippage, never at the close the decision saw.
    @Test func entriesFillAtTheNextCandlesOpen() throws {
        var eager = try committedConfig().0
        eager.strategy.entryThreshold = 0.05
        eager.strategy.minAgreeing = 1
        let (summary, violations) = try replay("perp-xrp-2021-11", config: eager)
        #expect(violations.isEmpty)
        let csv = try String(
            contentsOfFile: Fixtures.data + "/market/perp-xrp-2021-11/XRP-USDT-5m.csv", encoding: .utf8)
        var opens: [Int64: Double] = [:]
        var closes: [Int64: Double] = [:]
        for row in csv.split(separator: "\n").dropFirst() {
            let f = row.split(separator: ",")
            guard f.count >= 5, let ms = Int64(f[0]), let open = Double(f[1]), let close = Double(f[4]) else {
                continue
            }
            opens[ms / 1000] = open
            closes[ms / 1000] = close
        }
        let file = try PositionsStore(home: Home(root: summary.home)).load()
        let positions = file.closed + file.open
        #expect(positions.count > 10, "the drill trades")
        let slippage = EngineSettings().slippage
        // Where a candle opens away from the close before it, only a next-open fill passes.
        var discriminating = 0
        for p in positions {
            // Opened at the fill candle's close time; filled at that candle's open.
            let candle = try #require(p.openedAt).instant.microseconds / 1_000_000 - 300
            let open = try #require(opens[candle], "no candle at \(candle)")
            let expected = open * (p.side == .long ? 1 + slippage : 1 - slippage)
            #expect(abs((p.entryPrice ?? 0) - expected) < 1e-9 * open, "\(p.symbol) at \(candle)")
            if let seen = closes[candle - 300], seen != open { discriminating += 1 }
        }
        #expect(discriminating > 0, "no fill where the open differs from the close the decision saw")
        let signals = try JSONLAppender.readAll(Home(root: summary.home).signalsLog).compactMap { $0.objectValue }
        #expect(signals.contains { $0["action"] == "ordered" })
    }

    @Test func restartResumesOpenPositionsAndKeepsClosedTrades() throws {
        let (bot, universe) = try committedConfig()
        let home = Home(root: try Fixtures.temporaryDirectory("resume"))
        try home.createDirectories()
        try FileIO.copy(Fixtures.samplePositions, to: home.positions)
        let start = try #require(Instant(year: 2025, month: 12, day: 19, hour: 12))
        var config = bot
        config.exits.minHoldSeconds = 0
        config.exits.maxHoldSeconds = 180
        let feed = SimulatedFeed(symbols: universe.symbols, seed: 5, intervalSeconds: 60, start: start)
        let engine = try TradingEngine(
            config: config, universe: universe, feed: feed, stores: try EngineStores(home: home))
        #expect(engine.file.open.count == 4, "the sample's open positions are resumed")
        var t = start
        for _ in 0..<10 {
            _ = try engine.runCycle(now: t)
            t = t.adding(seconds: 60)
        }
        let before = try PositionsStore(home: home).load()
        #expect(before.closed.count > 1100, "positions closed during the run")
        let sample = try PositionsStore(path: Fixtures.samplePositions, lockPath: home.positionsLock).load()
        #expect(Array(before.closed.prefix(1100)) == sample.closed, "the sample's closed trades are untouched")
        // A new engine on the same home sees the same book.
        let again = try TradingEngine(
            config: config, universe: universe,
            feed: SimulatedFeed(symbols: universe.symbols, seed: 5, intervalSeconds: 60, start: t),
            stores: try EngineStores(home: home))
        #expect(again.file == before)
        #expect(abs(again.balance - engine.balance) < 1e-9)
    }
}

@Suite struct KillSwitchTests {
    @Test func killSwitchBlocksEntriesUntilItIsOff() throws {
        let universe = try ConfigFiles.assetUniverse(Fixtures.repoRoot + "/config/asset_universe.json")
        var config = try ConfigFiles.bot(Fixtures.repoRoot + "/config/bot.json")
        config.strategy.entryThreshold = 0.05
        config.strategy.minAgreeing = 1
        let home = Home(root: try Fixtures.temporaryDirectory("kill"))
        let stores = try EngineStores(home: home)
        let start = try #require(Instant(year: 2025, month: 12, day: 19, hour: 12))
        let engine = try TradingEngine(
            config: config, universe: universe,
            feed: SimulatedFeed(symbols: universe.symbols, seed: 9, intervalSeconds: 60, start: start), stores: stores)
        try FileIO.writeAtomically(KillSwitch(home: stores.home).path, Array("on".utf8))
        var t = start
        for _ in 0..<5 {
            let result = try #require(try engine.runCycle(now: t))
            #expect(result.executed == 0)
            t = t.adding(seconds: 60)
        }
        let blocked = try JSONLAppender.readAll(home.signalsLog).compactMap { $0.objectValue }.filter {
            $0["action"] == "blocked"
        }
        #expect(!blocked.isEmpty && blocked.allSatisfy { $0["rule"] == "circuit_breaker" })
        try FileIO.remove(KillSwitch(home: stores.home).path)
        var executed = 0
        for _ in 0..<5 {
            executed += try #require(try engine.runCycle(now: t)).executed
            t = t.adding(seconds: 60)
        }
        #expect(executed > 0, "entries resume once the switch is off")
        let changes = try JSONLAppender.readAll(home.botLog).compactMap { $0.objectValue?["change"]?.stringValue }
        #expect(changes == ["circuit breaker tripped: kill switch on", "circuit breaker re-armed"])
        let levels = try JSONLAppender.readAll(home.botLog).compactMap { $0.objectValue }.filter {
            $0["event"] == "circuit_breaker"
        }.compactMap { $0["level"]?.stringValue }
        #expect(levels == ["critical", "warning"], "a trip is critical, so the watchdog alerts it")
    }

    /// A feed that repeats its last market once frozen: what a dead websocket looks like.
    final class FreezingFeed: MarketFeed {
        let inner: SimulatedFeed
        var last: [MarketSnapshot]?
        var frozen = false
        init(_ inner: SimulatedFeed) { self.inner = inner }
        var name: String { "freezing" }
        var symbols: [String] { inner.symbols }
        func advance(to time: Instant) throws -> [MarketSnapshot]? {
            if frozen, let last { return last }
            last = try inner.advance(to: time)
            return last
        }
    }

    @Test func aFrozenFeedStopsTheLastPriceChange() throws {
        let universe = try ConfigFiles.assetUniverse(Fixtures.repoRoot + "/config/asset_universe.json")
        let config = try ConfigFiles.bot(Fixtures.repoRoot + "/config/bot.json")
        let home = Home(root: try Fixtures.temporaryDirectory("frozen"))
        let start = try #require(Instant(year: 2025, month: 12, day: 19, hour: 12))
        let feed = FreezingFeed(SimulatedFeed(symbols: universe.symbols, seed: 3, intervalSeconds: 60, start: start))
        let engine = try TradingEngine(
            config: config, universe: universe, feed: feed, stores: try EngineStores(home: home))
        var t = start
        _ = try engine.runCycle(now: t)
        #expect(engine.lastPriceChangeAt == nil, "a first sighting is not a change")
        t = t.adding(seconds: 60)
        for _ in 0..<2 {
            _ = try engine.runCycle(now: t)
            #expect(engine.lastPriceChangeAt == t, "a live feed changes prices every cycle")
            t = t.adding(seconds: 60)
        }
        let lastLive = t.adding(seconds: -60)
        feed.frozen = true
        for _ in 0..<3 {
            _ = try engine.runCycle(now: t)
            t = t.adding(seconds: 60)
        }
        #expect(engine.lastPriceChangeAt == lastLive, "frozen prices are not changes")
    }
}
