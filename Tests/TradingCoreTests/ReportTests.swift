import TestSupport
import Testing

@testable import TradingCore

@Suite struct ReportTests {
    static let reset = WalletReset(at: Instant(year: 2025, month: 12, day: 18)!, startingCapital: 10_000)

    @Test func sampleGivesTheOperatorsNumbers() throws {
        let file = try PositionsCodec.decode(try Fixtures.sampleBytes()).file
        let report = PerformanceReport(file: file, reset: Self.reset)
        #expect(report.totals.trades == 25)
        #expect(report.closedTradesTotal == 1100)
        #expect(abs(report.balance - 10_036.6009) < 1e-6)
        #expect(report.totals.wins == 15 && report.totals.losses == 10)
        #expect(report.openPositions == 4)
        #expect(report.byDay.keys.sorted() == ["2025-12-18", "2025-12-19"])
        #expect(report.byDay["2025-12-18"]?.trades == 18)
        #expect(report.byStrategy.values.map(\.trades).reduce(0, +) == 25)
        #expect(abs(report.bySymbol.values.map(\.netPnl).reduce(0, +) - report.totals.netPnl) < 1e-9)
        #expect(report.warnings.isEmpty)
        let json = try #require(report.json.objectValue)
        #expect(json["balance"] == .number("10036.6"))
        #expect(json["closed_trades"] == 25)
        #expect(json["closed_trades_total"] == 1100)
        #expect(json["reset_at"] == "2025-12-18T00:00:00Z")
    }

    @Test func aTradeClosedExactlyAtTheResetCountsAndOneMicrosecondEarlierDoesNot() {
        let at = Self.reset.at
        let file = PositionsFile(closed: [
            Position(symbol: "A", netPnl: 5, closedAt: Timestamp(at)),
            Position(symbol: "B", netPnl: 7, closedAt: Timestamp(Instant(microseconds: at.microseconds - 1))),
            // The same instant spelled with an offset: compared as instants, not as text.
            Position(symbol: "C", netPnl: 11, closedAt: Timestamp(instant: at, original: "2025-12-18T02:00:00+02:00")),
        ])
        let report = PerformanceReport(file: file, reset: Self.reset)
        #expect(report.totals.trades == 2)
        #expect(report.balance == 10_016)
    }

    /// Strategy names longer than the usual column keep the columns lined up.
    @Test func longStrategyNamesKeepTheColumns() {
        let at = Timestamp(Self.reset.at)
        let file = PositionsFile(closed: [
            Position(symbol: "A", netPnl: 5, closedAt: at, strategy: "Ensemble-hurst_regime"),
            Position(symbol: "B", netPnl: -7, closedAt: at, strategy: "Ensemble-mean_reversion"),
            Position(symbol: "C", netPnl: 1, closedAt: at, strategy: "short"),
        ])
        let lines = PerformanceReport(file: file, reset: Self.reset).text.split(separator: "\n")
        let strategies = lines.drop { $0 != "By strategy" }.dropFirst().prefix(3)
        let columns = Set(strategies.compactMap { $0.range(of: " trades")?.lowerBound.utf16Offset(in: $0) })
        #expect(strategies.count == 3 && columns.count == 1, "\(strategies)")
    }

    @Test func missingNetPnlFallsBackToGrossLessFees() {
        let file = PositionsFile(closed: [
            Position(symbol: "A", pnl: 10, closedAt: Timestamp(Self.reset.at), extra: ["fees": 1.5])
        ])
        #expect(PerformanceReport(file: file, reset: Self.reset).balance == 10_008.5)
    }

    @Test func wrongYearWarns() throws {
        let file = try PositionsCodec.decode(try Fixtures.sampleBytes()).file
        let report = PerformanceReport(
            file: file, reset: WalletReset(at: Instant(year: 2026, month: 12, day: 18)!, startingCapital: 10_000))
        #expect(report.totals.trades == 0)
        #expect(report.warnings.first?.contains("excludes all 1,100 closed trades") == true)
    }
}
