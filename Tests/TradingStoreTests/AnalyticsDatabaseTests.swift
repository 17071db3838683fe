import TestSupport
import Testing

@testable import TradingCore
@testable import TradingStore

@Suite struct AnalyticsDatabaseTests {
    @Test func mirrorsTheSampleInWALModeAndReconciles() throws {
        let path = try Fixtures.temporaryDirectory("db") + "/trading_system.db"
        let db = try AnalyticsDatabase(path: path)
        #expect(try db.journalMode() == "wal")
        var file = try PositionsCodec.decode(try Fixtures.sampleBytes()).file
        #expect(try db.rebuild(from: file) == 1100)
        let since = try db.totals(since: Instant(year: 2025, month: 12, day: 18))
        #expect(since.trades == 25)
        #expect(abs(since.netPnl - 36.6009) < 1e-6)
        #expect(try db.totals().trades == 1100)
        #expect(try db.reconcile(with: file).agrees)

        // A trade the file has and the mirror lacks is named; upsert mends it.
        let added = Position(
            symbol: "ETHUSDT", netPnl: 2, closedAt: Timestamp(Instant(year: 2025, month: 12, day: 19, hour: 20)!))
        file.closed.append(added)
        let drift = try db.reconcile(with: file)
        #expect(!drift.agrees)
        #expect(drift.missingFromDatabase.count == 1 && drift.missingFromDatabase[0].hasPrefix("ETHUSDT|"))
        try db.upsert([added])
        #expect(try db.reconcile(with: file).agrees)

        // Reopening the same file sees the same data (a real file, not memory).
        let reopened = try AnalyticsDatabase(path: path)
        #expect(try reopened.totals().trades == 1101)
    }

    @Test func identicalTradesAreKeptApart() throws {
        let db = try AnalyticsDatabase(path: try Fixtures.temporaryDirectory("db") + "/t.db")
        let p = Position(symbol: "BTCUSDT", netPnl: 1, closedAt: Timestamp(Instant(year: 2025, month: 12, day: 19)!))
        let file = PositionsFile(closed: [p, p, p])
        #expect(try db.rebuild(from: file) == 3)
        #expect(try db.reconcile(with: file).agrees)
    }
}

@Suite struct AnalyticsInspectionTests {
    @Test func inspectionReadsWithoutWriting() throws {
        let path = try Fixtures.temporaryDirectory("inspect") + "/trading_system.db"
        #expect(try AnalyticsDatabase.inspect(path: path) == nil)
        #expect(!FileIO.exists(path), "inspecting a missing database does not create it")
        let file = try PositionsCodec.decode(try Fixtures.sampleBytes()).file
        try AnalyticsDatabase(path: path).rebuild(from: file)
        let before = try FileIO.read(path)
        let found = try #require(try AnalyticsDatabase.inspect(path: path))
        #expect(found.journalMode == "wal" && found.trades == 1100)
        #expect(try FileIO.read(path) == before)
    }
}
