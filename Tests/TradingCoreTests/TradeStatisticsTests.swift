import Testing

@testable import TradingCore

/// The numbers strategies are compared by, checked against values worked out by hand.
@Suite struct TradeStatisticsTests {
    func trade(_ net: Double, fees: Double, reason: String, heldMinutes: Double) -> Position {
        let opened = Instant(microseconds: 1_700_000_000_000_000)
        var extra = JSONObject()
        extra["fees"] = .double(fees)
        extra["exit_reason"] = .string(reason)
        var p = Position(
            symbol: "BTCUSDT", direction: "LONG", entryPrice: 100, size: 1, leverage: 5, marginCollateral: 20,
            openedAt: Timestamp(opened), strategy: "s", botType: "alpha", extra: extra)
        p.closedAt = Timestamp(opened.adding(seconds: heldMinutes * 60))
        p.netPnl = net
        return p
    }

    @Test func feesProfitFactorExpectancyHoldsAndExitReasons() {
        var s = TradeStatistics()
        #expect(s.profitFactor == nil && s.expectancy == nil)
        s.add(trade(30, fees: 1, reason: "trailing_stop", heldMinutes: 10), net: 30)
        s.add(trade(-10, fees: 1.5, reason: "max_hold", heldMinutes: 240), net: -10)
        s.add(trade(-5, fees: 0.5, reason: "trailing_stop", heldMinutes: 50), net: -5)
        #expect(s.profitFactor == 2, "30 won / 15 lost")
        #expect(s.expectancy == 5, "15 net over 3 trades")
        #expect(s.totalFees == 3)
        #expect(abs((s.averageHoldSeconds ?? 0) - 100 * 60) < 1e-6)
        #expect(s.exitReasons == ["trailing_stop": 2, "max_hold": 1])
        var winsOnly = TradeStatistics()
        winsOnly.add(trade(1, fees: 0, reason: "x", heldMinutes: 1), net: 1)
        #expect(winsOnly.profitFactor == nil, "no losses: null, not infinity")
    }

    @Test func sharpeSortinoAndDrawdownByHand() throws {
        let returns = TradeStatistics.dailyReturns(start: 100, dayEnds: [102, 102, 99.96])
        #expect(zip(returns, [0.02, 0, -0.02]).allSatisfy { abs($0 - $1) < 1e-12 } && returns.count == 3)
        // [0.02, -0.01]: mean 0.005, sd 0.0212132, downside sqrt(0.0001 / 2) = 0.0070711.
        let (sharpe, sortino) = TradeStatistics.ratios([0.02, -0.01])
        #expect(abs(try #require(sharpe) - 0.005 / 0.0212132 * 365.0.squareRoot()) < 1e-3)
        #expect(abs(try #require(sortino) - 0.005 / 0.0070711 * 365.0.squareRoot()) < 1e-3)
        let one = TradeStatistics.ratios([0.01])
        #expect(one.sharpe == nil && one.sortino == nil, "one day is not a series")
        let flatUp = TradeStatistics.ratios([0.01, 0.01])
        #expect(flatUp.sharpe == nil && flatUp.sortino == nil, "no variation, no downside")
        #expect(TradeStatistics.maxDrawdown([100, 110, 99, 120, 108]) == 0.1)
    }

    @Test func theWorstDayIsTheLargestFallFromOneDaysEndToTheNext() {
        #expect(TradeStatistics.worstDay(start: 100, dayEnds: [102, 97, 99, 96.5]) == -5)
        #expect(TradeStatistics.worstDay(start: 100, dayEnds: [90, 95]) == -10, "the first day from the start")
        #expect(TradeStatistics.worstDay(start: 100, dayEnds: [101, 103]) == 0, "no day lost")
        #expect(TradeStatistics.worstDay(start: 100, dayEnds: []) == 0)
    }

    @Test func theReportCarriesThemAndCountsQuietDays() throws {
        let reset = WalletReset(at: Instant(microseconds: 0), startingCapital: 1000)
        let day = 86_400.0
        var a = trade(10, fees: 1, reason: "max_hold", heldMinutes: 60)
        var b = trade(-20, fees: 1, reason: "trailing_stop", heldMinutes: 60)
        // Two trades two days apart: three day ends, the quiet day a zero return.
        b.openedAt = Timestamp(a.openedAt!.instant.adding(seconds: 2 * day))
        b.closedAt = Timestamp(a.closedAt!.instant.adding(seconds: 2 * day))
        a.extra["funding"] = .double(-0.5)
        let report = PerformanceReport(file: PositionsFile(closed: [a, b]), reset: reset)
        #expect(report.balanceAtDayEnds == [1010, 1010, 990])
        let json = try #require(report.json.objectValue)
        #expect(json["total_fees"] == .double(2) && json["funding"] == .double(-0.5))
        #expect(json["profit_factor"] == .double(0.5) && json["expectancy"] == .double(-5))
        #expect(json["exit_reasons"]?.objectValue?["max_hold"] == .int(1))
        #expect(json["max_drawdown"]?.doubleValue.map { abs($0 - 20.0 / 1010) < 1e-4 } == true)
        // Three day ends: returns 1 %, 0 %, -1.98 %; both ratios are numbers, not null.
        let (sharpe, sortino) = TradeStatistics.ratios(
            TradeStatistics.dailyReturns(start: 1000, dayEnds: [1010, 1010, 990]))
        let shown = { (v: Double?) in v.map { JSONValue.double(($0 * 10_000).rounded() / 10_000) } }
        #expect(json["sharpe"] == shown(sharpe) && json["sharpe"]?.doubleValue != nil)
        #expect(json["sortino"] == shown(sortino) && json["sortino"]?.doubleValue != nil)
        #expect(json["avg_hold_seconds"] == .double(3600))
    }
}
