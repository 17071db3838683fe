import Foundation
import TestSupport
import Testing

@testable import TradingCore
@testable import TradingStore

/// `deployctl check decisions`, the A/A, as the operator runs it on a home whose live slot holds
/// the built tradingbot: the live binary's replay of the recording agrees with the live engine
/// line for line; a live line the replay cannot reproduce is a `mismatch` naming that line; a
/// home that never recorded says so; a held deploy lock exits 3.
@Suite(.serialized) struct DecisionsCheckTests {
    func liveHome() throws -> String {
        let home = try CommandRunner.makeHome(
            botConfig: """
                {"wallet_reset": {"at": "2025-12-18T00:00:00Z", "starting_capital": 10000}, "cycle_seconds": 1,
                 "exits": {"min_hold_seconds": 0, "max_hold_seconds": 4},
                 "strategy": {"entry_threshold": 0.05, "min_agreeing": 1}}
                """)
        // The recorder's floor is min_free_disk_mb + 1000 MB: the least a test machine must have.
        try Fixtures.write(
            #"{"repo": "", "binary": "bin/tradingbot", "watchdog": {"min_free_disk_mb": 0}}"#,
            to: home + "/config/deploy.json")
        let slot = home + "/slots/A"
        try FileManager.default.createDirectory(atPath: slot + "/bin", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: slot + "/bin/tradingbot", withDestinationPath: CommandRunner.path("tradingbot"))
        try Fixtures.write("r-aa\n", to: slot + "/.release")
        try FileManager.default.createSymbolicLink(atPath: home + "/slots/current", withDestinationPath: "A")
        return home
    }

    func aa(_ home: String, _ extra: [String] = []) throws -> (CommandRunner.Output, [String: Any]) {
        let out = try CommandRunner.run("deployctl", ["check", "decisions", "--home", home, "--json"] + extra)
        let aa = (try? out.json())?["aa"] as? [String: Any] ?? [:]
        return (out, aa)
    }

    @Test(.timeLimit(.minutes(10))) func theLiveReleasesReplayAgreesAndATamperedLineIsNamed() throws {
        let home = try liveHome()
        let fresh = try aa(home)
        #expect(fresh.0.status == 0 && fresh.1["verdict"] as? String == "no_recording", "\(fresh.0.stdout)")

        let engine = try CommandRunner.startEngine(home: home)
        defer { if engine.isRunning { kill(engine.processIdentifier, SIGKILL) } }
        #expect(waitUntil(seconds: 90) { ((try? HeartbeatStore(home: Home(root: home)).read())?.cycle ?? 0) >= 8 })
        kill(engine.processIdentifier, SIGTERM)
        engine.waitUntilExit()

        let (out, verdict) = try aa(home)
        #expect(out.status == 0, "\(out.stderr)")
        // Seconds of recording: identical line for line, but less than the hour an `identical` needs.
        #expect(verdict["verdict"] as? String == "partial", "\(out.stdout)")
        #expect(verdict["first_mismatch"] is NSNull, "\(out.stdout)")
        #expect((verdict["compared_lines"] as? Int ?? 0) > 50, "\(out.stdout)")
        #expect((verdict["segments"] as? [[String: Any]])?.first?["checked"] as? Bool == true, "\(out.stdout)")

        // The live engine wrote an entry the recording cannot explain (as if it had read the wall
        // clock): the A/A names the line.
        let signals = home + "/logs/signals.jsonl"
        var lines = String(decoding: try FileIO.read(signals), as: UTF8.self).split(separator: "\n").map(String.init)
        let index = try #require(lines.firstIndex { $0.contains("\"action\":\"executed\"") })
        let original = lines[index]
        lines[index] = original.replacingOccurrences(of: "\"notional\":", with: "\"notional\":1")
        try FileIO.writeAtomically(signals, Array((lines.joined(separator: "\n") + "\n").utf8))
        let (bad, mismatch) = try aa(home)
        #expect(bad.status == 0, "report only")
        #expect(mismatch["verdict"] as? String == "mismatch", "\(bad.stdout)")
        let first = mismatch["first_mismatch"] as? [String: Any]
        #expect((first?["live"] as? [String: Any])?["notional"] as? Double != nil)
        #expect(
            (first?["live"] as? [String: Any])?["symbol"] as? String
                == (first?["replay"] as? [String: Any])?["symbol"] as? String, "\(bad.stdout)")
        let text = try CommandRunner.run("deployctl", ["check", "decisions", "--home", home])
        #expect(text.stdout.contains("A/A MISMATCH") && text.stdout.contains("reproduce: tradingbot replay --recorded"))

        // Another deploy holds the lock: exit 3, nothing replayed.
        let lock = try FileLock.acquire(home + "/state/deploy.lock", holder: "test", timeout: 0)
        defer { lock.release() }
        let held = try CommandRunner.run("deployctl", ["check", "decisions", "--home", home])
        #expect(held.status == 3, "\(held.stderr)")
    }

    /// The live engine records on while the two replays run: a candidate that starts later (here
    /// 3 s, as on a loaded machine) must still replay the same cycles as the live build, or cycles
    /// only one of them saw count as changed decisions and block a release that changed nothing.
    @Test(.timeLimit(.minutes(10))) func bothReplaysEndAtTheSameCycleWhileTheEngineRecordsOn() throws {
        let home = try liveHome()
        let slot = home + "/slots/B"
        try FileManager.default.createDirectory(atPath: slot + "/bin", withIntermediateDirectories: true)
        try Fixtures.write(
            "#!/bin/sh\nsleep 3\nexec '\(CommandRunner.path("tradingbot"))' \"$@\"\n", to: slot + "/bin/tradingbot")
        chmod(slot + "/bin/tradingbot", 0o755)
        try Fixtures.write("r-late\n", to: slot + "/.release")
        let engine = try CommandRunner.startEngine(home: home)
        defer { if engine.isRunning { kill(engine.processIdentifier, SIGKILL) } }
        #expect(waitUntil(seconds: 90) { ((try? HeartbeatStore(home: Home(root: home)).read())?.cycle ?? 0) >= 8 })
        let out = try CommandRunner.run("deployctl", ["check", "decisions", "--slot", "B", "--home", home, "--json"])
        let ab = (try? out.json())?["ab"] as? [String: Any] ?? [:]
        #expect((ab["compared_lines"] as? Int ?? 0) > 50, "\(out.stdout)")
        #expect(ab["changed"] as? Int == 0, "the same build, the same window: \(out.stdout)")
        kill(engine.processIdentifier, SIGTERM)
        engine.waitUntilExit()
    }

    /// The recording's disk runs short under the running engine (a real tmpfs under
    /// data/recording, filled below the floor of min_free_disk_mb + 1000 MB): trading goes on,
    /// the recording leaves a gap and comes back, and the A/A says `incomplete`, having compared
    /// the cycles outside the gap.
    @Test(.timeLimit(.minutes(10))) func aGapInTheRecordingMakesTheAAIncomplete() throws {
        let home = try liveHome()
        try Fixtures.write(
            #"{"repo": "", "binary": "bin/tradingbot", "watchdog": {"min_free_disk_mb": 0}}"#,
            to: home + "/config/deploy.json")
        let recording = home + "/data/recording"
        try FileManager.default.createDirectory(atPath: recording, withIntermediateDirectories: true)
        let mounted = try CommandRunner.execute("/bin/mount", ["-t", "tmpfs", "-o", "size=1100m", "tmpfs", recording])
        guard mounted.status == 0 else {
            print("DecisionsCheckTests: no tmpfs could be mounted here (\(mounted.stderr)); drill not run")
            return
        }
        defer { _ = try? CommandRunner.execute("/bin/umount", ["-l", recording]) }
        func cycle() -> Int { (try? HeartbeatStore(home: Home(root: home)).read())?.cycle ?? 0 }
        func said(_ event: String) -> Bool {
            ((try? JSONLAppender.readAll(home + "/logs/bot.jsonl")) ?? []).contains {
                $0.objectValue?["event"]?.stringValue == event
            }
        }
        let engine = try CommandRunner.startEngine(home: home)
        defer { if engine.isRunning { kill(engine.processIdentifier, SIGKILL) } }
        #expect(waitUntil(seconds: 90) { cycle() >= 4 })
        // 1100 MB less 150 MB is under the 1000 MB floor.
        let fill = try CommandRunner.execute(
            "/bin/dd", ["if=/dev/zero", "of=\(recording)/filler", "bs=1M", "count=150"])
        #expect(fill.status == 0, "\(fill.stderr)")
        #expect(waitUntil(seconds: 60) { said("recording_failed") }, "the recorder says it stopped")
        let atGap = cycle()
        #expect(waitUntil(seconds: 60) { cycle() >= atGap + 3 }, "trading goes on")
        try FileManager.default.removeItem(atPath: recording + "/filler")
        #expect(waitUntil(seconds: 60) { said("recording_resumed") }, "and comes back")
        let back = cycle()
        #expect(waitUntil(seconds: 60) { cycle() >= back + 3 })
        kill(engine.processIdentifier, SIGTERM)
        engine.waitUntilExit()
        let beat = try #require(try HeartbeatStore(home: Home(root: home)).read())
        #expect(beat.reducing == nil, "recording never made the engine reduce")

        let (out, verdict) = try aa(home)
        #expect(out.status == 0, "\(out.stderr)")
        #expect(verdict["verdict"] as? String == "incomplete", "\(out.stdout)")
        #expect(verdict["first_mismatch"] is NSNull, "\(out.stdout)")
        #expect((verdict["compared_lines"] as? Int ?? 0) > 50, "the cycles outside the gap are compared: \(out.stdout)")
        #expect((verdict["notes"] as? [String])?.contains { $0.contains("gap") } == true, "\(out.stdout)")
    }
}
