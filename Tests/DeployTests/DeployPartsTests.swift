import Foundation
import TestSupport
import Testing

@testable import Deploy
@testable import TradingCore
@testable import TradingStore

@Suite struct DeployPartsTests {
    @Test func flipIsASymlinkRenameAndSwitchesSlots() throws {
        let home = Home(root: try Fixtures.temporaryDirectory("slots"))
        let slots = Slots(home: home)
        #expect(slots.active() == nil)
        #expect(slots.inactive() == "A")
        try slots.flip(to: "A")
        #expect(slots.active() == "A" && slots.inactive() == "B")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: home.currentSlot) == "A")
        try slots.flip(to: "B")
        #expect(slots.active() == "B")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: home.slotsDir).filter {
            $0.hasPrefix(".current")
        }
        #expect(leftovers.isEmpty)
    }

    @Test func ledgerFoldsEventsIntoReleases() throws {
        let ledger = Ledger(path: try Fixtures.temporaryDirectory("ledger") + "/releases.jsonl")
        try ledger.append("r1", "started", [JSONField("ref", "main"), JSONField("slot", "A")])
        try ledger.append("r1", "resolved", [JSONField("sha", "abc"), JSONField("subject", "s")])
        try ledger.append("r1", "step", [JSONField("name", "build"), JSONField("ok", true), JSONField("seconds", 1.5)])
        try ledger.append("r1", "state", [JSONField("state", "good")])
        try ledger.append("r2", "started", [JSONField("ref", "v2"), JSONField("slot", "B")])
        try ledger.append(
            "r2", "step", [JSONField("name", "build"), JSONField("ok", false), JSONField("detail", "exit 1")])
        try ledger.append("r2", "state", [JSONField("state", "failed")])
        let releases = try ledger.releases()
        #expect(releases.map(\.id) == ["r1", "r2"])
        #expect(releases[0].isGood && releases[0].sha == "abc" && releases[0].slot == "A")
        #expect(releases[1].state == "failed" && releases[1].failedStep == "build" && releases[1].error == "exit 1")
        // Append-only: the file holds every event, one per line.
        #expect(try JSONLAppender.readAll(ledger.path).count == 7)
    }

    @Test func roundTripComparisonFindsLostRecordsAndFields() throws {
        let original = try JSONValue.parse(
            #"{"open_positions": [], "closed_positions": [{"symbol": "A", "net_pnl": 1, "signal_ctx": {"ofi": 0.5}}], "meta": 1}"#
        )
        #expect(PositionsRoundTrip.difference(original: original, rewritten: original) == nil)
        let renumbered = try JSONValue.parse(
            #"{"open_positions": [], "closed_positions": [{"symbol": "A", "net_pnl": 1.0, "signal_ctx": {"ofi": 0.50}}], "meta": 1}"#
        )
        #expect(PositionsRoundTrip.difference(original: original, rewritten: renumbered) == nil)
        let lostField = try JSONValue.parse(
            #"{"open_positions": [], "closed_positions": [{"symbol": "A", "net_pnl": 1}], "meta": 1}"#)
        #expect(
            PositionsRoundTrip.difference(original: original, rewritten: lostField)
                == "closed_positions[0] lost field \"signal_ctx\"")
        let lostRecord = try JSONValue.parse(#"{"open_positions": [], "closed_positions": [], "meta": 1}"#)
        #expect(
            PositionsRoundTrip.difference(original: original, rewritten: lostRecord)?.contains(
                "0 records after the rewrite, 1 before") == true)
        let lostTop = try JSONValue.parse(
            #"{"open_positions": [], "closed_positions": [{"symbol": "A", "net_pnl": 1, "signal_ctx": {"ofi": 0.5}}]}"#)
        #expect(
            PositionsRoundTrip.difference(original: original, rewritten: lostTop)
                == "top-level field \"meta\" was dropped")
        // What Python writes survives as written, NaN included; a number turned string is a change.
        let python = try JSONValue.parse(
            #"{"open_positions": [], "closed_positions": [{"symbol": "A", "net_pnl": NaN, "size": "5", "x": "\udc80"}]}"#
        )
        #expect(PositionsRoundTrip.difference(original: python, rewritten: python) == nil)
        let retyped = try JSONValue.parse(
            #"{"open_positions": [], "closed_positions": [{"symbol": "A", "net_pnl": NaN, "size": 5, "x": "\udc80"}]}"#
        )
        #expect(
            PositionsRoundTrip.difference(original: python, rewritten: retyped)
                == "closed_positions[0].size changed from \"5\" to 5")
    }

    @Test func processRunnerTimesOutAndKeepsTheLogTail() throws {
        let log = try Fixtures.temporaryDirectory("proc") + "/build.log"
        let ok = try ProcessRunner.shell(
            "for i in 1 2 3; do echo line $i; done; exit 3", in: "/tmp", timeout: 10, log: log)
        #expect(ok.status == 3 && ok.output.contains("line 3"))
        let slow = try ProcessRunner.shell("sleep 30", in: "/tmp", timeout: 0.3)
        #expect(slow.timedOut && slow.seconds < 6)
        let daemon = try ProcessRunner.shell("(sleep 5 &) ; echo parent done", in: "/tmp", timeout: 3)
        #expect(!daemon.timedOut && daemon.status == 0, "a child that leaves a grandchild behind is not waited for")
    }

    /// systemd itself reads the units: a home with a space and a percent sign, the way an
    /// operator might name it.
    @Test func systemdAcceptsTheUnitsItIsGiven() throws {
        let tool = "/usr/bin/systemd-analyze"
        #expect(FileManager.default.isExecutableFile(atPath: tool), "systemd-analyze missing: scripts/install-deps.sh")
        let home = Home(root: try Fixtures.temporaryDirectory("units") + "/my bot 100%")
        try home.createDirectories()
        let bin = home.root + "/slots/current/.build/release"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: home.root + "/bin", withIntermediateDirectories: true)
        for path in [bin + "/tradingbot", home.root + "/bin/deployctl"] {
            try Fixtures.write("#!/bin/sh\n", to: path)
            chmod(path, 0o755)
        }
        let user = String(cString: getpwuid(getuid()).pointee.pw_name)
        let result = try Units.install(home: home, config: DeployConfig(), systemd: true, user: user)
        // The boot unit a supervisord home installs, with the same home.
        let boot = try Units.install(home: home, config: DeployConfig(), systemd: false, user: user).files
        let units = (result.files + boot).filter { $0.hasSuffix(".service") || $0.hasSuffix(".timer") }
        #expect(units.contains { $0.hasSuffix("/tradingbot-boot.service") })
        let verify = try ProcessRunner.run(tool, ["verify"] + units, in: home.root + "/deploy", timeout: 120)
        #expect(verify.status == 0, "systemd-analyze verify: \(verify.output)")
        #expect(throws: ConfigError.self, "a home systemd cannot name is refused") {
            _ = try Units.install(home: Home(root: "/srv/bot\"x"), config: DeployConfig(), systemd: true, user: user)
        }
    }

    /// Under systemd the watchdog runs as the service user: a polkit rule lets exactly that user
    /// start, stop and restart exactly the engine's unit, and doctor fails without it.
    @Test func theWatchdogUserMayRestartTheEngineAndDoctorChecksIt() throws {
        let home = Home(root: try Fixtures.temporaryDirectory("polkit"))
        try home.createDirectories()
        try FileManager.default.createDirectory(atPath: home.root + "/bin", withIntermediateDirectories: true)
        try Fixtures.write("#!/bin/sh\n", to: home.root + "/bin/deployctl")
        chmod(home.root + "/bin/deployctl", 0o755)
        let result = try Units.install(home: home, config: DeployConfig(), systemd: true, user: "nobody")
        let rulePath = home.root + "/deploy/50-tradingbot-nobody.rules"
        #expect(result.files.contains(rulePath))
        #expect(result.next.contains { $0.contains("install -m 0644") && $0.contains("/etc/polkit-1/rules.d/") })
        let rule = try String(contentsOfFile: rulePath, encoding: .utf8)
        for part in [
            "org.freedesktop.systemd1.manage-units", "subject.user == \"nobody\"",
            "[\"tradingbot.service\", \"tradingbot-dashboard.service\", \"tradingbot-watchdog.timer\"]",
            ".indexOf(action.lookup(\"unit\"))",
            "[\"start\", \"stop\", \"restart\"]",
        ] {
            #expect(rule.contains(part), "\(part)")
        }
        #expect(Units.unitUser(home: home) == "nobody")
        let rules = try Fixtures.temporaryDirectory("rules.d")
        let missing = try #require(try Units.restartPermission(user: "nobody", rulesDir: rules))
        #expect(missing.contains("cannot heal or roll back"))
        try FileIO.copy(rulePath, to: rules + "/50-tradingbot-nobody.rules")
        #expect(try Units.restartPermission(user: "nobody", rulesDir: rules) == nil)
        #expect(try Units.restartPermission(user: "daemon", rulesDir: rules) != nil, "the rule names one user")
        #expect(try Units.restartPermission(user: "root", rulesDir: rules) == nil, "root needs no rule")
        // doctor, on a systemd home whose units run as nobody, with no rule installed here.
        try FileManager.default.createDirectory(atPath: home.configDir, withIntermediateDirectories: true)
        for name in ["bot.json", "asset_universe.json"] {
            try FileIO.copy(Fixtures.repoRoot + "/config/" + name, to: home.configDir + "/" + name)
        }
        try Fixtures.write(#"{"repo": "/srv/repo", "service_manager": "systemd"}"#, to: home.deployConfig)
        let down = FakeManager(fixed: ServiceHealth(state: "inactive", running: false, gaveUp: false, restarts: nil))
        let check = try #require(
            Doctor.run(home: home, now: WallClock.now, manager: down).first { $0.name == "watchdog_permission" })
        #expect(
            !check.ok && check.detail.contains("sudo install -m 0644 \(rulePath) /etc/polkit-1/rules.d/"),
            "\(check.detail)")
        let asRoot = try Units.install(home: home, config: DeployConfig(), systemd: true, user: "root")
        #expect(!asRoot.files.contains { $0.hasSuffix(".rules") })
    }

    /// Under supervisord the dashboard is a program of its own from the live slot, unless
    /// deploy.json says otherwise.
    @Test func supervisordRunsTheDashboardAsItsOwnProgram() throws {
        let home = Home(root: "/srv/bot")
        let conf = SupervisorManager(home: home, config: DeployConfig()).configText()
        #expect(conf.contains("[program:tradingbot-dashboard]"))
        #expect(conf.contains("command=/srv/bot/slots/current/.build/release/tradingbot dashboard --home /srv/bot"))
        var off = DeployConfig()
        off.dashboard.supervised = false
        #expect(!SupervisorManager(home: home, config: off).configText().contains("tradingbot-dashboard"))
        #expect(
            DeployConfig().secretNames.contains("TRADINGBOT_DASHBOARD_PASSWORD_HASH"), "not inherited by the engine")
    }

    @Test func systemdUnitsAreHardenedAndNotify() throws {
        let home = Home(root: "/srv/bot")
        let units = Units.systemd(home: home, config: DeployConfig(), user: "trader")
        let engine = try #require(units.first { $0.name == "tradingbot.service" }?.text)
        #expect(
            engine.contains("Type=notify") && engine.contains("WatchdogSec=") && engine.contains("NoNewPrivileges=yes"))
        #expect(
            engine.contains("ProtectSystem=strict") && engine.contains("ReadWritePaths=\"/srv/bot\"")
                && engine.contains("WorkingDirectory=/srv/bot\n"))
        #expect(
            engine.contains("ExecStart=\"/srv/bot/slots/current/.build/release/tradingbot\" run --home \"/srv/bot\""))
        #expect(!engine.contains("EnvironmentFile"), "no process gets every secret in its environment")
        #expect(engine.contains("WatchdogSec=180"))
        let slow = Units.systemd(home: home, config: DeployConfig(), user: "trader", cycleSeconds: 600)
        #expect(slow.first { $0.name == "tradingbot.service" }?.text.contains("WatchdogSec=1800") == true)
        // A home with a space, a quote, a percent and a dollar stays one word for systemd.
        let odd = Units.systemd(home: Home(root: "/srv/my bot's 100%$x"), config: DeployConfig(), user: "trader")
        let oddEngine = try #require(odd.first { $0.name == "tradingbot.service" }?.text)
        #expect(
            oddEngine.contains(
                #"ExecStart="/srv/my bot's 100%%$$x/slots/current/.build/release/tradingbot" run --home "/srv/my bot's 100%%$$x""#
            ))
        #expect(units.contains { $0.name == "tradingbot-watchdog.timer" })
        // The dashboard: its own unit, from the live slot, bounded in memory.
        let dashboard = try #require(units.first { $0.name == "tradingbot-dashboard.service" }?.text)
        #expect(dashboard.contains("dashboard --home") && dashboard.contains("MemoryMax=512M"))
        #expect(!dashboard.contains("Type=notify"), "the dashboard does not ping systemd")
    }
}

@Suite struct DoctorTests {
    /// A home with the repository's three config files.
    func configuredHome(_ label: String) throws -> Home {
        let home = Home(root: try Fixtures.temporaryDirectory(label))
        try home.createDirectories()
        try FileManager.default.createDirectory(atPath: home.configDir, withIntermediateDirectories: true)
        for name in ["bot.json", "asset_universe.json", "deploy.json"] {
            try FileIO.copy(Fixtures.repoRoot + "/config/" + name, to: home.configDir + "/" + name)
        }
        return home
    }

    @Test func aStoppedEngineIsAWarningAndAStaleOneAFailure() throws {
        let home = try configuredHome("doctor")
        let now = try #require(Instant(year: 2025, month: 12, day: 19, hour: 12))
        func heartbeat(_ phase: String, ageSeconds: Double) throws -> CheckResult? {
            try HeartbeatStore(home: home).write(
                Heartbeat(pid: 1, release: "r1", cycle: 9, phase: phase, writtenAt: now.adding(seconds: -ageSeconds)))
            return Doctor.run(home: home, now: now).first { $0.name == "heartbeat" }
        }
        let names = Doctor.run(home: home, now: now).map(\.name)
        #expect(
            names == [
                "config", "libgit2", "service_manager", "slots", "guard", "engine", "heartbeat", "positions",
                "secrets", "dashboard", "recording", "disk", "units", "watchdog", "clock", "locks", "build_tool",
            ])
        let stopped = try #require(try heartbeat("stopped", ageSeconds: 900))
        #expect(stopped.ok && stopped.warning && stopped.detail.contains("stopped 900 s ago"))
        let stale = try #require(try heartbeat("idle", ageSeconds: 900))
        #expect(!stale.ok && stale.detail.contains("stall threshold 180 s"))
        let fresh = try #require(try heartbeat("idle", ageSeconds: 5))
        #expect(fresh.ok && !fresh.warning)
    }

    /// The units this home needs, written and installed; what runs the watchdog; the clock;
    /// locks held too long; the build tool.
    /// doctor's `recording`: written while the engine runs and within its bound, else a warning
    /// (the recording never changes trading) that says where to look.
    @Test func theRecordingIsFreshAndWithinItsBound() throws {
        let home = try configuredHome("doctor-recording")
        let now = WallClock.now
        func recording() -> CheckResult? { Doctor.run(home: home, now: now).first { $0.name == "recording" } }
        #expect(recording()?.ok == true && recording()?.warning == false, "no engine, nothing recorded: fine")
        try HeartbeatStore(home: home).write(
            Heartbeat(pid: 1, release: "r1", cycle: 9, phase: "idle", writtenAt: now.adding(seconds: -5)))
        let none = try #require(recording())
        #expect(none.ok && none.warning && none.detail.contains("nothing is recorded"), "\(none.detail)")

        try FileManager.default.createDirectory(atPath: home.recordingDir, withIntermediateDirectories: true)
        let segment = home.recordingDir + "/seg-20251219T120000Z-p1-000001.jsonl"
        try Fixtures.write("{}\n", to: segment)
        let fresh = try #require(recording())
        #expect(fresh.ok && !fresh.warning && fresh.detail.contains("1 segment(s)"), "\(fresh.detail)")

        let old = timespec(tv_sec: Int(now.adding(seconds: -900).secondsSinceEpoch), tv_nsec: 0)
        var times = [old, old]
        _ = utimensat(AT_FDCWD, segment, &times, 0)
        let stale = try #require(recording())
        #expect(stale.warning && stale.detail.contains("last written 9"), "\(stale.detail)")

        try Fixtures.write(#"{"max_mb": 5}"#, to: home.recordingConfig)
        let bad = try #require(recording())
        #expect(bad.warning && bad.detail.contains("recording.json") && bad.detail.contains("max_mb"), "\(bad.detail)")
    }

    @Test func theMachineAroundTheHome() throws {
        let home = try configuredHome("doctor-machine")
        let now = WallClock.now
        func check(_ name: String, manager: ServiceManager? = nil, systemdDir: String = "/nonexistent") throws
            -> CheckResult
        {
            let fake = FakeManager(fixed: ServiceHealth(state: "RUNNING", running: true, gaveUp: false, restarts: nil))
            return try #require(
                Doctor.run(home: home, now: now, manager: manager ?? fake, systemdDir: systemdDir).first {
                    $0.name == name
                })
        }
        #expect(try check("watchdog").detail == "no release yet", "nothing to guard before the first release")
        // supervisord: its config as this home needs it now. The first release writes it.
        #expect(try check("units").detail.contains("the first release writes it"))
        try Ledger(path: home.releasesLedger).append("r1", "started")
        let none = try check("units")
        #expect(!none.ok && none.detail.contains("deployctl install-units --supervisor --home"), "\(none.detail)")
        var config = try ConfigFiles.deploy(home.deployConfig)
        _ = try Units.install(home: home, config: config, systemd: false, user: "root")
        #expect(try check("units").ok)
        var deploy = try ConfigFiles.json(home.deployConfig).objectValue ?? JSONObject()
        deploy["watchdog"] = ["interval_seconds": 60]
        try FileIO.writeJSON(home.deployConfig, .object(deploy))
        let stale = try check("units")
        #expect(!stale.ok && stale.detail.contains("not what this home needs now") && stale.detail.contains("reread"))

        // systemd: written into deploy/ and installed, both as the home needs them now.
        deploy["service_manager"] = "systemd"
        try FileIO.writeJSON(home.deployConfig, .object(deploy))
        config = try ConfigFiles.deploy(home.deployConfig)
        _ = try Units.install(home: home, config: config, systemd: true, user: "nobody")
        let etc = try Fixtures.temporaryDirectory("etc-systemd")
        let missing = try check("units", systemdDir: etc)
        #expect(
            !missing.ok && missing.detail.contains("tradingbot.service") && missing.detail.contains("not installed"))
        for name in try FileManager.default.contentsOfDirectory(atPath: home.root + "/deploy")
        where name.hasPrefix("tradingbot") {
            try FileIO.copy(home.root + "/deploy/" + name, to: etc + "/" + name)
        }
        let installed = try check("units", systemdDir: etc)
        #expect(installed.ok, "\(installed.detail)")
        var bot = try ConfigFiles.json(home.botConfig).objectValue ?? JSONObject()
        bot["cycle_seconds"] = 300  // the engine unit's WatchdogSec follows the cycle
        try FileIO.writeJSON(home.botConfig, .object(bot))
        let changed = try check("units", systemdDir: etc)
        #expect(
            !changed.ok && changed.detail.contains("outdated") && changed.detail.contains("differ")
                && changed.detail.contains("--user nobody"), "\(changed.detail)")

        // What runs the watchdog: the systemd timer (a stand-in systemctl answers), supervisord's program.
        let tools = try Fixtures.temporaryDirectory("systemctl")
        for (name, answer, code) in [("active", "active", 0), ("inactive", "inactive", 3)] {
            try Fixtures.write("#!/bin/sh\necho \(answer)\nexit \(code)\n", to: tools + "/" + name)
            chmod(tools + "/" + name, 0o755)
        }
        #expect(Doctor.watchdogCheck(manager: SystemdManager(systemctl: tools + "/active")).ok)
        let off = Doctor.watchdogCheck(manager: SystemdManager(systemctl: tools + "/inactive"))
        #expect(
            !off.ok && off.detail.contains("sudo systemctl enable --now tradingbot-watchdog.timer"), "\(off.detail)")
        let down = Doctor.watchdogCheck(manager: SupervisorManager(home: home, config: DeployConfig()))
        #expect(!down.ok && down.detail.contains("supervisord is not running"), "\(down.detail)")
        var unsupervised = DeployConfig()
        unsupervised.watchdog.supervised = false
        let nothing = Doctor.watchdogCheck(manager: SupervisorManager(home: home, config: unsupervised))
        #expect(nothing.ok && nothing.warning && nothing.detail.contains("nothing here heals a stall"))

        // A clock that went back: the heartbeat is from its future.
        try HeartbeatStore(home: home).write(
            Heartbeat(pid: 1, release: "r1", cycle: 9, phase: "idle", writtenAt: now.adding(seconds: 3600)))
        let clock = try check("clock")
        #expect(!clock.ok && clock.detail.contains("the clock went back"), "\(clock.detail)")
        try FileIO.remove(home.heartbeat)
        #expect(try check("clock").ok)

        // A release that has held the deploy lock for hours hangs; a fresh one is just working.
        let lock = try FileLock.acquire(home.deployLock, holder: "pid 4242 releasing main")
        #expect(try check("locks").detail.contains("deploy.lock held by pid 4242 releasing main"))
        var old = [timeval(tv_sec: time(nil) - 7200, tv_usec: 0), timeval(tv_sec: time(nil) - 7200, tv_usec: 0)]
        utimes(home.deployLock, &old)
        let hung = try check("locks")
        #expect(
            !hung.ok && hung.detail.contains("is it hung?") && hung.detail.contains("ps -fp 4242"), "\(hung.detail)")
        lock.release()
        #expect(try check("locks").detail == "no lock held")

        // The build command's program.
        deploy["build"] = ["command": "no-such-build-tool-here build"]
        try FileIO.writeJSON(home.deployConfig, .object(deploy))
        let tool = try check("build_tool")
        #expect(!tool.ok && tool.detail.contains("no-such-build-tool-here, which is not on PATH"), "\(tool.detail)")
        deploy["build"] = ["command": "sh build.sh"]
        try FileIO.writeJSON(home.deployConfig, .object(deploy))
        #expect(try check("build_tool").ok)
    }

    @Test func theSecretsFileMustBeTheOwnersAlone() throws {
        let home = Home(root: try Fixtures.temporaryDirectory("doctor-secrets"))
        try FileManager.default.createDirectory(atPath: home.configDir, withIntermediateDirectories: true)
        #expect(try Doctor.secretsFileCheck(home: home).contains("no config/secrets.env"))
        let path = home.configDir + "/secrets.env"
        try Fixtures.write("BLOFIN_API_KEY=k\n", to: path)
        chmod(path, 0o644)
        #expect {
            try Doctor.secretsFileCheck(home: home)
        } throws: { "\($0)".contains("mode 644") && "\($0)".contains("chmod 600") }
        chmod(path, 0o600)
        #expect(try Doctor.secretsFileCheck(home: home).contains("mode 600"))
    }

    @Test func theDashboardIsProbedWhereBotJsonSaysItListens() throws {
        let home = try configuredHome("doctor-dashboard")
        try FileManager.default.createDirectory(atPath: home.root + "/slots/A", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: home.root + "/slots/current", withDestinationPath: "A")
        // A real HTTP server that answers 200, then nothing on the port.
        let server = try WebhookServer()
        var bot = try ConfigFiles.json(home.botConfig).objectValue ?? JSONObject()
        bot["dashboard"] = .object(JSONObject([JSONField("port", .int(server.port))]))
        try FileIO.writeJSON(home.botConfig, .object(bot))
        let up = FakeManager(
            fixed: ServiceHealth(state: "running", running: true, gaveUp: false, restarts: nil), dashboard: true)
        func dashboard(_ manager: FakeManager) throws -> CheckResult {
            try #require(Doctor.run(home: home, now: WallClock.now, manager: manager).first { $0.name == "dashboard" })
        }
        #expect(try dashboard(up).ok && (try dashboard(up).detail) == "answers /healthz")
        server.stop()
        let down = try dashboard(up)
        #expect(!down.ok && down.detail.contains("does not answer") && down.detail.contains("logs/dashboard.err.log"))
        var none = up
        none.dashboard = false
        #expect(try dashboard(none).detail.contains("no dashboard runs here"))
    }
}
