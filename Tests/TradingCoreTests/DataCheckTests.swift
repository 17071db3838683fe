import TestSupport
import Testing

@testable import TradingCore

@Suite struct DataCheckTests {
    static let reset = WalletReset(at: Instant(year: 2025, month: 12, day: 18)!, startingCapital: 10_000)
    static let now = Instant(year: 2025, month: 12, day: 20)!

    func check(_ text: String, reset: WalletReset = reset, now: Instant = now) throws -> DataCheckReport {
        var check = DataCheck(reset: reset, now: now)
        try PositionsCodec.scan(Array(text.utf8)) { list, index, p, issues in
            check.add(p, list: list, index: index, issues: issues)
        }
        return check.finish()
    }

    func result(_ report: DataCheckReport, _ name: String) throws -> CheckResult {
        try #require(report.checks.first { $0.name == name })
    }

    func file(closed: [String], open: [String] = []) -> String {
        "{\"open_positions\": [\(open.joined(separator: ","))], \"closed_positions\": [\(closed.joined(separator: ","))]}"
    }

    func trade(
        _ symbol: String = "BTCUSDT", opened: String = "2025-12-18T01:00:00Z", closed: String = "2025-12-18T02:00:00Z",
        net: Double = 1
    ) -> String {
        "{\"symbol\": \"\(symbol)\", \"direction\": \"LONG\", \"exit_price\": 100, \"opened_at\": \"\(opened)\", \"closed_at\": \"\(closed)\", \"net_pnl\": \(net)}"
    }

    @Test func samplePassesEveryCheck() throws {
        var check = DataCheck(reset: Self.reset, now: Self.now)
        try PositionsCodec.scan(try Fixtures.sampleBytes()) { list, index, p, issues in
            check.add(p, list: list, index: index, issues: issues)
        }
        let report = check.finish()
        #expect(report.ok, "\(report.checks.filter { !$0.ok })")
        #expect(report.warnings.isEmpty)
        #expect(report.checks.map(\.name) == DataCheck.names)
        #expect(report.summary?.countedTrades == 25)
        #expect(abs((report.summary?.balance ?? 0) - 10_036.6009) < 1e-6)
    }

    @Test func unreadableTimestampFailsAndNamesTheRecord() throws {
        let report = try check(file(closed: [trade(), trade("ETHUSDT", closed: "2025-12-32T00:00:00Z")]))
        let r = try result(report, "records_readable")
        #expect(!r.ok && !report.ok)
        #expect(r.detail.contains("closed_positions[1] (ETHUSDT) field \"closed_at\""), "\(r.detail)")
    }

    @Test func timestampBefore2009Fails() throws {
        let report = try check(file(closed: [trade(opened: "2008-12-31T23:59:59Z")]))
        let r = try result(report, "timestamps_in_range")
        #expect(!r.ok)
        #expect(r.detail.contains("closed_positions[0] (BTCUSDT) opened_at 2008-12-31T23:59:59Z is before 2009"))
    }

    @Test func timestampPastNowPlusSkewFailsButWithinSkewPasses() throws {
        let inSkew = try check(file(closed: [trade(closed: "2025-12-20T00:04:59Z")]))
        #expect(try result(inSkew, "timestamps_in_range").ok)
        let future = try check(file(closed: [trade(closed: "2026-12-18T02:00:00Z")]))
        let r = try result(future, "timestamps_in_range")
        #expect(!r.ok)
        #expect(r.detail.contains("closed_at 2026-12-18T02:00:00Z is after now + 300 s"))
    }

    @Test func closedBeforeOpenedFails() throws {
        let report = try check(file(closed: [trade(opened: "2025-12-18T03:00:00Z", closed: "2025-12-18T02:00:00Z")]))
        let r = try result(report, "closed_after_opened")
        #expect(!r.ok)
        #expect(
            r.detail.contains(
                "closed_positions[0] (BTCUSDT) closed 2025-12-18T02:00:00Z before it opened 2025-12-18T03:00:00Z"))
    }

    @Test func resetInTheFutureFails() throws {
        let reset = WalletReset(at: Instant(year: 2026, month: 1, day: 1)!, startingCapital: 10_000)
        let report = try check(file(closed: [trade()]), reset: reset)
        let r = try result(report, "wallet_reset_not_in_future")
        #expect(!r.ok)
        #expect(r.detail.contains("is in the future"))
    }

    @Test func resetExcludingEveryTradeFailsAndSuggestsTheYear() throws {
        var check = DataCheck(
            reset: WalletReset(at: Instant(year: 2026, month: 12, day: 18)!, startingCapital: 10_000),
            now: Instant(year: 2026, month: 12, day: 20)!)
        try PositionsCodec.scan(try Fixtures.sampleBytes()) { list, index, p, issues in
            check.add(p, list: list, index: index, issues: issues)
        }
        let report = check.finish()
        let r = try result(report, "wallet_reset_window")
        #expect(!r.ok)
        #expect(r.detail.contains("excludes all 1,100 closed trades"))
        #expect(r.detail.contains("With the year 2025 instead (2025-12-18T00:00:00Z), 25 trade(s) would count"))
    }

    @Test func resetPrecedingEveryTradeWarnsButPasses() throws {
        let reset = WalletReset(at: Instant(year: 2024, month: 12, day: 18)!, startingCapital: 10_000)
        let report = try check(file(closed: [trade(), trade("ETHUSDT")]), reset: reset)
        #expect(report.ok)
        let r = try result(report, "wallet_reset_window")
        #expect(r.warning)
        #expect(report.warnings.count == 1)
        #expect(r.detail.contains("precedes every trade"))
    }

    @Test func noClosedTradesIsNotAFailure() throws {
        let report = try check(
            file(
                closed: [],
                open: [
                    #"{"symbol": "BTCUSDT", "direction": "LONG", "entry_price": 1, "size": 1, "opened_at": "2025-12-19T00:00:00Z"}"#
                ]))
        #expect(report.ok)
    }

    @Test func manyFailuresAreCountedNotAllListed() throws {
        let bad = (0..<25).map { _ in trade(opened: "2025-12-18T03:00:00Z", closed: "2025-12-18T02:00:00Z") }
        let r = try result(try check(file(closed: bad)), "closed_after_opened")
        #expect(r.detail.hasPrefix("25 trade(s) closed before they opened"))
        #expect(r.detail.contains("and 15 more"))
    }

    @Test func unreadableFileReportMarksEveryCheckNotRun() {
        let report = DataCheckReport.unreadable("x: invalid JSON")
        #expect(!report.ok)
        #expect(report.checks.map(\.name) == DataCheck.names)
        #expect(report.checks.dropFirst().allSatisfy { $0.detail.hasPrefix("not run") })
    }
}
