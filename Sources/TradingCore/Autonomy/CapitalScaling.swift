/// Capital scaling: the share of `max_exposure_fraction` the engine may use, moved one step at a
/// time. Up only on proven edge (enough closed trades since the last change, positive expectancy,
/// a healthy bot, a dwell since the last change); down at once on a drawdown from the equity peak
/// since the last step up, or when the bot's health drops below `min_health`. Pure: the engine
/// hands it the cycle's equity, health and closed trades, and keeps the state in
/// `state/scaling.json` and in the flight recorder's checkpoint.
public struct CapitalScaling: Sendable, Equatable {
    /// The multiplier of `max_exposure_fraction` in force (1 when scaling is off).
    public var level: Double
    /// When the level last changed (nil: never since it was computed).
    public var changedAt: Instant?
    /// The equity peak since the last step up (the step-down drawdown's reference).
    public var peakEquity: Double
    /// Closed trades since the last change, and their summed net P&L (the step-up evidence).
    public var tradesSince = 0
    public var netSince = 0.0
    /// When the health last stepped it down, while the health stays low (one step per dwell).
    public var healthStepAt: Instant?
    /// The newest changes, oldest first (at most `historyKept`).
    public var history: [Change] = []

    public static let historyKept = 50
    /// Points above `min_health` the health must reach before a new dip steps down at once again
    /// (until then, one step per dwell).
    public static let healthRecovery = 10.0

    public struct Change: Sendable, Equatable {
        public var at: Instant
        public var from: Double
        public var to: Double
        /// `drawdown`, `health`, `edge` (a step up), `history` (computed at the first start),
        /// `settings` (the config moved the bounds).
        public var reason: String
        /// What moved it, in words.
        public var detail: String
        public init(at: Instant, from: Double, to: Double, reason: String, detail: String) {
            self.at = at
            self.from = from
            self.to = to
            self.reason = reason
            self.detail = detail
        }
        public var isDown: Bool { to < from }
    }

    public init(level: Double, peakEquity: Double, changedAt: Instant? = nil) {
        self.level = level
        self.peakEquity = peakEquity
        self.changedAt = changedAt
    }

    /// What one cycle hands it.
    public struct Inputs: Sendable, Equatable {
        public var now: Instant
        public var equity: Double
        public var health: Double
        public init(now: Instant, equity: Double, health: Double) {
            self.now = now
            self.equity = equity
            self.health = health
        }
    }

    /// Counts a closed trade toward the next step up.
    public mutating func tradeClosed(netPnl: Double) {
        tradesSince += 1
        netSince += netPnl
    }

    /// Applies the rules once; returns the change made, if any.
    public mutating func update(_ inputs: Inputs, settings: ScalingSettings, emergencyDrawdown: Double) -> Change? {
        guard settings.enabled else { return nil }
        // Bounds the operator moved since the state was written.
        let bounded = min(max(level, settings.floor), settings.ceiling)
        if abs(bounded - level) > 1e-9 {
            return move(
                to: bounded, inputs, reason: "settings",
                detail:
                    "risk.scaling's floor and ceiling are now \(percent(settings.floor)) and \(percent(settings.ceiling))"
            )
        }
        peakEquity = max(peakEquity, inputs.equity)
        let drawdown = peakEquity > 0 ? max(0, (peakEquity - inputs.equity) / peakEquity) : 0
        let limit = settings.stepDownDrawdown(emergencyDrawdown: emergencyDrawdown)
        if drawdown > limit, level > settings.floor + 1e-9 {
            return move(
                to: max(settings.floor, level - settings.step), inputs, reason: "drawdown",
                detail:
                    "equity \(money(inputs.equity)) is \(percent(drawdown)) below its peak \(money(peakEquity)) since the last step up (step_down_drawdown \(percent(limit)))"
            )
        }
        let dwell = settings.dwellHours * 3600
        if inputs.health < settings.minHealth {
            let due = healthStepAt.map { $0.seconds(until: inputs.now) >= dwell } ?? true
            guard due, level > settings.floor + 1e-9 else { return nil }
            healthStepAt = inputs.now
            return move(
                to: max(settings.floor, level - settings.step), inputs, reason: "health",
                detail: "the bot's health \(round1(inputs.health)) is below min_health \(round1(settings.minHealth))")
        }
        // Hysteresis: a health that hovers at min_health steps down once, not on every dip.
        if inputs.health >= settings.minHealth + Self.healthRecovery { healthStepAt = nil }
        guard level < settings.ceiling - 1e-9, tradesSince >= settings.minTrades, netSince > 0 else { return nil }
        if let changedAt, changedAt.seconds(until: inputs.now) < dwell { return nil }
        return move(
            to: min(settings.ceiling, level + settings.step), inputs, reason: "edge",
            detail:
                "\(tradesSince) closed trades since the last change earned \(money(netSince)) (\(money(netSince / Double(tradesSince))) a trade); health \(round1(inputs.health))"
        )
    }

    /// The operator's reset: the step `level` (within the bounds), the evidence and the drawdown
    /// reference start again from now.
    public mutating func reset(
        to level: Double, equity: Double, settings: ScalingSettings, at now: Instant, detail: String
    )
        -> Change
    {
        let change = move(
            to: min(max(level, settings.floor), settings.ceiling), Inputs(now: now, equity: equity, health: 100),
            reason: "operator", detail: detail)
        healthStepAt = nil
        return change
    }

    mutating func move(to new: Double, _ inputs: Inputs, reason: String, detail: String) -> Change {
        let change = Change(
            at: inputs.now, from: level, to: ScalingSettings.tidy(new), reason: reason, detail: detail)
        level = change.to
        changedAt = inputs.now
        tradesSince = 0
        netSince = 0
        // The drawdown is measured from here on: a step down must not repeat on the same fall.
        peakEquity = inputs.equity
        history.append(change)
        if history.count > Self.historyKept { history.removeFirst(history.count - Self.historyKept) }
        return change
    }

    /// The state the closed trades justify, computed once at the first start: from `start`, each
    /// trade (oldest first, with its close time) counts toward a step up as the rules say, and
    /// the equity curve they draw steps it down on drawdown. Health is not known for the past.
    public static func fromHistory(
        _ trades: [(at: Instant, netPnl: Double)], startingEquity: Double, settings: ScalingSettings,
        emergencyDrawdown: Double, now: Instant
    ) -> CapitalScaling {
        var state = CapitalScaling(level: settings.start, peakEquity: startingEquity)
        guard settings.enabled else { return state }
        var equity = startingEquity
        for trade in trades.sorted(by: { $0.at < $1.at }) {
            equity += trade.netPnl
            state.tradeClosed(netPnl: trade.netPnl)
            _ = state.update(
                Inputs(now: trade.at, equity: equity, health: 100), settings: settings,
                emergencyDrawdown: emergencyDrawdown)
        }
        // The past's moves are one computed start, not changes the operator must hear about.
        state.history = [
            Change(
                at: now, from: settings.start, to: state.level, reason: "history",
                detail:
                    "computed at the first start from \(trades.count) closed trade(s): \(trades.isEmpty ? "no record, the start step" : "the step their record justifies")"
            )
        ]
        state.healthStepAt = nil
        return state
    }

    public var json: JSONValue {
        .object(
            JSONObject([
                JSONField("level", .double(level)),
                JSONField("changed_at", changedAt.map { .string($0.iso8601) } ?? .null),
                JSONField("peak_equity", .double(peakEquity)),
                JSONField("trades_since", .int(tradesSince)),
                JSONField("net_since", .double(netSince)),
                JSONField("health_step_at", healthStepAt.map { .string($0.iso8601) } ?? .null),
                JSONField("history", .array(history.map(\.json))),
            ]))
    }

    /// The state from its JSON; nil when it is not one (then the engine computes it again).
    public static func parse(_ value: JSONValue) -> CapitalScaling? {
        guard let o = value.objectValue, let level = o["level"]?.doubleValue, level.isFinite, level > 0,
            let peak = o["peak_equity"]?.doubleValue, peak.isFinite
        else { return nil }
        var s = CapitalScaling(level: level, peakEquity: peak, changedAt: o["changed_at"]?.instantValue)
        s.tradesSince = max(0, Int(o["trades_since"]?.doubleValue ?? 0))
        s.netSince = o["net_since"]?.doubleValue ?? 0
        s.healthStepAt = o["health_step_at"]?.instantValue
        s.history = (o["history"]?.arrayValue ?? []).compactMap(Change.parse)
        return s
    }
}

extension CapitalScaling.Change {
    public var json: JSONValue {
        .object(
            JSONObject([
                JSONField("at", .string(at.iso8601)), JSONField("from", .double(from)), JSONField("to", .double(to)),
                JSONField("reason", .string(reason)), JSONField("detail", .string(detail)),
            ]))
    }

    static func parse(_ value: JSONValue) -> CapitalScaling.Change? {
        guard let o = value.objectValue, let at = o["at"]?.instantValue, let from = o["from"]?.doubleValue,
            let to = o["to"]?.doubleValue
        else { return nil }
        return CapitalScaling.Change(
            at: at, from: from, to: to, reason: o["reason"]?.stringValue ?? "", detail: o["detail"]?.stringValue ?? "")
    }
}

func percent(_ v: Double) -> String { "\((v * 10_000).rounded() / 100) %" }
func round1(_ v: Double) -> Double { (v * 10).rounded() / 10 }
