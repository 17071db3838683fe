import Foundation
import TestSupport
import Testing

@testable import Deploy
@testable import TradingCore
@testable import TradingStore

/// A reboot, as the machine sees it: every process of the home gone at once (SIGKILL), the
/// supervisord's socket and pid file left behind; then `deployctl boot` and nothing else.
@Suite(.serialized) struct BootDrillTests {
    /// Kills every process of the home at once: named in its command line or working in it.
    func reboot(_ drill: ReleaseDrill) {
        for process in ReleaseDrill.running()
        where process.pid != getpid()
            && (process.command.contains(drill.home) || process.cwd?.hasPrefix(drill.home) == true)
        {
            kill(process.pid, SIGKILL)
        }
        #expect(
            waitUntil(seconds: 20) {
                ReleaseDrill.running().allSatisfy { !$0.command.contains(drill.home) || $0.pid == getpid() }
            }, "every process of the home is gone")
    }

    func boot(_ drill: ReleaseDrill) throws -> (CommandRunner.Output, [String: Any]) {
        let out = try CommandRunner.execute(drill.home + "/bin/deployctl", ["boot", "--home", drill.home, "--json"])
        return (out, (try? out.json()) ?? [:])
    }

    func ledgerLines(_ drill: ReleaseDrill) throws -> Int {
        try FileIO.lineCount(drill.home + "/state/releases.jsonl")
    }

    @Test(.timeLimit(.minutes(20))) func afterARebootBootBringsTheSameReleaseBackAndNothingElse() throws {
        let drill = try ReleaseDrill(supervisedWatchdog: true)
        defer { drill.shutdown() }
        let nothing = try boot(drill)
        #expect(nothing.0.status == 0 && (nothing.1["release"] is NSNull), "nothing deployed: \(nothing.0.stdout)")

        let first = try drill.release()
        let v1 = try #require(try first.json()["release"] as? String)
        #expect(first.status == 0, "\(first.stdout)")
        let lines = try ledgerLines(drill)
        let before = try #require(drill.heartbeat?.pid)
        reboot(drill)
        #expect(FileIO.exists(drill.home + "/state/supervisor.sock"), "a killed supervisord leaves its socket")

        let (out, json) = try boot(drill)
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        #expect(json["release"] as? String == v1)
        #expect(Set(json["started"] as? [String] ?? []) == ["supervisord", "tradingbot", "watchdog"], "\(json)")
        #expect(drill.heartbeat?.release == v1 && drill.heartbeat?.pid != before)
        #expect(try ledgerLines(drill) == lines, "boot writes no release step")
        #expect(drill.waitForBeat(of: v1))

        // Run again: everything already runs, nothing is restarted.
        let pid = drill.heartbeat?.pid
        let (again, second) = try boot(drill)
        #expect(again.status == 0 && (second["started"] as? [String])?.isEmpty == true, "\(again.stdout)")
        #expect(Set(second["already_running"] as? [String] ?? []) == ["supervisord", "tradingbot", "watchdog"])
        #expect(drill.heartbeat?.pid == pid)

        // Cut off on probation: the new engine starts its probation again, and the supervised
        // watchdog commits it by itself.
        try drill.use(.good, "v2")
        let detached = try drill.release(["--detach"])
        let v2 = try #require(try detached.json()["release"] as? String)
        reboot(drill)
        #expect(try drill.releases().last { $0.id == v2 }?.state == "probation")
        let (onProbation, said) = try boot(drill)
        #expect(onProbation.status == 0, "\(onProbation.stdout)")
        #expect((said["message"] as? String)?.contains("probation starts again") == true, "\(said)")
        #expect(
            waitUntil(seconds: 120) { (try? drill.releases().last { $0.id == v2 }?.state) == "good" },
            "the watchdog commits the release after fresh cycles")

        // Cut off while building: the release is closed as failed, the live one comes back.
        try drill.use(.hangingBuild, "v3 builds for ever")
        let building = try drill.startRelease()
        #expect(waitUntil(seconds: 60) { (try? drill.releases().last?.state) == "building" })
        reboot(drill)
        building.waitUntilExit()
        let (afterBuild, closed) = try boot(drill)
        #expect(afterBuild.status == 0, "\(afterBuild.stdout)")
        let v3 = try #require(try drill.releases().last)
        #expect(v3.state == "failed" && (closed["closed"] as? [String]) == [v3.id], "\(closed)")
        #expect(drill.waitForBeat(of: v2))
        #expect(try drill.invariantProblems() == [])
    }

    /// Root would start the engine as root in the service user's home: refused, naming the user.
    @Test func bootAsRootInAnotherUsersHomeIsRefused() throws {
        guard geteuid() == 0 else { return }
        let drill = try ReleaseDrill()
        let nobody = try #require(getpwnam("nobody")).pointee.pw_uid
        chown(drill.home, nobody, nobody)
        let out = try CommandRunner.run("deployctl", ["boot", "--home", drill.home])
        #expect(out.status == 2 && out.stderr.contains("belongs to nobody") && out.stderr.contains("runuser -u nobody"))
        #expect(!FileIO.exists(drill.home + "/deploy/supervisord.conf"), "nothing was started")
    }

    @Test(.timeLimit(.minutes(20))) func aBadReleaseWithNowhereToGoIsNotStartedAtBoot() throws {
        let drill = try ReleaseDrill(probationTimeout: 8)
        defer { drill.shutdown() }
        try drill.use(.crashesOnRun, "a first release that crashes")
        let first = try drill.release()
        #expect(first.status == 1 && drill.active == "A")
        reboot(drill)
        let (out, json) = try boot(drill)
        #expect(out.status == 1)
        let message = json["message"] as? String ?? ""
        #expect(message.contains("marked bad and there is nothing to go back to") && message.contains("not started"))
        #expect(!drill.supervisor.daemonAnswers, "nothing was started")
    }
}
