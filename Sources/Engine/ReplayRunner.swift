import Exchange
import Foundation
import TradingCore
import TradingStore

/// `tradingbot replay`: the engine's own decision code over recorded data at full speed, into a
/// home of its own so its positions file, signals and heartbeat can be inspected afterwards.
public enum ReplayRunner {
    public struct Summary: Sendable {
        public var home: String
        public var cycles: Int
        public var candles: Int
        public var trades: Int
        public var winRate: Double
        public var netPnl: Double
        /// On equity, cycle by cycle.
        public var maxDrawdown: Double
        public var balance: Double
        public var decisionsHash: String
        public var otherSectorSymbols: [String]
        public var notes: [String]
        public var seconds: Double
        public var statistics = TradeStatistics()
        /// Equity at each UTC day's last cycle.
        public var equityAtDayEnds: [Double] = []
        public var startingCapital = 0.0
        /// The engine's health, capital scaling and allocation at the end (`autonomyView`).
        public var autonomy: JSONValue = .null

        public var worstDay: Double { TradeStatistics.worstDay(start: startingCapital, dayEnds: equityAtDayEnds) }

        public var json: JSONValue {
            var o =
                ([
                    "ok": true, "home": .string(home), "cycles": .int(cycles), "candles": .int(candles),
                    "trades": .int(trades), "win_rate": .double(round4(winRate)), "net_pnl": .double(cents(netPnl)),
                    "max_drawdown": .double(round4(maxDrawdown)), "balance": .double(cents(balance)),
                    "decisions_hash": .string(decisionsHash),
                    "other_sector_symbols": .array(otherSectorSymbols.map { .string($0) }),
                    "notes": .array(notes.map { .string($0) }), "seconds": .double(round4(seconds)),
                    "candles_per_second": .double(seconds > 0 ? (Double(candles) / seconds).rounded() : 0),
                ] as JSONValue).objectValue ?? JSONObject()
            for field in statistics.json(start: startingCapital, dayEnds: equityAtDayEnds, maxDrawdown: maxDrawdown) {
                o[field.key] = field.value
            }
            o["worst_day"] = .double(cents(worstDay))
            o["autonomy"] = autonomy
            return .object(o)
        }
    }

    /// Replays `feedPath` into `home` (created when missing). The home's config is used when it
    /// has one; the wallet reset is set to the first candle so every replayed trade counts.
    /// `onCycle` sees the engine after every cycle (tests assert invariants there).
    public static func run(
        feedPath: String, home: Home, baseConfig: BotConfig?, universe: AssetUniverse?,
        settings: EngineSettings = EngineSettings(), onCycle: ((TradingEngine, CycleResult) -> Void)? = nil
    ) throws -> Summary {
        let started = Date()
        let loaded = try MarketDataFiles.load(feedPath)
        guard let first = loaded.series.compactMap({ $0.candles.first?.ts }).min() else {
            throw StoreError(path: feedPath, message: "no candles to replay")
        }
        try home.createDirectories()
        try FileManager.default.createDirectory(atPath: home.configDir, withIntermediateDirectories: true)
        var config = baseConfig ?? BotConfig(walletReset: WalletReset(at: first, startingCapital: 10_000))
        config.walletReset.at = first
        config.symbols = []
        let universe = universe ?? AssetUniverse(sectors: [:])
        try writeConfig(config, universe: universe, home: home)
        let feed = ReplayFeed(series: loaded.series, name: "replay:\(feedPath)")
        let stores = try EngineStores(home: home)
        var settings = settings
        settings.fillAtNextOpen = true
        settings.stopsWithinCandle = true
        settings.recordCandles = false
        settings.daySnapshots = false
        let engine = try TradingEngine(
            config: config, universe: universe, feed: feed, stores: stores, settings: settings)
        var cycles = 0
        var equityPath: [Double] = []
        var dayEnds: [Double] = []
        var lastDay: Instant?
        while let result = try engine.runCycle(now: first, useFeedTime: true) {
            cycles += 1
            let day = result.time.startOfUTCDay
            if let lastDay, day != lastDay, let last = equityPath.last { dayEnds.append(last) }
            lastDay = day
            equityPath.append(result.equity)
            onCycle?(engine, result)
        }
        if let last = equityPath.last { dayEnds.append(last) }
        try engine.persist(now: WallClock.now)
        try stores.heartbeat.write(
            Heartbeat(
                pid: ProcessIdentity.pid, release: settings.release, cycle: engine.cycle, phase: "replay_finished",
                writtenAt: WallClock.now))
        let closed = engine.closedThisRun
        var statistics = TradeStatistics()
        for p in closed { statistics.add(p, net: p.netPnl ?? 0) }
        let wins = closed.filter { ($0.netPnl ?? 0) > 0 }.count
        let losses = closed.filter { ($0.netPnl ?? 0) < 0 }.count
        return Summary(
            home: home.root, cycles: cycles, candles: feed.candleCount, trades: closed.count,
            winRate: wins + losses == 0 ? 0 : Double(wins) / Double(wins + losses),
            netPnl: closed.reduce(0) { $0 + ($1.netPnl ?? 0) },
            maxDrawdown: TradeStatistics.maxDrawdown([config.walletReset.startingCapital] + equityPath),
            balance: engine.balance,
            decisionsHash: engine.hash.hex, otherSectorSymbols: engine.otherSectorSymbols.sorted(),
            notes: loaded.notes, seconds: Date().timeIntervalSince(started), statistics: statistics,
            equityAtDayEnds: dayEnds, startingCapital: config.walletReset.startingCapital,
            autonomy: engine.autonomyView(at: engine.lastCycleAt ?? first))
    }

    /// The replay home's bot.json and asset universe, so `report` and `check data` work on it.
    static func writeConfig(_ config: BotConfig, universe: AssetUniverse, home: Home) throws {
        let bot: JSONValue = [
            "wallet_reset": [
                "at": .string(config.walletReset.at.iso8601),
                "starting_capital": .double(config.walletReset.startingCapital),
            ],
            "cycle_seconds": .int(config.cycleSeconds),
        ]
        try FileIO.writeJSON(home.botConfig, bot)
        guard !universe.sectors.isEmpty else { return }
        let symbols = JSONObject(universe.symbols.map { JSONField($0, .string(universe.sectors[$0]?.rawValue ?? "")) })
        try FileIO.writeJSON(home.assetUniverse, JSONValue.object(["symbols": .object(symbols)]))
    }
}
