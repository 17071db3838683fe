import Foundation
import TestSupport
import Testing

@testable import TradingCore
@testable import TradingStore

/// `deployctl check decisions` with a candidate, as the operator runs it: a live engine (the
/// built tradingbot, 1 s cycles) records, then slot B's build replays the same window beside the
/// live build's. The candidates are the real binary behind a wrapper that changes what a code
/// change would (a threshold, a signal that returns nothing, a limit that stopped binding, a
/// hang), so each replay, comparison and verdict is the real one.
@Suite(.serialized) struct DecisionDiffTests {
    /// The live home: entries every few cycles on the simulated market, positions held 4 s, at
    /// most 3 open (the sample's two DOGEUSDT positions already break one_per_symbol).
    func recordedHome(cycles: Int = 25) throws -> String {
        let home = try CommandRunner.makeHome(
            botConfig: """
                {"wallet_reset": {"at": "2025-12-18T00:00:00Z", "starting_capital": 10000}, "cycle_seconds": 1,
                 "risk": {"max_positions": 3},
                 "exits": {"min_hold_seconds": 0, "max_hold_seconds": 4},
                 "strategy": {"entry_threshold": 0.05, "min_agreeing": 1}}
                """)
        try deployJSON(home)
        for (slot, release) in [("A", "r-live"), ("B", "r-candidate")] {
            try FileManager.default.createDirectory(
                atPath: home + "/slots/\(slot)/bin", withIntermediateDirectories: true)
            try Fixtures.write("\(release)\n", to: home + "/slots/\(slot)/.release")
        }
        try FileManager.default.createSymbolicLink(
            atPath: home + "/slots/A/bin/tradingbot", withDestinationPath: CommandRunner.path("tradingbot"))
        try FileManager.default.createSymbolicLink(atPath: home + "/slots/current", withDestinationPath: "A")
        try candidate(home, "")
        let engine = try CommandRunner.startEngine(home: home)
        defer { if engine.isRunning { kill(engine.processIdentifier, SIGKILL) } }
        #expect(
            waitUntil(seconds: 120) { ((try? HeartbeatStore(home: Home(root: home)).read())?.cycle ?? 0) >= cycles })
        kill(engine.processIdentifier, SIGTERM)
        engine.waitUntilExit()
        return home
    }

    func deployJSON(_ home: String, _ diff: String = "{}") throws {
        try Fixtures.write(
            #"{"repo": "", "binary": "bin/tradingbot", "watchdog": {"min_free_disk_mb": 0}, "decision_diff": \#(diff)}"#,
            to: home + "/config/deploy.json")
    }

    /// Slot B's tradingbot: the real binary, with `before` run first (`$TB` is the binary).
    func candidate(_ home: String, _ before: String, config: String? = nil) throws {
        let path = home + "/slots/B/bin/tradingbot"
        try? FileManager.default.removeItem(atPath: path)
        var script = "#!/bin/sh\nTB='\(CommandRunner.path("tradingbot"))'\n\(before)\n"
        if let config {
            try Fixtures.write(config, to: home + "/candidate-bot.json")
            script += "[ \"$1\" = replay ] && exec \"$TB\" \"$@\" --config '\(home)/candidate-bot.json'\n"
        }
        script += "exec \"$TB\" \"$@\"\n"
        try Fixtures.write(script, to: path)
        chmod(path, 0o755)
    }

    /// The home's bot.json with `change` merged into the strategy or risk section.
    func botJSON(_ home: String, strategy: String = #""entry_threshold": 0.05"#, risk: String = #""max_positions": 3"#)
        throws -> String
    {
        """
        {"wallet_reset": {"at": "2025-12-18T00:00:00Z", "starting_capital": 10000}, "cycle_seconds": 1,
         "risk": {\(risk)},
         "exits": {"min_hold_seconds": 0, "max_hold_seconds": 4},
         "strategy": {"min_agreeing": 1, \(strategy)}}
        """
    }

    func check(_ home: String, _ extra: [String] = []) throws -> (CommandRunner.Output, [String: Any]) {
        let out = try CommandRunner.run("deployctl", ["check", "decisions", "--home", home, "--json"] + extra)
        return (out, (try? out.json()) ?? [:])
    }

    func ab(_ json: [String: Any]) -> [String: Any] { json["ab"] as? [String: Any] ?? [:] }
    func transitions(_ json: [String: Any]) -> [(String, String, Int)] {
        (ab(json)["transitions"] as? [[String: Any]] ?? []).map {
            ($0["from"] as? String ?? "", $0["to"] as? String ?? "", $0["count"] as? Int ?? 0)
        }
    }
    func entries(_ json: [String: Any], _ side: String) -> Int {
        ((ab(json)["totals"] as? [String: Any])?[side] as? [String: Any])?["entries"] as? Int ?? -1
    }

    @Test(.timeLimit(.minutes(15))) func codeChangesAreJudgedOnTheRecordedDay() throws {
        let home = try recordedHome()

        // Identity: the same build in slot B changes nothing.
        let (same, sameJSON) = try check(home)
        #expect(same.status == 0, "\(same.stdout)\(same.stderr)")
        #expect(sameJSON["verdict"] as? String == "pass", "\(same.stdout)")
        #expect(ab(sameJSON)["changed"] as? Int == 0, "\(same.stdout)")
        #expect(
            (ab(sameJSON)["limits"] as? [String])?.isEmpty == true,
            "the checkpoint's DOGEUSDT pair is not the candidate's: \(same.stdout)")
        #expect((sameJSON["aa"] as? [String: Any])?["verdict"] as? String == "partial", "\(same.stdout)")
        let live = entries(sameJSON, "current")
        #expect(live >= 2, "the recorded window has entries to judge: \(same.stdout)")
        #expect(entries(sameJSON, "candidate") == live)

        // A higher entry threshold in code: entries turn into skips, named with their count.
        try candidate(home, "", config: try botJSON(home, strategy: #""entry_threshold": 0.6"#))
        let (higher, higherJSON) = try check(home)
        #expect(higher.status == 1, "blocked: \(higher.stdout)")
        #expect(higherJSON["verdict"] as? String == "block" && higherJSON["ok"] as? Bool == false)
        let named = transitions(higherJSON).first { $0.0 == "executed" && $0.1 == "skipped:entry_threshold" }
        #expect((named?.2 ?? 0) >= 1, "\(higher.stdout)")
        #expect((ab(higherJSON)["first"] as? [[String: Any]])?.first?["current"] is [String: Any])
        let text = try CommandRunner.run("deployctl", ["check", "decisions", "--home", home])
        #expect(
            text.status == 1 && text.stdout.contains("BLOCKED") && text.stdout.contains("-> skipped:entry_threshold"))

        // A signal that returns nothing: entries fall to none.
        try candidate(home, "", config: try botJSON(home, strategy: #""entry_threshold": 0.99"#))
        let (none, noneJSON) = try check(home)
        #expect(none.status == 1 && entries(noneJSON, "candidate") == 0, "\(none.stdout)")
        #expect(
            (noneJSON["reasons"] as? [String])?.contains { $0.hasPrefix("entries 0 against") } == true, "\(none.stdout)"
        )

        // Report mode lets the same candidate through, saying it would block.
        try deployJSON(home, #"{"mode": "report"}"#)
        let (reported, reportedJSON) = try check(home)
        #expect(reported.status == 0 && reportedJSON["would_block"] as? Bool == true, "\(reported.stdout)")

        // A limit that stopped binding in code: blocked in report mode too.
        try candidate(home, "", config: try botJSON(home, risk: #""max_positions": 30, "max_per_sector": 30"#))
        let (broken, brokenJSON) = try check(home)
        #expect(broken.status == 1, "\(broken.stdout)")
        #expect(
            (ab(brokenJSON)["limits"] as? [String])?.contains { $0.contains("max_positions 3") } == true,
            "\(broken.stdout)")

        // A candidate whose replay hangs: ended at the timeout, nothing of it left, blocked by
        // the policy (the live build replayed the same window within it; 90 s leave a busy
        // machine room for that).
        try deployJSON(home, #"{"timeout_seconds": 90}"#)
        try candidate(home, #"[ "$1" = replay ] && exec sleep 613"#)
        let (hung, hungJSON) = try check(home)
        #expect(hung.status == 1, "\(hung.stdout)")
        #expect((ab(hungJSON)["failure"] as? String)?.contains("90 s limit") == true, "\(hung.stdout)")
        #expect(ReleaseDrill.processes("sleep 613").isEmpty, "the hung replay is ended")
        #expect(!FileIO.exists(home + "/state/deploy.children"), "nothing tracked is left")
    }

    @Test(.timeLimit(.minutes(15))) func aProposedSettingIsPreviewed() throws {
        let home = try recordedHome()
        try FileManager.default.removeItem(atPath: home + "/slots/B/.release")

        // No candidate built and none named: the A/A alone.
        let (alone, aloneJSON) = try check(home)
        #expect(alone.status == 0 && aloneJSON["ab"] is NSNull, "\(alone.stdout)")
        let refused = try CommandRunner.run("deployctl", ["check", "decisions", "--home", home, "--slot", "B"])
        #expect(refused.status == 2 && refused.stderr.contains("holds no built release"), "\(refused.stderr)")
        let livesSlot = try CommandRunner.run("deployctl", ["check", "decisions", "--home", home, "--slot", "A"])
        #expect(livesSlot.status == 2 && livesSlot.stderr.contains("live slot"), "\(livesSlot.stderr)")

        try Fixtures.write(try botJSON(home, strategy: #""entry_threshold": 0.01"#), to: home + "/lower.json")
        // A killed run's replay homes (in the home, not /tmp) are cleared by the next run.
        try FileManager.default.createDirectory(
            atPath: home + "/state/decisions-replays/current/logs", withIntermediateDirectories: true)
        try Fixtures.write("left by a killed run", to: home + "/state/decisions-replays/current/logs/signals.jsonl")
        let (lower, lowerJSON) = try check(home, ["--config", home + "/lower.json"])
        #expect(!FileIO.exists(home + "/state/decisions-replays"), "nothing of the replays is left")
        #expect([0, 1].contains(lower.status), "\(lower.stderr)")
        #expect(
            transitions(lowerJSON).contains { $0.0 == "skipped:entry_threshold" && $0.1 != "skipped:entry_threshold" },
            "skipped lines turn: \(lower.stdout)")
        #expect((lowerJSON["candidate"] as? [String: Any])?["config"] as? String == home + "/lower.json")

        try Fixtures.write(try botJSON(home, risk: #""max_positions": 1"#), to: home + "/tighter.json")
        let (tighter, tighterJSON) = try check(home, ["--config", home + "/tighter.json"])
        #expect(
            transitions(tighterJSON).contains { $0.1 == "blocked:max_positions" },
            "entries appear under that rule: \(tighter.stdout)")
        #expect((ab(tighterJSON)["limits"] as? [String])?.isEmpty == true, "tighter is no broken limit")

        // A file that changes only what a recording cannot show is the preview's usage error.
        let faster = try botJSON(home).replacingOccurrences(of: #""cycle_seconds": 1"#, with: #""cycle_seconds": 5"#)
        try Fixtures.write(faster, to: home + "/faster.json")
        let cannot = try CommandRunner.run(
            "deployctl", ["check", "decisions", "--home", home, "--config", home + "/faster.json"])
        #expect(cannot.status == 2 && cannot.stderr.contains("cycle_seconds"), "\(cannot.stdout)\(cannot.stderr)")

        let same = try CommandRunner.run(
            "deployctl", ["check", "decisions", "--home", home, "--config", home + "/config/bot.json"])
        #expect(same.status == 2 && same.stderr.contains("nothing to try"), "\(same.stderr)")

        // A fresh home never recorded: the check passes, saying why.
        let fresh = try CommandRunner.makeHome()
        try deployJSON(fresh)
        let (nothing, nothingJSON) = try check(fresh)
        #expect(nothing.status == 0 && nothingJSON["verdict"] as? String == "no_recording", "\(nothing.stdout)")
    }
}
