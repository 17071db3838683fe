import Foundation
import TradingCore
import TradingStore

/// Runs the engine as a service: holds state/engine.lock (one engine per home), aligns cycles
/// to the wall clock, writes the heartbeat, tells systemd it is alive, and stops cleanly on
/// SIGTERM. A failing cycle is logged with context and the loop goes on; repeated failures
/// show in the heartbeat's `consecutive_errors` for the watchdog.
public final class EngineRunner {
    /// Another engine holds the lock.
    public struct LockHeld: Error, CustomStringConvertible {
        public var path: String
        public var holder: String
        public var description: String {
            "another engine is running on this home: \(path) is held by \(holder.isEmpty ? "an unknown process" : holder). Stop it first (or use another --home)."
        }
    }

    let engine: TradingEngine
    let stores: EngineStores
    let stop: StopSignal
    let notifier: SystemdNotifier
    let cycleSeconds: Int
    let now: () -> Instant
    var consecutiveErrors = 0
    var lastError: String?
    var startedAt: Instant?
    var lastSignalsAt: Instant?
    var healthViewFailedAt: Instant?

    public init(
        engine: TradingEngine, stores: EngineStores, stop: StopSignal, notifier: SystemdNotifier, cycleSeconds: Int,
        now: @escaping () -> Instant
    ) {
        self.engine = engine
        self.stores = stores
        self.stop = stop
        self.notifier = notifier
        self.cycleSeconds = cycleSeconds
        self.now = now
    }

    /// Takes the engine lock or throws `LockHeld` naming the holder's pid.
    public static func lockEngine(home: Home, release: String) throws -> FileLock {
        try home.createDirectories()
        do {
            return try FileLock.acquire(
                home.engineLock, holder: "pid \(ProcessIdentity.pid) release \(release) since \(WallClock.now.iso8601)")
        } catch .held(let path, let holder) {
            throw LockHeld(path: path, holder: holder)
        } catch .failed(let error) {
            throw error
        }
    }

    func beat(phase: String, cycle: Int, started: Instant?, finished: Instant?, result: CycleResult?) {
        let heartbeat = Heartbeat(
            pid: ProcessIdentity.pid, release: engine.settings.release, cycle: cycle, phase: phase,
            cycleStartedAt: started, cycleFinishedAt: finished, writtenAt: now(),
            symbolsEvaluated: result?.symbols ?? 0, signalsEvaluated: result?.signalsEvaluated ?? 0,
            consecutiveErrors: consecutiveErrors, lastError: lastError, reducing: engine.reducingReason,
            startedAt: startedAt, lastSignalsAt: lastSignalsAt, lastPriceChangeAt: engine.lastPriceChangeAt)
        do {
            try stores.heartbeat.write(heartbeat)
        } catch {
            stores.log(
                "error", "heartbeat_write_failed", cycle: cycle, at: now(), [JSONField("error", .string("\(error)"))])
        }
    }

    /// state/health.json for the dashboard and /metrics: a view, not state (nothing reads it
    /// back), so a failed write is logged once an hour and trading goes on.
    func writeHealthView(at time: Instant) {
        do {
            try FileIO.writeJSON(stores.home.healthView, engine.autonomyView(at: time))
        } catch {
            if healthViewFailedAt.map({ $0.seconds(until: now()) >= 3600 }) ?? true {
                healthViewFailedAt = now()
                stores.log(
                    "error", "health_view_write_failed", cycle: engine.cycle, at: now(),
                    [JSONField("error", .string("\(error)"))])
            }
        }
    }

    /// Runs until stopped or `maxCycles` cycles have run. Returns the number of cycles run.
    @discardableResult
    public func run(maxCycles: Int?) -> Int {
        let started = now()
        startedAt = started
        stores.log(
            "info", "engine_started", cycle: 0, at: started,
            [
                JSONField("release", .string(engine.settings.release)), JSONField("cycle_seconds", .int(cycleSeconds)),
                JSONField("feed", .string(engine.world.feedName)), JSONField("mode", .string(engine.world.mode)),
                JSONField("open_positions", .int(engine.file.open.count)),
                JSONField("balance", .double(engine.balance)),
            ])
        engine.reportUnreadable(at: started)
        engine.recorder?.begin(engine, at: started)
        beat(phase: "started", cycle: 0, started: nil, finished: nil, result: nil)
        notifier.notify("READY=1\nSTATUS=trading")
        var cycles = 0
        while !stop.isStopped {
            if let maxCycles, cycles >= maxCycles { break }
            let t = now()
            let period = Int64(cycleSeconds) * 1_000_000
            let next = Instant(microseconds: (t.microseconds / period + 1) * period)
            // The first cycle runs at once; later ones on the wall-clock grid.
            if cycles > 0, stop.wait(seconds: t.seconds(until: next)) { break }
            let cycleStart = now()
            beat(phase: "cycle", cycle: engine.cycle + 1, started: cycleStart, finished: nil, result: nil)
            do {
                let result = try engine.runCycle(now: cycleStart)
                if let result {
                    stores.console?.cycle(
                        result, milliseconds: Int(cycleStart.seconds(until: now()) * 1000),
                        open: engine.file.open.count, reducing: engine.reducingReason != nil)
                }
                consecutiveErrors = 0
                lastError = nil
                if (result?.signalsEvaluated ?? 0) > 0 { lastSignalsAt = now() }
                beat(phase: "idle", cycle: engine.cycle, started: cycleStart, finished: now(), result: result)
                writeHealthView(at: result?.time ?? now())
                if result == nil { break }
            } catch {
                consecutiveErrors += 1
                lastError = "\(error)"
                stores.log(
                    "error", "cycle_failed", cycle: engine.cycle, at: now(),
                    [JSONField("error", .string("\(error)")), JSONField("consecutive_errors", .int(consecutiveErrors))])
                beat(phase: "error", cycle: engine.cycle, started: cycleStart, finished: now(), result: nil)
            }
            notifier.notify("WATCHDOG=1")
            cycles += 1
        }
        notifier.notify("STOPPING=1")
        do {
            try engine.persist(now: now())
        } catch {
            stores.log(
                "error", "persist_failed", cycle: engine.cycle, at: now(), [JSONField("error", .string("\(error)"))])
        }
        // The recording's last cycles reach the disk before the process ends, within a few
        // seconds: a recording disk that hangs never holds up the stop.
        engine.recorder?.flush(engine, at: now(), timeout: 3)
        beat(phase: "stopped", cycle: engine.cycle, started: nil, finished: now(), result: nil)
        stores.log(
            "info", "engine_stopped", cycle: engine.cycle, at: now(),
            [
                JSONField("reason", .string(stop.isStopped ? stop.name : "max cycles")),
                JSONField("open_positions", .int(engine.file.open.count)),
            ])
        return cycles
    }
}
