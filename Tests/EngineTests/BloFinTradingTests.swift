import Foundation
import TestSupport
import Testing

@testable import Engine
@testable import Exchange
@testable import TradingCore
@testable import TradingStore

/// The feed and the broker on the local BloFin server: planned market-data pulls, and demo
/// trading end to end (orders with their stop, a stop filled on the exchange, an unknown position).
@Suite(.serialized) struct BloFinTradingTests {
    func client(_ server: BloFinServer, signed: Bool) -> BloFinClient {
        let c = BloFinClient(
            baseURL: server.baseURL,
            credentials: signed
                ? BloFinCredentials(
                    key: BloFinServer.key, secret: BloFinServer.secret, passphrase: BloFinServer.passphrase)
                : nil,
            wallClock: { WallClock.now })
        c.backoffSeconds = 0.05
        return c
    }

    @Test func theFeedPullsOnlyWhatChangedWithinItsBudget() throws {
        let server = try BloFinServer(symbols: 12)
        let symbols = ["BTCUSDT", "ETHUSDT"] + (2..<12).map { String(format: "C%03dUSDT", $0) } + ["NOPEUSDT"]
        let feed = try BloFinFeed(client: client(server, signed: false), symbols: symbols, bar: "1m", requestBudget: 8)
        // Stay inside one minute, so no new candle closes during the test.
        while Int(WallClock.now.secondsSinceEpoch) % 60 > 40 { usleep(500_000) }
        let first = try #require(try feed.advance(to: WallClock.now))
        // instruments + tickers + funding + 5 candle requests: the budget of 8.
        #expect(feed.lastPull.requests == 8 && feed.lastPull.candleRequests == 5 && feed.lastPull.deferred == 7)
        #expect(first.count == 5)
        let notices = feed.drainNotices()
        #expect(notices.contains { $0.event == "feed_symbols_unlisted" && $0.message.contains("NOPEUSDT") })
        #expect(notices.contains { $0.event == "feed_input_unavailable" && $0.message.contains("open-interest") })
        _ = try feed.advance(to: WallClock.now)
        #expect(feed.lastPull.requests == 8 && feed.lastPull.candleRequests == 7 && feed.lastPull.deferred == 0)
        #expect(feed.drainNotices().isEmpty)
        // Everything current: one bulk tickers call.
        let third = try #require(try feed.advance(to: WallClock.now))
        #expect(feed.lastPull.requests == 1 && feed.lastPull.candleRequests == 0)
        #expect(third.count == 12)
        let minute = Int64(WallClock.now.secondsSinceEpoch) / 60 * 60_000_000
        for snapshot in third {
            // Only closed candles: the newest opened a minute before the current one.
            #expect(snapshot.candles.count == 150)
            #expect(snapshot.candles.last.map { $0.ts.microseconds < minute } == true)
            #expect(snapshot.book.map { $0.bid < $0.ask } == true && snapshot.fundingRate == 0.0001)
            #expect(snapshot.openInterest == nil)
        }
        // A symbol whose candles fail is left out, said once; the others go on.
        try server.inject([["path": "/api/v1/market/candles", "kind": "code", "code": "152002", "times": 1]])
        feed.candles["ETHUSDT"]?.removeLast()
        let fourth = try #require(try feed.advance(to: WallClock.now))
        #expect(fourth.count == 12)
        #expect(feed.drainNotices().map(\.event) == ["feed_symbol_failed"])
    }

    /// A config that enters readily.
    func eager() throws -> (BotConfig, AssetUniverse) {
        let universe = try ConfigFiles.assetUniverse(Fixtures.repoRoot + "/config/asset_universe.json")
        var config = try ConfigFiles.bot(Fixtures.repoRoot + "/config/bot.json")
        config.strategy.entryThreshold = 0.01
        config.strategy.minAgreeing = 1
        config.symbols = []
        return (config, universe)
    }

    @Test func demoTradingCarriesItsStopAndReconcilesWithTheExchange() throws {
        let server = try BloFinServer(symbols: 4)
        let home = Home(root: try Fixtures.temporaryDirectory("blofin-demo"))
        let (engine, _) = try demoEngine(server, home: home)
        let opened = try #require(engine.file.open.first, "no entry in 3 cycles on the server's market")
        let orders = try server.orders()
        #expect(orders.count == engine.file.open.count)
        let order = try #require(orders.first { $0["orderId"] as? String == opened.extra["order_id"]?.stringValue })
        // The stop rides on the exchange, at the emergency loss from the fill.
        let stop = try #require((order["slTriggerPrice"] as? String).flatMap(Double.init))
        let entry = try #require(opened.entryPrice)
        let expected = opened.side == .long ? entry * (1 - 0.02) : entry * (1 + 0.02)
        #expect(abs(stop - expected) / entry < 0.001)
        #expect(opened.extra["mode"]?.stringValue == "demo" && opened.extra["stop_price"]?.doubleValue == stop)
        #expect(opened.extra["contracts"]?.doubleValue == Double(order["filledSize"] as? String ?? ""))
        #expect(abs(entry - (Double(order["averagePrice"] as? String ?? "") ?? 0)) < 1e-6)
        #expect((opened.extra["entry_fee"]?.doubleValue ?? 0) > 0)

        // The stop fills on the exchange: the next cycle books it at the stop's price and fee.
        let instId = String(opened.symbol.dropLast(4)) + "-USDT"
        let stopFill = try server.control("/test/trigger-stop", ["instId": instId])
        #expect(stopFill["orderCategory"] as? String == "sl")
        _ = try engine.runCycle(now: WallClock.now)
        let closed = try #require(engine.file.closed.last { $0.symbol == opened.symbol })
        #expect(closed.extra["exit_reason"]?.stringValue == "exchange_stop_loss")
        #expect(closed.exitPrice == stop)
        let exitFee = abs(Double(stopFill["fee"] as? String ?? "") ?? 0)
        #expect(exitFee > 0)
        #expect(
            abs((closed.extra["fees"]?.doubleValue ?? 0) - (opened.extra["entry_fee"]?.doubleValue ?? 0) - exitFee)
                < 1e-5)
        let events = try JSONLAppender.readAll(home.botLog).compactMap(\.objectValue)
        #expect(events.contains { $0["event"]?.stringValue == "closed_on_exchange" })

        // A position the bot does not know: critical, and no new entries while it stands.
        try server.control("/test/open-position", ["instId": "C003-USDT", "contracts": -40, "price": 1.7])
        let ordersBefore = try server.orders().count
        _ = try engine.runCycle(now: WallClock.now)
        _ = try engine.runCycle(now: WallClock.now)
        #expect(engine.reducingReason?.contains("does not know (C003USDT short 40.0 contract(s)") == true)
        let critical = try JSONLAppender.readAll(home.botLog).compactMap(\.objectValue).filter {
            $0["event"]?.stringValue == "exchange_unknown_position"
        }
        #expect(critical.count == 1 && critical[0]["level"]?.stringValue == "critical")
        #expect(try server.orders().count == ordersBefore)

        // Nothing was ever sent twice.
        let posts = server.requests().filter { $0.method == "POST" && $0.path == "/api/v1/trade/order" }
        let ids = try server.orders().compactMap { $0["clientOrderId"] as? String }.filter { !$0.isEmpty }
        #expect(posts.count == ids.count && Set(ids).count == ids.count)
        #expect(server.requests().filter(\.signed).allSatisfy { $0.code == "0" })
    }

    /// An engine on the local server in demo mode, with one position open.
    func demoEngine(_ server: BloFinServer, home: Home) throws -> (TradingEngine, BloFinBroker) {
        let (config, universe) = try eager()
        try home.createDirectories()
        let feed = try BloFinFeed(
            client: client(server, signed: false), symbols: ["BTCUSDT", "ETHUSDT", "C002USDT"], bar: "1m",
            requestBudget: 20)
        let broker = BloFinBroker(
            client: client(server, signed: true), mode: "demo", stopLossFraction: config.exits.emergencyPositionLoss,
            leverage: Int(config.strategy.leverage))
        var settings = EngineSettings()
        settings.recordCandles = false
        let engine = try TradingEngine(
            config: config, universe: universe, feed: feed, stores: try EngineStores(home: home), settings: settings,
            broker: broker)
        for _ in 0..<3 where engine.file.open.isEmpty { _ = try engine.runCycle(now: WallClock.now) }
        return (engine, broker)
    }

    @Test func oneEmptyAnswerIsNotAClose() throws {
        let server = try BloFinServer(symbols: 3)
        let home = Home(root: try Fixtures.temporaryDirectory("blofin-vanish"))
        let (engine, _) = try demoEngine(server, home: home)
        let p = try #require(engine.file.open.first, "no entry in 3 cycles")
        // Gone from BloFin's positions without any closing order (a lagging or empty answer).
        try server.control("/test/vanish", ["instId": String(p.symbol.dropLast(4)) + "-USDT"])
        for _ in 0..<2 {
            _ = try engine.runCycle(now: WallClock.now)
            #expect(
                engine.file.open.contains { $0.symbol == p.symbol && $0.openedAt == p.openedAt },
                "booked closed on a missing answer")
        }
        _ = try engine.runCycle(now: WallClock.now)
        let closed = try #require(engine.file.closed.last { $0.symbol == p.symbol })
        #expect(closed.extra["exit_reason"]?.stringValue == "closed_on_exchange")
        let events = try JSONLAppender.readAll(home.botLog).compactMap(\.objectValue)
        #expect(
            events.contains { ($0["difference"]?.stringValue ?? "").contains("not on BloFin for 3 reconciliations") })
    }

    @Test func aRunInAnotherModeDoesNotManageTheExchangesPositions() throws {
        let server = try BloFinServer(symbols: 3)
        let home = Home(root: try Fixtures.temporaryDirectory("blofin-othermode"))
        let (engine, _) = try demoEngine(server, home: home)
        try #require(!engine.file.open.isEmpty, "no entry in 3 cycles")
        try engine.persist(now: WallClock.now)
        let (config, universe) = try eager()
        // Paper on the same home: it would close demo positions on paper only.
        #expect {
            _ = try TradingEngine(
                config: config, universe: universe,
                feed: SimulatedFeed(symbols: ["BTCUSDT"], seed: 1, intervalSeconds: 60, start: WallClock.now),
                stores: try EngineStores(home: home))
        } throws: { "\($0)".contains("opened in another mode") && "\($0)".contains("this run's mode is paper") }
    }
}

/// The journal's words for one event.
@Suite struct ConsoleEchoTests {
    @Test func anEventReadsLikeItsLogLine() {
        let at = Instant(seconds: 1_764_000_000)
        let line = ConsoleEcho.line(
            level: "error", event: "cycle_failed", cycle: 7, at: at,
            fields: [
                JSONField("error", .string("no answer from BloFin")), JSONField("consecutive_errors", .int(2)),
                JSONField("symbols", .array([.string("BTCUSDT")])), JSONField("empty", .string("")),
            ])
        #expect(
            line == at.iso8601
                + #" ERROR cycle_failed cycle=7 error="no answer from BloFin" consecutive_errors=2 symbols=["BTCUSDT"] empty="""#
        )
        #expect(ConsoleEcho.word("critical").contains("ERROR") && ConsoleEcho.word("warning") == "WARNING")
        #expect(ConsoleEcho.money(-1234.5) == "-1234.50" && ConsoleEcho.money(0.07) == "0.07")
    }
}
