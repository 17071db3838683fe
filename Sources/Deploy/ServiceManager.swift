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
    public var name: String { "supervisor" }
    public var configPath: String { home.root + "/deploy/supervisord.conf" }
    var socketPath: String { home.stateDir + "/supervisor.sock" }

    public init(home: Home, binary: String) {
        self.home = home
        self.binary = binary
    }

    /// The supervisord config for this home (what `install-units --supervisor` writes).
    public func configText() -> String {
        let h = home.root
        return """
            ; Written by deployctl for the home \(h). The engine always runs from slots/current;
            ; its release id comes from the slot's .release file.
            [unix_http_server]
            file=\(socketPath)
            chmod=0700

            [supervisord]
            logfile=\(h)/logs/supervisord.log
            pidfile=\(h)/state/supervisord.pid
            childlogdir=\(h)/logs
            nodaemon=false

            [rpcinterface:supervisor]
            supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

            [supervisorctl]
            serverurl=unix://\(socketPath)

            [program:tradingbot]
            command=/bin/sh -c 'TRADINGBOT_RELEASE="$(cat \(h)/slots/current/.release 2>/dev/null || echo unknown)" exec \(h)/slots/current/\(binary) run --home \(h)'
            directory=\(h)
            autostart=true
            autorestart=true
            startsecs=1
            startretries=3
            stopsignal=TERM
            stopwaitsecs=10
            stdout_logfile=\(h)/logs/tradingbot.out.log
            stderr_logfile=\(h)/logs/tradingbot.err.log

            """
    }

    /// Writes the config (atomically) when it is missing or differs.
    public func writeConfig() throws {
        try FileManager.default.createDirectory(atPath: home.root + "/deploy", withIntermediateDirectories: true)
        let text = configText()
        if let existing = try? FileIO.read(configPath), String(decoding: existing, as: UTF8.self) == text { return }
        try FileIO.writeAtomically(configPath, Array(text.utf8))
    }

    func ctl(_ arguments: [String], timeout: Double = 30) throws -> ProcessRunner.Outcome {
        try ProcessRunner.run("/usr/bin/supervisorctl", ["-c", configPath] + arguments, timeout: timeout)
    }

    var daemonAnswers: Bool { (try? ctl(["pid"], timeout: 5))?.status == 0 }

    /// Starts supervisord for this home unless it already answers.
    public func ensureDaemon() throws {
        try home.createDirectories()
        try writeConfig()
        if daemonAnswers {
            _ = try? ctl(["update"])
            return
        }
        let started = try ProcessRunner.run("/usr/bin/supervisord", ["-c", configPath], timeout: 30)
        guard started.status == 0 else {
            throw ServiceError(message: "supervisord -c \(configPath) failed: \(started.output)")
        }
        for _ in 0..<100 {
            if daemonAnswers { return }
            usleep(50_000)
        }
        throw ServiceError(message: "supervisord started but does not answer on \(socketPath)")
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
        _ = try ctl(["stop", "tradingbot"], timeout: 60)
    }

    public func engineState() -> String {
        guard daemonAnswers, let outcome = try? ctl(["status", "tradingbot"], timeout: 10) else {
            return "supervisord not running"
        }
        return outcome.output.trimmingCharacters(in: .whitespacesAndNewlines)
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

    public init() {}

    func systemctl(_ arguments: [String]) throws -> ProcessRunner.Outcome {
        try ProcessRunner.run("/usr/bin/env", ["systemctl"] + arguments, timeout: 120)
    }

    public func restartEngine() throws {
        let outcome = try systemctl(["restart", unit])
        guard outcome.status == 0 else {
            throw ServiceError(
                message: "systemctl restart \(unit) failed: \(outcome.output) (journalctl -u \(unit) -n 50)")
        }
    }

    public func stopEngine() throws { _ = try systemctl(["stop", unit]) }

    public func engineState() -> String {
        ((try? systemctl(["is-active", unit]))?.output ?? "unknown").trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
