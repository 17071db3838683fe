import Foundation
import GitKit
import TradingCore
import TradingStore

/// `deployctl doctor`: everything a home needs, checked in one go, each with what to do.
public enum Doctor {
    public static func run(
        home: Home, now: Instant, manager given: ServiceManager? = nil, systemdDir: String = "/etc/systemd/system",
        systemdRunning: Bool = FileIO.exists("/run/systemd/system")
    ) -> [CheckResult] {
        var checks = CheckList()
        var deploy: DeployConfig?
        checks.run("config") {
            let d = try ConfigFiles.deploy(home.deployConfig)
            _ = try ConfigFiles.bot(home.botConfig)
            _ = try ConfigFiles.assetUniverse(home.assetUniverse)
            guard !d.repo.isEmpty else {
                throw ConfigError(
                    file: home.deployConfig, field: "repo", message: "is empty; run deployctl init --repo URL|PATH")
            }
            deploy = d
            return "deploy.json, bot.json and asset_universe.json valid; repository \(d.repo)"
        }
        checks.run("libgit2") {
            let transports = [GitFeatures.https ? "https" : nil, GitFeatures.ssh ? "ssh" : nil].compactMap { $0 }
            let remote = deploy?.repo ?? ""
            if remote.hasPrefix("https://") && !GitFeatures.https {
                throw ServiceError(
                    message: "libgit2 \(GitFeatures.version) has no https transport but the repository is \(remote)")
            }
            if (remote.hasPrefix("ssh://") || remote.contains("@")) && !remote.hasPrefix("https://") && !GitFeatures.ssh
            {
                throw ServiceError(
                    message: "libgit2 \(GitFeatures.version) has no ssh transport but the repository is \(remote)")
            }
            return
                "libgit2 \(GitFeatures.version), transports: local\(transports.isEmpty ? "" : ", " + transports.joined(separator: ", "))"
        }
        checks.run("service_manager") {
            let manager = deploy?.serviceManager ?? "supervisor"
            let tool = manager == "systemd" ? "/bin/systemctl" : "/usr/bin/supervisord"
            let alternatives = manager == "systemd" ? [tool, "/usr/bin/systemctl"] : [tool]
            guard alternatives.contains(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
                throw ServiceError(
                    message:
                        "\(manager) is configured but \(tool) is missing; install it (apt-get install \(manager == "systemd" ? "systemd" : "supervisor")) or change service_manager"
                )
            }
            return "\(manager) available"
        }
        if deploy?.serviceManager == "systemd" {
            checks.run("watchdog_permission") {
                guard let user = Units.unitUser(home: home) else {
                    throw ServiceError(
                        message:
                            "no systemd units written for this home; run deployctl install-units --systemd --home \(shellWord(home.root)) --user USER"
                    )
                }
                if let problem = try Units.restartPermission(user: user) {
                    let rule = shellWord(home.root + "/deploy/" + Units.polkitRuleName(user: user))
                    throw ServiceError(
                        message:
                            "\(problem); install the rule install-units wrote: sudo install -m 0644 \(rule) \(Units.polkitRulesDir)/"
                    )
                }
                return user == "root"
                    ? "the watchdog runs as root" : "a polkit rule lets \(user) restart tradingbot.service"
            }
        }
        let records = (try? Ledger(path: home.releasesLedger).releases()) ?? []
        let quotedHome = shellWord(home.root)
        checks.run("slots") {
            let slots = Slots(home: home)
            guard let active = slots.active() else {
                guard records.isEmpty else {
                    throw StoreError(
                        path: home.currentSlot,
                        message:
                            "is absent but the ledger holds \(records.count) release(s): NOTHING IS TRADING. Go back to the last good release with `deployctl rollback --home \(quotedHome)`, or release again with `deployctl release --home \(quotedHome)`"
                    )
                }
                return "no release yet (slots/current absent)"
            }
            guard let release = slots.releaseID(active) else {
                throw StoreError(
                    path: slots.path(active) + "/.release",
                    message:
                        "slots/current -> \(active) but the slot names no release (a checkout or build was interrupted); `deployctl rollback --home \(quotedHome)` or release again"
                )
            }
            let binary = slots.path(active) + "/" + (deploy?.binary ?? ".build/release/tradingbot")
            guard FileManager.default.isExecutableFile(atPath: binary) else {
                throw StoreError(
                    path: binary,
                    message: "slots/current -> \(active) but its binary is missing; release again or roll back")
            }
            let state = records.last { $0.id == release }?.state ?? "not in the ledger"
            if state == ReleaseState.bad.rawValue {
                throw StoreError(
                    path: home.currentSlot,
                    message:
                        "slots/current -> \(active) holds \(release), which is marked bad (kept there for inspection: there was nothing to go back to). Release a fix with `deployctl release --home \(quotedHome)`"
                )
            }
            return "slots/current -> \(active) (\(release), \(state)), binary present"
        }
        checks.run("guard") {
            let guardPath = GuardCopy.path(home)
            guard FileManager.default.isExecutableFile(atPath: guardPath) else {
                throw StoreError(
                    path: guardPath,
                    message:
                        "missing: the watchdog's units and program call it; install it with `deployctl install-units --home \(quotedHome) --\(deploy?.serviceManager ?? "supervisor")`"
                )
            }
            return "\(guardPath) present"
        }
        let manager =
            given
            ?? ((deploy?.serviceManager ?? "supervisor") == "systemd"
                ? SystemdManager(secretNames: (deploy ?? DeployConfig()).secretNames) as ServiceManager
                : SupervisorManager(home: home, config: deploy ?? DeployConfig()))
        checks.run("engine") {
            guard Slots(home: home).active() != nil else {
                guard records.isEmpty else { throw ServiceError(message: "no live slot, so no engine runs") }
                return "no release yet"
            }
            let health = manager.health()
            guard health.running else {
                let conf = shellWord(home.root + "/deploy/supervisord.conf")
                let start =
                    manager.name == "systemd"
                    ? "`sudo systemctl start tradingbot.service`"
                    : "`supervisorctl -c \(conf) start tradingbot` (when supervisord itself is down: `env -i PATH=/usr/bin:/bin supervisord -c \(conf)`, so it inherits no secret of your shell)"
                throw ServiceError(
                    message:
                        "the engine is not running (\(health.state)): NOTHING IS TRADING. Start it with \(start), or `deployctl rollback --home \(quotedHome)` if the live release is the problem"
                )
            }
            return "\(manager.name): \(health.state)"
        }
        let lastBeat = try? HeartbeatStore(home: home).read()
        if let beat = lastBeat, beat.phase == "stopped" {
            checks.append(
                CheckResult(
                    name: "heartbeat", ok: true, warning: true,
                    detail:
                        "the engine stopped \(Int(beat.age(now: now))) s ago (release \(beat.release)); start it if that was not intended"
                ))
        } else {
            checks.run("heartbeat") {
                guard let beat = try HeartbeatStore(home: home).read() else { return "no heartbeat yet" }
                let bot = try ConfigFiles.bot(home.botConfig)
                let stall = bot.cycleSeconds * (deploy?.watchdog.stallCycles ?? 3)
                let age = beat.age(now: now)
                if age > Double(stall) {
                    throw StoreError(
                        path: home.heartbeat,
                        message:
                            "last written \(Int(age)) s ago (stall threshold \(stall) s) by pid \(beat.pid): the engine is stalled or down; see RUNBOOK 'Is it trading?'"
                    )
                }
                return "release \(beat.release), cycle \(beat.cycle), \(beat.phase), \(Int(age)) s old"
            }
        }
        checks.run("positions") {
            guard FileIO.exists(home.positions) else { return "no positions file yet" }
            let bot = try ConfigFiles.bot(home.botConfig)
            let report = DataCheckRunner.run(positionsPath: home.positions, reset: bot.walletReset, now: now)
            guard report.ok else {
                let failed = report.checks.filter { !$0.ok }.map(\.name).joined(separator: ", ")
                throw StoreError(
                    path: home.positions,
                    message: "data checks fail (\(failed)); run deployctl check data --positions \(home.positions)")
            }
            return "data-date checks pass"
                + (report.warnings.isEmpty ? "" : " with \(report.warnings.count) warning(s)")
        }
        checks.run("secrets") { try secretsFileCheck(home: home) }
        checks.run("dashboard") {
            guard Slots(home: home).active() != nil else { return "no release yet" }
            switch Watchdog.probeDashboard(home: home, config: deploy ?? DeployConfig(), manager: manager) {
            case nil: return "no dashboard runs here (not supervised, no unit written)"
            case .up: return "answers /healthz"
            case .down(let why):
                throw ServiceError(
                    message:
                        "\(why); see its log (\(manager.name == "systemd" ? "journalctl -u tradingbot-dashboard" : "logs/dashboard.err.log")) and start it again"
                )
            }
        }
        let recording = RecordingStatus.read(home: home, minFreeDiskMB: deploy?.watchdog.minFreeDiskMB)
        let staleAfter = Double(
            max(120, ((try? ConfigFiles.bot(home.botConfig))?.cycleSeconds ?? 60) * (deploy?.watchdog.stallCycles ?? 3))
        )
        if let problem = recording.problem(now: now, beat: lastBeat, staleAfter: staleAfter) {
            // The recording never changes trading: a warning, not a failure.
            checks.append(CheckResult(name: "recording", ok: true, warning: true, detail: problem))
        } else {
            let written =
                recording.newestWrittenAt.map { ", last written \(Int(max(0, $0.seconds(until: now)))) s ago" } ?? ""
            checks.append(CheckResult(name: "recording", ok: true, detail: recording.summary + written))
        }
        checks.run("disk") {
            let attributes = try FileManager.default.attributesOfFileSystem(forPath: home.root)
            let free = (attributes[.systemFreeSize] as? NSNumber)?.int64Value ?? 0
            guard free > 2_000_000_000 else {
                throw StoreError(
                    path: home.root, message: "only \(free / 1_000_000) MB free; builds and logs need at least 2 GB")
            }
            return "\(free / 1_000_000_000) GB free; " + buildSpace(home: home)
        }
        // The file as written, even when the config check failed for an empty repo.
        let config = deploy ?? (try? ConfigFiles.deploy(home.deployConfig)) ?? DeployConfig()
        let released = Slots(home: home).active() != nil || !records.isEmpty
        checks.run("units") {
            try unitsCheck(home: home, config: config, systemdDir: systemdDir, released: released)
        }
        if !released {
            checks.append(CheckResult(name: "watchdog", ok: true, detail: "no release yet"))
        } else {
            checks.append(watchdogCheck(manager: manager))
        }
        if released {
            checks.run("boot") {
                try bootCheck(home: home, config: config, systemdDir: systemdDir, systemdRunning: systemdRunning)
            }
            checks.run("config_compat") { try configCompatCheck(home: home, config: config) }
        }
        checks.append(clockCheck(home: home, now: now, skewSeconds: Double(config.checks.skewSeconds)))
        checks.append(locksCheck(home: home, config: config, now: now))
        checks.run("build_tool") { try buildToolCheck(config: config) }
        return checks.results
    }

    /// HOME/config/secrets.env holds keys and the dashboard's hash: only its owner may read it.
    static func secretsFileCheck(home: Home) throws -> String {
        let path = home.configDir + "/secrets.env"
        var info = stat()
        guard stat(path, &info) == 0 else {
            return "no config/secrets.env (no exchange keys, no dashboard password: the dashboard stays on loopback)"
        }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw StoreError(
                path: path,
                message:
                    "mode \(String(mode, radix: 8)): other users can read the keys in it; run chmod 600 \(shellWord(path))"
            )
        }
        guard info.st_uid == getuid() || getuid() == 0 else {
            throw StoreError(
                path: path,
                message:
                    "owned by uid \(info.st_uid), not by this user (uid \(getuid())); chown it to the user that runs the bot"
            )
        }
        return "mode \(String(mode, radix: 8)), owned by uid \(info.st_uid)"
    }
}
