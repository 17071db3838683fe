import Testing

@testable import TradingCore

@Suite struct StrategyTests {
    let limits = BotConfig.RiskLimits()
    func gate(_ basis: String = "notional") -> RiskGate {
        var l = limits
        l.exposureBasis = basis
        return RiskGate(limits: l)
    }

    func verdict(
        open: [Exposure] = [], openedToday: Int = 0, symbol: String = "BTCUSDT", sector: String = "mega",
        equity: Double = 10_000, leverage: Double = 5, basis: String = "notional"
    ) -> RiskVerdict {
        gate(basis).evaluate(
            symbol: symbol, sector: sector, desiredNotional: 2000, leverage: leverage, equity: equity, open: open,
            openedToday: openedToday)
    }

    func rule(_ v: RiskVerdict) -> String? {
        if case .block(let rule, _) = v { return rule }
        return nil
    }

    func at(_ notional: Double, margin: Double = 0, symbol: String = "A", sector: String = "l1") -> Exposure {
        Exposure(symbol: symbol, sector: sector, margin: margin, notional: notional)
    }

    @Test func riskGateNamesTheRuleThatBlocks() {
        let ten = (0..<10).map { at(10, symbol: "S\($0)", sector: "s\($0)") }
        #expect(rule(verdict(open: ten)) == "max_positions")
        #expect(rule(verdict(open: [at(10, symbol: "BTCUSDT", sector: "mega")])) == "one_per_symbol")
        let twoMega = [at(10, symbol: "ETHUSDT", sector: "mega"), at(10, symbol: "X", sector: "mega")]
        #expect(rule(verdict(open: twoMega)) == "max_per_sector")
        #expect(rule(verdict(openedToday: 20)) == "max_positions_per_day")
    }

    /// The usual futures meaning: at $10,000 and 5x the 10 % per-symbol cap is $1,000 of
    /// notional, and it binds before max_notional ($2,000); 60 % of equity is $6,000 in all.
    @Test func limitsBindOnNotionalAgainstEquityAndTheEntrySaysWhichCapBound() {
        #expect(verdict() == .allow(notional: 1000, margin: 200, bound: "max_symbol_fraction"))
        #expect(verdict(equity: 30_000) == .allow(notional: 2000, margin: 400, bound: "max_notional"))
        // 5,500 of the 6,000 notional allowed is in use: room for 500.
        #expect(verdict(open: [at(5500)]) == .allow(notional: 500, margin: 100, bound: "max_exposure_fraction"))
        #expect(rule(verdict(open: [at(5900)])) == "max_exposure_fraction", "room below the minimum notional")
        // Equity, not the realised balance: an unrealised loss shrinks the room.
        #expect(verdict(equity: 8_000) == .allow(notional: 800, margin: 160, bound: "max_symbol_fraction"))
        // An operator who meant margin says so: 10 % of 10,000 margin at 5x is 5,000 notional.
        #expect(verdict(basis: "margin") == .allow(notional: 2000, margin: 400, bound: "max_notional"))
        #expect(rule(verdict(open: [at(0, margin: 5990)], basis: "margin")) == "max_exposure_fraction")
        // The invariant the replay checks every cycle.
        let gate = gate()
        #expect(gate.invariantViolations(open: [at(1000), at(1000, symbol: "B")], equity: 10_000).isEmpty)
        #expect(!gate.invariantViolations(open: [at(1500)], equity: 10_000).isEmpty)
        // Equity that fell 4 % after a full-size entry: a violation, unless the caller allows it.
        #expect(!gate.invariantViolations(open: [at(1000)], equity: 9_600).isEmpty)
        #expect(gate.invariantViolations(open: [at(1000)], equity: 9_600, equityDrift: 0.05).isEmpty)
        #expect(
            !gate.invariantViolations(open: (0..<7).map { at(990, symbol: "S\($0)", sector: "s\($0)") }, equity: 10_000)
                .isEmpty)
    }

    /// Within a candle, the first stop the price meets falling from the open fills at its level,
    /// or at the open past a gap; only stops standing before the candle count.
    @Test func stopsWithinACandle() {
        let policy = ExitPolicy()
        #expect(
            policy.stopWithin(heldSeconds: 600, openMove: 0.001, adverseMove: -0.021, bestMove: 0)
                == StopHit(reason: .emergencyPositionLoss, fillMove: -0.02, gapped: false))
        #expect(
            policy.stopWithin(heldSeconds: 0, openMove: -0.03, adverseMove: -0.035, bestMove: 0)
                == StopHit(reason: .emergencyPositionLoss, fillMove: -0.03, gapped: true), "a gap fills at the open")
        #expect(
            policy.stopWithin(heldSeconds: 600, openMove: 0.009, adverseMove: 0.004, bestMove: 0.01)
                == StopHit(reason: .trailingStop, fillMove: 0.005, gapped: false))
        // Profit lock (floor 0.5 %) and trailing stop (1.6 % - 0.5 %) both stand: the higher is met first.
        let both = policy.stopWithin(heldSeconds: 600, openMove: 0.012, adverseMove: 0.0, bestMove: 0.016)
        #expect(both?.reason == .trailingStop && abs((both?.fillMove ?? 0) - 0.011) < 1e-12)
        #expect(
            policy.stopWithin(heldSeconds: 10, openMove: 0.009, adverseMove: 0.004, bestMove: 0.01) == nil,
            "the trailing stop waits for the minimum hold")
        #expect(policy.stopWithin(heldSeconds: 600, openMove: 0, adverseMove: -0.019, bestMove: 0.005) == nil)
    }

    @Test func exitsInOrderOfUrgency() {
        let policy = ExitPolicy()
        #expect(policy.exit(heldSeconds: 10, move: -0.021, bestMove: 0, drawdown: 0) == .emergencyPositionLoss)
        #expect(policy.exit(heldSeconds: 10, move: -0.001, bestMove: 0, drawdown: 0.016) == .emergencyDrawdown)
        #expect(policy.exit(heldSeconds: 10, move: -0.015, bestMove: 0, drawdown: 0) == nil, "min hold")
        #expect(policy.exit(heldSeconds: 4 * 3600, move: 0.001, bestMove: 0.001, drawdown: 0) == .maxHold)
        #expect(policy.exit(heldSeconds: 600, move: 0.004, bestMove: 0.016, drawdown: 0) == .profitLock)
        #expect(policy.exit(heldSeconds: 600, move: 0.004, bestMove: 0.01, drawdown: 0) == .trailingStop)
        #expect(policy.exit(heldSeconds: 600, move: 0.007, bestMove: 0.01, drawdown: 0) == nil)
    }

    @Test func circuitBreakerTripsOnDailyLossAndRecoversNextDay() throws {
        var breaker = CircuitBreaker(dailyLossLimitFraction: 0.05)
        let noon = try #require(Instant(year: 2025, month: 12, day: 18, hour: 12))
        #expect(breaker.update(now: noon, dayStartBalance: 10_000, dayPnl: -499, killSwitch: false) == nil)
        #expect(breaker.allowsEntries)
        let change = breaker.update(now: noon, dayStartBalance: 10_000, dayPnl: -500, killSwitch: false)
        #expect(change?.contains("until 2025-12-19T00:00:00Z") == true)
        #expect(!breaker.allowsEntries)
        #expect(
            breaker.update(now: noon.adding(seconds: 3600), dayStartBalance: 10_000, dayPnl: 0, killSwitch: false)
                == nil)
        let midnight = try #require(Instant(year: 2025, month: 12, day: 19))
        #expect(
            breaker.update(now: midnight, dayStartBalance: 9_500, dayPnl: 0, killSwitch: false)
                == "circuit breaker re-armed")
        #expect(
            breaker.update(now: midnight, dayStartBalance: 9_500, dayPnl: 0, killSwitch: true)?.contains("kill switch")
                == true)
        #expect(!breaker.allowsEntries)
        #expect(
            breaker.update(now: midnight, dayStartBalance: 9_500, dayPnl: 0, killSwitch: false)
                == "circuit breaker re-armed")
    }

    @Test func weightsLearnFromOutcomesWithinBounds() {
        var weights = SignalWeights()
        weights.learn(scores: ["momentum": 1, "mean_reversion": -1], direction: .long, netPnl: 5)
        #expect(weights.weight("momentum") > 1 && weights.weight("mean_reversion") < 1)
        for _ in 0..<500 { weights.learn(scores: ["momentum": 1], direction: .long, netPnl: -1) }
        #expect(weights.weight("momentum") == SignalWeights.bounds.lowerBound)
        #expect(weights.tradesLearned == 501)
    }

    @Test func expectancyGateBlocksLosersAndForgetsThem() throws {
        var gate = ExpectancyGate()
        let t0 = try #require(Instant(year: 2025, month: 12, day: 18))
        for i in 0..<4 { gate.record(setup: "momentum:LONG", netPnl: -1, at: t0.adding(seconds: Double(i))) }
        #expect(gate.blockReason(setup: "momentum:LONG", now: t0) == nil, "fewer than 5 trades")
        gate.record(setup: "momentum:LONG", netPnl: -1, at: t0)
        #expect(gate.blockReason(setup: "momentum:LONG", now: t0.adding(seconds: 60)) != nil)
        #expect(gate.blockReason(setup: "momentum:SHORT", now: t0) == nil)
        #expect(gate.blockReason(setup: "momentum:LONG", now: t0.adding(seconds: 73 * 3600)) == nil, "outcomes expire")
    }

    @Test func ensembleWeighsAndFindsTheDominantSignal() {
        let readings: [(name: String, reading: SignalReading)] = [
            ("momentum", .score(0.8)), ("trend_strength", .score(0.6)), ("mean_reversion", .score(-0.2)),
            ("ofi", .unavailable("no trades")),
        ]
        let decision = EnsembleDecision(readings: readings, weights: SignalWeights())
        #expect(abs(decision.score - 0.4) < 1e-12)
        #expect(decision.available == 3 && decision.agreeing == 2)
        #expect(decision.setup == "momentum:LONG")
        let reweighted = EnsembleDecision(readings: readings, weights: SignalWeights(weights: ["mean_reversion": 3]))
        #expect(reweighted.score < decision.score)
    }

    @Test func fillsAtTheTouchWithFees() {
        let model = FillModel(fees: BotConfig.Fees(), slippage: 0.001)
        #expect(model.marketPrice(buy: true, bid: 99, ask: 100) == 100.1)
        #expect(model.marketPrice(buy: false, bid: 100, ask: 101) == 99.9)
        #expect(abs(model.fee(notional: 1000) - 0.6) < 1e-12)
        #expect(abs(model.fee(notional: 1000, maker: true) - 0.2) < 1e-12)
    }
}
