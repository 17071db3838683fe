import Foundation
import TestSupport
import Testing

@testable import TradingCore
@testable import TradingStore

/// One bad value must never stop trading: the engine starts, trades on the readable records,
/// exits the positions it can value, and stays reducing while one open position cannot be
/// valued. The old bot's files come in through `tradingbot import`.
@Suite struct UnreadableRecordsTests {
    @Test(.timeLimit(.minutes(20))) func engineStartsReducingAndExitsTheOthers() throws {
        let g = try PythonFilesTests.generate()
        let home = try CommandRunner.makeHome()
        try FileManager.default.removeItem(atPath: home + "/logs/positions_futures.json")
        try FileManager.default.copyItem(
            atPath: g.file("open-nan.json"), toPath: home + "/logs/positions_futures.json")
        // Weights another bot wrote, in a shape this engine cannot read, must not stop it either.
        try FileManager.default.createDirectory(atPath: home + "/feature_store", withIntermediateDirectories: true)
        try Fixtures.write(#"{"ofi": {"w": 1.2}}"#, to: home + "/feature_store/signal_weights.json")
        let selfcheck = try CommandRunner.run("tradingbot", ["selfcheck", "--home", home])
        #expect(selfcheck.status == 0, "\(selfcheck.stdout)")
        #expect(selfcheck.stdout.contains("WARN positions") && selfcheck.stdout.contains("reducing"))
        #expect(selfcheck.stdout.contains("WARN weights"))

        let out = try CommandRunner.run(
            "tradingbot", ["run", "--home", home, "--feed", "sim", "--cycle-seconds", "1", "--max-cycles", "2"])
        #expect(out.status == 0, "\(out.stderr)")
        let events = try JSONLAppender.readAll(home + "/logs/bot.jsonl").compactMap { $0.objectValue }
        let unreadable = try #require(events.first { $0["event"]?.stringValue == "positions_unreadable" })
        // An open position it cannot value stops entries: critical, so the watchdog alerts at once.
        #expect(unreadable["level"] == "critical")
        #expect(unreadable.serializedText.contains("open_positions[1] (DOGEUSDT) field \\\"entry_price\\\": is NaN"))
        #expect(events.contains { $0["event"]?.stringValue == "reducing" && $0["level"] == "error" })
        #expect(events.contains { $0["event"]?.stringValue == "weights_unreadable" && $0["level"] == "error" })
        let aside = try FileManager.default.contentsOfDirectory(atPath: home + "/feature_store")
        #expect(aside.contains { $0.hasPrefix("signal_weights.json.unreadable-") }, "\(aside)")
        let beat = try #require(try HeartbeatStore(home: Home(root: home)).read())
        #expect(beat.reducing?.contains("DOGEUSDT: entry_price is NaN") == true, "\(beat)")

        // The three positions it can value were exited (held far past max hold); the fourth stays
        // open, its NaN kept as written; nothing new was opened.
        let after = try PositionsStore(home: Home(root: home)).decode()
        #expect(after.file.open.count == 1)
        #expect(after.file.open.first?.extra["entry_price"] == .number("NaN"))
        #expect(after.file.closed.count == 1103)
        #expect(after.file.closed.suffix(3).allSatisfy { $0.extra["exit_reason"] != nil && $0.symbol != "" })
        #expect(Set(after.file.closed.suffix(3).map(\.symbol)) == ["XRPUSDT", "OPUSDT", "DOGEUSDT"])
        let signals = try JSONLAppender.readAll(home + "/logs/signals.jsonl").compactMap { $0.objectValue }
        #expect(!signals.contains { $0["action"] == "executed" })
        #expect(signals.filter { $0["action"] == "blocked" }.allSatisfy { $0["rule"] == "reducing" })
    }

    func oldBot() throws -> (dir: String, generated: PythonFilesTests.Generated) {
        let g = try PythonFilesTests.generate()
        let dir = try Fixtures.temporaryDirectory("oldbot")
        for sub in ["logs", "feature_store/learning"] {
            try FileManager.default.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: true)
        }
        try FileManager.default.copyItem(
            atPath: g.file("python-default.json"), toPath: dir + "/logs/positions_futures.json")
        try Fixtures.write(
            "{\"symbol\": \"BTCUSDT\", \"score\": NaN}\n{\"symbol\": \"ETHUSDT\"}\n", to: dir + "/logs/signals.jsonl")
        try Fixtures.write("{\"cycle\": 1}\n", to: dir + "/logs/enriched_decisions.jsonl")
        try Fixtures.write("{\"weights\": {\"ofi\": 1.2}}", to: dir + "/feature_store/learning/weights.json")
        try Fixtures.write(
            "{\"ofi\": 1.2, \"updated\": \"2025-12-19\"}", to: dir + "/feature_store/signal_weights.json")
        return (dir, g)
    }

    @Test func importBringsTheOldBotInAndNeverTouchesTheSource() throws {
        let (dir, g) = try oldBot()
        let sourceBytes = try FileIO.read(dir + "/logs/positions_futures.json")
        let home = try CommandRunner.makeHome()
        try FileManager.default.removeItem(atPath: home + "/logs/positions_futures.json")

        let dry = try CommandRunner.run("tradingbot", ["import", "--from", dir, "--home", home, "--dry-run"])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("4 open, 1,100 closed, 2025-10-20T00:15:29Z .. "), "\(dry.stdout)")
        #expect(dry.stdout.contains("25 trade(s) would count, balance $10,036.60"))
        #expect(dry.stdout.contains("signals.jsonl: 2 line(s)") && dry.stdout.contains("feature_store: 2 file(s)"))
        #expect(dry.stdout.contains("imported as signal_weights.imported.json"))
        #expect(dry.stdout.contains("Dry run: nothing was written."))
        #expect(!FileManager.default.fileExists(atPath: home + "/logs/positions_futures.json"))

        let out = try CommandRunner.run("tradingbot", ["import", "--from", dir, "--home", home, "--json"])
        #expect(out.status == 0, "\(out.stdout) \(out.stderr)")
        #expect(try out.json()["imported"] as? Bool == true)
        #expect(try FileIO.read(home + "/logs/positions_futures.json") == sourceBytes, "copied byte for byte")
        #expect(try FileIO.read(dir + "/logs/positions_futures.json") == sourceBytes, "the source is unchanged")
        #expect(FileManager.default.fileExists(atPath: home + "/feature_store/learning/weights.json"))
        #expect(FileManager.default.fileExists(atPath: home + "/feature_store/signal_weights.imported.json"))
        #expect(!FileManager.default.fileExists(atPath: home + "/feature_store/signal_weights.json"))
        #expect(try FileIO.lineCount(home + "/logs/signals.jsonl") == 2)
        let report = try CommandRunner.run("tradingbot", ["report", "--home", home, "--json"]).json()
        #expect(report["balance"] as? Double == g.numbers("numbers")["balance"] as? Double)
        let reconcile = try CommandRunner.run("tradingbot", ["reconcile", "--home", home])
        #expect(reconcile.status == 0, "the SQLite mirror follows the import: \(reconcile.stdout)")

        // A second import would replace trades: refused without --force, kept aside with it.
        let again = try CommandRunner.run("tradingbot", ["import", "--from", dir, "--home", home])
        #expect(again.status == 1)
        #expect(again.stdout.contains("already has 1,100 closed trade(s) and 4 open position(s)"))
        let forced = try CommandRunner.run("tradingbot", ["import", "--from", dir, "--home", home, "--force"])
        #expect(forced.status == 0, "\(forced.stdout)")
        let kept = try FileManager.default.contentsOfDirectory(atPath: home + "/logs").filter {
            $0.contains(".before-import-")
        }
        #expect(kept.count == 3, "positions, signals and decisions are kept: \(kept)")
    }

    @Test func importRefusesARunningEngineAndFailedChecks() throws {
        let (dir, g) = try oldBot()
        let home = try CommandRunner.makeHome()
        try FileManager.default.removeItem(atPath: home + "/logs/positions_futures.json")
        let lock = try FileLock.acquire(home + "/state/engine.lock", holder: "pid 4242 release r-test")
        let locked = try CommandRunner.run("tradingbot", ["import", "--from", dir, "--home", home])
        #expect(locked.status == 3)
        #expect(locked.stdout.contains("an engine is running on this home") && locked.stdout.contains("pid 4242"))
        #expect(!FileManager.default.fileExists(atPath: home + "/logs/positions_futures.json"))
        lock.release()

        // A counted trade with an unusable P&L fails the checks: nothing is imported.
        try FileManager.default.removeItem(atPath: dir + "/logs/positions_futures.json")
        try FileManager.default.copyItem(
            atPath: g.file("counted-nan.json"), toPath: dir + "/logs/positions_futures.json")
        let failed = try CommandRunner.run("tradingbot", ["import", "--from", dir, "--home", home])
        #expect(failed.status == 1)
        #expect(failed.stdout.contains("FAIL records_readable") && failed.stdout.contains("nothing was imported"))
        #expect(!FileManager.default.fileExists(atPath: home + "/logs/positions_futures.json"))

        let missing = try CommandRunner.run("tradingbot", ["import", "--from", home + "/nowhere", "--home", home])
        #expect(missing.status == 2 && missing.stderr.contains("not a folder"))
    }
}

extension JSONObject {
    var serializedText: String { JSONValue.object(self).serialized() }
}
