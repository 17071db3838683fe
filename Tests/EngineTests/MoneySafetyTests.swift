import Foundation
import TestSupport
import Testing

@testable import Engine
@testable import Exchange
@testable import TradingCore
@testable import TradingStore

/// Rules that keep money from leaking: past the emergency drawdown nothing new opens, no exit
/// closes a position in its own cycle, one failing entry does not stop the exits, and a symbol
/// the feed dropped is still valued and exited.
@Suite struct MoneySafetyTests {
    /// A config that enters readily, so a rule that fails to block shows at once.
    func eager() throws -> (BotConfig, AssetUniverse) {
        let universe = try ConfigFiles.assetUniverse(Fixtures.repoRoot + "/config/asset_universe.json")
        var config = try ConfigFiles.bot(Fixtures.repoRoot + "/config/bot.json")
        config.strategy.entryThreshold = 0.05
        config.strategy.minAgreeing = 1
        return (config, universe)
    }

    /// An engine on the simulated market of `universe`, starting at `start`.
    func engine(
        _ config: BotConfig, _ universe: AssetUniverse, home: Home, start: Instant, seed: UInt64 = 9,
        stores: EngineStores? = nil, broker: (any Broker)? = nil
    ) throws -> TradingEngine {
        try TradingEngine(
            config: config, universe: universe,
            feed: SimulatedFeed(symbols: universe.symbols, seed: seed, intervalSeconds: 60, start: start),
            stores: try stores ?? EngineStores(home: home), broker: broker)
    }

    func events(_ home: Home) throws -> [JSONObject] {
        try JSONLAppender.readAll(home.botLog).compactMap { $0.objectValue }
    }

    @Test func pastTheEmergencyDrawdownNothingOpensUntilItRecovers() throws {
        let (config, universe) = try eager()
        let home = Home(root: try Fixtures.temporaryDirectory("drawdown"))
        let start = try #require(Instant(year: 2025, month: 12, day: 19, hour: 12))
        let engine = try self.engine(config, universe, home: home, start: start)
        var t = start
        _ = try engine.runCycle(now: t)
        // The day's peak was 5 % above today's equity: well past the 1.5 % threshold.
        engine.peakEquity = (engine.balance + engine.unrealized()) * 1.05
        var opened = 0
        for _ in 0..<5 {
            t = t.adding(seconds: 60)
            opened += try #require(try engine.runCycle(now: t)).executed
        }
        #expect(opened == 0, "entries opened past the emergency drawdown")
        #expect(engine.drawdownReducing?.contains("passed the emergency threshold 1.5 %") == true)
        #expect(engine.reducingReason == engine.drawdownReducing, "the heartbeat's `reducing` says why")
        let signals = try JSONLAppender.readAll(home.signalsLog).compactMap { $0.objectValue }
        #expect(signals.contains { $0["rule"] == "reducing" && ($0["reason"]?.stringValue ?? "").contains("drawdown") })
        #expect(try events(home).filter { $0["event"] == "drawdown_reducing" }.map { $0["level"] } == ["critical"])

        // Back within half the threshold of the peak: entries resume.
        engine.peakEquity = engine.balance + engine.unrealized()
        for _ in 0..<10 {
            t = t.adding(seconds: 60)
            opened += try #require(try engine.runCycle(now: t)).executed
        }
        #expect(engine.drawdownReducing == nil && opened > 0, "entries resume after the recovery")
        #expect(try events(home).contains { $0["event"] == "drawdown_recovered" })
    }

    /// Over a whole replay of ten markets, with the drawdown exit armed tight: no position is
    /// closed in the cycle that opened it, except by a real stop.
    @Test func noExitClosesAPositionInItsOwnCycleExceptARealStop() throws {
        var (config, universe) = try eager()
        // So tight that the fresh fills of one cycle cross it in that very cycle.
        config.exits.emergencyDrawdown = 0.0001
        let home = Home(root: try Fixtures.temporaryDirectory("samecycle"))
        let start = try #require(Instant(year: 2025, month: 12, day: 19, hour: 0))
        let engine = try self.engine(config, universe, home: home, start: start, seed: 4)
        var t = start
        for _ in 0..<240 {
            _ = try engine.runCycle(now: t)
            t = t.adding(seconds: 60)
        }
        let closed = engine.closedThisRun
        #expect(!closed.isEmpty, "the drill closes trades")
        let sameCycle = closed.filter {
            $0.openedAt?.instant == $0.closedAt?.instant
                && $0.extra["exit_reason"]?.stringValue != ExitReason.emergencyPositionLoss.rawValue
        }
        #expect(sameCycle.isEmpty, "\(sameCycle.count) positions opened and closed in one cycle")
    }

    /// A daily-loss trip survives a restart even when the loss has partly come back since: the
    /// day decided, and a restart must never clear it.
    @Test func aRestartNeverClearsTheDaysLossTrip() throws {
        let (config, universe) = try eager()
        let home = Home(root: try Fixtures.temporaryDirectory("daytrip"))
        let start = try #require(Instant(year: 2025, month: 12, day: 19, hour: 12))
        func restarted() throws -> TradingEngine {
            try self.engine(config, universe, home: home, start: start)
        }
        let first = try restarted()
        _ = try first.runCycle(now: start)
        first.dayPnl -= 0.06 * first.dayStartBalance  // the day's loss passes the 5 % limit
        first.peakEquity = first.balance + 500  // a peak the positions file cannot show
        _ = try first.runCycle(now: start.adding(seconds: 60))
        #expect(first.breaker.dailyTrip != nil, "the daily loss tripped the breaker")
        let peak = first.peakEquity

        // A new process the same day: the positions file alone shows no loss today.
        let second = try restarted()
        let result = try #require(try second.runCycle(now: start.adding(seconds: 120)))
        #expect(second.breaker.dailyTrip?.reason.contains("daily loss") == true, "a restart cleared the trip")
        #expect(result.executed == 0)
        #expect(peak >= first.balance + 500 && second.peakEquity == peak, "the day's equity peak is kept")
        // The next UTC day re-arms it.
        let tomorrow = try #require(Instant(year: 2025, month: 12, day: 20, hour: 0, minute: 1))
        _ = try second.runCycle(now: tomorrow)
        #expect(second.breaker.allowsEntries)
    }

    /// Equity counts what closing would cost: a position just opened is down by its two fees
    /// and the spread, not flat.
    @Test func unrealisedPnlIncludesBothFees() throws {
        let (config, universe) = try eager()
        let home = Home(root: try Fixtures.temporaryDirectory("fees"))
        let start = try #require(Instant(year: 2025, month: 12, day: 19, hour: 12))
        let engine = try self.engine(config, universe, home: home, start: start)
        _ = try engine.runCycle(now: start)
        let open = engine.file.open
        #expect(!open.isEmpty)
        let fees = open.reduce(0.0) { total, p in
            total + (p.extra["entry_fee"]?.doubleValue ?? 0) + config.fees.taker * (p.entryPrice ?? 0) * (p.size ?? 0)
        }
        // At the entry price itself the position would be down exactly its two fees.
        #expect(engine.unrealized() < -fees * 0.9, "unrealised \(engine.unrealized()), fees \(fees)")
    }

    /// The old bot's open positions carry no entry fee: it is charged from the entry notional.
    @Test func resumedPositionsAreChargedTheirEntryFee() throws {
        let (config, universe) = try eager()
        let home = Home(root: try Fixtures.temporaryDirectory("resumed"))
        try home.createDirectories()
        try FileIO.copy(Fixtures.samplePositions, to: home.positions)
        let stores = try EngineStores(home: home)
        try FileIO.writeAtomically(KillSwitch(home: stores.home).path, Array("on".utf8))  // nothing new opens
        let start = try #require(Instant(year: 2025, month: 12, day: 19, hour: 12))
        let engine = try self.engine(config, universe, home: home, start: start, stores: stores)
        _ = try engine.runCycle(now: start)
        let open = engine.file.open
        #expect(!open.isEmpty && open.allSatisfy { $0.extra["entry_fee"] == nil }, "the sample has no entry fees")
        var expected = 0.0
        for p in open {
            let entry = p.entryPrice ?? 0
            let q = p.size ?? 0
            let price = engine.lastMarket[p.symbol]?.lastPrice ?? entry
            expected +=
                (price - entry) * q * (p.side == .long ? 1 : -1) - config.fees.taker * entry * q
                - config.fees.taker * price * q
        }
        #expect(abs(engine.unrealized() - expected) < 1e-6, "\(engine.unrealized()) vs \(expected)")
    }

    /// Funding is booked at 08:00 UTC on the positions open before it, and the close counts it.
    @Test func fundingIsPaidAtEachFundingTimeAndCountsInTheNet() throws {
        var (config, universe) = try eager()
        config.exits.minHoldSeconds = 0
        config.exits.maxHoldSeconds = 240
        config.exits.emergencyPositionLoss = 1
        config.exits.emergencyDrawdown = 1
        config.exits.trailingActivation = 1
        config.exits.profitLockTrigger = 1
        let home = Home(root: try Fixtures.temporaryDirectory("funding"))
        let start = try #require(Instant(year: 2025, month: 12, day: 19, hour: 7, minute: 58))
        let engine = try self.engine(config, universe, home: home, start: start)
        _ = try engine.runCycle(now: start)
        _ = try engine.runCycle(now: start.adding(seconds: 60))
        let before = engine.file.open
        #expect(!before.isEmpty && before.allSatisfy { $0.extra["funding"] == nil }, "no funding before 08:00")
        _ = try engine.runCycle(now: start.adding(seconds: 120))  // 08:00
        for p in engine.file.open where before.contains(where: { $0.symbol == p.symbol }) {
            let market = try #require(engine.lastMarket[p.symbol])
            let rate = try #require(market.fundingRate)
            let expected = -(p.side == .long ? 1.0 : -1.0) * (p.size ?? 0) * (market.lastPrice ?? 0) * rate
            #expect(abs((p.extra["funding"]?.doubleValue ?? 0) - expected) < 1e-5, "\(p.symbol)")
        }
        _ = try engine.runCycle(now: start.adding(seconds: 180))
        #expect(
            engine.file.open.filter { $0.openedAt!.instant >= start.adding(seconds: 120) }
                .allSatisfy { $0.extra["funding"] == nil }, "positions opened at or after 08:00 pay nothing then")
        // Held past max hold (4 minutes): closed, with the funding in the net.
        _ = try engine.runCycle(now: start.adding(seconds: 300))
        let paid = engine.closedThisRun.filter { $0.extra["funding"] != nil }
        #expect(!paid.isEmpty)
        for p in paid {
            let fees = p.extra["fees"]?.doubleValue ?? 0
            let funding = p.extra["funding"]?.doubleValue ?? 0
            #expect(abs((p.netPnl ?? 0) - ((p.pnl ?? 0) - fees + funding)) < 1e-5)
        }
        let stats = PerformanceReport(file: engine.file, reset: config.walletReset).statistics
        #expect(abs(stats.funding - paid.reduce(0) { $0 + ($1.extra["funding"]?.doubleValue ?? 0) }) < 1e-5)
    }

    /// A broker that refuses one symbol's entries (or closes), as an exchange can.
    final class RefusingBroker: Broker {
        let paper: PaperBroker
        let refused: String
        let refusedClose: String?
        let mode = "paper"
        init(_ paper: PaperBroker, refusing symbol: String, closes: String? = nil) {
            self.paper = paper
            refused = symbol
            refusedClose = closes
        }
        func marketOrder(symbol: String, buy: Bool, notional: Double, market: MarketSnapshot) throws -> Fill {
            if symbol == refused { throw BrokerError("\(symbol): order rejected (test)") }
            return try paper.marketOrder(symbol: symbol, buy: buy, notional: notional, market: market)
        }
        func close(symbol: String, buy: Bool, quantity: Double, market: MarketSnapshot) throws -> Fill {
            if symbol == refusedClose { throw BrokerError("\(symbol): reduce-only order rejected (test)") }
            return try paper.close(symbol: symbol, buy: buy, quantity: quantity, market: market)
        }
    }

    /// A broker whose closes fill half of what is asked, as an exchange's partial fill.
    final class HalfClosingBroker: Broker {
        let paper: PaperBroker
        let mode = "paper"
        init(_ paper: PaperBroker) { self.paper = paper }
        func marketOrder(symbol: String, buy: Bool, notional: Double, market: MarketSnapshot) throws -> Fill {
            try paper.marketOrder(symbol: symbol, buy: buy, notional: notional, market: market)
        }
        func close(symbol: String, buy: Bool, quantity: Double, market: MarketSnapshot) throws -> Fill {
            try paper.close(symbol: symbol, buy: buy, quantity: quantity / 2, market: market)
        }
    }

    @Test func aPartialCloseBooksThePartAndKeepsTheRestOpen() throws {
        var (config, universe) = try eager()
        config.exits.minHoldSeconds = 0
        config.exits.maxHoldSeconds = 60
        let home = Home(root: try Fixtures.temporaryDirectory("partial"))
        let start = try #require(Instant(year: 2025, month: 12, day: 19, hour: 12))
        let paper = PaperBroker(model: FillModel(fees: config.fees, slippage: EngineSettings().slippage))
        let engine = try self.engine(config, universe, home: home, start: start, broker: HalfClosingBroker(paper))
        var t = start
        for _ in 0..<20 where engine.file.open.isEmpty {
            _ = try engine.runCycle(now: t)
            t = t.adding(seconds: 60)
        }
        let first = try #require(engine.file.open.first)
        let size = try #require(first.size)
        let fee = try #require(first.extra["entry_fee"]?.doubleValue)
        _ = try engine.runCycle(now: t.adding(seconds: 120))
        let part = try #require(engine.closedThisRun.first { $0.symbol == first.symbol })
        let rest = try #require(engine.file.open.first { $0.symbol == first.symbol && $0.openedAt == first.openedAt })
        #expect(abs((part.size ?? 0) - size / 2) < 1e-6 && abs((rest.size ?? 0) - size / 2) < 1e-6)
        #expect(abs((rest.extra["entry_fee"]?.doubleValue ?? 0) - fee / 2) < 1e-6)
        // The closed part's P&L is on its own size: gross = (exit - entry) x half, sign by side.
        let sign = part.side == .long ? 1.0 : -1.0
        #expect(abs((part.pnl ?? 0) - ((part.exitPrice ?? 0) - (part.entryPrice ?? 0)) * size / 2 * sign) < 1e-4)
        #expect(try events(home).contains { $0["event"] == "partial_close" })
    }

    @Test func aFailingCloseStopsNoOtherExit() throws {
        var (config, universe) = try eager()
        config.exits.minHoldSeconds = 0
        config.exits.maxHoldSeconds = 60
        let home = Home(root: try Fixtures.temporaryDirectory("closefails"))
        let start = try #require(Instant(year: 2025, month: 12, day: 19, hour: 12))
        let paper = PaperBroker(model: FillModel(fees: config.fees, slippage: EngineSettings().slippage))
        let engine = try self.engine(config, universe, home: home, start: start)
        // Find a cycle with two or more positions open, then refuse the first one's close.
        var t = start
        for _ in 0..<20 where engine.file.open.count < 2 {
            _ = try engine.runCycle(now: t)
            t = t.adding(seconds: 60)
        }
        try #require(engine.file.open.count >= 2)
        let stuck = engine.file.open[0].symbol
        let others = Set(engine.file.open.dropFirst().map(\.symbol))
        try engine.persist(now: WallClock.now)
        let refusing = try self.engine(
            config, universe, home: home, start: t,
            broker: RefusingBroker(paper, refusing: "NONE", closes: stuck))
        #expect {
            _ = try refusing.runCycle(now: t.adding(seconds: 120))
        } throws: { "\($0)".contains("closing failed for 1 position(s), first \(stuck)") }
        // Every other position past its max hold was closed in that same cycle.
        #expect(refusing.file.open.filter { others.contains($0.symbol) && $0.openedAt!.instant < t }.isEmpty)
        #expect(refusing.file.open.contains { $0.symbol == stuck })
        #expect(others.isSubset(of: Set(refusing.closedThisRun.map(\.symbol))))
        #expect(try events(home).contains { $0["event"] == "exit_failed" && $0["symbol"]?.stringValue == stuck })
    }

    @Test func aFailingEntryStopsNoExitAndTheCycleSaysItFailed() throws {
        var (config, universe) = try eager()
        config.exits.minHoldSeconds = 0
        config.exits.maxHoldSeconds = 60
        let home = Home(root: try Fixtures.temporaryDirectory("entryfails"))
        let start = try #require(Instant(year: 2025, month: 12, day: 19, hour: 12))
        let paper = PaperBroker(model: FillModel(fees: config.fees, slippage: EngineSettings().slippage))
        let refused = try #require(universe.symbols.first)
        let engine = try self.engine(
            config, universe, home: home, start: start, broker: RefusingBroker(paper, refusing: refused))
        var t = start
        var failures = 0
        var closed = 0
        for _ in 0..<20 {
            do {
                closed += try #require(try engine.runCycle(now: t)).closed
            } catch let error as EntryFailures {
                failures += 1
                #expect(error.description.contains(refused), "\(error)")
            }
            t = t.adding(seconds: 60)
        }
        #expect(failures > 0, "the refused symbol's entries failed")
        // Max hold is one cycle: every opened position of another symbol is closed the cycle
        // after, whether or not that cycle's entry for the refused symbol failed.
        #expect(engine.file.open.allSatisfy { $0.openedAt?.instant == t.adding(seconds: -60) }, "\(engine.file.open)")
        #expect(engine.closedThisRun.count > 0)
        #expect(try events(home).contains { $0["event"] == "entry_failed" && $0["symbol"]?.stringValue == refused })
    }

    @Test func aSymbolTheFeedDroppedIsStillValuedAndExitedByMaxHold() throws {
        let (config, universe) = try eager()
        let home = Home(root: try Fixtures.temporaryDirectory("dropped"))
        try home.createDirectories()
        let start = try #require(Instant(year: 2025, month: 12, day: 19, hour: 12))
        // An open position on a symbol no feed delivers, opened five hours ago (max hold is 4 h).
        var file = PositionsFile()
        file.open.append(
            Position(
                symbol: "GONEUSDT", direction: "LONG", entryPrice: 2.0, size: 500, leverage: 5, marginCollateral: 200,
                openedAt: Timestamp(start.adding(seconds: -5 * 3600)), strategy: "test", botType: "alpha",
                extra: JSONObject()))
        try PositionsStore(home: home).save(file)
        let engine = try self.engine(config, universe, home: home, start: start)
        _ = try engine.runCycle(now: start)
        _ = try engine.runCycle(now: start.adding(seconds: 60))
        let gone = try #require(engine.closedThisRun.first { $0.symbol == "GONEUSDT" }, "closed by max hold")
        #expect(gone.extra["exit_reason"] == "max_hold")
        #expect(gone.exitPrice.map { abs($0 - 2.0) < 0.01 } == true, "at the last known price (the entry)")
        let missing = try events(home).filter { $0["event"] == "symbol_missing" }
        #expect(missing.count == 1 && missing.first?["level"] == "error", "logged once per gap: \(missing)")
    }

    /// One symbol's candles, one per cycle, as the test writes them.
    final class CandleFeed: MarketFeed {
        var next: Candle?
        let symbol: String
        init(_ symbol: String) { self.symbol = symbol }
        var name: String { "candles" }
        var symbols: [String] { [symbol] }
        func advance(to time: Instant) throws -> [MarketSnapshot]? {
            guard let candle = next else { return [] }
            return [MarketSnapshot(symbol: symbol, time: time, candles: [candle])]
        }
    }

    /// A replay checks the stops against each candle's range: a stop the price touched and came
    /// back from is filled at its level, a gap at the open, and a trailing level raised by a
    /// candle's own high is only checked at its close (the order of high and low is unknown).
    @Test func aReplayFillsStopsWithinTheCandle() throws {
        var (config, universe) = try eager()
        config.symbols = ["NOTFED"]  // no entries: only the position below trades
        let start = try #require(Instant(year: 2025, month: 12, day: 19, hour: 12))
        /// The exit of one position opened an hour ago at 100, after one candle.
        func exit(
            _ direction: String, _ candle: (o: Double, h: Double, l: Double, c: Double), withinCandle: Bool = true
        ) throws -> (reason: String?, price: Double?, fill: String?) {
            let home = Home(root: try Fixtures.temporaryDirectory("intrabar"))
            try home.createDirectories()
            var file = PositionsFile()
            file.open.append(
                Position(
                    symbol: "BTCUSDT", direction: direction, entryPrice: 100, size: 10, leverage: 5,
                    marginCollateral: 200, openedAt: Timestamp(start.adding(seconds: -3600)), strategy: "test",
                    botType: "alpha", extra: JSONObject()))
            try PositionsStore(home: home).save(file)
            let feed = CandleFeed("BTCUSDT")
            var settings = EngineSettings()
            settings.stopsWithinCandle = withinCandle
            settings.slippage = 0
            let engine = try TradingEngine(
                config: config, universe: universe, feed: feed, stores: try EngineStores(home: home),
                settings: settings)
            feed.next = Candle(ts: start, open: candle.o, high: candle.h, low: candle.l, close: candle.c, volume: 1)
            _ = try engine.runCycle(now: start)
            let closed = engine.closedThisRun.first
            let line = try JSONLAppender.readAll(home.signalsLog).compactMap { $0.objectValue }.last {
                $0["action"] == "closed"
            }
            return (closed?.extra["exit_reason"]?.stringValue, closed?.exitPrice, line?["fill"]?.stringValue)
        }
        let touched = (o: 100.5, h: 101.0, l: 97.9, c: 100.2)
        let long = try exit("LONG", touched)
        #expect(long.reason == "emergency_position_loss" && long.price == 98 && long.fill == "level", "\(long)")
        #expect(try exit("LONG", touched, withinCandle: false).reason == nil, "the close alone never saw the stop")
        let short = try exit("SHORT", (o: 100, h: 102.5, l: 99.5, c: 100.1))
        #expect(short.reason == "emergency_position_loss" && short.price == 102, "\(short)")
        let gap = try exit("LONG", (o: 97, h: 97.5, l: 96.5, c: 97.2))
        #expect(gap.reason == "emergency_position_loss" && gap.price == 97 && gap.fill == "open", "\(gap)")
        // The high raised the trailing level to 1.5 %; the low (0.2 %) may have come first, so
        // the stop is judged at the close (1 %), not filled at its level.
        let raised = try exit("LONG", (o: 100, h: 102, l: 100.2, c: 101))
        #expect(raised.reason == "trailing_stop" && raised.price == 101 && raised.fill == "close", "\(raised)")
    }
}
