import Foundation
import TradingCore
import TradingStore

/// The machine around a home: what runs it (units, the watchdog), its clock, its locks and the
/// build tool. Each finding says what to run.
extension Doctor {
    /// The units (or supervisord's config) written for this home and installed, as this home
    /// needs them now: a bot.json or deploy.json changed since `install-units` leaves them stale.
    static func unitsCheck(home: Home, config: DeployConfig, systemdDir: String, released: Bool) throws -> String {
        let q = shellWord(home.root)
        guard config.serviceManager == "systemd" else {
            let manager = SupervisorManager(home: home, config: config)
            let conf = shellWord(manager.configPath)
            guard let written = try? String(contentsOfFile: manager.configPath, encoding: .utf8) else {
                // deployctl release writes it and starts supervisord: nothing is missing yet.
                if !released { return "no deploy/supervisord.conf yet; the first release writes it" }
                throw ServiceError(
                    message: "no deploy/supervisord.conf; run deployctl install-units --supervisor --home \(q)")
            }
            guard written == manager.configText() else {
                throw ServiceError(
                    message:
                        "deploy/supervisord.conf is not what this home needs now (deploy.json changed since it was written); run deployctl install-units --supervisor --home \(q), then supervisorctl -c \(conf) reread and supervisorctl -c \(conf) update"
                )
            }
            return "deploy/supervisord.conf matches this home"
        }
        guard let user = Units.unitUser(home: home) else {
            throw ServiceError(
                message:
                    "no systemd units written for this home; run deployctl install-units --systemd --home \(q) --user USER and the commands it prints"
            )
        }
        let cycle = ConfigFiles.cycleSeconds(home.botConfig)
        var stale: [String] = []
        var missing: [String] = []
        var differ: [String] = []
        let units = Units.systemd(home: home, config: config, user: user, cycleSeconds: cycle)
        for unit in units {
            if (try? String(contentsOfFile: home.root + "/deploy/" + unit.name, encoding: .utf8)) != unit.text {
                stale.append(unit.name)
            }
            switch try? String(contentsOfFile: systemdDir + "/" + unit.name, encoding: .utf8) {
            case nil: missing.append(unit.name)
            case let installed? where installed != unit.text: differ.append(unit.name)
            default: break
            }
        }
        guard stale.isEmpty && missing.isEmpty && differ.isEmpty else {
            var what: [String] = []
            if !stale.isEmpty {
                what.append("deploy/ holds outdated \(stale.joined(separator: ", ")) (bot.json or deploy.json changed)")
            }
            if !missing.isEmpty { what.append("\(missing.joined(separator: ", ")) not installed in \(systemdDir)") }
            if !differ.isEmpty {
                what.append("\(differ.joined(separator: ", ")) in \(systemdDir) differ from what this home needs")
            }
            throw ServiceError(
                message: what.joined(separator: "; ")
                    + "; run deployctl install-units --systemd --home \(q) --user \(user), then the sudo cp, daemon-reload and restart it prints"
            )
        }
        return "the \(units.count) units in \(systemdDir) match this home (user \(user))"
    }

    /// What runs the watchdog: without it nothing heals a stall or rolls back a bad release.
    static func watchdogCheck(manager: ServiceManager) -> CheckResult {
        switch manager.watchdogRunner() {
        case .running(let state): return CheckResult(name: "watchdog", ok: true, detail: state)
        case .none(let why): return CheckResult(name: "watchdog", ok: true, warning: true, detail: why)
        case .stopped(let state, let fix):
            return CheckResult(
                name: "watchdog", ok: false,
                detail: "\(state): nothing heals a stall or rolls back a bad release; start it with `\(fix)`")
        }
    }

    /// A clock that jumped back makes every new record older than the last; one that drifts
    /// makes BloFin refuse signed requests (more than 60 s off).
    static func clockCheck(home: Home, now: Instant, skewSeconds: Double) -> CheckResult {
        if let beat = try? HeartbeatStore(home: home).read(), beat.writtenAt > now.adding(seconds: skewSeconds) {
            return CheckResult(
                name: "clock", ok: false,
                detail:
                    "the heartbeat was written at \(beat.writtenAt.iso8601), \(Int(now.seconds(until: beat.writtenAt))) s after this clock's now: the clock went back (or was ahead). Fix it (`sudo timedatectl set-ntp true`), then `deployctl check data --home \(shellWord(home.root))` for records written in the future"
            )
        }
        let ntp = try? ProcessRunner.run(
            "/usr/bin/env", ["timedatectl", "show", "--property=NTPSynchronized", "--value"], timeout: 10)
        let answer = ntp.map { $0.output.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        if ntp?.status == 0 && answer == "yes" {
            return CheckResult(name: "clock", ok: true, detail: "synchronised by NTP")
        }
        if ntp?.status == 0 && answer == "no" {
            return CheckResult(
                name: "clock", ok: true, warning: true,
                detail:
                    "not synchronised by NTP: `sudo timedatectl set-ntp true`; BloFin refuses signed requests from a clock more than 60 s off"
            )
        }
        return CheckResult(
            name: "clock", ok: true, warning: true,
            detail:
                "cannot tell whether NTP keeps it right (no timedatectl answer here); `tradingbot exchange ping` prints how far it is off BloFin's"
        )
    }

    /// Locks free themselves when their holder dies; one held far longer than its work takes
    /// belongs to a process that hangs, and blocks every release or watchdog run after it.
    static func locksCheck(home: Home, config: DeployConfig, now: Instant) -> CheckResult {
        // A release builds, replays the recorded day twice (the decision diff), then probes.
        let releaseTakes =
            config.build.timeoutSeconds + config.decisionDiff.timeoutSeconds + config.probation.timeoutSeconds + 600
        let locks: [(path: String, limit: Int, what: String)] = [
            (home.deployLock, releaseTakes, "a release"),
            // A watchdog's rollback waits out a probation.
            (home.stateDir + "/watchdog.lock", config.probation.timeoutSeconds + 600, "a watchdog run"),
            (home.positionsLock, 120, "a write of the positions file"),
        ]
        var problems: [String] = []
        var held: [String] = []
        for lock in locks {
            guard let holder = FileLock.currentHolder(lock.path) else { continue }
            var info = stat()
            let since = stat(lock.path, &info) == 0 ? Int(now.secondsSinceEpoch) - Int(info.st_mtim.tv_sec) : 0
            let name = (lock.path as NSString).lastPathComponent
            if since > lock.limit {
                let pid = holder.split(separator: " ").first { Int($0) != nil }.map(String.init) ?? "PID"
                problems.append(
                    "\(name) is held by \(holder) for \(since) s, longer than \(lock.what) takes (\(lock.limit) s): is it hung? `ps -fp \(pid)`; `kill \(pid)` frees the lock (never delete the file)"
                )
            } else {
                held.append("\(name) held by \(holder) for \(since) s")
            }
        }
        if let engine = FileLock.currentHolder(home.engineLock) { held.append("engine.lock held by \(engine)") }
        guard problems.isEmpty else {
            return CheckResult(name: "locks", ok: false, detail: problems.joined(separator: "; "))
        }
        return CheckResult(
            name: "locks", ok: true, detail: held.isEmpty ? "no lock held" : held.joined(separator: "; "))
    }

    /// The build command's program must be on PATH, or every release fails at its build.
    static func buildToolCheck(config: DeployConfig) throws -> String {
        let command = config.build.command
        guard let tool = command.split(separator: " ").first.map(String.init) else {
            throw ServiceError(message: "build.command is empty")
        }
        // A shell line (`cd x && ...`, `CC=clang swift build`, `./build.sh` in the slot) is the
        // shell's to resolve, in the slot: only a bare program name can be looked up here.
        let shellish = command.contains { "&|;$`()<>".contains($0) }
        if shellish || tool.contains("=") || tool.hasPrefix(".") || ["cd", "env", "exec", "sh", "bash"].contains(tool) {
            return "build.command `\(command)` runs in the slot through /bin/sh; not looked up here"
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let found =
            tool.contains("/")
            ? (FileManager.default.isExecutableFile(atPath: tool) ? tool : nil)
            : path.split(separator: ":").map { "\($0)/\(tool)" }.first {
                FileManager.default.isExecutableFile(atPath: $0)
            }
        guard let found else {
            throw ServiceError(
                message:
                    "build.command `\(command)` needs \(tool), which is not on PATH (\(path)): install it (scripts/install-deps.sh) or change build.command in deploy.json"
            )
        }
        return "build.command `\(command)` finds \(found)"
    }
}

extension Doctor {
    /// What the builds hold: the workspace (its build folder, about 600 MB for this package) and
    /// any build folder a slot still keeps from a deployctl that built in the slot (the next
    /// release into that slot removes it).
    static func buildSpace(home: Home) -> String {
        func mb(_ bytes: Int64) -> String { "\((bytes + 500_000) / 1_000_000) MB" }
        var parts = ["the build workspace holds \(mb(BuildWorkspace.diskUse(home.buildWorkspace)))"]
        for slot in Slots.names {
            let path = home.slot(slot)
            let folders = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter(
                ReleasePipeline.isBuildFolder)
            let bytes = folders.reduce(Int64(0)) { $0 + BuildWorkspace.diskUse(path + "/" + $1) }
            // Products alone are a few tens of MB; more is a former build's intermediates.
            if bytes > 200_000_000 {
                parts.append(
                    "slot \(slot) keeps \(mb(bytes)) of an older build (the next release into it removes them)")
            }
        }
        return parts.joined(separator: "; ")
    }
}
