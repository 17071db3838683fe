import Testing

@testable import TradingCore

/// The autonomy controller's pure parts on constructed histories: the health score, the step
/// rules of capital scaling, the allocation and the caps they feed.
@Suite struct AutonomyTests {
    let t0 = Instant(year: 2026, month: 3, day: 1)!
    let settings = ScalingSettings()
    let emergency = 0.015

    func at(hours: Double) -> Instant { t0.adding(seconds: hours * 3600) }

    @Test func aNeutralRecordIsFullHealthAndALosingTurnCostsPointsBeforeTheAverageTurns() {
        #expect(HealthScore.record([]).score == 100, "no record sizes as conviction alone")
        #expect(HealthScore.record([10, 12, 8, 15, 9]).score == 100)
        // Five winners, then two losers: the mean is still positive (the expectancy gate allows)…
        let turning: [Double] = [10, 12, 8, 15, 9, -8, -9]
        #expect(turning.reduce(0, +) > 0)
        var gate = ExpectancyGate()
        for (i, net) in turning.enumerated() {
            gate.record(setup: "momentum:LONG", netPnl: net, at: at(hours: Double(i)))
        }
        #expect(gate.blockReason(setup: "momentum:LONG", now: at(hours: 7)) == nil)
        // …but the health has already fallen, and falls further with each loss.
        let two = HealthScore.record(turning).score
        let three = HealthScore.record(turning + [-10]).score
        #expect(two < 90 && three < two, "\(two), \(three)")
        #expect(HealthScore.record([-5, -6, -7, -8, -9]).score < 20)
        // One loss is not yet a record: shrunk toward neutral.
        #expect(HealthScore.record([-10]).score > HealthScore.record([-10, -10, -10, -10, -10]).score)
    }

    @Test func theBotScoreReadsEachInputWithItsWeight() {
        var inputs = HealthScore.BotInputs()
        #expect(HealthScore.bot(inputs).score == 100)
        inputs.drawdown = 0.015
        #expect(HealthScore.bot(inputs).score == 100 - HealthScore.Weight.drawdown)
        inputs.drawdown = 0
        inputs.cycles = 60
        inputs.failedCycles = 12
        #expect(HealthScore.bot(inputs).score == 100 - HealthScore.Weight.errors)
        inputs.failedCycles = 0
        inputs.problemCycles = 60
        #expect(HealthScore.bot(inputs).score == 100 - HealthScore.Weight.execution)
        inputs.problemCycles = 0
        inputs.slippages = [0.004, 0.004]
        #expect(HealthScore.bot(inputs).score == 100 - HealthScore.Weight.slippage)
        inputs.slippages = [-0.001]
        #expect(HealthScore.bot(inputs).score == 100, "a better fill than expected is no penalty")
    }

    @Test func aLosingStreakStepsDownAtOnce() {
        var s = CapitalScaling(level: 1.0, peakEquity: 10_000)
        // 0.6 % under the peak: within the default step-down drawdown (1 %).
        #expect(
            s.update(
                .init(now: at(hours: 1), equity: 9_940, health: 90), settings: settings, emergencyDrawdown: emergency)
                == nil)
        let down = s.update(
            .init(now: at(hours: 2), equity: 9_880, health: 90), settings: settings, emergencyDrawdown: emergency)
        #expect(down?.to == 0.75 && down?.reason == "drawdown" && down?.isDown == true)
        // The next step down needs a new fall from here, not the same one again.
        #expect(
            s.update(
                .init(now: at(hours: 2.1), equity: 9_880, health: 90), settings: settings, emergencyDrawdown: emergency)
                == nil)
        let again = s.update(
            .init(now: at(hours: 3), equity: 9_770, health: 90), settings: settings, emergencyDrawdown: emergency)
        #expect(again?.to == 0.5)
        // A health drop steps down too, once per dwell while it stays low.
        let sick = s.update(
            .init(now: at(hours: 4), equity: 9_770, health: 30), settings: settings, emergencyDrawdown: emergency)
        #expect(sick?.to == 0.25 && sick?.reason == "health")
        #expect(
            s.update(
                .init(now: at(hours: 5), equity: 9_770, health: 30), settings: settings, emergencyDrawdown: emergency)
                == nil, "at the floor")
        #expect(s.level == settings.floor)
    }

    @Test func aHealthHoveringAtTheMinimumStepsDownOnceNotOnEveryDip() {
        var s = CapitalScaling(level: 1.0, peakEquity: 10_000)
        func health(_ h: Double, at hour: Double) -> CapitalScaling.Change? {
            s.update(
                .init(now: at(hours: hour), equity: 10_000, health: h), settings: settings, emergencyDrawdown: emergency
            )
        }
        #expect(health(45, at: 1)?.to == 0.75)
        #expect(health(55, at: 2) == nil && health(45, at: 3) == nil, "back just above the minimum: no second step")
        #expect(health(65, at: 4) == nil, "recovered by 10 points")
        #expect(health(45, at: 5)?.to == 0.5, "a new dip after a recovery steps down at once")
        #expect(health(45, at: 5 + settings.dwellHours)?.to == 0.25, "still low a dwell later: one more step")
    }

    @Test func aWinningStreakStepsUpOneStepPerDwell() {
        var s = CapitalScaling(level: settings.start, peakEquity: 10_000)
        var equity = 10_000.0
        var levels: [(Double, Double)] = []
        for hour in stride(from: 1.0, through: 24 * 5, by: 1) {
            // Two winning trades an hour.
            for _ in 0..<2 {
                s.tradeClosed(netPnl: 5)
                equity += 5
            }
            if let change = s.update(
                .init(now: at(hours: hour), equity: equity, health: 95), settings: settings,
                emergencyDrawdown: emergency)
            {
                #expect(change.to - change.from <= settings.step + 1e-9, "one step at a time")
                levels.append((hour, change.to))
            }
        }
        // The first step needs min_trades (20) closed trades: hour 10; then one per dwell (24 h).
        #expect(levels.map(\.1) == [0.75, 1.0])
        #expect(levels.first?.0 == 10)
        #expect(levels[1].0 - levels[0].0 >= settings.dwellHours)
        #expect(s.level == settings.ceiling, "never above the ceiling")
    }

    @Test func noStepUpWithoutEdgeOrHealth() {
        var s = CapitalScaling(level: 0.5, peakEquity: 10_000)
        for _ in 0..<30 { s.tradeClosed(netPnl: -1) }
        s.tradeClosed(netPnl: 0.5)
        #expect(
            s.update(
                .init(now: at(hours: 100), equity: 9_990, health: 95), settings: settings, emergencyDrawdown: emergency)
                == nil, "negative expectancy")
        var healthy = CapitalScaling(level: 0.5, peakEquity: 10_000)
        for _ in 0..<30 { healthy.tradeClosed(netPnl: 2) }
        #expect(
            healthy.update(
                .init(now: at(hours: 100), equity: 10_060, health: 45), settings: settings, emergencyDrawdown: emergency
            )?.isDown == true, "health under min_health")
    }

    /// Random histories: whatever the path, the level stays within its bounds and moves one step,
    /// and the risk gate never sizes past the scaled exposure or a strategy's allocation.
    @Test func noPathExceedsACap() {
        var rng = SeededRandom(seed: 7)
        var limits = BotConfig.RiskLimits()
        limits.maxExposureFraction = 0.6
        let gate = RiskGate(limits: limits)
        for _ in 0..<200 {
            var s = CapitalScaling(level: settings.start, peakEquity: 10_000)
            var equity = 10_000.0
            for hour in 0..<200 {
                let net = (rng.uniform() - 0.45) * 40
                equity += net
                s.tradeClosed(netPnl: net)
                let before = s.level
                _ = s.update(
                    .init(now: at(hours: Double(hour)), equity: equity, health: rng.uniform() * 100),
                    settings: settings,
                    emergencyDrawdown: emergency)
                #expect(s.level >= settings.floor - 1e-9 && s.level <= settings.ceiling + 1e-9)
                #expect(abs(s.level - before) <= settings.step + 1e-9)
                let open = (0..<Int(rng.uniform() * 5)).map { i in
                    Exposure(
                        symbol: "S\(i)", sector: "s\(i)", margin: 100, notional: 300 + rng.uniform() * 900,
                        strategy: i % 2 == 0 ? "Ensemble-momentum" : "Ensemble-mean_reversion")
                }
                let share = RiskGate.StrategyShare(strategy: "Ensemble-momentum", share: 0.1 + rng.uniform() * 0.9)
                let verdict = gate.evaluate(
                    symbol: "NEW", sector: "new", desiredNotional: 2000, leverage: 5, equity: equity, open: open,
                    openedToday: 0, exposureScale: s.level, allocation: share)
                guard case .allow(let notional, _, _) = verdict else { continue }
                let used = open.reduce(0) { $0 + $1.notional }
                let own = open.filter { $0.strategy == share.strategy }.reduce(0) { $0 + $1.notional }
                #expect(used + notional <= limits.maxExposureFraction * s.level * equity + 0.01)
                #expect(own + notional <= share.share * limits.maxExposureFraction * s.level * equity + 0.01)
                #expect(notional <= limits.maxExposureFraction * equity)
            }
        }
    }

    @Test func theBindingCapIsNamed() {
        let gate = RiskGate(limits: BotConfig.RiskLimits())
        let open = [
            Exposure(symbol: "ETHUSDT", sector: "mega", margin: 200, notional: 1000, strategy: "Ensemble-momentum")
        ]
        let scaled = gate.evaluate(
            symbol: "BTCUSDT", sector: "mega", desiredNotional: 2000, leverage: 5, equity: 10_000, open: [],
            openedToday: 0, exposureScale: 0.1)
        #expect(scaled == .allow(notional: 600, margin: 120, bound: "capital_scaling"))
        let allocated = gate.evaluate(
            symbol: "BTCUSDT", sector: "mega", desiredNotional: 2000, leverage: 5, equity: 10_000, open: open,
            openedToday: 0, exposureScale: 1, allocation: .init(strategy: "Ensemble-momentum", share: 0.25))
        #expect(allocated == .allow(notional: 500, margin: 100, bound: "allocation"))
        let blocked = gate.evaluate(
            symbol: "BTCUSDT", sector: "mega", desiredNotional: 2000, leverage: 5, equity: 10_000, open: open,
            openedToday: 0, exposureScale: 0.25, allocation: .init(strategy: "Ensemble-momentum", share: 0.5))
        guard case .block(let rule, let detail) = blocked else {
            Issue.record("expected a block, got \(blocked)")
            return
        }
        #expect(rule == "allocation" && detail.contains("capital scaling allows 25.0 %"), "\(detail)")
    }

    @Test func allocationFollowsAttributedPnlWithAFloor() {
        #expect(
            Allocation.shares(attributed: ["a": 100], trades: 5, asking: "b", minTrades: 20) == nil, "no record yet")
        let shares = Allocation.shares(
            attributed: ["a": 300, "b": 100, "c": -200], trades: 40, asking: nil, minTrades: 20)!
        #expect(abs(shares.values.reduce(0, +) - 1) < 1e-9)
        #expect(shares["a"]! > shares["b"]! && shares["b"]! > shares["c"]!)
        #expect(abs(shares["c"]! - 0.5 / 3) < 1e-9, "a losing strategy keeps the floor, never below zero")
        let newcomer = Allocation.shares(attributed: ["a": 300], trades: 40, asking: "b", minTrades: 20)!
        #expect(abs(newcomer["b"]! - 0.25) < 1e-9)
        let nobodyEarned = Allocation.shares(attributed: ["a": -3, "b": -1], trades: 40, asking: nil, minTrades: 20)!
        #expect(nobodyEarned == ["a": 0.5, "b": 0.5])
    }

    @Test func theHistoryJustifiesAStepAtTheFirstStart() {
        let winners = (0..<60).map { (at: at(hours: Double($0) * 2), netPnl: 10.0) }
        let grown = CapitalScaling.fromHistory(
            winners, startingEquity: 10_000, settings: settings, emergencyDrawdown: emergency, now: t0)
        #expect(grown.level == 1.0, "60 winners over 5 days: two steps up")
        #expect(grown.history.count == 1 && grown.history[0].reason == "history")
        let losers = (0..<30).map { (at: at(hours: Double($0)), netPnl: -10.0) }
        #expect(
            CapitalScaling.fromHistory(
                losers, startingEquity: 10_000, settings: settings, emergencyDrawdown: emergency, now: t0
            )
            .level == settings.floor)
        #expect(
            CapitalScaling.fromHistory(
                [], startingEquity: 10_000, settings: settings, emergencyDrawdown: emergency, now: t0
            )
            .level == settings.start)
        let json = grown.json
        #expect(CapitalScaling.parse(json) == grown, "the state round-trips")
    }

    /// The report's record health, built in one pass over trades in any order, is that of each
    /// key's newest 20 trades.
    @Test func theRecordHealthKeepsEachKeysNewestTradesWhateverTheOrder() {
        var rng = SeededRandom(seed: 3)
        let trades = (0..<500).map { i -> Position in
            let at = t0.adding(seconds: Double(i) * 60)
            return Position(
                symbol: "BTCUSDT", netPnl: i >= 480 ? -5 : 5, closedAt: Timestamp(at),
                strategy: i % 2 == 0 ? "Ensemble-momentum" : "Ensemble-mean_reversion",
                extra: JSONObject([JSONField("setup", .string("momentum:LONG"))]))
        }
        var shuffled = trades
        for i in shuffled.indices.reversed() {
            shuffled.swapAt(i, Int(rng.uniform() * Double(i + 1)))
        }
        let health = RecordHealth(closed: shuffled)
        #expect(health.bot.trades == 20 && health.bot.net == -100, "the newest 20 are the 20 losers")
        #expect(health.bot.health.score == HealthScore.record(Array(repeating: -5, count: 20)).score)
        #expect(health.strategies.map(\.name) == ["Ensemble-mean_reversion", "Ensemble-momentum"])
        #expect(health.strategies.allSatisfy { $0.trades == 20 && $0.net == 0 }, "10 winners, then 10 losers each")
        #expect(health.setups.map(\.name) == ["momentum:LONG"])
    }

    @Test func settingsParseWithDefaultsAndRefuseAStepDownPastTheEmergency() throws {
        let plain = try BotConfig.parse(
            try JSONValue.parse(#"{"wallet_reset": {"at": "2025-12-18T00:00:00Z", "starting_capital": 10000}}"#),
            file: "bot.json")
        #expect(plain.risk.scaling == ScalingSettings())
        #expect(plain.risk.scaling.enabled, "on by default")
        #expect(
            abs(plain.risk.scaling.stepDownDrawdown(emergencyDrawdown: plain.exits.emergencyDrawdown) - 0.01) < 1e-12)
        let off = try BotConfig.parse(
            try JSONValue.parse(
                #"{"wallet_reset": {"at": "2025-12-18T00:00:00Z", "starting_capital": 10000}, "risk": {"scaling": {"enabled": false}}}"#
            ),
            file: "bot.json")
        #expect(!off.risk.scaling.enabled)
        #expect(throws: ConfigError.self) {
            try BotConfig.parse(
                try JSONValue.parse(
                    #"{"wallet_reset": {"at": "2025-12-18T00:00:00Z", "starting_capital": 10000}, "risk": {"scaling": {"step_down_drawdown": 0.02}}}"#
                ),
                file: "bot.json")
        }
        do {
            _ = try BotConfig.parse(
                try JSONValue.parse(
                    #"{"wallet_reset": {"at": "2025-12-18T00:00:00Z", "starting_capital": 10000}, "risk": {"scaling": {"ceilng": 1}}}"#
                ),
                file: "bot.json")
        } catch {
            #expect("\(error)".contains(#"field "risk.scaling.ceilng": is not a known key (did you mean "ceiling"?)"#))
        }
        #expect(ScalingSettings().levels == [0.25, 0.5, 0.75, 1.0])
    }
}
