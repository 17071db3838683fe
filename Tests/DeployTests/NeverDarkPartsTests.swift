import Foundation
import TestSupport
import Testing

@testable import Deploy
@testable import TradingCore
@testable import TradingStore

/// The parts that keep the bot from going dark without a process in sight: the judge's start
/// grace, supervisord's uptime, doctor's `boot`, the guard's reading of a newer deploy.json and
/// the reading of an older release's config refusal.
@Suite struct NeverDarkPartsTests {
    func home(_ label: String) throws -> Home { try DoctorTests().configuredHome(label) }

    @Test func aNewEngineThatHasNotBeatenYetIsStartingOnlyWithinTheGrace() {
        var e = WatchdogEvidence()
        e.serviceRunning = true
        e.liveRelease = "r1"
        e.liveState = .probation
        e.heartbeatRelease = "r1"
        e.heartbeatPid = 4242
        e.heartbeatPidAlive = false
        e.heartbeatAgeSeconds = 900  // written before the reboot
        e.startGraceSeconds = 60
        e.serviceUptimeSeconds = 5
        #expect(WatchdogJudge.verdict(e).0 == .starting, "\(WatchdogJudge.verdict(e))")
        // A pid the reboot gave to another process changes nothing: the beat predates the engine.
        e.heartbeatPidAlive = true
        #expect(WatchdogJudge.verdict(e).0 == .starting)
        e.serviceUptimeSeconds = 61
        #expect(WatchdogJudge.verdict(e).0 == .stalled, "past the grace, the old rule and its words")
        // An engine that beat after it started and then hung: its beat is younger than its process.
        e.serviceUptimeSeconds = 1000
        #expect(WatchdogJudge.verdict(e).0 == .stalled)
        e.serviceUptimeSeconds = nil
        #expect(WatchdogJudge.verdict(e).0 == .stalled, "a manager that does not say keeps the old rule")
    }

    @Test func supervisordUptimeIsRead() {
        #expect(SupervisorManager.uptime("tradingbot RUNNING pid 1234, uptime 0:00:05") == 5)
        #expect(SupervisorManager.uptime("tradingbot RUNNING pid 1234, uptime 1:02:03") == 3723)
        #expect(SupervisorManager.uptime("tradingbot RUNNING pid 1234, uptime 2 days, 0:00:01") == 172_801)
        #expect(SupervisorManager.uptime("tradingbot STOPPED Dec 07 01:00 AM") == nil)
    }

    @Test func doctorSaysWhatStartsTheHomeAfterAReboot() throws {
        let home = try home("doctor-boot")
        let systemd = home.root + "/etc-systemd"
        let wants = systemd + "/multi-user.target.wants/"
        try FileManager.default.createDirectory(atPath: wants, withIntermediateDirectories: true)
        var config = try ConfigFiles.deploy(home.deployConfig)
        func check(systemdRunning: Bool) -> CheckResult {
            var list = CheckList()
            list.run("boot") {
                try Doctor.bootCheck(home: home, config: config, systemdDir: systemd, systemdRunning: systemdRunning)
            }
            return list.results[0]
        }
        // A container: nothing can start it at boot; a warning with the line to put in its start.
        let container = check(systemdRunning: false)
        #expect(container.ok && container.warning, "\(container)")
        #expect(container.detail.contains("boot --home \(shellWord(home.root))"), "\(container.detail)")
        // systemd runs the machine: the boot unit must be installed, name this home, be enabled.
        let missing = check(systemdRunning: true)
        #expect(!missing.ok && missing.detail.contains("systemctl enable tradingbot-boot.service"), "\(missing.detail)")
        let other = Home(root: home.root + "/other")
        try Fixtures.write(Units.bootUnit(home: other, user: "root"), to: systemd + "/tradingbot-boot.service")
        #expect(check(systemdRunning: true).detail.contains("starts another home"))
        try Fixtures.write(Units.bootUnit(home: home, user: "root"), to: systemd + "/tradingbot-boot.service")
        #expect(!check(systemdRunning: true).ok, "installed but not enabled")
        try FileManager.default.createSymbolicLink(
            atPath: wants + "tradingbot-boot.service", withDestinationPath: systemd + "/tradingbot-boot.service")
        #expect(check(systemdRunning: true).ok)
        // systemd units: the engine's unit enabled is what starts it.
        config.serviceManager = "systemd"
        #expect(!check(systemdRunning: true).ok)
        try Fixtures.write("[Unit]\n", to: systemd + "/tradingbot.service")
        try FileManager.default.createSymbolicLink(
            atPath: wants + "tradingbot.service", withDestinationPath: systemd + "/tradingbot.service")
        #expect(check(systemdRunning: true).ok)
    }

    /// An older release's words for a key it does not know, read back to the file and the key.
    @Test func aConfigRefusalIsReadAsTheFileAndTheKey() {
        let home = Home(root: "/srv/bot")
        let said = ConfigError(
            file: home.botConfig, field: "risk.exposure_basis", message: "is not a known key; allowed keys: a")
        #expect(
            ConfigCompat.reading(said.description, home: home)
                == .unknownKey(file: home.botConfig, field: "risk.exposure_basis", detail: said.description))
        let range = ConfigError(file: home.botConfig, field: "cycle_seconds", message: "is 0; expected a number from 1")
        #expect(ConfigCompat.reading(range.description, home: home) == .refuses(range.description))
        // Its engine never reads deploy.json: no reason to refuse the way back.
        let deploy = ConfigError(
            file: home.deployConfig, field: "probation.start_grace_seconds", message: "is not a known key")
        #expect(ConfigCompat.reading(deploy.description, home: home) == .accepts)
    }

    /// A deploy.json key this guard copy does not know: read at its default when a newer
    /// deployctl in a slot reads the file, a failure when none does (a typo).
    @Test func theGuardReadsANewerDeployJsonOnlyWhenANewerDeployctlDoes() throws {
        let home = try home("guard-config")
        var deploy = try ConfigFiles.json(home.deployConfig).objectValue ?? JSONObject()
        deploy["binary"] = "bin/tradingbot"
        var watchdog = deploy["watchdog"]?.objectValue ?? JSONObject()
        watchdog["interval_seconds"] = 7
        watchdog["a_key_from_the_future"] = true
        deploy["watchdog"] = .object(watchdog)
        try FileIO.writeJSON(home.deployConfig, .object(deploy))
        #expect(throws: ConfigError.self, "no newer deployctl: a typo fails as everywhere") {
            _ = try GuardConfig.load(home: home)
        }
        let newer = home.root + "/slots/B/bin/deployctl"
        try FileManager.default.createDirectory(atPath: home.root + "/slots/B/bin", withIntermediateDirectories: true)
        try Fixtures.write("#!/bin/sh\n[ \"$1\" = status ] && exit 0\nexit 2\n", to: newer)
        chmod(newer, 0o755)
        let loaded = try GuardConfig.load(home: home)
        #expect(loaded.config.watchdog.intervalSeconds == 7, "the keys it knows are read")
        #expect(loaded.note?.contains("watchdog.a_key_from_the_future") == true, "\(loaded.note ?? "")")
        #expect(loaded.note?.contains(newer) == true)
        // A slot deployctl that refuses it too (exit 2): a typo.
        try Fixtures.write("#!/bin/sh\nexit 2\n", to: newer)
        #expect(throws: ConfigError.self) { _ = try GuardConfig.load(home: home) }
    }
}
