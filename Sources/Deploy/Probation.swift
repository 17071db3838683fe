import Foundation
import TradingCore
import TradingStore

#if canImport(Glibc)
    import Glibc
#endif

/// Watches the heartbeat after a flip: the release is healthy once the engine has written N
/// error-free cycles under its release id; it fails when that does not happen within T seconds,
/// when its cycles keep failing, or when the service manager gives up on it (crash loop).
///
/// Only fresh heartbeats count: written after `since` (the moment before the restart), by a
/// living process that is not the engine the restart replaced. A heartbeat left on disk by the
/// old engine of the same release (a rollback) must never pass for the new one.
public struct Probation {
    public let home: Home
    public let manager: ServiceManager

    public init(home: Home, manager: ServiceManager) {
        self.home = home
        self.manager = manager
    }

    public enum Verdict: Equatable, CustomStringConvertible {
        case healthy(cycles: Int, seconds: Double)
        case failed(String)

        public var description: String {
            switch self {
            case .healthy(let cycles, let seconds): "\(cycles) healthy cycle(s) in \(Int(seconds)) s"
            case .failed(let why): why
            }
        }
    }

    /// Restarts through the service manager give the engine this many tries before a probation
    /// calls it a crash loop (systemd restarts for ever; supervisord reports FATAL itself).
    static let crashLoopRestarts = 3

    /// Error-free cycles without one evaluated signal that fail a release (at least the cycles
    /// it needs): a feed still filling its first window is given that long.
    static let quietCyclesToFail = 3

    /// - Parameters:
    ///   - needed: healthy cycles that make it healthy; 0: its first fresh beat is enough (boot).
    ///   - stallSeconds: once the release has beaten, a heartbeat that then stops for this long
    ///     fails probation at once, not only at the timeout.
    ///   - startGrace: a release that has not beaten this long after `since` fails at once: an
    ///     engine that hangs before its first heartbeat must not keep the bot dark until the
    ///     timeout.
    public func watch(
        release: String, cycles needed: Int, timeout: Double, since: Instant, replacedPid: Int? = nil,
        stallSeconds: Double? = nil, startGrace: Double? = nil
    ) -> Verdict {
        let start = Date()
        var lastWritten: Instant?
        var lastChange = Date()
        var healthy: Set<Int> = []
        var quiet: Set<Int> = []
        var pids: [Int] = []
        var lastSeen = "no fresh heartbeat from it"
        let store = HeartbeatStore(home: home)
        var nextServiceCheck = Date()
        let baseline = manager.health().restarts
        while Date().timeIntervalSince(start) < timeout {
            let read = try? store.read()
            // Once the release has beaten, silence for the stall threshold fails it at once,
            // whether its process hangs or has gone.
            if let beat = read, beat.release == release, beat.writtenAt >= since, beat.pid != replacedPid,
                beat.writtenAt != lastWritten, lastWritten != nil || Self.alive(beat.pid)
            {
                lastWritten = beat.writtenAt
                lastChange = Date()
            } else if lastWritten == nil, let startGrace, Date().timeIntervalSince(start) > startGrace {
                return .failed(Self.noBeat(grace: startGrace, read, release: release, home: home))
            } else if lastWritten != nil, let stallSeconds, Date().timeIntervalSince(lastChange) > stallSeconds {
                return .failed(
                    "its heartbeat stopped: nothing new for \(Int(stallSeconds)) s (the stall threshold); \(lastSeen)")
            }
            if let beat = read, beat.release == release, beat.writtenAt >= since,
                beat.pid != replacedPid, Self.alive(beat.pid)
            {
                lastSeen =
                    "last heartbeat: pid \(beat.pid), cycle \(beat.cycle), phase \(beat.phase), \(beat.consecutiveErrors) consecutive errors"
                // Healthy cycles count for one process only: an engine that manages one cycle,
                // dies and is restarted is crash-looping, however many single cycles add up.
                if pids.last != beat.pid {
                    pids.append(beat.pid)
                    healthy.removeAll()
                    if pids.count > Self.crashLoopRestarts {
                        return .failed(
                            "it crash-loops: \(pids.count) engine processes (pids \(pids.map(String.init).joined(separator: ", "))) during probation"
                        )
                    }
                }
                if beat.consecutiveErrors >= 3 {
                    return .failed(
                        "its cycles fail: \(beat.consecutiveErrors) in a row, last error: \(beat.lastError ?? "?")")
                }
                if beat.consecutiveErrors == 0 && beat.phase == "idle" && beat.cycle > 0 {
                    // A cycle that evaluated no signal traded nothing: it does not count, and
                    // enough of them fail the release at once (an engine too old to say counts).
                    if beat.signalsEvaluated > 0 || beat.startedAt == nil {
                        healthy.insert(beat.cycle)
                    } else {
                        quiet.insert(beat.cycle)
                        if healthy.isEmpty && quiet.count >= max(needed, Self.quietCyclesToFail) {
                            return .failed(
                                "it evaluates no signal: \(quiet.count) error-free cycles with 0 signals evaluated; an engine that does not trade is not healthy"
                            )
                        }
                    }
                }
                if healthy.count >= needed {
                    return .healthy(cycles: healthy.count, seconds: Date().timeIntervalSince(start))
                }
            }
            // Asking the service manager spawns processes (supervisorctl, systemctl): once a
            // second is enough to see a crash loop, while the heartbeat file is read every 100 ms.
            if Date() >= nextServiceCheck {
                nextServiceCheck = Date().addingTimeInterval(1)
                let health = manager.health()
                if health.gaveUp {
                    return .failed("the service manager gave up on it (crash loop): \(health.state)")
                }
                if let now = health.restarts, let before = baseline, now - before >= Self.crashLoopRestarts {
                    return .failed(
                        "it crash-loops: restarted \(now - before) times by \(manager.name) during probation (\(health.state))"
                    )
                }
            }
            usleep(100_000)
        }
        return .failed(
            "\(healthy.count) of \(needed) healthy cycles within \(Int(timeout)) s; \(lastSeen) (see \(home.logsDir)/tradingbot.err.log)"
        )
    }

    /// The words for a release that never beat: what the heartbeat file says instead.
    static func noBeat(grace: Double, _ beat: Heartbeat?, release: String, home: Home) -> String {
        let found =
            beat.map {
                "the heartbeat file still names \($0.release) pid \($0.pid) (\($0.phase), written \($0.writtenAt.iso8601))"
            } ?? "no heartbeat file"
        return
            "no heartbeat within the start grace of \(Int(grace)) s: \(release) hangs or dies before its first beat; \(found) (see \(home.logsDir)/tradingbot.err.log)"
    }

    static func alive(_ pid: Int) -> Bool {
        guard let pid = pid_t(exactly: pid), pid > 0 else { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }
}

extension Probation {
    /// What every wait for a release's engine allows it, from the home's config: the release's
    /// probation, the switch back after a failure, `deployctl rollback` and `deployctl boot` all
    /// give a first beat the same start grace and a stopped heartbeat the same stall threshold.
    public struct Limits: Sendable, Equatable {
        public var timeout: Double
        public var stallSeconds: Double
        public var startGrace: Double

        public init(home: Home, config: DeployConfig) {
            timeout = Double(config.probation.timeoutSeconds)
            stallSeconds =
                HealthThresholds(cycleSeconds: ConfigFiles.cycleSeconds(home.botConfig), watchdog: config.watchdog)
                .stallSeconds
            startGrace = Double(min(config.probation.startGraceSeconds, config.probation.timeoutSeconds))
        }
    }

    /// `watch` with the home's limits.
    public func watch(release: String, cycles: Int, since: Instant, replacedPid: Int?, limits: Limits) -> Verdict {
        watch(
            release: release, cycles: cycles, timeout: limits.timeout, since: since, replacedPid: replacedPid,
            stallSeconds: limits.stallSeconds, startGrace: limits.startGrace)
    }
}
