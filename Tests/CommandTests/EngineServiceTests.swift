import Foundation
import TestSupport
import Testing

@testable import TradingCore
@testable import TradingStore

/// The service as the operator runs it: a real `tradingbot run` process on a short wall-clock cycle.
@Suite(.serialized) struct EngineServiceTests {
    static let fastConfig = """
        {"wallet_reset": {"at": "2025-12-18T00:00:00Z", "starting_capital": 10000}, "cycle_seconds": 1,
         "exits": {"min_hold_seconds": 0, "max_hold_seconds": 3, "trailing_activation": 0.008, "trailing_distance": 0.005,
          "profit_lock_trigger": 0.015, "profit_lock_floor": 0.005, "emergency_position_loss": 0.02, "emergency_drawdown": 0.015},
         "strategy": {"leverage": 5, "entry_threshold": 0.15, "min_agreeing": 2}}
        """

    func start(_ home: String, _ extra: [String] = []) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandRunner.path("tradingbot"))
        process.arguments = ["run", "--home", home] + extra
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    func heartbeat(_ home: String) -> Heartbeat? { try? HeartbeatStore(home: Home(root: home)).read() }

    /// Polls until `condition` holds or `seconds` pass.
    func waitFor(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(50_000)
        }
        return condition()
    }

    @Test(.timeLimit(.minutes(2))) func secondEngineIsRefusedAndSigtermStopsWithinOneSecond() throws {
        let home = try CommandRunner.makeHome(botConfig: Self.fastConfig)
        let engine = try start(home)
        defer { if engine.isRunning { kill(engine.processIdentifier, SIGKILL) } }
        #expect(waitFor(20) { (heartbeat(home)?.cycle ?? 0) >= 2 && heartbeat(home)?.phase == "idle" }, "the engine cycles")
        let beat = try #require(heartbeat(home))
        #expect(beat.pid == Int(engine.processIdentifier))
        #expect(beat.symbolsEvaluated == 16 && beat.signalsEvaluated == 160)

        let second = try CommandRunner.run("tradingbot", ["run", "--home", home, "--max-cycles", "1"])
        #expect(second.status == 2)
        #expect(second.stderr.contains("pid \(engine.processIdentifier)"), "\(second.stderr)")

        let sent = Date()
        kill(engine.processIdentifier, SIGTERM)
        engine.waitUntilExit()
        let took = Date().timeIntervalSince(sent)
        #expect(took < 1.0, "stopped in \(took) s")
        #expect(engine.terminationStatus == 0)
        #expect(heartbeat(home)?.phase == "stopped")
        // The lock is free again: a bounded run starts and finishes.
        let after = try CommandRunner.run("tradingbot", ["run", "--home", home, "--max-cycles", "1"])
        #expect(after.status == 0, "\(after.stderr)")
        let log = try JSONLAppender.readAll(home + "/logs/bot.jsonl").compactMap { $0.objectValue?["event"]?.stringValue }
        #expect(log.contains("engine_started") && log.contains("engine_stopped"))
    }

    @Test(.timeLimit(.minutes(3))) func sigkillAndRestartLosesNoClosedTradeAndResumesOpenPositions() throws {
        let home = try CommandRunner.makeHome(botConfig: Self.fastConfig)
        let positions = home + "/logs/positions_futures.json"
        let first = try start(home)
        defer { if first.isRunning { kill(first.processIdentifier, SIGKILL) } }
        let store = PositionsStore(path: positions, lockPath: home + "/state/positions.lock")
        #expect(waitFor(60) { ((try? store.load().closed.count) ?? 0) > 1103 }, "trades close under the short exits")
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        let atKill = try store.load()
        func key(_ p: Position) -> String { "\(p.symbol)|\(p.openedAt?.instant.microseconds ?? 0)" }
        let closedAtKill = Set(atKill.closed.map(key))
        let openAtKill = Set(atKill.open.map(key))

        let second = try start(home)
        defer { if second.isRunning { kill(second.processIdentifier, SIGKILL) } }
        #expect(waitFor(20) { heartbeat(home)?.pid == Int(second.processIdentifier) && (heartbeat(home)?.cycle ?? 0) >= 3 },
            "the restarted engine took the lock over from the dead holder and cycles")
        kill(second.processIdentifier, SIGTERM)
        second.waitUntilExit()
        let after = try store.load()
        let closedAfter = Set(after.closed.map(key))
        #expect(closedAtKill.isSubset(of: closedAfter), "closed trades lost: \(closedAtKill.subtracting(closedAfter).prefix(3))")
        let resumed = openAtKill.filter { closedAfter.contains($0) || Set(after.open.map(key)).contains($0) }
        #expect(resumed == openAtKill, "every position open at the kill is still open or was closed by the new engine")
        #expect(after.closed.prefix(1100).allSatisfy { $0.closedAt != nil })
        let check = try CommandRunner.run(
            "deployctl", ["check", "data", "--home", home, "--positions", positions, "--json"])
        #expect(check.status == 0, "\(check.stdout)")
    }

    @Test func selfcheckReportsEverySubsystem() throws {
        let home = try CommandRunner.makeHome()
        let out = try CommandRunner.run("tradingbot", ["selfcheck", "--home", home, "--json"])
        #expect(out.status == 0, "\(out.stdout)")
        let names = (try out.json()["checks"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(names == ["config", "home", "positions", "database", "weights", "feed", "signals", "risk", "broker"])
        try Fixtures.write("{\"open_positions\": [", to: home + "/logs/positions_futures.json")
        let broken = try CommandRunner.run("tradingbot", ["selfcheck", "--home", home])
        #expect(broken.status == 1)
        #expect(broken.stdout.contains("FAIL positions"))
    }

    @Test func liveModeAndUnknownFeedsAreUsageErrors() throws {
        let home = try CommandRunner.makeHome()
        #expect(try CommandRunner.run("tradingbot", ["run", "--home", home, "--mode", "live"]).status == 2)
        #expect(try CommandRunner.run("tradingbot", ["run", "--home", home, "--feed", "carrier-pigeon"]).status == 2)
    }
}
