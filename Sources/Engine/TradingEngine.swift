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
    /// The one way in for everything outside the engine (see `EngineWorld`).
    let world: any EngineWorld
    let stores: EngineStores
    let risk: RiskGate
    let hurst = HurstRegimeSignal()

    public internal(set) var file: PositionsFile
    public internal(set) var balance: Double
    public internal(set) var cycle = 0
    public internal(set) var hash = DecisionsHash()
    public internal(set) var breaker: CircuitBreaker
    public internal(set) var weights: SignalWeights
    var expectancy = ExpectancyGate()
    /// Capital scaling's state and the evidence the health scores and the allocation read.
    var autonomy = Autonomy()
    /// What the start decided about scaling (fields of `capital_scaled`, `level` first), logged at
    /// the first cycle.
    var scalingNotices: [[JSONField]] = []
    /// The step was computed at the start, dated before any cycle's time was known.
    var scalingDatedAtStart = false
    var day: Instant?
    var dayStartBalance = 0.0
    var dayPnl = 0.0
    var peakEquity = 0.0
    var openedToday = 0
    var lastMarket: [String: MarketSnapshot] = [:]
    /// What state/day.json said when the engine started: the first cycle's day takes it back.
    var savedDay: DayState?
    /// The last cycle time at which any symbol's price differed from its previous cycle (a first
    /// sighting is not a change: after a restart on a frozen feed nothing has changed): the
    /// heartbeat's evidence of a frozen feed.
    public internal(set) var lastPriceChangeAt: Instant?
    var dirty = false
    var weightsDirty = false
    var pendingClosed: [Position] = []
    public internal(set) var closedThisRun: [Position] = []
    /// Symbols traded in the "other" sector because the asset universe lacks them.
    public internal(set) var otherSectorSymbols: Set<String> = []
    /// Fields of the positions file the engine could not use when it started. It trades on the
    /// rest: refusing to start would stop the exits of every other position.
    public internal(set) var unreadable: [RecordIssue] = []
    /// Open positions it cannot value (symbol and why): while there are any, the engine is
    /// reducing (no new entries; exits of the others go on), since its exposure is unknown.
    public internal(set) var unvalued: [String] = []
    /// The last write that failed, while writes fail (nil once one succeeds).
    public internal(set) var writeProblem: String?
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
    public internal(set) var drawdownReducing: String?
    /// Symbols with an open position that the feed stopped delivering (logged once per gap).
    var missingSymbols: Set<String> = []
    /// The previous cycle's time: a funding time between it and now is settled this cycle.
    var lastCycleAt: Instant?
    /// An entry the risk gate allowed, before its fill.
    struct EntryOrder: Sendable {
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

    /// An engine on the live world of `feed` and `broker` (the paper broker when nil).
    public convenience init(
        config: BotConfig, universe: AssetUniverse, feed: any MarketFeed, stores: EngineStores,
        settings: EngineSettings = EngineSettings(), broker: (any Broker)? = nil
    ) throws {
        try self.init(
            config: config, universe: universe,
            world: LiveWorld(config: config, settings: settings, feed: feed, broker: broker, home: stores.home),
            stores: stores, settings: settings)
    }

    /// An engine with nothing yet: no positions, no balance, the default weights.
    init(
        config: BotConfig, universe: AssetUniverse, world: any EngineWorld, stores: EngineStores,
        settings: EngineSettings, empty: Void
    ) {
        self.config = config
        self.universe = universe
        self.world = world
        self.stores = stores
        self.settings = settings
        risk = RiskGate(limits: config.risk)
        breaker = CircuitBreaker(dailyLossLimitFraction: config.risk.dailyLossLimitFraction)
        file = PositionsFile()
        balance = 0
        weights = SignalWeights()
    }

    /// An engine where a recording's `checkpoint` says the recorded one was: it reads nothing
    /// from the home (a replay's home holds what the replay wrote, not what the engine had).
    public convenience init(
        config: BotConfig, universe: AssetUniverse, world: any EngineWorld, stores: EngineStores,
        settings: EngineSettings, restoring checkpoint: JSONValue
    ) throws {
        self.init(config: config, universe: universe, world: world, stores: stores, settings: settings, empty: ())
        try restore(checkpoint)
    }

    /// An engine rebuilt from the home's files, reading the world through `world`.
    public convenience init(
        config: BotConfig, universe: AssetUniverse, world: any EngineWorld, stores: EngineStores,
        settings: EngineSettings = EngineSettings()
    ) throws {
        self.init(config: config, universe: universe, world: world, stores: stores, settings: settings, empty: ())
        let decoded = try stores.positions.decode(missingIsEmpty: true)
        file = decoded.file
        unreadable = decoded.issues
        balance = PerformanceReport(file: file, reset: config.walletReset).balance
        (weights, weightsProblem) = stores.loadWeights()
        unvalued = findUnvalued()
        savedDay = DayState.load(stores.home.stateDir + "/day.json")
        let mode = world.mode
        let foreign = file.open.filter { p in
            let opened = p.extra["mode"]?.stringValue ?? "paper"
            return opened != "paper" && opened != mode
        }
        if !foreign.isEmpty {
            throw OtherModePositions(
                mode: mode, positions: foreign.map { "\($0.symbol) (\($0.extra["mode"]?.stringValue ?? "?"))" })
        }
        var byClose = file.closed.compactMap { p -> (Position, Instant)? in
            guard let at = p.closedAt?.instant else { return nil }
            return (p, at)
        }
        // The records learn in the order the trades closed; a file is nearly always in that order.
        if zip(byClose, byClose.dropFirst()).contains(where: { $0.1 > $1.1 }) { byClose.sort { $0.1 < $1.1 } }
        for (p, at) in byClose {
            guard let net = p.effectiveNetPnl else { continue }
            if let setup = p.extra["setup"]?.stringValue { expectancy.record(setup: setup, netPnl: net, at: at) }
            autonomy.tradeClosed(strategy: p.strategy ?? "unknown", netPnl: net, at: at)
        }
        loadScaling(now: byClose.last?.1 ?? config.walletReset.at)
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

    /// Runs one cycle at `now` (wall clock) or at the feed's own time (`useFeedTime`, replays).
    /// Returns nil when a replay feed has run out.
    public func runCycle(now wallNow: Instant, useFeedTime: Bool = false) throws -> CycleResult? {
        guard let snapshots = try world.market(at: wallNow) else { return nil }
        cycle += 1
        autonomy.beginCycle()
        let now = useFeedTime ? (snapshots.map(\.time).max() ?? wallNow) : wallNow
        // What the world said in this cycle is kept however the cycle ends (a cycle that fails
        // halfway changed the engine's state halfway: its replay must fail the same way).
        defer { recorder?.cycleEnded(self, at: now) }
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
        updateScaling(now: now)
        if let change = breaker.update(
            now: now, dayStartBalance: dayStartBalance, dayPnl: dayPnl + unrealized(), killSwitch: world.killSwitchOn())
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
        let decisionsLine: JSONValue = [
            "ts": .string(now.iso8601), "cycle": .int(cycle), "feed": .string(world.feedName),
            "symbols": .int(result.symbols), "signals_evaluated": .int(result.signalsEvaluated),
            "executed": .int(result.executed), "blocked": .int(result.blocked), "skipped": .int(result.skipped),
            "closed": .int(result.closed), "open_positions": .int(file.open.count),
            "balance": .double(cents(balance)), "equity": .double(cents(result.equity)),
            "breaker": .string(breaker.allowsEntries ? "armed" : "tripped"),
            "reducing": reducingReason.map { .string($0) } ?? .null,
            // Why an entry was smaller than conviction alone: the step and the bot's health.
            "scaling": .double(exposureScale), "health": .double(cents(botHealth.score)),
        ]
        try world.write(.decisions) { try stores.decisions.append(decisionsLine) }
        if let why = reducingReason, cycle == 1 || cycle % 60 == 0 {
            stores.log("error", "reducing", cycle: cycle, at: now, [JSONField("reason", .string(why))])
        }
        if cycle % settings.persistEvery == 0 { try persist(now: now) }
        if settings.recordCandles { recordCandles(snapshots, now: now) }
        autonomy.endCycle(
            failed: !exitFailures.isEmpty || !entryFailures.isEmpty,
            problem: reconcileProblem != nil || !exchangeUnknown.isEmpty)
        if let first = exitFailures.first {
            throw ExitFailures(count: exitFailures.count, first: first)
        }
        if let first = entryFailures.first {
            throw EntryFailures(count: entryFailures.count, first: first)
        }
        return result
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
