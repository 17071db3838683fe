import Foundation
import TestSupport
import Testing

@testable import Deploy
@testable import TradingCore
@testable import TradingStore

/// The `decisions` step of `deployctl release`, driven as the operator drives it: a real
/// repository, a real supervisord, the live engine recording its day, and a candidate whose
/// threshold changed in code.
@Suite(.serialized) struct DecisionDiffReleaseTests {
    @Test(.timeLimit(.minutes(20))) func aChangedThresholdIsBlockedUnlessDeclared() throws {
        let drill = try ReleaseDrill()
        defer { drill.shutdown() }
        // Entries every few cycles on the simulated market, so the recorded window has some to judge.
        try Fixtures.write(
            """
            {"wallet_reset": {"at": "2025-12-18T00:00:00Z", "starting_capital": 10000}, "cycle_seconds": 1,
             "risk": {"max_positions": 3}, "exits": {"min_hold_seconds": 0, "max_hold_seconds": 4},
             "strategy": {"entry_threshold": 0.05, "min_agreeing": 1}}
            """, to: drill.home + "/config/bot.json")
        try drill.setDeploy("watchdog", ["min_free_disk_mb": 0])

        // A fresh home's first release: nothing recorded, the step passes saying why.
        let first = try drill.release()
        #expect(first.status == 0, "\(first.stdout)")
        let good = try #require(try first.json()["release"] as? String)
        let firstDecisions = try #require(try drill.releases().last?.decisions)
        #expect(firstDecisions["verdict"]?.stringValue == "no_recording", "\(firstDecisions)")
        #expect(firstDecisions["note"]?.stringValue?.contains("no live release yet") == true)
        #expect(drill.waitForBeat(of: good, seconds: 60))
        #expect(waitUntil(seconds: 120) { (drill.heartbeat?.cycle ?? 0) >= 25 }, "the live engine records")

        // A threshold raised in code: blocked before the flip, naming the transition.
        try drill.use(.higherThreshold, "raise the entry threshold")
        let blocked = try drill.release()
        #expect(blocked.status == 1, "\(blocked.stdout)")
        let message = try blocked.json()["message"] as? String ?? ""
        #expect(message.contains("step decisions failed") && message.contains("Nothing live changed"), "\(message)")
        let report = try blocked.json()["decisions"] as? [String: Any] ?? [:]
        #expect(report["verdict"] as? String == "block", "\(blocked.stdout)")
        let transitions = (report["ab"] as? [String: Any])?["transitions"] as? [[String: Any]] ?? []
        #expect(
            transitions.contains {
                $0["from"] as? String == "executed" && $0["to"] as? String == "skipped:entry_threshold"
                    && ($0["count"] as? Int ?? 0) >= 1
            },
            "\(transitions)")
        #expect(drill.active == "A" && drill.heartbeat?.release == good, "nothing live changed")
        let failed = try #require(try drill.releases().last)
        #expect(failed.state == "failed" && failed.failedStep == "decisions")
        #expect(failed.decisions?["verdict"]?.stringValue == "block")
        var info = stat()
        #expect(stat(drill.home + "/state/decisions/\(failed.id).json", &info) == 0, "the whole report is kept")
        #expect(info.st_mode & 0o777 == 0o600, "it quotes the engine's lines: the operator's to read")
        #expect(!FileIO.exists(drill.home + "/slots/B/.release"), "a blocked build is not a release")

        // The same change, declared in a trailer: released, the differences in the ledger.
        try drill.repo.write("NOTES.md", "threshold\n")
        _ = try drill.repo.commit(
            "raise the entry threshold\n\nStrategy-Change: entry threshold 0.05 -> 0.6 after the review")
        let declared = try drill.release()
        #expect(declared.status == 0, "\(declared.stdout)")
        let released = try #require(try drill.releases().last)
        #expect(released.state == "good", "\(declared.stdout)")
        let d = try #require(released.decisions)
        #expect(d["verdict"]?.stringValue == "pass" && d["would_block"] == .bool(true), "\(d)")
        #expect(d["strategy_change"]?.stringValue == "entry threshold 0.05 -> 0.6 after the review")
        #expect((d["transitions"]?.arrayValue ?? []).isEmpty == false)
        let history = try CommandRunner.run("deployctl", ["history", "--home", drill.home])
        #expect(
            history.stdout.contains("decisions: pass (would block)")
                && history.stdout.contains("strategy change: entry threshold"), "\(history.stdout)")
        #expect(history.stdout.contains("decisions: block"), "\(history.stdout)")
    }
}
