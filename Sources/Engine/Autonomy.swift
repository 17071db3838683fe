import TradingCore
import TradingStore

/// What the autonomy controller keeps between cycles: capital scaling's state and the evidence
/// the health scores and the allocation read. One value, so the flight recorder's checkpoint
/// carries it whole and a recorded replay sizes exactly as the engine did.
struct Autonomy: Equatable, Sendable {
    /// Loaded from state/scaling.json (or computed from the record) when the engine starts; nil
    /// with the controller off, or restored from a checkpoint of a release before it.
    var scaling: CapitalScaling?
    /// The state changed since it was last written.
    var scalingDirty = false
    /// Closed trades by strategy (the allocation's attributed net P&L, the strategies' health).
    var strategies = Autonomy.strategyBook()
    /// Net P&L of the bot's newest closed trades, oldest first.
    var botTrades: [Double] = []
    /// The newest cycles: bit 0 failed, bit 1 had a reconciliation or execution problem.
    var cycles: [UInt8] = []
    /// Adverse slippage of the newest fills, as fractions of the price the decision saw.
    var slippages: [Double] = []
    /// A cycle began and has not ended (it failed, or the engine died in it).
    var inCycle = false

    static let botTradesKept = 20
    static let cyclesKept = 60
    static let slippagesKept = 20
    /// The allocation's window: a strategy's newest 50 closed trades of the last 7 days.
    static func strategyBook(outcomes: [String: [ExpectancyGate.Outcome]] = [:]) -> ExpectancyGate {
        ExpectancyGate(window: 50, horizonSeconds: 7 * 86_400, outcomes: outcomes)
    }

    mutating func tradeClosed(strategy: String, netPnl: Double, at: Instant) {
        strategies.record(setup: strategy, netPnl: netPnl, at: at)
        botTrades.appendKeepingNewest(netPnl, Self.botTradesKept)
        if scaling != nil {
            scaling?.tradeClosed(netPnl: netPnl)
            scalingDirty = true
        }
    }

    mutating func filled(slippage: Double) {
        guard slippage.isFinite else { return }
        slippages.appendKeepingNewest(slippage, Self.slippagesKept)
    }

    /// Starts a cycle; one that began before and never ended counts as failed.
    mutating func beginCycle() {
        if inCycle { note(cycle: 1) }
        inCycle = true
    }

    mutating func endCycle(failed: Bool, problem: Bool) {
        inCycle = false
        note(cycle: (failed ? 1 : 0) | (problem ? 2 : 0))
    }

    mutating func note(cycle flags: UInt8) {
        cycles.appendKeepingNewest(flags, Self.cyclesKept)
    }

    /// The bot's health from its record, the day's drawdown, its cycles and its fills.
    func botHealth(drawdown: Double, emergencyDrawdown: Double) -> HealthScore {
        var inputs = HealthScore.BotInputs()
        inputs.trades = botTrades
        inputs.drawdown = drawdown
        inputs.emergencyDrawdown = emergencyDrawdown
        inputs.cycles = cycles.count
        inputs.failedCycles = cycles.filter { $0 & 1 != 0 }.count
        inputs.problemCycles = cycles.filter { $0 & 2 != 0 }.count
        inputs.slippages = slippages
        return HealthScore.bot(inputs)
    }

    /// Each strategy's attributed net P&L in the window at `now`, and the trades it holds.
    func attributed(now: Instant) -> (pnl: [String: Double], trades: Int) {
        var pnl: [String: Double] = [:]
        var trades = 0
        for name in strategies.outcomes.keys {
            let recent = strategies.recent(setup: name, now: now)
            guard !recent.isEmpty else { continue }
            pnl[name] = recent.reduce(0, +)
            trades += recent.count
        }
        return (pnl, trades)
    }

    // MARK: the checkpoint

    var json: JSONValue {
        .object(
            JSONObject([
                JSONField("scaling", scaling?.json ?? .null),
                JSONField("scaling_dirty", .bool(scalingDirty)),
                JSONField("strategies", strategies.outcomesJSON),
                JSONField("bot_trades", .array(botTrades.map { .double($0) })),
                JSONField("cycles", .array(cycles.map { .int(Int($0)) })),
                JSONField("slippages", .array(slippages.map { .double($0) })),
                JSONField("in_cycle", .bool(inCycle)),
            ]))
    }

    /// From a checkpoint; a checkpoint of a release before the controller has none (then it
    /// starts as a fresh home's would).
    static func parse(_ value: JSONValue?) -> Autonomy {
        var a = Autonomy()
        guard let o = value?.objectValue else { return a }
        a.scaling = o["scaling"].flatMap(CapitalScaling.parse)
        a.scalingDirty = o["scaling_dirty"]?.boolValue ?? false
        a.strategies = strategyBook(outcomes: ExpectancyGate.outcomes(from: o["strategies"]))
        a.botTrades = (o["bot_trades"]?.arrayValue ?? []).compactMap(\.doubleValue)
        a.cycles = (o["cycles"]?.arrayValue ?? []).compactMap { $0.doubleValue.map { UInt8(max(0, min(3, $0))) } }
        a.slippages = (o["slippages"]?.arrayValue ?? []).compactMap(\.doubleValue)
        a.inCycle = o["in_cycle"]?.boolValue ?? false
        return a
    }
}

/// state/scaling.json: capital scaling's state, written atomically when it changes. Fields this
/// release does not know (a newer one's) are kept on a rewrite.
public enum ScalingFile {
    /// The state, or nil when there is none; `problem` when the file is there but unreadable.
    public static func load(_ path: String) -> (state: CapitalScaling?, problem: String?) {
        guard FileIO.exists(path) else { return (nil, nil) }
        do {
            let value = try ConfigFiles.json(path)
            guard let state = CapitalScaling.parse(value) else {
                return (nil, "\(path): not a scaling state (no level or peak_equity)")
            }
            return (state, nil)
        } catch {
            return (nil, "\(error)")
        }
    }

    static func save(_ state: CapitalScaling, to path: String) throws {
        var merged = (try? ConfigFiles.json(path))?.objectValue ?? JSONObject()
        for field in state.json.objectValue?.fields ?? [] { merged[field.key] = field.value }
        try FileIO.writeJSON(path, .object(merged))
    }
}

/// state/scaling-reset.json: the operator's request to put capital scaling at a step, written by
/// `tradingbot scaling reset` and applied (then removed) when the engine next starts, as every
/// change of bot.json is: a running engine's replays must decide what it decided.
public enum ScalingReset {
    public static func path(_ home: Home) -> String { home.stateDir + "/scaling-reset.json" }

    /// The waiting request: the step (nil: `start`), when it was asked, and the words for the log.
    static func pending(_ home: Home) -> (level: Double?, at: Instant?, detail: String, path: String)? {
        let file = path(home)
        guard FileIO.exists(file) else { return nil }
        let o = (try? ConfigFiles.json(file))?.objectValue
        let level = o?["level"]?.doubleValue
        let at = o?["at"]?.instantValue
        return (
            level, at,
            "reset by the operator (tradingbot scaling reset\(at.map { " at \($0.iso8601)" } ?? "")): the evidence and the drawdown reference start again",
            file
        )
    }

    /// Writes the request; the engine applies it at its next start.
    public static func request(_ home: Home, level: Double?, at now: Instant) throws {
        var o = JSONObject([JSONField("at", .string(now.iso8601))])
        o["level"] = level.map { .double($0) } ?? .null
        try FileIO.writeJSON(path(home), .object(o))
    }
}
