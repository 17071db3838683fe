import Foundation
import TradingCore
import TradingStore

/// `deployctl boot`: after a reboot (or whenever), brings up what this home runs: its service
/// manager, the live slot's engine, the dashboard and what runs the watchdog, each only when it
/// is not running. It never releases and never moves `slots/current`; the only ledger events it
/// writes close releases the reboot cut off before their flip. A release cut off after its flip
/// starts a fresh probation with the new engine (its cycles count from 1 again) and the watchdog
/// gives the verdict, as after `release --detach`.
public struct Boot {
    let home: Home
    let config: DeployConfig
    let manager: ServiceManager
    let now: () -> Instant

    public init(home: Home, config: DeployConfig, manager: ServiceManager, now: @escaping () -> Instant) {
        self.home = home
        self.config = config
        self.manager = manager
        self.now = now
    }

    public struct Report {
        public var exitCode: Int32
        public var release: String?
        public var started: [String] = []
        public var alreadyRunning: [String] = []
        /// Releases the reboot cut off before their flip, now marked failed.
        public var closed: [String] = []
        public var message: String

        public var json: JSONValue {
            [
                "ok": .bool(exitCode == 0), "release": release.map { .string($0) } ?? .null,
                "started": .array(started.map { .string($0) }),
                "already_running": .array(alreadyRunning.map { .string($0) }),
                "closed": .array(closed.map { .string($0) }), "message": .string(message),
            ]
        }
    }

    /// - Parameter wait: seconds to wait for the watchdog lock (a watchdog run holds it briefly).
    public func run(wait: Double = 120) -> Report {
        // Under the watchdog lock: a boot and a watchdog (or two boots) never start a service
        // manager twice or judge a half-started home.
        let lock: FileLock
        do throws(FileLock.Failure) {
            try? FileManager.default.createDirectory(atPath: home.stateDir, withIntermediateDirectories: true)
            lock = try FileLock.acquire(
                home.stateDir + "/watchdog.lock", holder: "boot pid \(ProcessIdentity.pid)", timeout: wait)
        } catch {
            return Report(exitCode: 3, release: nil, message: "cannot take \(home.stateDir)/watchdog.lock: \(error)")
        }
        defer { lock.release() }
        let slots = Slots(home: home)
        let ledger = Ledger(path: home.releasesLedger)
        let closed = closeCutOff(ledger)
        let records = (try? ledger.releases()) ?? []
        guard let active = slots.active() else {
            if records.isEmpty {
                return Report(
                    exitCode: 0, release: nil, closed: closed,
                    message:
                        "nothing deployed in \(home.root) yet: nothing to start (deployctl release --home \(shellWord(home.root)))"
                )
            }
            return Report(
                exitCode: 1, release: nil, closed: closed,
                message:
                    "slots/current is absent though the ledger holds releases: nothing started. Run deployctl rollback --home \(shellWord(home.root)), or release again"
            )
        }
        let release = slots.releaseID(active) ?? "?"
        let record = records.last { $0.id == release }
        if record?.stateValue == .bad {
            let goBack = GoBack(home: home, config: config, manager: manager, now: now, by: "boot")
            let leaving = GoBack.Leaving(
                slot: active, release: release, previousSlot: record?.previousSlot,
                previousRelease: record?.previousRelease)
            if case .none(let why) = goBack.target(leaving, records: records) {
                return Report(
                    exitCode: 1, release: release, closed: closed,
                    message:
                        "the live release \(release) (slot \(active)) is marked bad and there is nothing to go back to (\(why)): not started. NOTHING IS TRADING; release a fix: deployctl release --home \(shellWord(home.root)) --ref FIXED_REF"
                )
            }
            // Somewhere to go back to: the watchdog's first run rolls it back.
        }
        let before = try? HeartbeatStore(home: home).read()
        let since = now()
        let up: ServiceStart
        do {
            up = try manager.bootUp()
        } catch {
            return Report(
                exitCode: 1, release: release, closed: closed,
                message:
                    "starting the engine FAILED: \(error). Live: slots/current -> \(active) (\(release)); service: \(manager.engineState())"
            )
        }
        var report = Report(
            exitCode: 0, release: release, started: up.started, alreadyRunning: up.alreadyRunning, closed: closed,
            message: "")
        let limits = Probation.Limits(home: home, config: config)
        // An engine that was already running and beating needs no wait; one just started (or a
        // pid the reboot gave to another process) must write a fresh beat. Only the time tells a
        // fresh beat (no replaced pid): after a reboot the new engine may get the old one's pid.
        let running =
            up.engineWasRunning
            && (before.map {
                $0.release == release && Probation.alive($0.pid) && $0.age(now: since) <= limits.stallSeconds
            } ?? false)
        let first =
            running
            ? nil
            : Probation(home: home, manager: manager).watch(
                release: release, cycles: 0, since: since, replacedPid: nil, limits: limits)
        if case .failed(let problem) = first {
            report.exitCode = 1
            report.message =
                "\(problem). Live: slots/current -> \(active) (\(release)); service: \(manager.engineState()). The watchdog restarts or rolls it back; see RUNBOOK 'After a reboot'"
            return report
        }
        if !up.failed.isEmpty {
            report.exitCode = 1
            report.message =
                "\(release) (slot \(active)) is trading, but \(up.failed.joined(separator: "; "))"
            return report
        }
        let state = record?.state ?? "not in the ledger"
        let verdict =
            record?.stateValue == .probation || record?.stateValue == .flipped
            ? " It was on probation: its probation starts again with this engine; the watchdog gives the verdict."
            : record?.stateValue == .bad ? " It is marked bad: the watchdog rolls it back." : ""
        report.message =
            "\(release) (slot \(active), \(state)) is trading"
            + (up.started.isEmpty
                ? "; everything was already running" : "; started: \(up.started.joined(separator: ", "))")
            + "." + verdict
        return report
    }

    /// Marks failed the releases a reboot cut off before their flip, when no release holds the
    /// deploy lock (one that does is still going on).
    func closeCutOff(_ ledger: Ledger) -> [String] {
        guard case .success(let lock) = DeployLock.take(home: home, holder: "boot pid \(ProcessIdentity.pid)", wait: 0)
        else { return [] }
        // Taking the lock ended what their build left running.
        defer { lock.release() }
        return (try? ledger.closeAbandoned(at: now(), because: "the machine restarted during it")) ?? []
    }
}

extension Ledger {
    /// Marks failed every release left before its flip (`started`, `building`, `checking`): the
    /// caller holds the deploy lock, so none of them is still going on. Returns their ids.
    @discardableResult
    func closeAbandoned(at now: Instant, because why: String) throws -> [String] {
        var closed: [String] = []
        for record in try releases() where record.stateValue?.isBeforeFlip == true {
            try append(
                record.id, "state",
                [
                    JSONField("state", .string(ReleaseState.failed.rawValue)),
                    JSONField("reason", .string("abandoned in state \(record.state): \(why)")),
                ], at: now)
            closed.append(record.id)
        }
        return closed
    }
}
