import Foundation
import TradingCore
import TradingStore

/// Starts and restarts the trading service: systemd in production, supervisord elsewhere.
public protocol ServiceManager {
    var name: String { get }
    /// Restarts (or starts) the engine so it runs from `slots/current`.
    func restartEngine() throws
    func stopEngine() throws
    /// A one-line state of the engine's service, for status.
    func engineState() -> String
    /// What probation, status and doctor need to know: running, given up, restarts so far.
    func health() -> ServiceHealth
    /// Restarts the dashboard on the binary of `slots/current` when it runs here; never throws:
    /// a dashboard problem must not fail a release or stop trading. Nil when done or not
    /// applicable, else what went wrong.
    func restartDashboard() -> String?
    /// Whether a dashboard is meant to run here (a supervised program, an enabled unit): the
    /// watchdog probes it only then.
    func dashboardEnabled() -> Bool
    /// Whether what runs the watchdog here (the timer, the supervised program) is running.
    func watchdogRunner() -> WatchdogRunner
    /// Starts what is not running (`deployctl boot`): the manager itself where it is ours, the
    /// engine, the dashboard and what runs the watchdog. Never restarts what runs.
    func bootUp() throws -> ServiceStart
}

/// What `bootUp` found: what it started and what already ran.
public struct ServiceStart: Sendable, Equatable {
    public var started: [String] = []
    public var alreadyRunning: [String] = []
    /// What else (the dashboard, the watchdog's runner) did not start, and why; the engine's
    /// failure is thrown instead.
    public var failed: [String] = []
    /// The engine was running before (its heartbeat may be judged as it is, without waiting).
    public var engineWasRunning = false
}

/// What runs the watchdog on this machine, as its service manager sees it.
public enum WatchdogRunner: Sendable, Equatable {
    case running(String)
    case stopped(String, fix: String)
    /// This manager runs no watchdog here (deploy.json says so).
    case none(String)
}

extension ServiceManager {
    public func watchdogRunner() -> WatchdogRunner { .none("\(name) runs no watchdog") }

    public func bootUp() throws -> ServiceStart {
        if health().running { return ServiceStart(alreadyRunning: ["engine"], engineWasRunning: true) }
        try restartEngine()
        return ServiceStart(started: ["engine"])
    }
}

/// The engine's service as its manager sees it.
public struct ServiceHealth: Sendable, Equatable {
    /// One line, as the manager says it.
    public var state: String
    /// The process is up (supervisord RUNNING, systemd active).
    public var running: Bool
    /// The manager stopped trying (supervisord FATAL, systemd failed).
    public var gaveUp: Bool
    /// How often the manager restarted it, where it counts (systemd's NRestarts).
    public var restarts: Int?
    /// How long its process has run, where the manager says (supervisord's `uptime`).
    public var uptimeSeconds: Double? = nil
}

/// A service-manager command that failed.
public struct ServiceError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// supervisord from Debian's `supervisor` package, unprivileged, with the home's own config and
/// socket. Started by deployctl when it is not running.
public struct SupervisorManager: ServiceManager {
    public let home: Home
    public let binary: String
    /// Never handed to supervisord, so never inherited by the engine it starts.
    public var secretNames = SecretNames.standard
    /// Seconds between watchdog runs when supervisord also runs `deployctl watchdog --daemon`
    /// (the guard copy, HOME/bin/deployctl); nil: no watchdog program.
    public var watchdogInterval: Int?
    /// Run `tradingbot dashboard` as a program beside the engine (deploy.json dashboard.supervised).
    public var dashboardSupervised = false
    public var name: String { "supervisor" }
    public var configPath: String { home.root + "/deploy/supervisord.conf" }
    var socketPath: String { home.stateDir + "/supervisor.sock" }

    public init(home: Home, binary: String) {
        self.home = home
        self.binary = binary
    }

    /// The manager deploy.json describes: its binary, its secret names, the watchdog program.
    public init(home: Home, config: DeployConfig) {
        self.init(home: home, binary: config.binary)
        secretNames = config.secretNames
        watchdogInterval = config.watchdog.supervised ? config.watchdog.intervalSeconds : nil
        dashboardSupervised = config.dashboard.supervised
    }

    /// The supervisord config for this home (what `install-units --supervisor` writes).
    public func configText() -> String {
        // supervisord expands %(name)s in values: a literal % is %%.
        let h = home.root.replacingOccurrences(of: "%", with: "%%")
        let socket = socketPath.replacingOccurrences(of: "%", with: "%%")
        return """
            ; Written by deployctl for the home \(h). The engine always runs from slots/current;
            ; it reads its release id from the slot's .release file, and the secrets it needs
            ; from config/secrets.env itself (none are in its environment).
            [unix_http_server]
            file=\(socket)
            chmod=0700

            [supervisord]
            logfile=\(h)/logs/supervisord.log
            pidfile=\(h)/state/supervisord.pid
            childlogdir=\(h)/logs
            nodaemon=false

            [rpcinterface:supervisor]
            supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

            [supervisorctl]
            serverurl=unix://\(socket)

            """
                + program(
                    "tradingbot", [home.root + "/slots/current/" + binary, "run", "--home", home.root],
                    log: "tradingbot", stopWait: 10, retries: 3)
                + watchdogProgram() + dashboardProgram()
    }

    /// The dashboard beside the engine, from the same slot, in its own program: it can fail or
    /// be restarted without touching the engine.
    func dashboardProgram() -> String {
        guard dashboardSupervised else { return "" }
        return "\n"
            + program(
                "tradingbot-dashboard", [home.root + "/slots/current/" + binary, "dashboard", "--home", home.root],
                log: "dashboard", stopWait: 10, retries: 3)
    }

    /// One `[program:NAME]` section: a command line supervisord splits like a shell, with `%`
    /// doubled (it expands `%(name)s`), its output in HOME/logs/LOG.out.log and .err.log.
    func program(_ name: String, _ words: [String], log: String, stopWait: Int, retries: Int?) -> String {
        let h = home.root.replacingOccurrences(of: "%", with: "%%")
        let command = words.map(shellWord).joined(separator: " ").replacingOccurrences(of: "%", with: "%%")
        var lines = [
            "[program:\(name)]", "command=\(command)", "directory=\(h)", "autostart=true", "autorestart=true",
            "startsecs=1",
        ]
        if let retries { lines.append("startretries=\(retries)") }
        lines += [
            "stopsignal=TERM", "stopwaitsecs=\(stopWait)", "stdout_logfile=\(h)/logs/\(log).out.log",
            "stderr_logfile=\(h)/logs/\(log).err.log",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    public func dashboardEnabled() -> Bool { dashboardSupervised }

    public func watchdogRunner() -> WatchdogRunner {
        guard watchdogInterval != nil else {
            return .none(
                "deploy.json watchdog.supervised is false: nothing here heals a stall unless a timer or cron runs `deployctl watchdog --home \(shellWord(home.root))`"
            )
        }
        let conf = shellWord(configPath)
        guard let state = programState("watchdog") else {
            return .stopped(
                "supervisord is not running", fix: "env -i PATH=/usr/bin:/bin supervisord -c \(conf)")
        }
        if state.contains("RUNNING") { return .running(state) }
        // A config rewritten by install-units that supervisord has not read yet.
        if state.contains("no such process") {
            return .stopped(
                state, fix: "supervisorctl -c \(conf) reread && supervisorctl -c \(conf) update")
        }
        return .stopped(state, fix: "supervisorctl -c \(conf) start watchdog")
    }

    public func restartDashboard() -> String? {
        guard dashboardSupervised, daemonAnswers else { return nil }
        guard let outcome = try? ctl(["restart", "tradingbot-dashboard"], timeout: 60), outcome.status == 0 else {
            return "supervisorctl restart tradingbot-dashboard failed (see \(home.root)/logs/dashboard.err.log)"
        }
        return nil
    }

    /// The watchdog beside the engine: the guard copy outside the slots, in its own program so
    /// it outlives any engine restart it orders.
    func watchdogProgram() -> String {
        guard let interval = watchdogInterval else { return "" }
        return "\n"
            + program(
                "watchdog",
                [GuardCopy.path(home), "watchdog", "--daemon", "--interval", "\(interval)", "--home", home.root],
                log: "watchdog", stopWait: 30, retries: nil)
    }

    /// Writes the config (atomically) when it is missing or differs; says whether it changed.
    @discardableResult
    public func writeConfig() throws -> Bool {
        try FileManager.default.createDirectory(atPath: home.root + "/deploy", withIntermediateDirectories: true)
        let text = configText()
        if let existing = try? FileIO.read(configPath), String(decoding: existing, as: UTF8.self) == text {
            return false
        }
        try FileIO.writeAtomically(configPath, Array(text.utf8))
        return true
    }

    func ctl(_ arguments: [String], timeout: Double = 30) throws -> ProcessRunner.Outcome {
        try ProcessRunner.run(
            "/usr/bin/supervisorctl", ["-c", configPath] + arguments, timeout: timeout, without: secretNames)
    }

    var daemonAnswers: Bool { (try? ctl(["pid"], timeout: 5))?.status == 0 }

    /// Starts supervisord for this home unless it already answers.
    public func ensureDaemon() throws {
        try home.createDirectories()
        // The watchdog program runs the guard copy: it must exist before supervisord spawns it.
        if watchdogInterval != nil { try GuardCopy.installIfMissing(home: home) }
        let changed = try writeConfig()
        if daemonAnswers {
            // Only a changed config is applied: `update` restarts changed programs, and the
            // watchdog program restarting the engine must not restart itself midway.
            if changed { _ = try? ctl(["update"]) }
            return
        }
        let started = try ProcessRunner.run(
            "/usr/bin/supervisord", ["-c", configPath], timeout: 30, without: secretNames)
        guard started.status == 0 else {
            throw ServiceError(message: "supervisord -c \(configPath) failed: \(started.output)")
        }
        for _ in 0..<100 {
            if daemonAnswers { return }
            usleep(50_000)
        }
        throw ServiceError(message: "supervisord started but does not answer on \(socketPath)")
    }

    /// Starts supervisord when it does not answer (it removes a socket a killed one left), then
    /// each program of this home that is not running.
    public func bootUp() throws -> ServiceStart {
        var result = ServiceStart()
        let fresh = !daemonAnswers
        try ensureDaemon()
        if fresh { result.started.append("supervisord") } else { result.alreadyRunning.append("supervisord") }
        let programs =
            ["tradingbot"] + (watchdogInterval == nil ? [] : ["watchdog"])
            + (dashboardSupervised ? ["tradingbot-dashboard"] : [])
        for program in programs {
            let state = programState(program) ?? ""
            if state.contains("RUNNING") || state.contains("STARTING") {
                if fresh { result.started.append(program) } else { result.alreadyRunning.append(program) }
                if program == "tradingbot" { result.engineWasRunning = !fresh }
                continue
            }
            let outcome = try ctl(["start", program], timeout: 60)
            guard outcome.status == 0 || outcome.output.contains("already started") else {
                let why =
                    "supervisorctl start \(program) failed: \(outcome.output.trimmingCharacters(in: .whitespacesAndNewlines)) (see \(home.logsDir))"
                if program == "tradingbot" { throw ServiceError(message: why) }
                result.failed.append(why)
                continue
            }
            result.started.append(program)
        }
        return result
    }

    public func restartEngine() throws {
        try ensureDaemon()
        let outcome = try ctl(["restart", "tradingbot"], timeout: 60)
        guard outcome.status == 0 else {
            throw ServiceError(
                message:
                    "supervisorctl restart tradingbot failed: \(outcome.output.trimmingCharacters(in: .whitespacesAndNewlines)) (see \(home.root)/logs/tradingbot.err.log)"
            )
        }
    }

    public func stopEngine() throws {
        guard daemonAnswers else { return }
        let outcome = try ctl(["stop", "tradingbot"], timeout: 60)
        // "not running" is what we want; anything else that is not 0 is a failure to say.
        guard outcome.status == 0 || outcome.output.contains("not running") else {
            throw ServiceError(message: "supervisorctl stop tradingbot failed: \(outcome.output)")
        }
    }

    public func engineState() -> String { programState("tradingbot") ?? "supervisord not running" }

    /// `supervisorctl status NAME` on one line, or nil when supervisord does not answer.
    func programState(_ name: String) -> String? {
        guard daemonAnswers, let outcome = try? ctl(["status", name], timeout: 10) else { return nil }
        // supervisorctl pads its columns: one space reads better in a message.
        return outcome.output.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
    }

    public func health() -> ServiceHealth {
        let state = engineState()
        return ServiceHealth(
            state: state, running: state.contains("RUNNING"), gaveUp: state.contains("FATAL"), restarts: nil,
            uptimeSeconds: state.contains("RUNNING") ? Self.uptime(state) : nil)
    }

    /// supervisorctl's `uptime 0:00:05` or `uptime 2 days, 3:04:05`, in seconds.
    static func uptime(_ state: String) -> Double? {
        guard let range = state.range(of: "uptime ") else { return nil }
        var rest = state[range.upperBound...]
        var days = 0.0
        if let comma = rest.firstIndex(of: ","), let n = Double(rest[..<comma].split(separator: " ").first ?? "") {
            days = n
            rest = rest[rest.index(after: comma)...].drop { $0 == " " }
        }
        let parts = rest.split(separator: " ").first?.split(separator: ":").compactMap { Double($0) } ?? []
        guard parts.count == 3 else { return nil }
        return days * 86_400 + parts[0] * 3600 + parts[1] * 60 + parts[2]
    }

    /// Stops supervisord itself (tests and uninstall).
    public func shutdown() {
        if daemonAnswers { _ = try? ctl(["shutdown"], timeout: 30) }
    }
}

/// systemd in production: the units of `install-units --systemd`, driven with systemctl.
public struct SystemdManager: ServiceManager {
    public var name: String { "systemd" }
    public let unit = "tradingbot.service"
    /// The systemctl to run (tests pass a stand-in; production finds it on PATH).
    let tool: String
    /// Variables systemctl must not inherit (deploy.json's secret names).
    let secretNames: [String]

    public init(systemctl: String = "systemctl", secretNames: [String] = SecretNames.standard) {
        tool = systemctl
        self.secretNames = secretNames
    }

    func systemctl(_ arguments: [String]) throws -> ProcessRunner.Outcome {
        try ProcessRunner.run("/usr/bin/env", [tool] + arguments, timeout: 120, without: secretNames)
    }

    public func dashboardEnabled() -> Bool {
        (try? systemctl(["is-enabled", "--quiet", "tradingbot-dashboard.service"]))?.status == 0
    }

    public func watchdogRunner() -> WatchdogRunner {
        let timer = "tradingbot-watchdog.timer"
        guard let outcome = try? systemctl(["is-active", timer]) else {
            return .stopped("systemctl does not answer", fix: "systemctl status \(timer)")
        }
        let state = outcome.output.trimmingCharacters(in: .whitespacesAndNewlines)
        return outcome.status == 0
            ? .running("\(timer) \(state)") : .stopped("\(timer) \(state)", fix: "sudo systemctl enable --now \(timer)")
    }

    /// Restarts the dashboard's unit when it is active (an operator who disabled it keeps it off).
    public func restartDashboard() -> String? {
        let dashboard = "tradingbot-dashboard.service"
        guard let active = try? systemctl(["is-active", "--quiet", dashboard]), active.status == 0 else { return nil }
        guard let outcome = try? systemctl(["restart", dashboard]), outcome.status == 0 else {
            return "systemctl restart \(dashboard) failed (journalctl -u \(dashboard) -n 50)"
        }
        return nil
    }

    /// Starts each unit of the home that is not active (after a boot systemd has normally done
    /// it already, the units being enabled).
    public func bootUp() throws -> ServiceStart {
        var result = ServiceStart()
        let units =
            [unit] + (dashboardEnabled() ? ["tradingbot-dashboard.service"] : []) + ["tradingbot-watchdog.timer"]
        for name in units {
            if (try? systemctl(["is-active", "--quiet", name]))?.status == 0 {
                result.alreadyRunning.append(name)
                if name == unit { result.engineWasRunning = true }
                continue
            }
            let outcome = try systemctl(["start", name])
            guard outcome.status == 0 else {
                let why = "systemctl start \(name) failed: \(outcome.output) (journalctl -u \(name) -n 50)"
                // Only the engine's failure is a failure to trade.
                if name == unit { throw ServiceError(message: why) }
                result.failed.append(why)
                continue
            }
            result.started.append(name)
        }
        return result
    }

    public func restartEngine() throws {
        let outcome = try systemctl(["restart", unit])
        guard outcome.status == 0 else {
            throw ServiceError(
                message: "systemctl restart \(unit) failed: \(outcome.output) (journalctl -u \(unit) -n 50)")
        }
    }

    public func stopEngine() throws {
        let outcome = try systemctl(["stop", unit])
        guard outcome.status == 0 else {
            throw ServiceError(message: "systemctl stop \(unit) failed: \(outcome.output)")
        }
    }

    public func engineState() -> String { health().state }

    /// `systemctl show`: ActiveState failed means systemd gave up; NRestarts counts the restarts
    /// of a crash loop that systemd would otherwise keep going for ever.
    public func health() -> ServiceHealth {
        guard let outcome = try? systemctl(["show", unit, "-p", "ActiveState", "-p", "SubState", "-p", "NRestarts"]),
            outcome.status == 0
        else { return ServiceHealth(state: "systemctl does not answer", running: false, gaveUp: false, restarts: nil) }
        var values: [String: String] = [:]
        for line in outcome.output.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { values[String(parts[0])] = String(parts[1]).trimmingCharacters(in: .whitespaces) }
        }
        let active = values["ActiveState"] ?? "unknown"
        let sub = values["SubState"] ?? "unknown"
        let restarts = values["NRestarts"].flatMap { Int($0) }
        return ServiceHealth(
            state: "\(unit) \(active) (\(sub))" + (restarts.map { ", \($0) restarts" } ?? ""),
            running: active == "active", gaveUp: active == "failed", restarts: restarts)
    }
}
