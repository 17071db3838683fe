import Foundation
import TestSupport
import Testing

@testable import Deploy
@testable import TradingCore
@testable import TradingStore

/// No dark minutes on the way back: a release that never beats is given up after the start
/// grace, not the probation timeout, and so is a rollback target that hangs; a rollback to a
/// release older than a key the operator set sets the key aside and trades on, whoever goes back
/// (the release, the operator, the watchdog), with the same words and an alert each time.
@Suite(.serialized) struct GoBackDrillTests {
    func seconds(of step: String, in out: CommandRunner.Output) throws -> Double? {
        (try out.json()["steps"] as? [[String: Any]] ?? []).last { $0["name"] as? String == step }?["seconds"]
            as? Double
    }

    @Test(.timeLimit(.minutes(20))) func anEngineThatNeverBeatsIsGivenUpAfterTheStartGrace() throws {
        // A timeout of ten minutes, as by default: only the grace may end these waits early.
        let drill = try ReleaseDrill(probationTimeout: 600)
        defer { drill.shutdown() }
        try drill.setDeploy("probation", ["start_grace_seconds": 5])
        let first = try drill.release()
        let v1 = try #require(try first.json()["release"] as? String)
        #expect(first.status == 0, "\(first.stdout)")

        try drill.use(.neverBeats, "hangs before its first beat")
        let silent = try drill.release()
        let message = try silent.json()["message"] as? String ?? ""
        #expect(silent.status == 1)
        #expect(message.contains("no heartbeat within the start grace of 5 s"), "\(message)")
        #expect(message.contains("Rolled back to \(v1) in slot A"), "\(message)")
        let probation = try #require(try seconds(of: "probation", in: silent))
        #expect(probation < 120, "probation waited \(probation) s for a first beat")
        #expect(drill.waitForBeat(of: v1))

        // A rollback target that hangs before its first beat: given up after the grace too, and
        // what ran is put back.
        try drill.use(.good, "v2")
        let second = try drill.release()
        let v2 = try #require(try second.json()["release"] as? String)
        #expect(second.status == 0 && drill.active == "B", "\(second.stdout)")
        let binary = drill.home + "/slots/A/bin/tradingbot"
        let real = try String(contentsOfFile: binary, encoding: .utf8)
        try Fixtures.write(
            real.replacingOccurrences(
                of: "#!/bin/sh\n", with: "#!/bin/sh\nif [ \"$1\" = run ]; then exec sleep 3600; fi\n"), to: binary)
        chmod(binary, 0o755)
        let started = Date()
        let rollback = try CommandRunner.run("deployctl", ["rollback", "--home", drill.home, "--json"])
        let spent = Date().timeIntervalSince(started)
        let said = try rollback.json()["message"] as? String ?? ""
        #expect(rollback.status == 1)
        #expect(said.contains("no heartbeat within the start grace of 5 s"), "\(said)")
        #expect(said.contains("\(v2) in slot B is running again"), "\(said)")
        #expect(spent < 180, "the rollback took \(spent) s")
        #expect(drill.active == "B" && drill.waitForBeat(of: v2))
        #expect(try drill.invariantProblems() == [])
    }

    /// The operator sets a key the new release added; a rollback to the release before it sets
    /// the key aside (the old release trades), names it, and alerts, from each of the three
    /// callers; a typo is never set aside.
    /// A candidate that freezes during its probation (SIGSTOP: alive, silent) cannot stop on
    /// supervisord's SIGTERM: the way back ends it at once instead of letting supervisord wait
    /// its stop timeout (10 s) while nothing trades (the chaos soak's frozen engine).
    @Test(.timeLimit(.minutes(20))) func aCandidateFrozenOnProbationIsEndedNotWaitedFor() throws {
        let drill = try ReleaseDrill(probationTimeout: 300)
        defer { drill.shutdown() }
        let first = try drill.release()
        let v1 = try #require(try first.json()["release"] as? String)
        #expect(first.status == 0, "\(first.stdout)")
        try drill.setDeploy("probation", ["healthy_cycles": 200])
        try drill.setDeploy("watchdog", ["stall_cycles": 5])
        try drill.use(.good, "v2, frozen on probation")
        let releasing = try drill.startRelease()
        defer { kill(releasing.processIdentifier, SIGKILL) }
        let deadline = Date().addingTimeInterval(120)
        var frozen: Int?
        while Date() < deadline && frozen == nil {
            if let beat = drill.heartbeat, beat.release != v1, beat.phase == "idle", beat.cycle >= 2 {
                frozen = beat.pid
            }
            usleep(100_000)
        }
        let pid = try #require(frozen, "the candidate beats")
        kill(Int32(pid), SIGSTOP)
        defer { kill(Int32(pid), SIGKILL) }
        releasing.waitUntilExit()
        #expect(releasing.terminationStatus == 1)
        #expect(drill.active == "A" && drill.waitForBeat(of: v1, seconds: 60), "v1 trades again")
        let log = try String(contentsOfFile: drill.home + "/logs/supervisord.log", encoding: .utf8)
        // supervisord's own kill after its stop timeout reads "stopped: ... (terminated by SIGKILL)".
        #expect(!log.contains("stopped: tradingbot (terminated by SIGKILL)"), "\(log)")
        #expect(!Probation.alive(pid), "the frozen engine is gone")
        let step = try drill.releases().last
        print("frozen candidate: \(step?.id ?? "?") ended \(step?.state ?? "?")")
        #expect(try drill.invariantProblems() == [])
    }

    /// The live engine is frozen when a release restarts it: the restart ends it at once instead
    /// of waiting supervisord's stop timeout (the soak, seed 13: 30 s dark with a bad release).
    @Test(.timeLimit(.minutes(20))) func aReleaseRestartsAFrozenLiveEngineWithoutTheStopWait() throws {
        let drill = try ReleaseDrill()
        defer { drill.shutdown() }
        let first = try drill.release()
        let v1 = try #require(try first.json()["release"] as? String)
        #expect(first.status == 0 && drill.waitForBeat(of: v1), "\(first.stdout)")
        try drill.setDeploy("watchdog", ["stall_cycles": 2])
        let frozen = try #require(drill.heartbeat?.pid)
        kill(Int32(frozen), SIGSTOP)
        defer { kill(Int32(frozen), SIGKILL) }
        sleep(4)  // silent past the stall threshold (2 one-second cycles)
        try drill.use(.good, "v2")
        let second = try drill.release()
        #expect(second.status == 0, "\(second.stdout)")
        let log = try String(contentsOfFile: drill.home + "/logs/supervisord.log", encoding: .utf8)
        #expect(!log.contains("stopped: tradingbot (terminated by SIGKILL)"), "\(log)")
        #expect(!Probation.alive(frozen))
    }

    /// While the live release is unproven (its deployctl killed after the flip, or `--detach`),
    /// the other slot holds its way back: a new release must not build over it. The chaos soak
    /// found the chain: a release killed on probation, a bad release built over the last good
    /// one and went back to the unproven one, which froze; the watchdog rolled that back, with
    /// nowhere left to go, and nothing traded.
    @Test(.timeLimit(.minutes(20))) func aReleaseNeverBuildsOverTheWayBackOfAnUnprovenLiveRelease() throws {
        let drill = try ReleaseDrill()
        defer { drill.shutdown() }
        let first = try drill.release()
        let v1 = try #require(try first.json()["release"] as? String)
        #expect(first.status == 0, "\(first.stdout)")
        try drill.use(.good, "v2, left on probation")
        let detached = try drill.release(["--detach"])
        let v2 = try #require(try detached.json()["release"] as? String)
        #expect(detached.status == 0 && drill.active == "B", "\(detached.stdout)")
        #expect(try drill.releases().last?.state == "probation")

        try drill.use(.good, "v3")
        let refused = try drill.release()
        let said = try refused.json()["message"] as? String ?? ""
        #expect(refused.status == 1, "\(refused.stdout)")
        #expect(
            said.contains("\(v2) (slot B) is still on probation") && said.contains("Nothing live changed"), "\(said)")
        #expect(Slots(home: Home(root: drill.home)).releaseID("A") == v1, "the way back is whole")

        // The operator may still insist.
        let forced = try drill.release(["--force"])
        #expect(forced.status == 0 && drill.active == "A", "\(forced.stdout)")
    }

    /// A way back to a release from before capital scaling, with `risk.scaling` set: the key is
    /// set aside, the older release trades, and the log and the alert say scaling is off.
    @Test(.timeLimit(.minutes(20))) func aRollbackToAReleaseBeforeScalingTradesAndSaysScalingIsOff() throws {
        let drill = try ReleaseDrill(probationTimeout: 30)
        defer { drill.shutdown() }
        let server = try drill.webhook()
        try drill.use(.beforeScaling, "v1 has no capital scaling")
        let first = try drill.release()
        let v1 = try #require(try first.json()["release"] as? String)
        #expect(first.status == 0, "\(first.stdout)")
        try drill.use(.good, "v2 scales")
        let second = try drill.release()
        #expect(second.status == 0 && drill.active == "B", "\(second.stdout)")
        let home = Home(root: drill.home)
        #expect(waitUntil(seconds: 60) { FileIO.exists(home.scalingState) }, "v2 keeps its scaling state")
        // The operator sets a key only v2 reads.
        var config = try JSONValue.parse(try FileIO.read(home.botConfig)).objectValue ?? JSONObject()
        config["risk"] = ["scaling": ["ceiling": 0.75]]
        try Fixtures.write(JSONValue.object(config).serialized(indent: 2), to: home.botConfig)

        try drill.watchdogOnce()  // its timer has looked at the log before
        let back = try CommandRunner.run("deployctl", ["rollback", "--home", drill.home, "--json"])
        let said = try back.json()["message"] as? String ?? ""
        #expect(back.status == 0, "\(back.stdout) \(back.stderr)")
        #expect(said.contains("Rolled back to \(v1) in slot A") && said.contains("bot.json risk.scaling"), "\(said)")
        #expect(drill.waitForBeat(of: v1), "the older release trades")
        let off = try JSONLAppender.readAll(home.botLog).compactMap { $0.objectValue }.filter {
            $0["event"] == "capital_scaling_off"
        }
        #expect(off.count == 1 && off.first?["level"] == "critical" && off.first?["release"] == .string(v1), "\(off)")
        #expect(off.first?["effect"]?.stringValue?.contains("full configured risk.max_exposure_fraction") == true)
        try drill.watchdogOnce()
        let alerts = server.requests().map(\.json).filter {
            ($0["headline"] as? String ?? "").contains("CAPITAL SCALING OFF")
        }
        #expect(alerts.count == 1, "\(server.requests().map { $0.json["headline"] ?? "" })")
        #expect((alerts.first?["next"] as? String ?? "").contains("Capital scaling is off after a rollback"))
        #expect(try drill.invariantProblems() == [])
    }

    @Test(.timeLimit(.minutes(20))) func aRollbackToAReleaseOlderThanASetKeyTradesAndNamesTheKey() throws {
        let drill = try ReleaseDrill(probationTimeout: 30)
        defer { drill.shutdown() }
        let server = try drill.webhook()
        let bot = drill.home + "/config/bot.json"
        func setKey(_ key: String = "exposure_basis") throws {
            var config = try JSONValue.parse(try FileIO.read(bot)).objectValue ?? JSONObject()
            var risk = config["risk"]?.objectValue ?? JSONObject()
            risk.fields.removeAll { $0.key.hasPrefix("_") || $0.key.hasPrefix("exposure_bas") }
            risk[key] = "margin"
            config["risk"] = .object(risk)
            try Fixtures.write(JSONValue.object(config).serialized(indent: 2), to: bot)
        }
        func risk() throws -> JSONObject {
            try JSONValue.parse(try FileIO.read(bot)).objectValue?["risk"]?.objectValue ?? JSONObject()
        }
        let setAside = "bot.json risk.exposure_basis"
        var messages: [String] = []

        try drill.use(.olderConfig, "v1 knows no exposure_basis")
        let first = try drill.release()
        let v1 = try #require(try first.json()["release"] as? String)
        #expect(first.status == 0, "\(first.stdout)")

        // 1. The release: the key set while v1 trades, then a release that reads it but crashes.
        try setKey()
        try drill.use(.crashesOnRun, "v2 reads it, and crashes")
        let crashed = try drill.release()
        let message = try crashed.json()["message"] as? String ?? ""
        #expect(crashed.status == 1)
        #expect(message.contains("Rolled back to \(v1) in slot A") && message.contains(setAside), "\(message)")
        messages.append(message)
        #expect(drill.waitForBeat(of: v1), "the older release trades")
        #expect(try risk()["_exposure_basis"] == "margin" && risk()["exposure_basis"] == nil)
        let kept = try FileManager.default.contentsOfDirectory(atPath: drill.home + "/config")
        #expect(kept.contains { $0.hasPrefix("bot.json.before-rollback-") }, "\(kept)")

        // 2. The operator: a good release that reads it, the key set again, deployctl rollback.
        try drill.use(.good, "v3")
        let third = try drill.release()
        let v3 = try #require(try third.json()["release"] as? String)
        #expect(third.status == 0 && drill.active == "B", "\(third.stdout)")
        try setKey()
        // The hook is down: the rollback's alert waits for the watchdog, which sends it.
        try server.answer(503)
        let back = try CommandRunner.run("deployctl", ["rollback", "--home", drill.home, "--json"])
        let said = try back.json()["message"] as? String ?? ""
        #expect(
            back.status == 0 && said.contains("Rolled back to \(v1) in slot A") && said.contains(setAside), "\(said)")
        messages.append(said)
        #expect(drill.waitForBeat(of: v1))
        let spool = drill.home + "/state/alerts-pending.jsonl"
        #expect(FileIO.exists(spool), "an undelivered rollback alert is kept for the watchdog")
        try server.answer(200)
        func rollbackAlerts() -> Int { server.requests().filter { $0.json["by"] as? String == "rollback" }.count }
        let refusedOnce = rollbackAlerts()
        #expect(refusedOnce == 1, "the hook saw it once and refused it")
        try drill.watchdogOnce()
        #expect(rollbackAlerts() == 2, "the watchdog sent it again, and the hook took it")
        #expect(!FileIO.exists(spool) && !FileIO.exists(spool + ".taken"))

        // 3. The watchdog: a detached release that reads the key and then hangs.
        try setKey()
        try drill.setDeploy("watchdog", ["stall_cycles": 3])
        try drill.use(.hangsAfterTenCycles, "v4 reads it, then hangs")
        let fourth = try drill.release(["--detach"])
        #expect(fourth.status == 0, "\(fourth.stdout)")
        // Looked at without acting until it stalls (acting earlier would commit its ten cycles).
        func watchdog(_ extra: [String] = []) throws -> [String: Any] {
            let out = try CommandRunner.execute(
                drill.home + "/bin/deployctl", ["watchdog", "--home", drill.home, "--json"] + extra)
            return (try? out.json()) ?? [:]
        }
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, try watchdog(["--dry-run"])["verdict"] as? String != "stalled" { usleep(500_000) }
        let action = try watchdog()["action"] as? String ?? ""
        #expect(action.contains("Rolled back to \(v1) in slot A") && action.contains(setAside), "\(action)")
        messages.append(action)
        #expect(drill.waitForBeat(of: v1))

        // The same words from each caller, and an alert for each rollback naming the key.
        // (The hook refused one once; the watchdog sent it again: counted once.)
        let alerts = server.requests().map(\.json).filter { ($0["headline"] as? String ?? "").hasPrefix("ROLLED BACK") }
        let distinct = Set(alerts.map { "\($0["by"] ?? "")|\($0["at"] ?? "")" })
        #expect(distinct.count == 3, "\(alerts.map { $0["headline"] ?? "" })")
        #expect(alerts.allSatisfy { ($0["action"] as? String ?? "").contains(setAside) }, "\(alerts)")
        #expect(Set(alerts.compactMap { $0["by"] as? String }) == ["release", "rollback", "watchdog"])
        let phrase = "The live config held keys the older release cannot read, set aside"
        #expect(messages.allSatisfy { $0.contains(phrase) }, "\(messages)")

        // doctor: with the key set aside every binary that may run reads the config; set again,
        // it names the release that does not know it.
        func compat() throws -> [String: Any] {
            let out = try CommandRunner.run("deployctl", ["doctor", "--home", drill.home, "--json"])
            let checks = try out.json()["checks"] as? [[String: Any]] ?? []
            return checks.first { $0["name"] as? String == "config_compat" } ?? [:]
        }
        let agreed = try compat()
        #expect(agreed["ok"] as? Bool == true, "\(agreed)")
        try setKey()
        let refused = try compat()
        #expect(refused["ok"] as? Bool == false, "\(refused)")
        #expect(
            (refused["detail"] as? String)?.contains("(\(v1), live) does not know risk.exposure_basis") == true,
            "\(refused)")

        // A typo is no newer key: nothing is set aside, nothing changes.
        try drill.use(.good, "v5")
        let fifth = try drill.release()
        #expect(fifth.status == 0 && drill.active == "B", "\(fifth.stdout)")

        // A way back that does not happen (the older release hangs on start) puts the key back:
        // the release that runs again reads the operator's config as it was.
        try drill.setDeploy("probation", ["start_grace_seconds": 5])
        let older = drill.home + "/slots/A/bin/tradingbot"
        let script = try String(contentsOfFile: older, encoding: .utf8)
        try Fixtures.write(
            script.replacingOccurrences(
                of: "#!/bin/sh\n", with: "#!/bin/sh\nif [ \"$1\" = run ]; then exec sleep 3600; fi\n"),
            to: older)
        chmod(older, 0o755)
        try setKey()
        let hung = try CommandRunner.run("deployctl", ["rollback", "--home", drill.home, "--json"])
        let hungSaid = try hung.json()["message"] as? String ?? ""
        #expect(hung.status == 1 && hungSaid.contains("were put back"), "\(hungSaid)")
        #expect(try risk()["exposure_basis"] == "margin" && risk()["_exposure_basis"] == nil)
        let v5 = try #require(try fifth.json()["release"] as? String)
        #expect(drill.active == "B" && drill.waitForBeat(of: v5))
        try setKey("exposure_bassis")
        let typo = try CommandRunner.run("deployctl", ["rollback", "--home", drill.home, "--json"])
        let typoSaid = try typo.json()["message"] as? String ?? ""
        #expect(typo.status == 1 && typoSaid.contains("a typo?") && typoSaid.contains("Nothing changed"), "\(typoSaid)")
        #expect(try risk()["exposure_bassis"] == "margin", "a typo is never set aside")
        #expect(drill.active == "B")
        _ = v3
    }

    /// One path: only GoBack calls the rollback rule and the engine switch.
    @Test func onlyGoBackCallsTheRuleAndTheSwitch() throws {
        let sources = Fixtures.repoRoot + "/Sources"
        let files = FileManager.default.enumerator(atPath: sources)?.compactMap { $0 as? String } ?? []
        var callers: [String] = []
        for file in files where file.hasSuffix(".swift") {
            let text = try String(contentsOfFile: sources + "/" + file, encoding: .utf8)
            if text.contains("RollbackRule.target(") || text.contains("EngineSwitch(") { callers.append(file) }
        }
        #expect(callers == ["Deploy/GoBack.swift"], "\(callers)")
    }
}
