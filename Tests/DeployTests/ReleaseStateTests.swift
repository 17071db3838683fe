import Foundation
import TestSupport
import Testing

@testable import Deploy
import GitKit
@testable import TradingCore
@testable import TradingStore

@Suite struct ReleaseStateTests {
    @Test func badAndFailedAreFinalAndTheFoldObeysTheMachine() throws {
        #expect(ReleaseState.bad.next.isEmpty && ReleaseState.failed.next.isEmpty)
        #expect(!ReleaseState.checking.next.contains(.good), "nothing goes live without the flip")
        let ledger = Ledger(path: try Fixtures.temporaryDirectory("machine") + "/releases.jsonl")
        let machine = ReleaseMachine(id: "r1", ledger: ledger, now: { WallClock.now })
        try machine.move(to: .building)
        #expect(throws: IllegalTransition.self) { try machine.move(to: .good) }
        #expect(machine.state == .building, "a refused move changes nothing")
        try machine.move(to: .checking)
        try machine.move(to: .flipped)
        try machine.move(to: .bad)
        #expect(throws: IllegalTransition.self) { try machine.move(to: .failed) }
        // A ledger written by an older deployctl: `failed` after `bad` does not soften it.
        try ledger.append("r1", "state", [JSONField("state", "failed")])
        #expect(try ledger.releases().first?.state == "bad")
    }

    func records(_ states: [(String, String)]) -> [ReleaseRecord] {
        states.map { id, state in
            var r = ReleaseRecord(id: id)
            r.state = state
            return r
        }
    }

    @Test func oneRollbackRule() {
        let view = { (release: String?, binary: Bool) in
            RollbackRule.SlotView(slot: "A", release: release, binaryPresent: binary)
        }
        let ledger = records([("r1", "good"), ("r2", "probation"), ("r3", "bad"), ("r4", "rolled_back")])
        // The last release marked good, wherever it ran from.
        #expect(
            RollbackRule.target(other: view("r1", true), previousSlot: nil, previousRelease: nil, records: ledger)
                == .slot("A", release: "r1", why: "the last release marked good"))
        // Never marked good (detached, or its deployctl died) but it was running before the flip.
        guard
            case .slot(_, "r2", _) = RollbackRule.target(
                other: view("r2", true), previousSlot: "A", previousRelease: "r2", records: ledger)
        else {
            Issue.record("the release running before the flip is the target")
            return
        }
        guard
            case .slot(_, "r4", _) = RollbackRule.target(
                other: view("r4", true), previousSlot: "A", previousRelease: "r4", records: ledger)
        else {
            Issue.record("a rolled-back release that was running before the flip is the target")
            return
        }
        // ...but not when it was not the one running, nor when it is marked bad.
        guard
            case .none = RollbackRule.target(
                other: view("r2", true), previousSlot: "B", previousRelease: "r2", records: ledger),
            case .none(let bad) = RollbackRule.target(
                other: view("r3", true), previousSlot: "A", previousRelease: "r3", records: ledger),
            case .none(let first) = RollbackRule.target(
                other: view(nil, false), previousSlot: nil, previousRelease: nil, records: ledger),
            case .none(let noBinary) = RollbackRule.target(
                other: view("r1", false), previousSlot: "A", previousRelease: "r1", records: ledger)
        else {
            Issue.record("expected no target")
            return
        }
        #expect(bad.contains("marked bad") && first.contains("no release") && noBinary.contains("no binary"))
        // The slot that ran before the flip now holds another release (built there since, or
        // left by a rollback): the slot name alone is not enough.
        guard
            case .none = RollbackRule.target(
                other: view("r2", true), previousSlot: "A", previousRelease: "r9", records: ledger),
            case .none(let never) = RollbackRule.target(
                other: view("r5", true), previousSlot: "A", previousRelease: "r5",
                records: ledger + records([("r5", "checking")]))
        else {
            Issue.record("a slot that no longer holds the previous release is a target")
            return
        }
        #expect(never.contains("never went live"))
    }

    @Test func aTornLedgerLineNeitherBlocksNorGluesToTheNextRecord() throws {
        let path = try Fixtures.temporaryDirectory("torn") + "/releases.jsonl"
        let ledger = Ledger(path: path)
        try ledger.append("r1", "started", [JSONField("ref", "main")])
        try ledger.append("r1", "state", [JSONField("state", "building")])
        // A writer killed mid-line.
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"ts": "2026-11-25T00:00:00Z", "release": "r1", "ev"#.utf8))
        try handle.close()
        try ledger.append("r2", "started", [JSONField("ref", "main")])
        try ledger.append("r2", "state", [JSONField("state", "building")])
        let releases = try ledger.releases()
        #expect(releases.map(\.id) == ["r1", "r2"])
        #expect(releases.map(\.state) == ["building", "building"])
        #expect(ledger.unreadableLines() == [3], "the torn line stays visible as one unreadable line")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("\"ev\n{"), "the next record starts on a new line")
        var info = stat()
        #expect(stat(path, &info) == 0 && info.st_mode & 0o777 == 0o600, "the ledger quotes build logs: private")
    }

    @Test func aLockFileDeletedWhileWaitedForDoesNotGiveTwoHolders() throws {
        let dir = try Fixtures.temporaryDirectory("lock")
        let path = dir + "/deploy.lock"
        let first = try FileLock.acquire(path, holder: "first")
        #expect(FileLock.currentHolder(path) == "first", "status sees the holder without taking the lock")
        let waiter = LockWaiter(path: path)
        let thread = Thread { waiter.run() }
        thread.start()
        usleep(300_000)  // the waiter has opened the old file and waits on it
        try FileManager.default.removeItem(atPath: path)
        let second = try FileLock.acquire(path, holder: "second")  // a new file at the path
        first.release()
        waiter.done.wait()
        #expect(waiter.outcome == "held", "the waiter got the deleted file's lock while another holds the path's")
        second.release()
        #expect(FileLock.currentHolder(path) == nil)
        // Looking never touches the file: a probe that took the lock would rewrite it, and a
        // release starting at that moment would find it held.
        try Fixtures.write("pid 4242 releasing abc (left by a dead holder)\n", to: path)
        var before = stat()
        stat(path, &before)
        #expect(FileLock.currentHolder(path) == nil)
        var after = stat()
        stat(path, &after)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "pid 4242 releasing abc (left by a dead holder)\n")
        #expect(after.st_ino == before.st_ino && after.st_mtim.tv_nsec == before.st_mtim.tv_nsec)
    }

    @Test func waitpidErrorsAreFailuresAndTimeoutsEndTheWholeGroup() throws {
        var status: Int32 = 0
        // Not our child: what waitpid says when SIGCHLD is ignored and the kernel reaped it.
        #expect(throws: StoreError.self) { _ = try ProcessRunner.reap(1, &status, "init") }

        let dir = try Fixtures.temporaryDirectory("group")
        let slow = try ProcessRunner.shell("sleep 300 & echo $! > grandchild; wait", in: dir, timeout: 1)
        #expect(slow.timedOut)
        let grandchild = try #require(
            Int32(
                try String(contentsOfFile: dir + "/grandchild", encoding: .utf8).trimmingCharacters(
                    in: .whitespacesAndNewlines)))
        #expect(waitUntil(seconds: 20) { !processExists(grandchild) }, "the build's own children end with it")
    }

    @Test func secretsNeverReachAChild() throws {
        let dir = try Fixtures.temporaryDirectory("env")
        let out = try ProcessRunner.shell(
            "env", in: dir, environment: ["VISIBLE": "yes"], timeout: 30, without: ["HOME_SECRET_FOR_TEST", "PATH"])
        #expect(out.output.contains("VISIBLE=yes"))
        let names = out.output.split(separator: "\n").map { $0.split(separator: "=").first ?? "" }
        #expect(!names.contains("PATH"), "a named variable is removed from the child's environment")
        #expect(SecretNames.standard.contains("TRADINGBOT_GIT_TOKEN"))
        var config = DeployConfig()
        config.secretEnv = ["MY_KEY"]
        #expect(config.secretNames.contains("MY_KEY") && config.secretNames.contains(config.gitTokenEnv))
        #expect(config.secretNames.contains("BLOFIN_API_SECRET"), "naming one more secret keeps the defaults")
    }

    @Test func leftoversOfAKilledRunAreEndedAndNothingElse() throws {
        let dir = try Fixtures.temporaryDirectory("leftovers")
        let tracking = dir + "/deploy.children"
        // A build whose deployctl "dies": we keep its tracking file, as a SIGKILL would.
        let unrelated = Process()
        unrelated.executableURL = URL(fileURLWithPath: "/bin/sleep")
        unrelated.arguments = ["300"]
        try unrelated.run()
        defer { unrelated.terminate() }
        let runner = Thread {
            _ = try? ProcessRunner.shell(
                "sleep 300 & echo $! > orphan; wait", in: dir, timeout: 600, tracking: tracking)
        }
        runner.start()
        #expect(waitUntil(seconds: 20) { FileManager.default.fileExists(atPath: dir + "/orphan") })
        let saved = try String(contentsOfFile: tracking, encoding: .utf8)
        let orphan = try #require(
            Int32(
                try String(contentsOfFile: dir + "/orphan", encoding: .utf8).trimmingCharacters(
                    in: .whitespacesAndNewlines)))
        let ended = ProcessRunner.endLeftovers(tracking)
        #expect(ended.contains(orphan))
        #expect(waitUntil(seconds: 20) { !processExists(orphan) })
        #expect(unrelated.isRunning, "a process without the run's mark is left alone")
        #expect(
            saved.hasPrefix("run ") && saved.contains("/bin/sh"), "the run was written down before it started: \(saved)"
        )
    }

    @Test func anEngineThatNeverBeatsFailsAtTheStartGraceNotAtTheTimeout() throws {
        let home = Home(root: try Fixtures.temporaryDirectory("grace"))
        try home.createDirectories()
        let quiet = FakeManager(fixed: ServiceHealth(state: "RUNNING", running: true, gaveUp: false, restarts: nil))
        // The replaced engine's last beat is no first beat of the new one.
        try HeartbeatStore(home: home).write(
            Heartbeat(pid: Int(getpid()), release: "r1", cycle: 4, phase: "idle", writtenAt: WallClock.now))
        let started = Date()
        let silent = Probation(home: home, manager: quiet).watch(
            release: "r1", cycles: 1, timeout: 300, since: WallClock.now, replacedPid: Int(getpid()), startGrace: 1)
        guard case .failed(let why) = silent else {
            Issue.record("an engine that never beat passed: \(silent)")
            return
        }
        #expect(why.contains("no heartbeat within the start grace of 1 s"), "\(why)")
        #expect(Date().timeIntervalSince(started) < 60)

        // A first beat within the grace: after it the other rules judge, however long it takes.
        let since = WallClock.now
        let writer = Thread {
            usleep(500_000)
            // Beats further apart than the grace: after the first, the grace no longer judges.
            for cycle in 1...3 {
                try? HeartbeatStore(home: home).write(
                    Heartbeat(pid: Int(getpid()), release: "r2", cycle: cycle, phase: "idle", writtenAt: WallClock.now))
                usleep(2_500_000)
            }
        }
        writer.start()
        let slow = Probation(home: home, manager: quiet).watch(
            release: "r2", cycles: 3, timeout: 60, since: since, stallSeconds: 30, startGrace: 2)
        guard case .healthy = slow else {
            Issue.record("an engine that beat within the grace failed: \(slow)")
            return
        }
    }

    @Test func probationCountsOnlyFreshHeartbeatsAndSeesSystemdCrashLoops() throws {
        let home = Home(root: try Fixtures.temporaryDirectory("probation"))
        try home.createDirectories()
        let since = WallClock.now
        // A heartbeat of the same release left by the engine before the restart.
        try HeartbeatStore(home: home).write(
            Heartbeat(pid: Int(getpid()), release: "r1", cycle: 9, phase: "idle", writtenAt: since.adding(seconds: -5)))
        let quiet = FakeManager(fixed: ServiceHealth(state: "RUNNING", running: true, gaveUp: false, restarts: nil))
        let stale = Probation(home: home, manager: quiet).watch(release: "r1", cycles: 1, timeout: 1.5, since: since)
        guard case .failed = stale else {
            Issue.record("a stale heartbeat passed probation")
            return
        }
        // The replaced engine's pid does not count either, even with a fresh time.
        try HeartbeatStore(home: home).write(
            Heartbeat(pid: Int(getpid()), release: "r1", cycle: 10, phase: "idle", writtenAt: WallClock.now))
        let replaced = Probation(home: home, manager: quiet).watch(
            release: "r1", cycles: 1, timeout: 1.5, since: since, replacedPid: Int(getpid()))
        guard case .failed = replaced else {
            Issue.record("the replaced engine's heartbeat passed probation")
            return
        }
        let fresh = Probation(home: home, manager: quiet).watch(release: "r1", cycles: 1, timeout: 10, since: since)
        guard case .healthy = fresh else {
            Issue.record("a fresh heartbeat failed: \(fresh)")
            return
        }

        // An engine that manages one cycle, dies and is restarted: its single cycles never add up.
        var sleepers: [Process] = []
        for _ in 0..<5 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sleep")
            p.arguments = ["60"]
            try p.run()
            sleepers.append(p)
        }
        defer { sleepers.forEach { $0.terminate() } }
        let pids = sleepers.map { Int($0.processIdentifier) }
        let writer = Thread {
            for (i, pid) in pids.enumerated() {
                try? HeartbeatStore(home: home).write(
                    Heartbeat(
                        pid: pid, release: "r3", cycle: 1 + i % 2, phase: "idle",
                        writtenAt: WallClock.now))
                usleep(400_000)
            }
        }
        let loopStart = WallClock.now
        writer.start()
        let restarting = Probation(home: home, manager: quiet).watch(
            release: "r3", cycles: 2, timeout: 30, since: loopStart)
        guard case .failed(let restarts) = restarting, restarts.contains("crash-loops") else {
            Issue.record("single cycles of restarted engines passed: \(restarting)")
            return
        }

        // systemd restarts a crashing engine for ever: the restart count gives it away.
        let dir = home.root
        let tool = dir + "/systemctl"
        try Fixtures.write(
            """
            #!/bin/sh
            n=$(cat \(dir)/count 2>/dev/null || echo 0); n=$((n + 1)); echo $n > \(dir)/count
            echo ActiveState=activating; echo SubState=auto-restart; echo NRestarts=$n

            """, to: tool)
        chmod(tool, 0o755)
        let looping = Probation(home: home, manager: SystemdManager(systemctl: tool)).watch(
            release: "r2", cycles: 1, timeout: 60, since: WallClock.now)
        guard case .failed(let why) = looping, why.contains("crash-loops") else {
            Issue.record("a systemd crash loop was not seen: \(looping)")
            return
        }
    }

    @Test func aHalfMadeSlotIsReclonedAndEachReleaseFollowsDeployJson() throws {
        let root = try Fixtures.temporaryDirectory("slotgit")
        let first = try GitFixture(root + "/first")
        try first.write("a.txt", "first\n")
        try first.write(".gitignore", "Package.resolved\n.build/\n")
        let firstSha = try first.commit("first")
        try first.git("branch", "feature")
        let second = try GitFixture(root + "/second")
        try second.write("a.txt", "second\n")
        let secondSha = try second.commit("second")

        let home = Home(root: root + "/home")
        try home.createDirectories()
        var config = DeployConfig()
        config.repo = first.path
        // A clone killed midway: a folder with a partial .git.
        try FileManager.default.createDirectory(
            atPath: home.slot("A") + "/.git/objects", withIntermediateDirectories: true)
        try Fixtures.write("junk", to: home.slot("A") + "/half-written")
        try FileManager.default.createDirectory(atPath: home.slot("A") + "/.build", withIntermediateDirectories: true)
        try Fixtures.write("cache", to: home.slot("A") + "/.build/cached")
        let repo = try SlotCheckout(home: home, config: config).open("A")
        #expect(try repo.resolve("main") == firstSha)
        #expect(!FileManager.default.fileExists(atPath: home.slot("A") + "/half-written"))
        #expect(FileManager.default.fileExists(atPath: home.slot("A") + "/.build/cached"), "the build cache is kept")

        // Ignored files go too (a stale Package.resolved), the build folder stays.
        try repo.checkoutHard(firstSha) { $0.hasPrefix(".build") }
        try Fixtures.write("stale", to: home.slot("A") + "/Package.resolved")
        let removed = try repo.checkoutHard(firstSha) { $0.hasPrefix(".build") }
        #expect(removed.contains("Package.resolved"))
        #expect(FileManager.default.fileExists(atPath: home.slot("A") + "/.build/cached"))

        // A branch is the remote's, never a stale local one; a deleted one fails saying so.
        try first.write("a.txt", "newer\n")
        let newer = try first.commit("newer")
        let again = try SlotCheckout(home: home, config: config).open("A")
        try again.checkoutHard(firstSha) { _ in true }
        #expect(try again.resolve("main") == newer)
        try first.git("branch", "-D", "feature")
        let reopened = try SlotCheckout(home: home, config: config).open("A")
        let gone = #expect(throws: GitError.self) { try reopened.resolve("feature") }
        #expect(gone?.message.contains("deleted there") == true)

        // deploy.json now names another repository: the next release fetches from it.
        config.repo = second.path
        let moved = try SlotCheckout(home: home, config: config).open("A")
        #expect(try moved.resolve("main") == secondSha)
    }

    @Test func theWatchdogJudgesWorstFirstAndCommitsOnlyAMetBar() {
        var e = WatchdogEvidence()
        e.serviceRunning = true
        e.heartbeatAgeSeconds = 2
        e.heartbeatPidAlive = true
        e.heartbeatRelease = "r2"
        e.liveRelease = "r2"
        e.liveState = .probation
        e.heartbeatCycle = 3
        e.heartbeatPhase = "cycle"
        #expect(!WatchdogJudge.probationMet(e), "a beat at a cycle's start carries the cycle not yet done")
        e.heartbeatPhase = "idle"
        #expect(WatchdogJudge.verdict(e).0 == .healthy && WatchdogJudge.probationMet(e))
        e.signalsSeen = false
        #expect(!WatchdogJudge.probationMet(e), "an engine that never evaluated a signal does not trade")
        e.signalsSeen = true
        e.heartbeatCycle = 2
        #expect(!WatchdogJudge.probationMet(e), "two of three cycles is not the bar")
        e.heartbeatAgeSeconds = 500
        #expect(WatchdogJudge.verdict(e).0 == .stalled)
        e.heartbeatAgeSeconds = 2
        e.heartbeatRelease = "r1"
        #expect(WatchdogJudge.verdict(e).0 == .stalled, "the live slot's engine was never restarted")
        e.heartbeatRelease = "r2"
        e.consecutiveErrors = 3
        #expect(WatchdogJudge.verdict(e).0 == .erroring)
        e.freeDiskBytes = 10_000_000
        #expect(WatchdogJudge.verdict(e).0 == .diskLow, "a full disk is not taken for a stall or errors")
        e.freeDiskBytes = .max
        e.serviceRunning = false
        #expect(WatchdogJudge.verdict(e).0 == .notRunning)
        e.serviceState = "tradingbot STARTING"
        #expect(WatchdogJudge.verdict(e).0 == .starting, "a fresh restart is waited for")
        e.serviceState = "tradingbot STOPPED Nov 25 10:00 PM"
        e.heartbeatPhase = "stopped"
        #expect(WatchdogJudge.verdict(e).0 == .stopped, "an operator's stop is not undone")
        e.serviceState = "tradingbot BACKOFF"
        e.heartbeatPhase = "idle"
        e.serviceGaveUp = true
        #expect(WatchdogJudge.verdict(e).0 == .crashLoop)
    }

    /// A failed first release kept for inspection: the watchdog says so every run, and neither
    /// restarts the bad release nor writes to the ledger again and again.
    @Test func theWatchdogLeavesABadReleaseWithNowhereToGoAlone() throws {
        let home = Home(root: try Fixtures.temporaryDirectory("watchdog"))
        try home.createDirectories()
        try FileManager.default.createDirectory(atPath: home.configDir, withIntermediateDirectories: true)
        try FileIO.copy(Fixtures.repoRoot + "/config/bot.json", to: home.botConfig)
        let mistyped = Watchdog(
            home: Home(root: home.root + "/nope"), config: DeployConfig(),
            manager: FakeManager(fixed: ServiceHealth(state: "", running: false, gaveUp: false, restarts: nil)),
            now: { WallClock.now })
        #expect(mistyped.runOnce(dryRun: false).exitCode == 2)
        #expect(!FileManager.default.fileExists(atPath: home.root + "/nope"), "a mistyped home is not created")
        try FileManager.default.createDirectory(atPath: home.slot("A"), withIntermediateDirectories: true)
        try Fixtures.write("r1\n", to: home.slot("A") + "/.release")
        try Slots(home: home).flip(to: "A")
        let ledger = Ledger(path: home.releasesLedger)
        try ledger.append("r1", "started", [JSONField("slot", "A")])
        try ledger.append("r1", "state", [JSONField("state", "bad")])
        let down = FakeManager(fixed: ServiceHealth(state: "STOPPED", running: false, gaveUp: false, restarts: nil))
        let watchdog = Watchdog(home: home, config: DeployConfig(), manager: down, now: { WallClock.now })
        let lines = try JSONLAppender.readAll(home.releasesLedger).count
        for _ in 0..<2 {
            let report = watchdog.runOnce(dryRun: false)
            #expect(report.verdict == "not_running" && report.exitCode == 1)
            #expect(
                report.action.contains("No release to go back to") && report.action.contains("NOTHING IS TRADING"),
                "\(report.action)")
        }
        #expect(try JSONLAppender.readAll(home.releasesLedger).count == lines, "no ledger entry per run")
        let log = try JSONLAppender.readAll(home.logsDir + "/watchdog.jsonl")
        #expect(
            log.filter { $0.objectValue?["verdict"] != nil }.count == 1,
            "the same verdict and action are logged once, not every run")
        #expect(log.filter { $0.objectValue?["alert"] != nil }.count == 1, "and alerted once")
    }

    @Test func secretsFileIsParsedNotSourced() {
        let values = SecretsFile.parse(
            """
            # comment
            export TRADINGBOT_GIT_TOKEN=abc123
            TRADINGBOT_DASHBOARD_PASSWORD_HASH='$2b$12$abcdefghijk'
            QUOTED="with space"
            $(touch /tmp/never)=x
            """)
        #expect(values["TRADINGBOT_GIT_TOKEN"] == "abc123")
        #expect(values["TRADINGBOT_DASHBOARD_PASSWORD_HASH"] == "$2b$12$abcdefghijk")
        #expect(values["QUOTED"] == "with space")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/never"))
    }

    @Test func sshRemotesAreRecognisedAsGitReadsThem() {
        #expect(SSHHostKeys.endpoint(of: "ssh://git@example.org:2222/me/bot.git")! == ("example.org", 2222))
        #expect(SSHHostKeys.endpoint(of: "ssh://example.org/me/bot.git")! == ("example.org", 22))
        #expect(SSHHostKeys.endpoint(of: "git@example.org:me/bot.git")! == ("example.org", 22))
        #expect(SSHHostKeys.endpoint(of: "example.org:me/bot.git")! == ("example.org", 22))
        #expect(SSHHostKeys.endpoint(of: "/srv/git/bot.git") == nil)
        #expect(SSHHostKeys.endpoint(of: "https://example.org/me/bot.git") == nil)
        #expect(ReleasePipeline.isBuildFolder(".build") && ReleasePipeline.isBuildFolder(".build-debug"))
        #expect(!ReleasePipeline.isBuildFolder(".buildkite"))
    }

    @Test func theBinaryCannotLeaveTheSlot() throws {
        for bad in ["../../bin/sh", "/usr/bin/env", "bin/../../x"] {
            #expect(throws: ConfigError.self, "\(bad)") {
                _ = try DeployConfig.parse(
                    .object(JSONObject([JSONField("binary", .string(bad))])), file: "deploy.json")
            }
        }
    }
}

final class LockWaiter: @unchecked Sendable {
    let path: String
    // Written by the waiting thread before `done` is signalled.
    var outcome = ""
    let done = DispatchSemaphore(value: 0)
    init(path: String) { self.path = path }

    func run() {
        do {
            let lock = try FileLock.acquire(path, holder: "waiter", timeout: 2)
            outcome = "acquired"
            lock.release()
        } catch {
            outcome = "held"
        }
        done.signal()
    }
}

struct FakeManager: ServiceManager {
    var fixed: ServiceHealth
    var dashboard = false
    var name: String { "fake" }
    func restartEngine() throws {}
    func stopEngine() throws {}
    func engineState() -> String { fixed.state }
    func health() -> ServiceHealth { fixed }
    func restartDashboard() -> String? { nil }
    func dashboardEnabled() -> Bool { dashboard }
}

func processExists(_ pid: Int32) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    // A zombie waiting for its parent is gone for our purposes.
    let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
    return !stat.contains(") Z ")
}
