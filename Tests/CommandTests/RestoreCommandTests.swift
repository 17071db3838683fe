import Foundation
import TestSupport
import Testing

@testable import TradingCore
@testable import TradingStore

/// `tradingbot restore`, the way the operator meets it: a torn positions file that stops every
/// report, put back from the SQLite mirror or a copy, with nothing lost on the way.
@Suite struct RestoreCommandTests {
    /// A home with the real-shaped sample, its mirror built, and a day's snapshot.
    func home() throws -> String {
        let root = try Fixtures.temporaryDirectory("restore")
        let home = Home(root: root)
        try home.createDirectories()
        try FileManager.default.createDirectory(atPath: home.configDir, withIntermediateDirectories: true)
        try Fixtures.write(CommandRunner.botConfig(resetAt: "2025-12-18T00:00:00Z"), to: home.botConfig)
        try FileIO.copy(Fixtures.samplePositions, to: home.positions, mode: 0o600)
        #expect(try CommandRunner.run("tradingbot", ["reconcile", "--rebuild", "--home", root]).status == 0)
        try PositionSnapshots(home: home).take("day-2025-12-19.positions.json")
        return root
    }

    func report(_ home: String) throws -> [String: Any] {
        let out = try CommandRunner.run("tradingbot", ["report", "--home", home, "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        return try out.json()
    }

    func mode(_ path: String) -> mode_t {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & 0o777 : 0
    }

    @Test func aTornFileComesBackFromTheMirrorWithEveryValue() throws {
        let root = try home()
        let home = Home(root: root)
        let before = try report(root)
        // Only the mirror knows the closed trades now; the snapshot gives the open positions.
        let torn = Array(try FileIO.read(home.positions).prefix(300_000))
        try FileIO.writeAtomically(home.positions, torn)
        try FileIO.remove(PositionSnapshots(home: home).folder + "/day-2025-12-19.positions.json")
        let older = #"{"open_positions": [], "closed_positions": []}"#
        try Fixtures.write(older, to: PositionSnapshots(home: home).folder + "/day-2025-10-01.positions.json")
        try PositionSnapshots(home: home).take("day-2025-12-19.positions.json")  // the torn one, newest
        let broken = try CommandRunner.run("tradingbot", ["report", "--home", root])
        #expect(broken.status == 1 && broken.stderr.contains("tradingbot restore --list"), "\(broken.stderr)")

        let list = try CommandRunner.run("tradingbot", ["restore", "--list", "--home", root])
        #expect(list.status == 0)
        #expect(list.stdout.contains("1,100 closed trades (no open positions)"), "\(list.stdout)")
        #expect(list.stdout.contains("day-2025-12-19.positions.json") && list.stdout.contains("cannot be read"))

        let dry = try CommandRunner.run("tradingbot", ["restore", "--from-db", "--dry-run", "--home", root])
        #expect(dry.status == 0 && dry.stdout.contains("Dry run: nothing was written."), "\(dry.stdout)")
        #expect(try FileIO.read(home.positions) == torn)

        // An engine holds the home: nothing is replaced under it.
        let lock = try FileLock.acquire(home.engineLock, holder: "pid 4242 release r1")
        let locked = try CommandRunner.run("tradingbot", ["restore", "--from-db", "--home", root])
        #expect(locked.status == 3 && locked.stdout.contains("an engine is running"), "\(locked.stdout)")
        lock.release()
        #expect(try FileIO.read(home.positions) == torn)

        // The snapshots: the newest is torn too, so the open positions come from the newest
        // readable one, and the note says which and what to compare.
        let out = try CommandRunner.run("tradingbot", ["restore", "--from-db", "--home", root, "--json"])
        #expect(out.status == 0, "\(out.stdout) \(out.stderr)")
        let restored = try out.json()
        #expect(restored["closed_trades"] as? Int == 1100 && restored["open_positions"] as? Int == 0)
        #expect(
            (restored["notes"] as? [String])?.contains { $0.contains("day-2025-10-01") && $0.contains("exchange") }
                == true, "\(restored)")
        let kept = try #require(restored["kept"] as? [String])
        #expect(kept.count == 2 && kept.allSatisfy { FileIO.exists($0) })
        #expect(try FileIO.read(kept[0]) == torn, "the torn file is kept as it was")
        #expect(mode(home.positions) == 0o600, "the file keeps its mode")
        // Every closed trade is back with every value and type, as Python reads them.
        var expected = try JSONValue.parse(try FileIO.read(Fixtures.samplePositions)).objectValue ?? JSONObject()
        expected["open_positions"] = .array([])
        let want = try Fixtures.temporaryDirectory("restore-expected") + "/expected.json"
        try Fixtures.write(JSONValue.object(expected).serialized(), to: want)
        let compare = try CommandRunner.python(["compare", want, home.positions])
        #expect(compare.status == 0, "\(compare.stdout)")
        let after = try report(root)
        #expect(after["balance"] as? Double == before["balance"] as? Double)
        #expect(after["closed_trades_total"] as? Int == before["closed_trades_total"] as? Int)
        #expect(try CommandRunner.run("tradingbot", ["reconcile", "--home", root]).status == 0, "mirror rebuilt")
    }

    @Test func aCopyThatLacksTradesTheHomeKnowsIsRefusedWithoutForce() throws {
        let root = try home()
        let home = Home(root: root)
        let sample = try FileIO.read(home.positions)
        var object = try JSONValue.parse(sample).objectValue ?? JSONObject()
        let closed = object["closed_positions"]?.arrayValue ?? []
        object["closed_positions"] = .array(Array(closed.dropLast(3)))
        let older = root + "/older.json"
        try Fixtures.write(JSONValue.object(object).serialized(indent: 1), to: older)

        let refused = try CommandRunner.run("tradingbot", ["restore", "--from", older, "--home", root])
        #expect(refused.status == 1, "\(refused.stdout)")
        #expect(
            refused.stdout.contains("NOT RESTORED") && refused.stdout.contains("would lack 3 trade(s)")
                && refused.stdout.contains("--from-db"), "\(refused.stdout)")
        #expect(try FileIO.read(home.positions) == sample, "nothing changed")

        let forced = try CommandRunner.run(
            "tradingbot", ["restore", "--from", older, "--force", "--home", root, "--json"])
        #expect(forced.status == 0, "\(forced.stdout)")
        #expect(try FileIO.read(home.positions) == FileIO.read(older), "a copy is restored byte for byte")
        #expect(try report(root)["closed_trades_total"] as? Int == 1097)
        // What the forced restore replaced is kept, and brings the three trades back.
        let kept = try #require((try forced.json()["kept"] as? [String])?.first)
        let back = try CommandRunner.run("tradingbot", ["restore", "--from", kept, "--home", root])
        #expect(back.status == 0, "\(back.stdout)")
        #expect(try FileIO.read(home.positions) == sample)

        let tornCopy = root + "/torn.json"
        try FileIO.writeAtomically(tornCopy, Array(sample.prefix(1000)))
        let unreadable = try CommandRunner.run("tradingbot", ["restore", "--from", tornCopy, "--home", root])
        #expect(unreadable.status == 1 && unreadable.stderr.contains("cannot be read either"), "\(unreadable.stderr)")
    }

    /// A position partly closed since the snapshot stays open (the rest is still on the
    /// exchange), with a note; one closed in full since is gone.
    @Test func openPositionsFromASnapshotFollowTheMirror() throws {
        let root = try Fixtures.temporaryDirectory("restore-partial")
        let home = Home(root: root)
        try home.createDirectories()
        try FileManager.default.createDirectory(atPath: home.configDir, withIntermediateDirectories: true)
        try Fixtures.write(CommandRunner.botConfig(resetAt: "2025-12-18T00:00:00Z"), to: home.botConfig)
        func trade(_ symbol: String, size: Double, closed: String?) -> String {
            let close = closed.map { #", "exit_price": 101, "net_pnl": 1, "closed_at": "\#($0)""# } ?? ""
            return
                #"{"symbol": "\#(symbol)", "direction": "LONG", "entry_price": 100, "size": \#(size), "opened_at": "2026-01-01T00:00:00Z"\#(close)}"#
        }
        func state(open: [String], closed: [String]) throws {
            let text =
                #"{"open_positions": [\#(open.joined(separator: ", "))], "closed_positions": [\#(closed.joined(separator: ", "))]}"#
            try Fixtures.write(text, to: home.positions)
            #expect(try CommandRunner.run("tradingbot", ["reconcile", "--rebuild", "--home", root]).status == 0)
        }
        try state(open: [trade("BTCUSDT", size: 2, closed: nil), trade("ETHUSDT", size: 1, closed: nil)], closed: [])
        try PositionSnapshots(home: home).take("day-2026-01-01.positions.json")
        // Since the snapshot: half of BTC closed, all of ETH closed; then the file is lost.
        try state(
            open: [trade("BTCUSDT", size: 1, closed: nil)],
            closed: [
                trade("BTCUSDT", size: 1, closed: "2026-01-02T00:00:00Z"),
                trade("ETHUSDT", size: 1, closed: "2026-01-02T01:00:00Z"),
            ])
        try FileIO.remove(home.positions)
        let out = try CommandRunner.run("tradingbot", ["restore", "--from-db", "--home", root, "--json"])
        #expect(out.status == 0, "\(out.stdout) \(out.stderr)")
        let file = try PositionsCodec.decode(try FileIO.read(home.positions)).file
        #expect(file.open.map(\.symbol) == ["BTCUSDT"], "ETH closed in full since; BTC only in part")
        #expect(file.closed.count == 2)
        let notes = try out.json()["notes"] as? [String] ?? []
        #expect(notes.contains { $0.contains("BTCUSDT: partly closed since the snapshot") }, "\(notes)")
    }

    /// Without a mirror, a copy older than the readable current file still counts as losing
    /// trades; an unreadable mirror is set aside and rebuilt, never a reason to refuse.
    @Test func lossIsCountedAgainstTheCurrentFileAndABrokenMirrorIsRebuilt() throws {
        let root = try home()
        let home = Home(root: root)
        let sample = try FileIO.read(home.positions)
        var object = try JSONValue.parse(sample).objectValue ?? JSONObject()
        object["closed_positions"] = .array(Array((object["closed_positions"]?.arrayValue ?? []).dropLast(2)))
        let older = root + "/older.json"
        try Fixtures.write(JSONValue.object(object).serialized(indent: 1), to: older)
        for path in [home.database, home.database + "-wal", home.database + "-shm"] { try FileIO.remove(path) }
        let refused = try CommandRunner.run("tradingbot", ["restore", "--from", older, "--home", root])
        #expect(refused.status == 1 && refused.stdout.contains("would lack 2 trade(s)"), "\(refused.stdout)")

        try Fixtures.write("this is not a database, it was overwritten", to: home.database)
        let out = try CommandRunner.run("tradingbot", ["restore", "--from", Fixtures.samplePositions, "--home", root])
        #expect(out.status == 0, "\(out.stdout) \(out.stderr)")
        #expect(out.stdout.contains("the mirror cannot be read"), "\(out.stdout)")
        #expect(
            try CommandRunner.run("tradingbot", ["reconcile", "--home", root]).status == 0, "a fresh mirror agrees")
        let aside = try FileManager.default.contentsOfDirectory(atPath: home.dataDir).filter {
            $0.hasPrefix("trading_system.db.before-restore-")
        }
        #expect(aside.count == 1, "the broken mirror is kept aside: \(aside)")
    }

    /// Run by root (a sudo'd restore), a file it creates in the service user's home is the
    /// service user's: the engine must be able to open it.
    @Test func filesRootCreatesBelongToTheHomesOwner() throws {
        guard getuid() == 0, let nobody = getpwnam("nobody") else { return }
        let root = try home()
        let home = Home(root: root)
        for dir in [root, home.logsDir, home.dataDir, home.stateDir, home.configDir] {
            chown(dir, nobody.pointee.pw_uid, nobody.pointee.pw_gid)
        }
        try FileIO.remove(home.positions)
        try FileIO.remove(home.engineLock)
        let out = try CommandRunner.run("tradingbot", ["restore", "--from-db", "--home", root])
        #expect(out.status == 0, "\(out.stdout)")
        for path in [home.positions, home.database, home.engineLock] {
            var info = stat()
            stat(path, &info)
            #expect(info.st_uid == nobody.pointee.pw_uid, "\(path) is owned by \(info.st_uid)")
        }
        let set = try CommandRunner.run("deployctl", ["secret", "set", "BLOFIN_API_KEY", "--home", root], stdin: "k\n")
        #expect(set.status == 0, "\(set.stderr)")
        for path in [home.configDir + "/secrets.env", home.stateDir + "/secrets.lock"] {
            var info = stat()
            stat(path, &info)
            #expect(info.st_uid == nobody.pointee.pw_uid, "\(path) is owned by \(info.st_uid)")
        }
    }
}
