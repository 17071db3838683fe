import TradingCore

/// What the watchdog looks at in one run, read cheaply from disk and the service manager.
/// Numbers, not prose: the same values go into `--json` as the evidence.
public struct WatchdogEvidence: Sendable, Equatable {
    /// The live slot's release and its state in the ledger (nil without slots or ledger entry).
    public var liveRelease: String?
    public var liveState: ReleaseState?
    /// The heartbeat, when there is one.
    public var heartbeatRelease: String?
    public var heartbeatPid: Int?
    public var heartbeatPidAlive = false
    public var heartbeatAgeSeconds: Double?
    public var heartbeatCycle = 0
    public var heartbeatPhase: String?
    public var consecutiveErrors = 0
    /// The service manager's view.
    public var serviceRunning = false
    public var serviceGaveUp = false
    public var serviceState = ""
    /// How long the engine's process has run, where the manager says (supervisord's uptime).
    public var serviceUptimeSeconds: Double?
    /// Thresholds, from bot.json and deploy.json.
    public var startGraceSeconds = 60.0
    public var stallSeconds = 180.0
    public var healthyCycles = 3
    public var freeDiskBytes: Int64 = .max
    public var minFreeDiskBytes: Int64 = 1_000_000_000
    /// Error events bot.jsonl gained since the last look, and how many make a burst.
    public var newErrorEvents = 0
    public var errorBurst = 10
    /// Seconds since the engine last evaluated a signal, and since any price last changed (nil:
    /// an engine too old to say); more than `tradingStallSeconds` is a trading stall.
    public var secondsSinceSignals: Double?
    public var secondsSincePriceChange: Double?
    /// The engine has seen a price change since it started (a restart on a frozen feed has not):
    /// a trading stall has recovered only then.
    public var priceChangeSeen = false
    /// The engine has evaluated a signal since it started (or is too old to say): a release
    /// whose engine never has does not trade, and cannot pass its probation.
    public var signalsSeen = true
    public var tradingStallSeconds = 600.0

    public init() {}

    public var json: JSONValue {
        var o = JSONObject()
        o["live_release"] = liveRelease.map { .string($0) } ?? .null
        o["live_state"] = liveState.map { .string($0.rawValue) } ?? .null
        o["heartbeat_release"] = heartbeatRelease.map { .string($0) } ?? .null
        o["heartbeat_pid"] = heartbeatPid.map { .int($0) } ?? .null
        o["heartbeat_pid_alive"] = .bool(heartbeatPidAlive)
        o["heartbeat_age_seconds"] = heartbeatAgeSeconds.map { .double(($0 * 10).rounded() / 10) } ?? .null
        o["heartbeat_cycle"] = .int(heartbeatCycle)
        o["heartbeat_phase"] = heartbeatPhase.map { .string($0) } ?? .null
        o["signals_seen"] = .bool(signalsSeen)
        o["consecutive_errors"] = .int(consecutiveErrors)
        o["service_running"] = .bool(serviceRunning)
        o["service_gave_up"] = .bool(serviceGaveUp)
        o["service_state"] = .string(serviceState)
        o["service_uptime_seconds"] = serviceUptimeSeconds.map { .double($0) } ?? .null
        o["stall_seconds"] = .double(stallSeconds)
        o["free_disk_bytes"] = .int(Int(clamping: freeDiskBytes))
        o["new_error_events"] = .int(newErrorEvents)
        o["seconds_since_signals"] = secondsSinceSignals.map { .double(($0 * 10).rounded() / 10) } ?? .null
        o["seconds_since_price_change"] = secondsSincePriceChange.map { .double(($0 * 10).rounded() / 10) } ?? .null
        o["trading_stall_seconds"] = .double(tradingStallSeconds)
        o["price_change_seen"] = .bool(priceChangeSeen)
        return .object(o)
    }
}

/// The watchdog's verdicts, worst first.
public enum WatchdogVerdict: String, Sendable {
    case healthy
    case notRunning = "not_running"
    case crashLoop = "crash_loop"
    case stalled
    case erroring
    /// Alive and cycling, but evaluating no signals or seeing prices that never change.
    case tradingStall = "trading_stall"
    case diskLow = "disk_low"
    /// Stopped on purpose (the engine wrote its `stopped` beat and the manager says stopped):
    /// nothing trades, but it is not the watchdog's to undo.
    case stopped
    /// Coming up after a restart: wait for it rather than restart it again.
    case starting
}

/// Judges evidence. Pure: the same evidence always gives the same verdict, so it is tested
/// without a process in sight.
public enum WatchdogJudge {
    public static func verdict(_ e: WatchdogEvidence) -> (WatchdogVerdict, String) {
        // First: with the disk full every write fails, which would read as a stall or errors and
        // send a healthy release into restarts or a rollback.
        if e.freeDiskBytes < e.minFreeDiskBytes {
            return (.diskLow, "\(e.freeDiskBytes / 1_000_000) MB free in the home")
        }
        if e.serviceGaveUp {
            return (.crashLoop, "the service manager gave up on the engine: \(e.serviceState)")
        }
        let young = (e.heartbeatAgeSeconds ?? .infinity) <= e.stallSeconds
        if !e.serviceRunning {
            let state = e.serviceState.uppercased()
            if e.heartbeatPhase == "stopped" && (state.contains("STOPPED") || state.contains("INACTIVE")) {
                return (.stopped, "the engine was stopped on purpose (\(e.serviceState)); start it when ready")
            }
            if young && (state.contains("STARTING") || state.contains("BACKOFF") || state.contains("ACTIVATING")) {
                return (.starting, "the engine is starting: \(e.serviceState)")
            }
            return (.notRunning, "the engine is not running: \(e.serviceState)")
        }
        guard let age = e.heartbeatAgeSeconds else {
            return (.stalled, "the service runs but no heartbeat was ever written")
        }
        // A new engine (after a boot or a restart) whose first beat has not come: the heartbeat on
        // disk is older than its process. It has its start grace before it is a stall.
        if age > e.stallSeconds, let up = e.serviceUptimeSeconds, age > up, up <= e.startGraceSeconds {
            return (
                .starting,
                "a new engine started \(Int(up)) s ago and has not beaten yet (start grace \(Int(e.startGraceSeconds)) s)"
            )
        }
        if age > e.stallSeconds {
            return (.stalled, "last heartbeat \(Int(age)) s ago (stall threshold \(Int(e.stallSeconds)) s)")
        }
        if !e.heartbeatPidAlive {
            // Just restarted: the old engine's beat is on disk until the new one writes its first.
            if young {
                return (.starting, "the heartbeat's pid \(e.heartbeatPid ?? 0) is gone; a new engine is starting")
            }
            return (.stalled, "the heartbeat's pid \(e.heartbeatPid ?? 0) is not alive")
        }
        if let live = e.liveRelease, let beat = e.heartbeatRelease, beat != live {
            return (
                .stalled, "the heartbeat names \(beat) but the live slot holds \(live): the engine was not restarted"
            )
        }
        if e.consecutiveErrors >= 3 {
            return (.erroring, "\(e.consecutiveErrors) cycles in a row failed")
        }
        if e.newErrorEvents >= e.errorBurst {
            return (
                .erroring,
                "\(e.newErrorEvents) error events in logs/bot.jsonl since the last look (burst: \(e.errorBurst))"
            )
        }
        if let quiet = e.secondsSinceSignals, quiet > e.tradingStallSeconds {
            return (
                .tradingStall,
                "the engine cycles but evaluated no signal for \(Int(quiet)) s (trading stall after \(Int(e.tradingStallSeconds)) s)"
            )
        }
        if let frozen = e.secondsSincePriceChange, frozen > e.tradingStallSeconds {
            return (
                .tradingStall,
                "no price changed for \(Int(frozen)) s: the feed is frozen (trading stall after \(Int(e.tradingStallSeconds)) s)"
            )
        }
        return (.healthy, "cycle \(e.heartbeatCycle), heartbeat \(Int(age)) s old")
    }

    /// A release on probation (or flipped by a deployctl that died) has met its bar: healthy,
    /// running under its own id for the configured number of cycles.
    public static func probationMet(_ e: WatchdogEvidence) -> Bool {
        guard let state = e.liveState, state == .probation || state == .flipped, let live = e.liveRelease else {
            return false
        }
        // `idle`: a beat written at a cycle's start carries the cycle not yet done.
        return verdict(e).0 == .healthy && e.heartbeatRelease == live && e.heartbeatPhase == "idle"
            && e.heartbeatCycle >= e.healthyCycles && e.consecutiveErrors == 0 && e.newErrorEvents == 0
            && e.signalsSeen
    }
}
