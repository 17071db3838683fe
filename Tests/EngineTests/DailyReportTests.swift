import Foundation
import TestSupport
import Testing

@testable import Engine
@testable import Exchange
@testable import TradingCore
@testable import TradingStore

/// The engine writes each UTC day's report when the day ends, catches up yesterday's after a
/// restart, and a report it cannot write never stops trading.
@Suite struct DailyReportTests {
    func engine(home: Home, start: Instant) throws -> TradingEngine {
        let universe = try ConfigFiles.assetUniverse(Fixtures.repoRoot + "/config/asset_universe.json")
        var config = try ConfigFiles.bot(Fixtures.repoRoot + "/config/bot.json")
        config.strategy.entryThreshold = 0.05
        config.strategy.minAgreeing = 1
        config.exits.maxHoldSeconds = 120  // trades close within the test's hour
        config.exits.minHoldSeconds = 60
        return try TradingEngine(
            config: config, universe: universe,
            feed: SimulatedFeed(symbols: universe.symbols, seed: 5, intervalSeconds: 60, start: start),
            stores: try EngineStores(home: home))
    }

    @Test func eachDayEndsWithItsReportAndARestartCatchesUp() throws {
        let home = Home(root: try Fixtures.temporaryDirectory("daily"))
        let start = try #require(Instant(year: 2025, month: 12, day: 19, hour: 23, minute: 0))
        let engine = try engine(home: home, start: start)
        var t = start
        while t < start.adding(seconds: 3900) {
            _ = try engine.runCycle(now: t)
            t = t.adding(seconds: 60)
        }
        let path = home.reportsDir + "/2025-12-19.json"
        let report = try #require(try ConfigFiles.json(path).objectValue)
        let closedThatDay = engine.file.closed.filter {
            ($0.closedAt?.instant).map { $0 < start.adding(seconds: 3600) && $0 >= start.startOfUTCDay } ?? false
        }
        #expect(!closedThatDay.isEmpty, "the drill closes trades before midnight")
        #expect(report["day_trades"]?.doubleValue == Double(closedThatDay.count))
        let net = closedThatDay.compactMap(\.effectiveNetPnl).reduce(0, +)
        #expect(abs((report["day_net_pnl"]?.doubleValue ?? 0) - net) < 0.01)
        let text = try String(contentsOfFile: home.reportsDir + "/2025-12-19.txt", encoding: .utf8)
        #expect(text.hasPrefix("Daily report 2025-12-19 (UTC)") && text.contains("Balance"))
        #expect(!FileIO.exists(home.reportsDir + "/2025-12-20.json"), "the day that runs has no report yet")
        // A copy of the positions file as the day closed, to restore from: the operator's, 0600.
        let snapshot = home.stateDir + "/snapshots/day-2025-12-19.positions.json"
        let copy = try PositionsCodec.decode(try FileIO.read(snapshot)).file
        #expect(copy.closed.count == closedThatDay.count)
        var info = stat()
        stat(snapshot, &info)
        #expect(info.st_mode & 0o777 == 0o600)

        // Lost (a restart at the wrong moment): a new engine writes yesterday's on its first cycle.
        try FileIO.remove(path)
        try engine.persist(now: WallClock.now)
        let restarted = try self.engine(home: home, start: t)
        _ = try restarted.runCycle(now: t)
        #expect(FileIO.exists(path), "yesterday's report caught up after a restart")
    }

    @Test func aReportThatCannotBeWrittenNeverStopsTrading() throws {
        let home = Home(root: try Fixtures.temporaryDirectory("dailyfail"))
        try home.createDirectories()
        // A folder where the report's file should go: the write fails, even for root.
        try FileManager.default.createDirectory(
            atPath: home.reportsDir + "/2025-12-19.json/x", withIntermediateDirectories: true)
        // And a file where the snapshots' folder should be.
        try Fixtures.write("not a folder", to: home.stateDir + "/snapshots")
        let start = try #require(Instant(year: 2025, month: 12, day: 19, hour: 23, minute: 30))
        let engine = try engine(home: home, start: start)
        var t = start
        var cycles = 0
        while t < start.adding(seconds: 3600) {
            if try engine.runCycle(now: t) != nil { cycles += 1 }
            t = t.adding(seconds: 60)
        }
        #expect(cycles == 60, "every cycle ran")
        let failures = try JSONLAppender.readAll(home.botLog).compactMap { $0.objectValue }.filter {
            $0["event"] == "daily_report_failed"
        }
        #expect(failures.count == 1 && failures.first?["level"] == "error", "\(failures)")
        let snapshotFailures = try JSONLAppender.readAll(home.botLog).compactMap { $0.objectValue }.filter {
            $0["event"] == "snapshot_failed"
        }
        #expect(snapshotFailures.count == 1, "\(snapshotFailures)")
    }

    /// A write that fails stops entries at once, every time; the critical line is said once per
    /// ten minutes, so a failure that comes and goes each cycle does not page the operator each
    /// cycle.
    @Test func aFlappingWriteFailureReducesEachTimeAndIsSaidOnce() throws {
        let home = Home(root: try Fixtures.temporaryDirectory("flapping"))
        let start = try #require(Instant(year: 2025, month: 12, day: 19, hour: 12))
        let engine = try engine(home: home, start: start)
        let failure = StoreError(path: home.signalsLog, message: "write failed: No space left on device")
        for minute in [0, 1, 2, 11] {
            let at = start.adding(seconds: Double(minute * 60))
            engine.noteWriteFailure(failure, now: at)
            #expect(engine.reducingReason?.contains("cannot write its files") == true)
            try engine.persist(now: at)
            #expect(engine.reducingReason == nil, "a real write of the positions ends it")
        }
        let events = try JSONLAppender.readAll(home.botLog).compactMap { $0.objectValue?["event"]?.stringValue }
        #expect(events.filter { $0 == "writes_failing" }.count == 2, "\(events)")
        #expect(events.filter { $0 == "writes_recovered" }.count == 2)
    }
}
