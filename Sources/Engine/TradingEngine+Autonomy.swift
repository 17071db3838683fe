import TradingCore
import TradingStore

/// The autonomy controller in the cycle: the bot's health, capital scaling's step, and the
/// sizing factors of an entry (conviction, setup health, allocation, scaling).
extension TradingEngine {
    var scalingSettings: ScalingSettings { config.risk.scaling }
    /// Whether the controller acts (`risk.scaling.enabled`); off, the engine sizes and caps as
    /// before it existed.
    var autonomyOn: Bool { scalingSettings.enabled }

    /// The multiplier of `max_exposure_fraction` in force.
    public var exposureScale: Double { scalingSettings.level(of: autonomy.scaling) }

    /// The day's fall from its equity peak to `equity`, as a fraction (the emergency drawdown's
    /// measure, and the health's).
    func dayDrawdown(at equity: Double) -> Double {
        let peak = max(peakEquity, equity)
        return peak > 0 ? max(0, (peak - equity) / peak) : 0
    }

    /// The bot's health now.
    public var botHealth: HealthScore {
        autonomy.botHealth(
            drawdown: dayDrawdown(at: balance + unrealized()), emergencyDrawdown: config.exits.emergencyDrawdown)
    }

    /// A setup's health from its record in the expectancy gate's window.
    func setupHealth(_ setup: String?, now: Instant) -> HealthScore {
        HealthScore.record(setup.map { expectancy.recent(setup: $0, now: now) } ?? [])
    }

    /// Once a cycle, before the entries: lets the rules move the step, logging each change
    /// (`critical` when it steps down, so the watchdog alerts). What the start decided (loaded,
    /// computed, reset) is logged at the first cycle, with its time.
    func updateScaling(now: Instant) {
        guard autonomyOn else { return }
        if autonomy.scaling == nil {
            // A checkpoint of a release before the controller: what its positions justify.
            autonomy.scaling = computedScaling(at: now, problem: nil)
        }
        // The start knew no clock: what it computed is dated by the first cycle's time.
        if scalingDatedAtStart, var state = autonomy.scaling,
            let index = state.history.lastIndex(where: { $0.reason == "history" })
        {
            state.history[index].at = now
            autonomy.scaling = state
            autonomy.scalingDirty = true
        }
        scalingDatedAtStart = false
        for fields in scalingNotices {
            let level = fields.first { $0.key == "level" }?.value.stringValue ?? "info"
            stores.log(level, "capital_scaled", cycle: cycle, at: now, fields.filter { $0.key != "level" })
        }
        scalingNotices.removeAll()
        guard var state = autonomy.scaling else { return }
        let health = botHealth
        let equity = balance + unrealized()
        let change = state.update(
            CapitalScaling.Inputs(now: now, equity: equity, health: health.score), settings: scalingSettings,
            emergencyDrawdown: config.exits.emergencyDrawdown)
        autonomy.scaling = state
        guard let change else { return }
        autonomy.scalingDirty = true
        stores.log(
            change.isDown ? "critical" : "info", "capital_scaled", cycle: cycle, at: now,
            [
                JSONField("from", .double(change.from)), JSONField("to", .double(change.to)),
                JSONField("reason", .string(change.reason)), JSONField("detail", .string(change.detail)),
                JSONField("equity", .double(cents(equity))), JSONField("health", health.json),
                JSONField(
                    "max_exposure_fraction",
                    .double(round6(config.risk.maxExposureFraction * change.to))),
            ])
    }

    /// At the engine's start from its home: state/scaling.json, or (a first start, or a file
    /// that cannot be read) the step the closed trades justify; then the operator's reset, if one
    /// waits (`tradingbot scaling reset`). Loaded here, not at the first cycle, so the flight
    /// recorder's first checkpoint holds it and a replay of it sizes as the engine did.
    func loadScaling(now: Instant) {
        guard autonomyOn else { return }
        let (saved, problem) = ScalingFile.load(stores.home.scalingState)
        var state = saved ?? computedScaling(at: now, problem: problem)
        if let reset = ScalingReset.pending(stores.home) {
            let equity = balance + unrealized()
            let change = state.reset(
                to: reset.level ?? scalingSettings.start, equity: equity, settings: scalingSettings,
                at: reset.at ?? now,
                detail: reset.detail)
            autonomy.scalingDirty = true
            scalingNotices.append([
                JSONField("level", .string("warning")), JSONField("from", .double(change.from)),
                JSONField("to", .double(change.to)), JSONField("reason", .string("operator")),
                JSONField("detail", .string(change.detail)),
            ])
            do {
                try ScalingFile.save(state, to: stores.home.scalingState)
                autonomy.scalingDirty = false
                try FileIO.remove(reset.path)
            } catch {
                // Written at the next persist; a reset applied twice lands on the same step.
            }
        }
        autonomy.scaling = state
    }

    /// The step the closed trades justify, noted for the log.
    func computedScaling(at now: Instant, problem: String?) -> CapitalScaling {
        let trades = file.closed.compactMap { p -> (at: Instant, netPnl: Double)? in
            guard config.walletReset.counts(p), let at = p.closedAt?.instant, let net = p.effectiveNetPnl else {
                return nil
            }
            return (at, net)
        }
        scalingDatedAtStart = true
        let computed = CapitalScaling.fromHistory(
            trades, startingEquity: config.walletReset.startingCapital, settings: scalingSettings,
            emergencyDrawdown: config.exits.emergencyDrawdown, now: now)
        autonomy.scalingDirty = true
        var fields = [
            JSONField("level", .string(problem == nil ? "info" : "error")),
            JSONField("from", .double(scalingSettings.start)), JSONField("to", .double(computed.level)),
            JSONField("reason", .string("history")),
            JSONField("detail", .string(computed.history.last?.detail ?? "")),
        ]
        if let problem { fields.append(JSONField("unreadable", .string(problem))) }
        scalingNotices.append(fields)
        return computed
    }

    /// The sizing of an entry: its factors and the allocation cap the risk gate applies.
    struct Sizing {
        var conviction: Double
        var health: Double
        var allocation: RiskGate.StrategyShare?
        var scaling: Double
        var desired: Double

        var json: JSONValue {
            .object(
                JSONObject([
                    JSONField("conviction", .double(round4(conviction))),
                    JSONField("health", .double(cents(health))),
                    JSONField("allocation", allocation.map { .double(round4($0.share)) } ?? .null),
                    JSONField("scaling", .double(round4(scaling))),
                ]))
        }
    }

    /// How big an entry of `decision` should be: conviction above the threshold, times the
    /// setup's health, between the notional bounds; its strategy's share of the scaled exposure.
    func sizing(_ decision: EnsembleDecision, strategy: String, now: Instant) -> Sizing {
        let threshold = config.strategy.entryThreshold
        let conviction = min(1, (abs(decision.score) - threshold) / max(0.01, 1 - threshold))
        let health = autonomyOn ? setupHealth(decision.setup, now: now).score : 100
        let desired =
            config.risk.minNotional + (config.risk.maxNotional - config.risk.minNotional) * conviction
            * health / 100
        var allocation: RiskGate.StrategyShare?
        if autonomyOn {
            let (pnl, trades) = autonomy.attributed(now: now)
            if let share = Allocation.shares(
                attributed: pnl, trades: trades, asking: strategy, minTrades: scalingSettings.minTrades)?[strategy]
            {
                allocation = RiskGate.StrategyShare(strategy: strategy, share: share)
            }
        }
        return Sizing(
            conviction: conviction, health: health, allocation: allocation, scaling: exposureScale, desired: desired)
    }

    /// The engine's view of its health, scaling and allocation, for state/health.json (the
    /// dashboard and /metrics read it) and `replay --json`.
    public func autonomyView(at now: Instant) -> JSONValue {
        var setups = JSONObject()
        for name in expectancy.outcomes.keys.sorted() {
            let recent = expectancy.recent(setup: name, now: now)
            guard !recent.isEmpty else { continue }
            setups[name] = [
                "score": .double(cents(HealthScore.record(recent).score)), "trades": .int(recent.count),
                "net": .double(cents(recent.reduce(0, +))),
            ]
        }
        let (pnl, trades) = autonomy.attributed(now: now)
        let shares = Allocation.shares(
            attributed: pnl, trades: trades, asking: nil, minTrades: scalingSettings.minTrades)
        var strategies = JSONObject()
        for name in pnl.keys.sorted() {
            let recent = autonomy.strategies.recent(setup: name, now: now)
            strategies[name] = [
                "score": .double(cents(HealthScore.record(recent).score)), "trades": .int(recent.count),
                "net": .double(cents(pnl[name] ?? 0)),
                "allocation": shares?[name].map { .double(round4($0)) } ?? .null,
            ]
        }
        var scaling = JSONObject([
            JSONField("enabled", .bool(autonomyOn)), JSONField("level", .double(exposureScale)),
            JSONField("levels", .array(scalingSettings.levels.map { .double($0) })),
            JSONField("max_exposure_fraction", .double(round6(config.risk.maxExposureFraction * exposureScale))),
            JSONField("configured_max_exposure_fraction", .double(config.risk.maxExposureFraction)),
        ])
        if let state = autonomy.scaling {
            scaling["changed_at"] = state.changedAt.map { .string($0.iso8601) } ?? .null
            scaling["trades_since"] = .int(state.tradesSince)
            scaling["net_since"] = .double(cents(state.netSince))
            scaling["min_trades"] = .int(scalingSettings.minTrades)
            scaling["history"] = .array(state.history.map(\.json))
        }
        return .object(
            JSONObject([
                JSONField("ts", .string(now.iso8601)), JSONField("cycle", .int(cycle)),
                JSONField("bot", botHealth.json), JSONField("scaling", .object(scaling)),
                JSONField("strategies", .object(strategies)), JSONField("setups", .object(setups)),
                JSONField("allocation_trades", .int(trades)),
            ]))
    }
}
