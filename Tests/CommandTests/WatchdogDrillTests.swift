import Foundation
import TestSupport
import Testing

@testable import Deploy
@testable import TradingCore
@testable import TradingStore

/// The watchdog on a real supervisord with the fixture bot: it commits, rolls back and restarts
/// by itself, as the systemd timer would run it (the guard copy in HOME/bin).
@Suite(.serialized) struct WatchdogDrillTests {
    func watchdog(_ drill: ReleaseDrill, _ extra: [String] = []) throws -> (CommandRunner.Output, [String: Any]) {
        let out = try CommandRunner.execute(
            drill.home + "/bin/deployctl", ["watchdog", "--home", drill.home, "--json"] + extra)
        return (out, (try? out.json()) ?? [:])
    }

    /// Runs the watchdog until `done` says its answer is the awaited one (or `seconds` pass).
    func watchdogUntil(
        _ drill: ReleaseDrill, _ extra: [String] = [], seconds: Double = 60, _ done: ([String: Any]) -> Bool
    ) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(seconds)
        var json: [String: Any] = [:]
        while Date() < deadline {
            json = try watchdog(drill, extra).1
            if done(json) { break }
            usleep(500_000)
        }
        return json
    }

    @Test(.timeLimit(.minutes(20))) func aDetachedReleaseIsCommittedOrRolledBackByTheWatchdogAlone() throws {
        let drill = try ReleaseDrill(probationTimeout: 30)
        defer { drill.shutdown() }
        let server = try drill.webhook()
        #expect(FileManager.default.isExecutableFile(atPath: drill.home + "/bin/deployctl"), "init installed the guard")
        // A healthy --detach release: the watchdog commits it once it has its cycles.
        let first = try drill.release(["--detach"])
        let v1 = try #require(try first.json()["release"] as? String)
        #expect(try drill.releases().last?.state == "probation")
        let committed = try watchdogUntil(drill) { ($0["action"] as? String)?.contains("marked \(v1) good") == true }
        #expect((committed["action"] as? String)?.contains("marked \(v1) good") == true, "\(committed)")
        #expect(try drill.releases().last?.state == "good")

        // A detached release that hangs after ten cycles: stalled, rolled back to v1 by the rule.
        try drill.setDeploy("watchdog", ["stall_cycles": 3])
        try drill.use(.hangsAfterTenCycles, "hangs")
        let second = try drill.release(["--detach"])
        let v2 = try #require(try second.json()["release"] as? String)
        #expect(second.status == 0, "\(second.stdout)")
        let stalled = try watchdogUntil(drill, ["--dry-run"]) { $0["verdict"] as? String == "stalled" }
        #expect(stalled["verdict"] as? String == "stalled", "\(stalled)")
        #expect((stalled["action"] as? String)?.hasPrefix("dry run: roll back") == true, "\(stalled)")
        #expect(try drill.releases().last?.state == "probation", "a dry run changes nothing")
        let (out, acted) = try watchdog(drill)
        #expect(out.status == 1)
        #expect((acted["action"] as? String)?.contains("Rolled back to \(v1)") == true, "\(acted)")
        #expect(try drill.releases().first { $0.id == v2 }?.state == "bad")
        #expect(drill.active == "A")
        #expect(drill.waitForBeat(of: v1), "the good release trades again")
        let log = try JSONLAppender.readAll(drill.home + "/logs/watchdog.jsonl").compactMap { $0.objectValue }
        #expect(
            log.contains { $0["verdict"] == "stalled" && ($0["action"]?.stringValue ?? "").contains("Rolled back") })
        // The operator heard of both, from the guard, with what to run next.
        let alerts = server.requests().map(\.json)
        #expect(alerts.map { $0["headline"] as? String ?? "" } == ["RELEASE COMMITTED", "ROLLED BACK (STALLED)"])
        let rollback = try #require(alerts.last)
        #expect(rollback["release"] as? String == v2 && rollback["home"] as? String == drill.home)
        #expect((rollback["action"] as? String)?.contains("Rolled back to \(v1)") == true, "\(rollback)")
        #expect((rollback["next"] as? String)?.contains("deployctl status --home \(drill.home)") == true)
        #expect(server.requests().allSatisfy { $0.path == "/alert/DRILLTOKEN" })

        // Without --detach the release's own probation sees the stall, not only at its timeout
        // (thirty healthy cycles asked, ten given, then silence).
        try drill.setDeploy("probation", ["healthy_cycles": 30, "timeout_seconds": 120])
        try drill.use(.hangsAfterTenCycles, "hangs again")
        let third = try drill.release()
        let message = try third.json()["message"] as? String ?? ""
        #expect(third.status == 1 && message.contains("heartbeat stopped"), "\(message)")
        #expect(drill.waitForBeat(of: v1))
        #expect(try drill.invariantProblems() == [])
    }

    /// A watchdog killed between marking a release bad and flipping back leaves that state on
    /// disk; the next run finishes the rollback, even though the bad release looks healthy.
    @Test(.timeLimit(.minutes(20))) func aRollbackAKilledWatchdogLeftIsFinishedByTheNextRun() throws {
        let drill = try ReleaseDrill()
        defer { drill.shutdown() }
        let server = try drill.webhook()
        let v1 = try #require(try drill.release().json()["release"] as? String)
        try drill.use(.good, "v2")
        let v2 = try #require(try drill.release(["--detach"]).json()["release"] as? String)
        #expect(drill.waitForBeat(of: v2))
        // What the killed run had written: v2 marked bad, nothing flipped yet.
        try Ledger(path: drill.home + "/state/releases.jsonl").append(
            v2, "state", [JSONField("state", "bad"), JSONField("reason", "watchdog: stalled")])
        let (out, json) = try watchdog(drill)
        #expect((json["action"] as? String)?.contains("Rolled back to \(v1)") == true, "\(out.stdout)")
        #expect(drill.active == "A")
        // A rollback of a release that looked healthy is still a rollback to the operator.
        let heard = server.requests().map { $0.json["headline"] as? String ?? "" }
        #expect(heard == ["ROLLED BACK (MARKED BAD)"], "\(heard)")
        #expect(drill.waitForBeat(of: v1))
        let (_, after) = try watchdog(drill)
        #expect(after["verdict"] as? String == "healthy" && after["action"] as? String == "none", "\(after)")
        #expect(try drill.invariantProblems() == [])
    }

    /// A real SIGKILL of the watchdog at three moments of a rollback: while it judges, as soon
    /// as the ledger says bad (before the flip, when it can), as soon as slots/current moved
    /// (during the restart). Whatever it left, the next runs finish it, and the good release
    /// trades again with nothing lost.
    @Test(.timeLimit(.minutes(20))) func aWatchdogKilledMidRollbackLeavesAStateTheNextRunsFinish() throws {
        let drill = try ReleaseDrill()
        defer { drill.shutdown() }
        let v1 = try #require(try drill.release().json()["release"] as? String)
        try drill.setDeploy("watchdog", ["stall_cycles": 3, "max_rollbacks_per_hour": 10, "max_restarts_per_hour": 20])
        var hits: [String] = []
        for moment in ["judging", "marked bad", "flipped"] {
            try drill.use(.hangsAfterTenCycles, "hangs \(moment)")
            let v2 = try #require(try drill.release(["--detach"]).json()["release"] as? String)
            let stalled = try watchdogUntil(drill, ["--dry-run"]) { $0["verdict"] as? String == "stalled" }
            #expect(stalled["verdict"] as? String == "stalled", "\(stalled)")
            let victim = Process()
            victim.executableURL = URL(fileURLWithPath: drill.home + "/bin/deployctl")
            victim.arguments = ["watchdog", "--once", "--home", drill.home]
            victim.standardOutput = FileHandle.nullDevice
            victim.standardError = FileHandle.nullDevice
            try victim.run()
            let deadline = Date().addingTimeInterval(30)
            func reached() -> Bool {
                switch moment {
                case "judging": return true
                case "marked bad": return (try? drill.releases())?.first { $0.id == v2 }?.state == "bad"
                default: return drill.active == "A"
                }
            }
            if moment == "judging" { usleep(100_000) }
            while victim.isRunning && Date() < deadline && !reached() { usleep(2_000) }
            kill(victim.processIdentifier, SIGKILL)
            victim.waitUntilExit()
            let delay = moment
            #expect(victim.terminationReason == .uncaughtSignal, "the kill at \(moment) came after the run ended")
            hits.append(
                "\(moment): v2 \(try drill.releases().first { $0.id == v2 }?.state ?? "?"), slot \(drill.active ?? "-"), killed \(victim.terminationReason == .uncaughtSignal ? "yes" : "no: it had finished")"
            )
            let healed = try watchdogUntil(drill, seconds: 90) {
                $0["verdict"] as? String == "healthy" && drill.heartbeat?.release == v1
            }
            #expect(healed["verdict"] as? String == "healthy", "after a kill at \(delay) s: \(healed)")
            #expect(try drill.releases().first { $0.id == v2 }?.state == "bad", "after a kill at \(delay) s")
            #expect(drill.active == "A")
            #expect(drill.waitForBeat(of: v1, seconds: 60))
            #expect(try drill.invariantProblems() == [], "after a kill at \(delay) s")
        }
        print("watchdog SIGKILL drill hit: " + hits.joined(separator: "; "))
    }

    /// While a release builds (it holds the deploy lock before its flip) the live engine is
    /// still the watchdog's: a frozen engine is restarted, nothing is flipped, the release goes
    /// on. And a second watchdog while one runs does nothing.
    @Test(.timeLimit(.minutes(20))) func whileAReleaseBuildsTheWatchdogRestartsTheLiveEngineButNeverFlips() throws {
        let drill = try ReleaseDrill()
        defer { drill.shutdown() }
        let v1 = try #require(try drill.release().json()["release"] as? String)
        try drill.setDeploy("watchdog", ["stall_cycles": 3])
        #expect(drill.waitForBeat(of: v1))

        // Two watchdogs never both act: the second one says so and leaves.
        let held = try FileLock.acquire(drill.home + "/state/watchdog.lock", holder: "test watchdog")
        let (busy, busyJSON) = try watchdog(drill)
        #expect(busy.status == 0 && busyJSON["verdict"] as? String == "busy", "\(busy.stdout)")
        held.release()

        try drill.use(.hangingBuild, "builds for ever")
        let building = try drill.startRelease()
        defer {
            kill(building.processIdentifier, SIGTERM)
            building.waitUntilExit()
        }
        let started = Date().addingTimeInterval(60)
        while Date() < started && !drill.processesInSlots().contains(where: { $0.contains("sleep 300") }) {
            usleep(100_000)
        }
        #expect(drill.processesInSlots().contains { $0.contains("sleep 300") }, "the build runs")
        // The live engine freezes (SIGSTOP): alive, silent.
        let frozen = try #require(drill.heartbeat?.pid)
        kill(Int32(frozen), SIGSTOP)
        let acted = try watchdogUntil(drill, seconds: 90) { ($0["action"] as? String)?.hasPrefix("restarted") == true }
        #expect(acted["verdict"] as? String == "stalled", "\(acted)")
        #expect((acted["action"] as? String)?.hasPrefix("restarted the engine") == true, "\(acted)")
        // A frozen engine cannot stop on SIGTERM: the watchdog ends it at once instead of letting
        // supervisord wait its stop timeout (10 s) in the dark (the chaos soak found that wait).
        #expect(
            (acted["action"] as? String)?.contains("ended the silent engine pid \(frozen) with SIGKILL") == true,
            "\(acted)")
        #expect(drill.active == "A", "nothing flipped while the release holds the lock")
        #expect(drill.waitForBeat(of: v1, seconds: 60) && drill.heartbeat?.pid != frozen, "a new engine of v1 trades")
        #expect(try drill.releases().last?.state == "building", "the release goes on")
        kill(building.processIdentifier, SIGTERM)
        building.waitUntilExit()
        kill(Int32(frozen), SIGKILL)
        #expect(try drill.invariantProblems() == [])
    }

    /// A feed that freezes under a proven release: a trading stall, restarted and alerted, never
    /// rolled back; the recovery is announced once.
    @Test(.timeLimit(.minutes(20))) func aFrozenFeedIsATradingStallRestartedAndAlertedNotRolledBack() throws {
        let drill = try ReleaseDrill()
        defer { drill.shutdown() }
        let server = try drill.webhook()
        #expect(try drill.release().status == 0)
        try drill.use(.freezesOnFlag, "v2")
        let second = try drill.release()
        let v2 = try #require(try second.json()["release"] as? String)
        #expect(try second.json()["state"] as? String == "good", "\(second.stdout)")
        try drill.setDeploy("watchdog", ["trading_stall_cycles": 4, "recovery_seconds": 0])
        #expect(drill.waitForBeat(of: v2))
        #expect(try watchdog(drill).0.status == 0)

        try Fixtures.write("", to: drill.home + "/state/freeze-feed")
        try drill.supervisor.restartEngine()
        let seen = try watchdogUntil(drill, ["--dry-run"]) { $0["verdict"] as? String == "trading_stall" }
        #expect(seen["verdict"] as? String == "trading_stall", "\(seen)")
        #expect((seen["detail"] as? String)?.contains("frozen") == true, "\(seen)")
        // The feed comes back with the restart the watchdog makes.
        try FileManager.default.removeItem(atPath: drill.home + "/state/freeze-feed")
        let (out, acted) = try watchdog(drill)
        #expect(out.status == 1)
        #expect(acted["verdict"] as? String == "trading_stall", "\(acted)")
        #expect((acted["action"] as? String)?.hasPrefix("restarted the engine") == true, "\(acted)")
        #expect(drill.active == "B")
        #expect(try drill.releases().first { $0.id == v2 }?.state == "good", "a proven release is not rolled back")
        // Healthy again only once a price moved under the restarted engine.
        let healthy = try watchdogUntil(drill) { _ in
            server.requests().contains { $0.json["headline"] as? String == "HEALTHY AGAIN" }
        }
        #expect(healthy["verdict"] as? String == "healthy", "\(healthy)")
        let alerts = server.requests().map(\.json)
        #expect(alerts.map { $0["headline"] as? String ?? "" } == ["TRADING STALL", "HEALTHY AGAIN"], "\(alerts)")
        #expect((alerts.first?["action"] as? String)?.hasPrefix("restarted the engine") == true)
        #expect(alerts.first?["release"] as? String == v2)
        #expect(try drill.invariantProblems() == [])
    }

    /// Under supervisord the watchdog runs as a program beside the engine: nobody calls it.
    @Test(.timeLimit(.minutes(20))) func theSupervisedWatchdogRollsBackAHangingReleaseByItself() throws {
        let drill = try ReleaseDrill(probationTimeout: 30, supervisedWatchdog: true)
        defer { drill.shutdown() }
        let server = try drill.webhook()
        let v1 = try #require(try drill.release().json()["release"] as? String)
        let conf = try String(contentsOfFile: drill.home + "/deploy/supervisord.conf", encoding: .utf8)
        #expect(conf.contains("[program:watchdog]") && conf.contains("\(drill.home)/bin/deployctl watchdog --daemon"))
        // The watchdog's bar (20 healthy cycles) is not met before the hang (after 10).
        try drill.setDeploy("probation", ["healthy_cycles": 20, "timeout_seconds": 30])
        try drill.setDeploy("watchdog", ["stall_cycles": 3])
        try drill.use(.hangsAfterTenCycles, "hangs")
        let hangs = try drill.release(["--detach"])
        let v2 = try #require(try hangs.json()["release"] as? String)
        let deadline = Date().addingTimeInterval(90)
        func state() -> String? { (try? drill.releases())?.first { $0.id == v2 }?.state }
        while Date() < deadline && state() != "bad" { usleep(250_000) }
        #expect(try drill.releases().first { $0.id == v2 }?.state == "bad", "the daemon judged the hang")
        #expect(drill.waitForBeat(of: v1, seconds: 60), "and the good release trades again")
        #expect(drill.active == "A")
        // The daemon reads the webhook from secrets.env itself: supervisord never carries it.
        let deadline2 = Date().addingTimeInterval(30)
        while Date() < deadline2
            && !server.requests().contains(where: { ($0.json["headline"] as? String)?.hasPrefix("ROLLED BACK") == true }
            )
        {
            usleep(250_000)
        }
        #expect(server.requests().contains { ($0.json["headline"] as? String)?.hasPrefix("ROLLED BACK") == true })
        #expect(try drill.invariantProblems() == [])
    }

    @Test(.timeLimit(.minutes(20))) func aProvenReleaseThatErrorsIsRestartedWithBackoffNeverRolledBack() throws {
        let drill = try ReleaseDrill()
        defer { drill.shutdown() }
        #expect(try drill.release().status == 0)
        // During probation an error every cycle is a rollback, not a restart.
        let flag = drill.home + "/state/fail-every-cycle"
        try Fixtures.write("", to: flag)
        try drill.use(.errorsOnFlag, "erroring from the start")
        let failing = try drill.release()
        let failed = try failing.json()["message"] as? String ?? ""
        #expect(failing.status == 1 && failed.contains("its cycles fail"), "\(failed)")
        #expect(drill.active == "A")
        #expect(try drill.releases().last?.state == "bad")
        try FileManager.default.removeItem(atPath: flag)
        try drill.use(.errorsOnFlag, "v2")
        let second = try drill.release()
        let v2 = try #require(try second.json()["release"] as? String)
        #expect(try second.json()["state"] as? String == "good")
        #expect(drill.waitForBeat(of: v2))
        let (healthy, _) = try watchdog(drill)
        #expect(healthy.status == 0, "\(healthy.stdout)")

        try Fixtures.write("", to: drill.home + "/state/fail-every-cycle")
        try drill.supervisor.restartEngine()
        let json = try watchdogUntil(drill) { $0["verdict"] as? String == "erroring" }
        #expect(json["verdict"] as? String == "erroring", "\(json)")
        #expect((json["action"] as? String)?.hasPrefix("restarted the engine") == true, "\(json)")
        let again = try watchdogUntil(drill) { $0["verdict"] as? String == "erroring" }
        #expect((again["action"] as? String)?.contains("backing off") == true, "backoff: \(again)")
        #expect(drill.active == "B")
        #expect(try drill.releases().first { $0.id == v2 }?.state == "good", "a proven release is not rolled back")
    }
}
