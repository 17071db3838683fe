import Exchange
import TradingCore
import TradingStore

/// What one cycle did, for the heartbeat, the decisions log and the replay summary.
public struct CycleResult: Sendable {
    public var cycle: Int
    public var time: Instant
    public var symbols = 0
    public var signalsEvaluated = 0
    public var executed = 0
    public var blocked = 0
    public var skipped = 0
    public var closed = 0
    public var balance = 0.0
    public var equity = 0.0
}

/// The trading engine: one `runCycle` is feed -> signals -> risk -> execution -> exits ->
/// persistence. Its state (open positions, balance, today's counters, learned weights and
/// expectancy) is rebuilt from the home on start, so a restart resumes where a crash left off.
///
/// - Important: not Sendable; one thread drives it.
public final class TradingEngine {
    public let config: BotConfig
    public let universe: AssetUniverse
    public let settings: EngineSettings
    let feed: any MarketFeed
    let broker: any Broker
    let stores: EngineStores
    let risk: RiskGate
    let hurst = HurstRegimeSignal()

    public private(set) var file: PositionsFile
    public private(set) var balance: Double
    public private(set) var cycle = 0
    public private(set) var hash = DecisionsHash()
    public private(set) var breaker: CircuitBreaker
    public private(set) var weights: SignalWeights
    var expectancy = ExpectancyGate()
    var day: Instant?
    var dayStartBalance = 0.0
    var dayPnl = 0.0
    var peakEquity = 0.0
    var openedToday = 0
    var lastMarket: [String: MarketSnapshot] = [:]
    /// The last cycle time at which any symbol's price differed from its previous cycle (a first
    /// sighting is not a change: after a restart on a frozen feed nothing has changed): the
    /// heartbeat's evidence of a frozen feed.
    public private(set) var lastPriceChangeAt: Instant?
    var dirty = false
    var weightsDirty = false
    var pendingClosed: [Position] = []
    public private(set) var closedThisRun: [Position] = []
    /// Symbols traded in the "other" sector because the asset universe lacks them.
    public private(set) var otherSectorSymbols: Set<String> = []
    /// Fields of the positions file the engine could not use when it started. It trades on the
    /// rest: refusing to start would stop the exits of every other position.
    public private(set) var unreadable: [RecordIssue] = []
    /// Open positions it cannot value (symbol and why): while there are any, the engine is
    /// reducing (no new entries; exits of the others go on), since its exposure is unknown.
    public private(set) var unvalued: [String] = []
    /// The last write that failed, while writes fail (nil once one succeeds).
    public private(set) var writeProblem: String?
    var writeFailureSaidAt: Instant?
    var writeFailureAnnounced = false
    /// Positions on the exchange that the engine does not know (from the reconciliation): while
    /// any exist it opens nothing new, since its exposure is not what it thinks.
    public internal(set) var exchangeUnknown: [String] = []
    /// Closes that failed this cycle (the others ran); the cycle reports them as failed.
    var exitFailures: [String] = []
    /// Why this cycle could not reconcile with the exchange, if it could not: no entries then.
    var reconcileProblem: String?
    /// Why the learned weights could not be used, if they could not (logged at start).
    var weightsProblem: String?
    /// Past the emergency drawdown the engine opens nothing new (exits go on) until equity is
    /// back within half the threshold of its peak or the UTC day turns: a fresh fill always
    /// shows a small loss, so an entry there would be closed by the drawdown exit at once,
    /// paying two fees and teaching the gates a false loss. The reason, or nil.
    public private(set) var drawdownReducing: String?
    /// Symbols with an open position that the feed stopped delivering (logged once per gap).
    var missingSymbols: Set<String> = []
    /// The previous cycle's time: a funding time between it and now is settled this cycle.
    var lastCycleAt: Instant?
    /// An entry the risk gate allowed, before its fill.
    struct EntryOrder {
        var symbol: String
        var direction: Direction
        var notional: Double
        var margin: Double
        var bound: String
        var extra: JSONObject
        var strategy: String
    }
    /// The candle store (opened at the first recording) and why recording fails, if it does.
    var candleStore: CandleStore?
    var candleProblem: String?
    /// Entries decided on a candle's close, filled at the next candle's open (`fillAtNextOpen`).
    /// They count as open for the risk gate from the moment they are ordered.
    var pending: [EntryOrder] = []

    public init(
        config: BotConfig, universe: AssetUniverse, feed: any MarketFeed, stores: EngineStores,
        settings: EngineSettings = EngineSettings(), broker: (any Broker)? = nil
    ) throws {
        self.config = config
        self.universe = universe
        self.feed = feed
        self.stores = stores
        self.settings = settings
        self.broker = broker ?? PaperBroker(model: FillModel(fees: config.fees, slippage: settings.slippage))
        risk = RiskGate(limits: config.risk)
        breaker = CircuitBreaker(dailyLossLimitFraction: config.risk.dailyLossLimitFraction)
        let decoded = try stores.positions.decode(missingIsEmpty: true)
        file = decoded.file
        unreadable = decoded.issues
        balance = PerformanceReport(file: file, reset: config.walletReset).balance
        (weights, weightsProblem) = stores.loadWeights()
        unvalued = findUnvalued()
        let mode = self.broker.mode
        let foreign = file.open.filter { p in
            let opened = p.extra["mode"]?.stringValue ?? "paper"
            return opened != "paper" && opened != mode
        }
        if !foreign.isEmpty {
            throw OtherModePositions(
                mode: mode, positions: foreign.map { "\($0.symbol) (\($0.extra["mode"]?.stringValue ?? "?"))" })
        }
        for p in file.closed {
            if let setup = p.extra["setup"]?.stringValue, let net = p.effectiveNetPnl, let at = p.closedAt?.instant {
                expectancy.record(setup: setup, netPnl: net, at: at)
            }
        }
    }

    /// Why the engine opens nothing new while exits go on, or nil when it may enter.
    public var reducingReason: String? {
        if let writeProblem {
            return
                "the engine cannot write its files (\(writeProblem)): no new entries until it can, so none goes unrecorded; exits go on and are written once it can"
        }
        if !unvalued.isEmpty {
            return
                "\(unvalued.count) open position(s) cannot be valued (\(unvalued.joined(separator: "; "))); fix them in \(stores.home.positions) and restart"
        }
        if !exchangeUnknown.isEmpty {
            return
                "the exchange holds \(exchangeUnknown.count) position(s) the bot does not know (\(exchangeUnknown.joined(separator: "; "))): close them on BloFin or take them into the positions file; no new entries until then"
        }
        if let reconcileProblem { return "cannot reconcile with the exchange: \(reconcileProblem)" }
        return drawdownReducing
    }

    /// Enters or leaves the drawdown's reducing state, from the day's peak equity.
    func updateDrawdown(now: Instant) {
        let equity = balance + unrealized()
        let peak = max(peakEquity, equity)
        let drawdown = peak > 0 ? max(0, (peak - equity) / peak) : 0
        let threshold = config.exits.emergencyDrawdown
        func percent(_ v: Double) -> String { "\((v * 10_000).rounded() / 100) %" }
        if drawdownReducing == nil, drawdown > threshold {
            drawdownReducing =
                "the day's drawdown \(percent(drawdown)) passed the emergency threshold \(percent(threshold)): no new entries until it is back within \(percent(threshold / 2)) of the peak or the UTC day turns; exits go on"
            stores.log(
                "critical", "drawdown_reducing", cycle: cycle, at: now,
                [JSONField("drawdown", .double(round6(drawdown))), JSONField("equity", .double(cents(equity)))])
        } else if drawdownReducing != nil, drawdown <= threshold / 2 {
            drawdownReducing = nil
            stores.log(
                "info", "drawdown_recovered", cycle: cycle, at: now,
                [JSONField("drawdown", .double(round6(drawdown))), JSONField("equity", .double(cents(equity)))])
        }
    }

    /// Open positions that lack what valuing them needs (side, entry price, size).
    func findUnvalued() -> [String] {
        let issues = Dictionary(grouping: unreadable.filter { $0.list == .open }, by: \.index)
        return file.open.enumerated().compactMap { index, p in
            let valued = p.side != nil && (p.entryPrice ?? 0) > 0 && p.size != nil
            let why = (issues[index] ?? []).map { "\($0.field) \($0.message)" }
            guard !valued || !why.isEmpty else { return nil }
            return "\(p.symbol.isEmpty ? "open_positions[\(index)]" : p.symbol): "
                + (why.isEmpty ? "no usable side, entry price or size" : why.joined(separator: "; "))
        }
    }

    /// Logs, once at start, every field the engine could not use, so `grep ERROR` and the
    /// watchdog see them; the engine goes on with the rest.
    public func reportUnreadable(at now: Instant) {
        if let weightsProblem {
            stores.log(
                "error", "weights_unreadable", cycle: cycle, at: now, [JSONField("error", .string(weightsProblem))])
        }
        guard !unreadable.isEmpty else { return }
        // An open position the engine cannot value stops every entry until a person fixes it:
        // critical, so the watchdog alerts it at once rather than waiting for an error burst.
        stores.log(
            unvalued.isEmpty ? "error" : "critical", "positions_unreadable", cycle: cycle, at: now,
            [
                JSONField("count", .int(unreadable.count)),
                JSONField("fields", .array(unreadable.prefix(20).map { .string($0.description) })),
                JSONField(
                    "effect",
                    .string(
                        unvalued.isEmpty
                            ? "trading on the readable records; these records are kept as written"
                            : "reducing: no new entries until the open positions can be valued; exits go on")),
            ])
    }

    func sector(_ symbol: String) -> String {
        if let s = universe.sectors[symbol] { return s.rawValue }
        otherSectorSymbols.insert(symbol)
        return "other"
    }

    var enabled: Set<String>? { config.symbols.isEmpty ? nil : Set(config.symbols) }

    /// Starts a new UTC day when `now` crosses midnight: counters reset, the breaker may re-arm.
    /// On the engine's first cycle of a day it already traded (a restart), what the day decided
    /// comes back from state/day.json: the daily-loss trip, the loss baseline, the equity peak.
    func rollDay(_ now: Instant) {
        let today = now.startOfUTCDay
        guard day != today else { return }
        let restarting = day == nil
        writeDailyReports(previousDay: day, today: today, now: now)
        if let ended = day { takeDaySnapshot(ended: ended, now: now) }
        day = today
        peakEquity = balance
        dayPnl = 0
        for p in file.closed where (p.closedAt?.instant ?? Instant(microseconds: 0)) >= today {
            guard config.walletReset.counts(p) else { continue }
            dayPnl += p.effectiveNetPnl ?? 0
        }
        dayStartBalance = balance - dayPnl
        if restarting, let saved = DayState.load(dayStatePath), saved.day == today {
            peakEquity = max(peakEquity, saved.peakEquity)
            if saved.dayStartBalance > 0 { dayStartBalance = saved.dayStartBalance }
            if let reason = saved.tripReason, let until = saved.tripUntil {
                breaker.restore(reason: reason, until: until, now: now)
            }
        }
        openedToday =
            (file.open + file.closed).filter { ($0.openedAt?.instant ?? Instant(microseconds: 0)) >= today }.count
    }

    /// Runs one cycle at `now` (wall clock) or at the feed's own time (`useFeedTime`, replays).
    /// Returns nil when a replay feed has run out.
    public func runCycle(now wallNow: Instant, useFeedTime: Bool = false) throws -> CycleResult? {
        guard let snapshots = try feed.advance(to: wallNow) else { return nil }
        cycle += 1
        let now = useFeedTime ? (snapshots.map(\.time).max() ?? wallNow) : wallNow
        rollDay(now)
        var result = CycleResult(cycle: cycle, time: now)
        for s in snapshots {
            if let previous = lastMarket[s.symbol], previous.lastPrice != s.lastPrice { lastPriceChangeAt = now }
            lastMarket[s.symbol] = s
        }
        noteMissingSymbols(snapshots, now: now)
        logFeedNotices(now: now)
        try reconcileWithExchange(now: now, result: &result)
        bookFunding(now: now)
        updateDrawdown(now: now)
        if let change = breaker.update(
            now: now, dayStartBalance: dayStartBalance, dayPnl: dayPnl + unrealized(), killSwitch: stores.killSwitchOn)
        {
            // A trip (the kill switch included) stops new entries: critical, so the watchdog alerts.
            let level = change.hasPrefix("circuit breaker tripped") ? "critical" : "warning"
            stores.log(level, "circuit_breaker", cycle: cycle, at: now, [JSONField("change", .string(change))])
            // A daily trip is on disk before anything else happens: a crash now must not clear it.
            if breaker.dailyTrip != nil { try saveDay() }
        }
        try fillPending(snapshots, now: now, result: &result)
        let enabled = self.enabled
        // An entry that fails for one symbol must not stop the exits of every position: the
        // failures are logged, the exits run, and the cycle reports them as failed at its end.
        var entryFailures: [String] = []
        for snapshot in snapshots where enabled?.contains(snapshot.symbol) ?? true {
            result.symbols += 1
            do {
                try decide(snapshot, now: now, result: &result)
            } catch {
                // A log or state file that cannot be written (a full disk): no further entries.
                if error is StoreError { noteWriteFailure(error, now: now) }
                entryFailures.append("\(snapshot.symbol): \(error)")
                stores.log(
                    "error", "entry_failed", cycle: cycle, at: now,
                    [JSONField("symbol", .string(snapshot.symbol)), JSONField("error", .string("\(error)"))])
            }
        }
        exitFailures.removeAll()
        try runExits(now: now, result: &result)
        result.balance = balance
        result.equity = balance + unrealized()
        peakEquity = max(peakEquity, result.equity)
        try stores.decisions.append([
            "ts": .string(now.iso8601), "cycle": .int(cycle), "feed": .string(feed.name),
            "symbols": .int(result.symbols), "signals_evaluated": .int(result.signalsEvaluated),
            "executed": .int(result.executed), "blocked": .int(result.blocked), "skipped": .int(result.skipped),
            "closed": .int(result.closed), "open_positions": .int(file.open.count),
            "balance": .double(cents(balance)), "equity": .double(cents(result.equity)),
            "breaker": .string(breaker.allowsEntries ? "armed" : "tripped"),
            "reducing": reducingReason.map { .string($0) } ?? .null,
        ])
        if let why = reducingReason, cycle == 1 || cycle % 60 == 0 {
            stores.log("error", "reducing", cycle: cycle, at: now, [JSONField("reason", .string(why))])
        }
        if cycle % settings.persistEvery == 0 { try persist(now: now) }
        if settings.recordCandles { recordCandles(snapshots, now: now) }
        if let first = exitFailures.first {
            throw ExitFailures(count: exitFailures.count, first: first)
        }
        if let first = entryFailures.first {
            throw EntryFailures(count: entryFailures.count, first: first)
        }
        return result
    }

    /// Perpetual funding, settled every 8 hours (00:00, 08:00, 16:00 UTC): each position open
    /// before a funding time that passed since the last cycle pays (or receives) notional x rate
    /// at the feed's funding rate; a long pays a positive rate, a short receives it. The amount
    /// accumulates in the position's `funding` and counts in its net P&L at the close and in
    /// the unrealised P&L until then. A funding time passed while the engine was down is not
    /// guessed at.
    func bookFunding(now: Instant) {
        defer { lastCycleAt = now }
        guard let last = lastCycleAt, now > last else { return }
        let period = Int64(8 * 3600) * 1_000_000
        let fundingTime = Instant(microseconds: now.microseconds / period * period)
        guard fundingTime > last else { return }
        for index in file.open.indices {
            var p = file.open[index]
            guard let opened = p.openedAt?.instant, opened < fundingTime, let side = p.side, let q = p.size,
                let market = lastMarket[p.symbol], !missingSymbols.contains(p.symbol),
                let rate = market.fundingRate, let price = market.lastPrice
            else { continue }
            let amount = -(side == .long ? 1.0 : -1.0) * q * price * rate
            p.extra["funding"] = .double(round6((p.extra["funding"]?.doubleValue ?? 0) + amount))
            file.open[index] = p
            dirty = true
            hash.add("\(cycle)|\(p.symbol)|funding|\(round6(amount))")
        }
    }

    /// Fills the entries ordered last cycle at this cycle's first price, the open of the candle
    /// after the one the decision saw (plus slippage and the fee). An entry the breaker or the
    /// reducing state now forbids, or whose symbol has no candle, is cancelled.
    func fillPending(_ snapshots: [MarketSnapshot], now: Instant, result: inout CycleResult) throws {
        let orders = pending
        pending.removeAll()
        for order in orders {
            func line(_ action: String, _ reason: String, price: Double? = nil) throws {
                hash.add(
                    "\(cycle)|\(order.symbol)|\(action)|\(order.direction.rawValue)|\(price.map { "\($0)" } ?? "")")
                var o = JSONObject([
                    JSONField("ts", .string(now.iso8601)), JSONField("cycle", .int(cycle)),
                    JSONField("symbol", .string(order.symbol)), JSONField("action", .string(action)),
                    JSONField("direction", .string(order.direction.rawValue)), JSONField("reason", .string(reason)),
                    JSONField("rule", .string(order.bound)), JSONField("notional", .double(cents(order.notional))),
                ])
                if let price { o["price"] = .double(price) }
                try stores.signals.append(.object(o))
            }
            let why = !breaker.allowsEntries ? breakerDescription : reducingReason
            guard let snapshot = snapshots.first(where: { $0.symbol == order.symbol }),
                let open = snapshot.candles.last?.open, open > 0, why == nil,
                !file.open.contains(where: { $0.symbol == order.symbol })
            else {
                try line("cancelled", why ?? "no candle for \(order.symbol) to fill at")
                continue
            }
            let atOpen = MarketSnapshot(
                symbol: order.symbol, time: now,
                candles: [Candle(ts: now, open: open, high: open, low: open, close: open, volume: 0)])
            let fill = try openPosition(order, at: atOpen, now: now)
            try line("executed", "\(order.direction.rawValue) \(order.symbol) at the open \(open)", price: fill.price)
        }
    }

    /// Logs, once per gap, each open position whose symbol the feed stopped delivering: it is
    /// still valued at its last known price and still exited by max hold.
    func noteMissingSymbols(_ snapshots: [MarketSnapshot], now: Instant) {
        let delivered = Set(snapshots.map(\.symbol))
        let open = Set(file.open.map(\.symbol))
        for symbol in open.subtracting(delivered).subtracting(missingSymbols).sorted() {
            missingSymbols.insert(symbol)
            stores.log(
                "error", "symbol_missing", cycle: cycle, at: now,
                [
                    JSONField("symbol", .string(symbol)),
                    JSONField(
                        "effect",
                        .string(
                            "the feed no longer delivers \(symbol): its open position is valued at the last known price (\(lastMarket[symbol]?.lastPrice.map { "\($0)" } ?? "none seen since the start: the entry price")) and closed at max hold"
                        )),
                ])
        }
        missingSymbols.formIntersection(open.subtracting(delivered))
    }

    func decide(_ snapshot: MarketSnapshot, now: Instant, result: inout CycleResult) throws {
        let readings = SignalCatalog.all.map { (name: $0.name, reading: $0.read(snapshot)) }
        result.signalsEvaluated += readings.count
        let decision = EnsembleDecision(readings: readings, weights: weights)
        let symbol = snapshot.symbol
        func record(_ action: String, _ reason: String, rule: String? = nil, notional: Double? = nil) throws {
            let direction = decision.direction?.rawValue ?? "NONE"
            hash.add(
                "\(cycle)|\(symbol)|\(action)|\(direction)|\(rule ?? "")|\(notional.map { String(cents($0)) } ?? "")")
            var line = JSONObject([
                JSONField("ts", .string(now.iso8601)), JSONField("cycle", .int(cycle)),
                JSONField("symbol", .string(symbol)),
                JSONField("action", .string(action)), JSONField("direction", .string(direction)),
                JSONField("score", .double(round4(decision.score))), JSONField("agreeing", .int(decision.agreeing)),
                JSONField("reason", .string(reason)),
            ])
            if let rule { line["rule"] = .string(rule) }
            if action != "skipped" {
                line["setup"] = decision.setup.map { .string($0) } ?? .null
                line["scores"] = scoresJSON(decision)
                line["unavailable"] = .array(
                    readings.compactMap {
                        if case .unavailable(let why) = $0.reading { return .string("\($0.name): \(why)") }
                        return nil
                    })
            }
            if let notional { line["notional"] = .double(cents(notional)) }
            try stores.signals.append(.object(line))
        }
        guard let direction = decision.direction, abs(decision.score) >= config.strategy.entryThreshold else {
            result.skipped += 1
            return try record(
                "skipped", "score \(round4(decision.score)) below the entry threshold \(config.strategy.entryThreshold)"
            )
        }
        guard decision.agreeing >= config.strategy.minAgreeing else {
            result.skipped += 1
            return try record("skipped", "\(decision.agreeing) signal(s) agree; \(config.strategy.minAgreeing) needed")
        }
        if file.open.contains(where: { $0.symbol == symbol }) || pending.contains(where: { $0.symbol == symbol }) {
            result.skipped += 1
            return try record("skipped", "a \(symbol) position is already open")
        }
        func block(_ rule: String, _ detail: String) throws {
            result.blocked += 1
            try record("blocked", detail, rule: rule)
        }
        guard breaker.allowsEntries else {
            if case .tripped(let reason, _) = breaker.state { return try block("circuit_breaker", reason) }
            return
        }
        if let why = reducingReason { return try block("reducing", why) }
        if let why = RegimeGate.blockReason(dominant: decision.dominant, regime: hurst.regime(snapshot)) {
            return try block("hurst_regime", why)
        }
        if let setup = decision.setup, let why = expectancy.blockReason(setup: setup, now: now) {
            return try block("expectancy", why)
        }
        // Predictive sizing: conviction above the threshold scales the notional up to the maximum.
        let conviction = min(
            1, (abs(decision.score) - config.strategy.entryThreshold) / max(0.01, 1 - config.strategy.entryThreshold))
        let desired = config.risk.minNotional + (config.risk.maxNotional - config.risk.minNotional) * conviction
        let verdict = risk.evaluate(
            symbol: symbol, sector: sector(symbol), desiredNotional: desired, leverage: config.strategy.leverage,
            equity: balance + unrealized(), open: exposures(), openedToday: openedToday)
        switch verdict {
        case .block(let rule, let detail):
            return try block(rule, detail)
        case .allow(let notional, let margin, let bound):
            var extra = JSONObject()
            extra["signal_ctx"] = scoresJSON(decision)
            extra["setup"] = decision.setup.map { .string($0) } ?? .null
            let order = EntryOrder(
                symbol: symbol, direction: direction, notional: notional, margin: margin, bound: bound, extra: extra,
                strategy: "Ensemble-\(decision.dominant ?? "mixed")")
            // Counted once placed: a fill that throws counts nothing.
            let fill: Fill?
            do {
                fill = settings.fillAtNextOpen ? nil : try openPosition(order, at: snapshot, now: now)
            } catch let notSent as OrderNotSent {
                // Not a failure: the exchange's minimum size, an instrument not trading.
                return try block(notSent.rule, notSent.reason)
            }
            if fill == nil { pending.append(order) }
            openedToday += 1
            result.executed += 1
            if let fill {
                try record(
                    "executed", "\(direction.rawValue) \(symbol) at \(fill.price)", rule: bound, notional: notional)
            } else {
                try record(
                    "ordered", "\(direction.rawValue) \(symbol) at the next candle's open", rule: bound,
                    notional: notional)
            }
        }
    }

    /// Fills `order` at `market` and opens its position: the one way a position is opened.
    func openPosition(_ order: EntryOrder, at market: MarketSnapshot, now: Instant) throws -> Fill {
        let fill = try broker.marketOrder(
            symbol: order.symbol, buy: order.direction == .long, notional: order.notional, market: market)
        var extra = order.extra
        extra["entry_fee"] = .double(round6(fill.fee))
        extra["best_move"] = .double(0)
        extra["mode"] = .string(broker.mode)
        extra["release"] = .string(settings.release)
        for field in fill.details.fields { extra[field.key] = field.value }
        file.open.append(
            Position(
                symbol: order.symbol, direction: order.direction.rawValue, entryPrice: fill.price,
                size: round6(fill.quantity), leverage: config.strategy.leverage, marginCollateral: cents(order.margin),
                openedAt: Timestamp(now), strategy: order.strategy, botType: "alpha", extra: extra))
        dirty = true
        return fill
    }

    func runExits(now: Instant, result: inout CycleResult) throws {
        let equity = balance + unrealized()
        let drawdown = peakEquity > 0 ? max(0, (peakEquity - equity) / peakEquity) : 0
        var index = 0
        while index < file.open.count {
            var p = file.open[index]
            guard let entry = p.entryPrice, entry > 0, let side = p.side, let opened = p.openedAt?.instant else {
                index += 1
                continue
            }
            // A symbol the feed no longer delivers: its last known price (the entry price when
            // none was seen since the start), and only max hold can close it.
            let stale = missingSymbols.contains(p.symbol) || lastMarket[p.symbol]?.lastPrice == nil
            let market =
                lastMarket[p.symbol].flatMap { $0.lastPrice == nil ? nil : $0 }
                ?? MarketSnapshot(
                    symbol: p.symbol, time: now,
                    candles: [Candle(ts: now, open: entry, high: entry, low: entry, close: entry, volume: 0)])
            guard let price = market.lastPrice else {
                index += 1
                continue
            }
            let sign = side == .long ? 1.0 : -1.0
            func moveAt(_ x: Double) -> Double { (x - entry) / entry * sign }
            let move = moveAt(price)
            let held = opened.seconds(until: now)
            // A position filled at this cycle's close saw none of its candle; one filled at its
            // open (`fillAtNextOpen`) saw all of it.
            let sawCandle = settings.stopsWithinCandle && !stale && (held > 0 || settings.fillAtNextOpen)
            let candle = sawCandle ? market.candles.last : nil
            // The stops standing when the candle opened, against its range: filled at their level
            // (or at the open past a gap) before this candle's best move raises them.
            let hit = candle.flatMap {
                config.exits.stopWithin(
                    heldSeconds: held, openMove: moveAt($0.open),
                    adverseMove: moveAt(side == .long ? $0.low : $0.high),
                    bestMove: p.extra["best_move"]?.doubleValue ?? 0)
            }
            let favourable = candle.map { moveAt(side == .long ? $0.high : $0.low) } ?? move
            let best = max(p.extra["best_move"]?.doubleValue ?? 0, move, favourable)
            if best != p.extra["best_move"]?.doubleValue {
                p.extra["best_move"] = .double(round6(best))
                file.open[index] = p
                dirty = true
            }
            let due =
                hit?.reason
                ?? (stale
                    ? (held >= config.exits.maxHoldSeconds ? ExitReason.maxHold : nil)
                    : config.exits.exit(heldSeconds: held, move: move, bestMove: best, drawdown: drawdown))
            // No exit closes a position in the cycle that opened it, except a real stop: a fresh
            // fill always shows the slippage as a small loss.
            guard let reason = due, held > 0 || reason == .emergencyPositionLoss else {
                index += 1
                continue
            }
            let quantity = p.size ?? 0
            let fillMarket =
                hit.map { hit in
                    let level = entry * (1 + hit.fillMove * sign)
                    return MarketSnapshot(
                        symbol: p.symbol, time: now,
                        candles: [Candle(ts: now, open: level, high: level, low: level, close: level, volume: 0)])
                } ?? market
            let fill: Fill
            do {
                fill = try closingBroker(p).close(
                    symbol: p.symbol, buy: side == .short, quantity: quantity, market: fillMarket)
            } catch {
                // One close the exchange refuses (or does not answer) must not stop the other
                // positions' exits; this one is tried again next cycle.
                exitFailures.append("\(p.symbol): \(error)")
                stores.log(
                    "error", "exit_failed", cycle: cycle, at: now,
                    [
                        JSONField("symbol", .string(p.symbol)), JSONField("reason", .string(reason.rawValue)),
                        JSONField("error", .string("\(error)")),
                    ])
                index += 1
                continue
            }
            let left = try book(
                index: index, fill: fill, reason: reason,
                fillLabel: hit.map { $0.gapped ? "open" : "level" } ?? "close",
                now: now, result: &result)
            // A part filled: the rest stays open and is tried again next cycle, not now.
            if !left { index += 1 }
        }
    }

    /// The broker that closes `p`: the one that opened it. A paper position left in the file
    /// when the engine trades on the exchange closes on paper: the exchange never had it. (A
    /// position of another exchange mode stops the engine at start: see `init`.)
    func closingBroker(_ p: Position) -> any Broker {
        let opened = p.extra["mode"]?.stringValue ?? "paper"
        if opened == broker.mode || broker.mode == "paper" { return broker }
        return PaperBroker(model: FillModel(fees: config.fees, slippage: settings.slippage))
    }

    /// Books the close of the open position at `index` at `fill`: the one way a position is
    /// closed. A fill for less than the position (an exchange's partial fill) closes that part;
    /// the rest stays open with its share of the entry fee, margin and funding. Returns whether
    /// the position left the open list.
    @discardableResult
    func book(index: Int, fill: Fill, reason: ExitReason, fillLabel: String, now: Instant, result: inout CycleResult)
        throws -> Bool
    {
        var p = file.open[index]
        guard let entry = p.entryPrice, let side = p.side else { return false }
        let sign = side == .long ? 1.0 : -1.0
        var remainder: Position?
        if let size = p.size, fill.quantity > 0, fill.quantity < size * 0.999 {
            let share = fill.quantity / size
            var rest = p
            rest.size = round6(size - fill.quantity)
            rest.marginCollateral = p.marginCollateral.map { cents($0 * (1 - share)) }
            p.size = round6(fill.quantity)
            p.marginCollateral = p.marginCollateral.map { cents($0 * share) }
            for key in ["entry_fee", "funding", "contracts"] {
                guard let v = p.extra[key]?.doubleValue else { continue }
                rest.extra[key] = .double(round6(v * (1 - share)))
                p.extra[key] = .double(round6(v * share))
            }
            remainder = rest
            stores.log(
                "warning", "partial_close", cycle: cycle, at: now,
                [
                    JSONField("symbol", .string(p.symbol)), JSONField("closed", .double(round6(fill.quantity))),
                    JSONField("left_open", .double(round6(size - fill.quantity))),
                ])
        }
        let quantity = p.size ?? 0
        let gross = (fill.price - entry) * quantity * sign
        let fees = (p.extra["entry_fee"]?.doubleValue ?? 0) + fill.fee
        let funding = p.extra["funding"]?.doubleValue ?? 0
        let net = gross - fees + funding
        p.exitPrice = fill.price
        p.pnl = round6(gross)
        p.netPnl = round6(net)
        p.closedAt = Timestamp(now)
        p.extra["exit_reason"] = .string(reason.rawValue)
        p.extra["fees"] = .double(round6(fees))
        if let id = fill.details["order_id"] { p.extra["exit_order_id"] = id }
        if let remainder { file.open[index] = remainder } else { file.open.remove(at: index) }
        file.closed.append(p)
        pendingClosed.append(p)
        closedThisRun.append(p)
        if config.walletReset.counts(p) {
            balance += p.netPnl ?? 0
            dayPnl += p.netPnl ?? 0
        }
        if let setup = p.extra["setup"]?.stringValue { expectancy.record(setup: setup, netPnl: net, at: now) }
        if let ctx = p.extra["signal_ctx"]?.objectValue {
            var scores: [String: Double] = [:]
            for f in ctx.fields { scores[f.key] = f.value.doubleValue }
            weights.learn(scores: scores, direction: side, netPnl: net)
            weightsDirty = true
        }
        dirty = true
        result.closed += 1
        hash.add("\(cycle)|\(p.symbol)|closed|\(reason.rawValue)|\(cents(net))")
        try stores.signals.append([
            "ts": .string(now.iso8601), "cycle": .int(cycle), "symbol": .string(p.symbol), "action": "closed",
            "direction": .string(side.rawValue), "reason": .string(reason.rawValue), "net_pnl": .double(cents(net)),
            "fill": .string(fillLabel), "price": .double(fill.price),
        ])
        return remainder == nil
    }

    /// The open positions as the risk gate counts them: margin, and notional at the entry price
    /// (what was committed; the limits are checked when entering).
    func exposures() -> [Exposure] {
        file.open.map {
            Exposure(
                symbol: $0.symbol, sector: sector($0.symbol), margin: $0.marginCollateral ?? 0,
                notional: ($0.entryPrice ?? 0) * ($0.size ?? 0))
        }
            + pending.map {
                Exposure(symbol: $0.symbol, sector: sector($0.symbol), margin: $0.margin, notional: $0.notional)
            }
    }

    /// Unrealised P&L of the open positions at the last prices seen, net of the fee paid at
    /// entry and the fee the exit will cost: what closing now would really add to the balance.
    /// A position resumed from the old bot's file, with no entry fee recorded, gets it from its
    /// entry notional.
    func unrealized() -> Double {
        file.open.reduce(0.0) { total, p in
            let price = lastMarket[p.symbol]?.lastPrice ?? p.entryPrice ?? 0
            return total + (p.unrealizedPnl(at: price, takerFee: config.fees.taker) ?? 0)
        }
    }

    var dayStatePath: String { stores.home.stateDir + "/day.json" }

    /// Writes what the day has decided (atomically), so a restart cannot clear it.
    func saveDay() throws {
        guard let day else { return }
        let trip = breaker.dailyTrip
        try DayState(
            day: day, peakEquity: peakEquity, dayStartBalance: dayStartBalance, tripReason: trip?.reason,
            tripUntil: trip?.until
        ).save(dayStatePath)
    }

    /// Writes what changed: the positions file (atomic), the SQLite mirror, learned weights.
    /// While it fails (a full disk), the engine reduces: a position it could not record must not
    /// be opened.
    public func persist(now: Instant = WallClock.now) throws {
        // The state that money depends on: the day's breaker and the positions. Only their
        // writes decide whether the engine may enter, and only a real write of the positions
        // file proves they work again (a small day.json may fit where the positions do not).
        do {
            if writeProblem != nil { dirty = true }
            try saveDay()
            if dirty {
                try stores.positions.save(file)
                dirty = false
            }
        } catch {
            noteWriteFailure(error, now: now)
            throw error
        }
        if writeProblem != nil {
            writeProblem = nil
            if writeFailureAnnounced { stores.log("info", "writes_recovered", cycle: cycle, at: now) }
            writeFailureAnnounced = false
        }
        // The mirror and the learned weights can be rebuilt: their failures fail the cycle
        // (logged, counted) but do not stop entries.
        if !pendingClosed.isEmpty {
            try stores.database.upsert(pendingClosed)
            pendingClosed.removeAll()
        }
        if weightsDirty {
            try stores.saveWeights(weights)
            weightsDirty = false
        }
    }

    /// Remembers that a write failed; the first failure is critical, so the watchdog alerts it.
    /// A failure that comes and goes every cycle (one log file not writable) is said once per
    /// ten minutes, not once per cycle.
    func noteWriteFailure(_ error: any Error, now: Instant) {
        if writeProblem == nil, writeFailureSaidAt.map({ $0.seconds(until: now) >= 600 }) ?? true {
            writeFailureSaidAt = now
            writeFailureAnnounced = true
            stores.log(
                "critical", "writes_failing", cycle: cycle, at: now,
                [
                    JSONField("error", .string("\(error)")),
                    JSONField("effect", .string("no new entries until the files can be written; exits go on")),
                ])
        }
        writeProblem = "\(error)"
    }

    /// The breaker's state for logs and selfcheck.
    public var breakerDescription: String {
        switch breaker.state {
        case .armed: "armed"
        case .tripped(let reason, let until): "tripped: \(reason)" + (until.map { " until \($0.iso8601)" } ?? "")
        }
    }

    /// The open positions as the risk gate sees them (tests assert invariants on these).
    public var openExposures: [Exposure] { exposures() }
}

/// Entries failed for some symbols in a cycle whose exits still ran.
public struct EntryFailures: Error, CustomStringConvertible {
    public var count: Int
    public var first: String
    public var description: String { "entries failed for \(count) symbol(s), first \(first); exits ran" }
}

/// The positions file holds open positions of another exchange mode (live positions under a
/// paper or demo run): this run could only book their exits on paper while they stay open on
/// the exchange, so it does not start.
public struct OtherModePositions: Error, CustomStringConvertible {
    public var mode: String
    public var positions: [String]
    public var description: String {
        "the positions file holds \(positions.count) open position(s) opened in another mode (\(positions.joined(separator: ", "))), and this run's mode is \(mode): it could only close them on paper while they stay open on BloFin. Run in their mode (exchange.mode in config/bot.json), or close them on BloFin and then in the positions file"
    }
}

/// Closes failed for some positions in a cycle whose other exits still ran.
public struct ExitFailures: Error, CustomStringConvertible {
    public var count: Int
    public var first: String
    public var description: String {
        "closing failed for \(count) position(s), first \(first); the other exits ran, and these are tried again next cycle"
    }
}

func cents(_ v: Double) -> Double { (v * 100).rounded() / 100 }
func round4(_ v: Double) -> Double { (v * 10_000).rounded() / 10_000 }
func round6(_ v: Double) -> Double { (v * 1_000_000).rounded() / 1_000_000 }

func scoresJSON(_ decision: EnsembleDecision) -> JSONValue {
    .object(
        JSONObject(
            decision.readings.compactMap { r in r.reading.value.map { JSONField(r.name, .double(round4($0))) } }))
}
