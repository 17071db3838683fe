import Testing

@testable import TradingCore

@Suite struct StrategyTests {
    let limits = BotConfig.RiskLimits()
    func gate() -> RiskGate { RiskGate(limits: limits) }

    func verdict(
        open: [Exposure] = [], openedToday: Int = 0, symbol: String = "BTCUSDT", sector: String = "mega",
        balance: Double = 10_000, leverage: Double = 5
    ) -> RiskVerdict {
        gate().evaluate(
            symbol: symbol, sector: sector, desiredNotional: 2000, leverage: leverage, balance: balance, open: open,
            openedToday: openedToday)
    }

    func rule(_ v: RiskVerdict) -> String? {
        if case .block(let rule, _) = v { return rule }
        return nil
    }

    @Test func riskGateNamesTheRuleThatBlocks() {
        #expect(verdict() == .allow(notional: 2000, margin: 400))
        let ten = (0..<10).map { Exposure(symbol: "S\($0)", sector: "s\($0)", margin: 10) }
        #expect(rule(verdict(open: ten)) == "max_positions")
        #expect(rule(verdict(open: [Exposure(symbol: "BTCUSDT", sector: "mega", margin: 10)])) == "one_per_symbol")
        let twoMega = [
            Exposure(symbol: "ETHUSDT", sector: "mega", margin: 10), Exposure(symbol: "X", sector: "mega", margin: 10),
        ]
        #expect(rule(verdict(open: twoMega)) == "max_per_sector")
        #expect(rule(verdict(openedToday: 20)) == "max_positions_per_day")
        // Exposure: 5,900 of the 6,000 margin allowed is in use -> room for 500 notional at 5x.
        let heavy = [Exposure(symbol: "A", sector: "l1", margin: 5900)]
        #expect(verdict(open: heavy) == .allow(notional: 500, margin: 100))
        let full = [Exposure(symbol: "A", sector: "l1", margin: 5990)]
        #expect(rule(verdict(open: full)) == "max_exposure_fraction")
        // Per symbol at 1x leverage: 10 % of 10,000 is 1,000 notional.
        #expect(verdict(leverage: 1) == .allow(notional: 1000, margin: 1000))
        #expect(rule(verdict(balance: 1500, leverage: 1)) == "max_symbol_fraction")
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
