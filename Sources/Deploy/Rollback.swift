import Foundation
import TradingCore
import TradingStore

/// `deployctl rollback`: back to the newest release marked good that is still intact in the
/// other slot. No rebuild, so it takes a flip, a restart and one healthy heartbeat.
public struct Rollback {
    let home: Home
    let config: DeployConfig
    let manager: ServiceManager
    let progress: StepProgress

    public init(home: Home, config: DeployConfig, manager: ServiceManager, progress: StepProgress) {
        self.home = home
        self.config = config
        self.manager = manager
        self.progress = progress
    }

    public func run(wait: Double) -> DeployOutcome {
        let slots = Slots(home: home)
        let ledger = Ledger(path: home.releasesLedger)
        let lock: FileLock
        switch DeployLock.take(home: home, holder: "pid \(ProcessIdentity.pid) rolling back", wait: wait) {
        case .success(let taken): lock = taken
        case .failure(let refusal):
            return DeployOutcome(
                ok: false, exitCode: refusal.exitCode, release: "", state: "locked", message: refusal.message)
        }
        defer { lock.release() }
        let active = slots.active()
        let leaving = active.flatMap { slots.releaseID($0) } ?? ""
        guard let records = try? ledger.releases() else {
            return DeployOutcome(
                ok: false, exitCode: 1, release: leaving, state: "failed", message: "cannot read \(ledger.path)")
        }
        guard
            let target = records.reversed().first(where: { r in
                r.isGood && r.slot != active && slots.releaseID(r.slot) == r.id
            })
        else {
            return DeployOutcome(
                ok: false, exitCode: 1, release: leaving, state: "unchanged",
                message:
                    "no release marked good is intact in the other slot (a later release may have been built there); nothing changed"
            )
        }
        let start = Date()
        progress.begin(
            "rollback", "point slots/current at \(target.slot) (\(target.id), \(target.sha.prefix(12))) and restart")
        do {
            try slots.flip(to: target.slot)
            try manager.restartEngine()
        } catch {
            progress.end("rollback", ok: false, seconds: Date().timeIntervalSince(start), detail: "\(error)")
            return DeployOutcome(ok: false, exitCode: 1, release: target.id, state: "failed", message: "\(error)")
        }
        let verdict = Probation(home: home, manager: manager).watch(
            release: target.id, cycles: 1, timeout: Double(config.probation.timeoutSeconds))
        let seconds = Date().timeIntervalSince(start)
        if !leaving.isEmpty {
            try? ledger.append(
                leaving, "state", [JSONField("state", .string("rolled_back")), JSONField("to", .string(target.id))])
        }
        guard case .healthy = verdict else {
            progress.end("rollback", ok: false, seconds: seconds, detail: "\(verdict)")
            return DeployOutcome(
                ok: false, exitCode: 1, release: target.id, state: "failed",
                message: "flipped to \(target.slot) but \(target.id) is not healthy: \(verdict)")
        }
        progress.end("rollback", ok: true, seconds: seconds, detail: "\(target.id) running")
        return DeployOutcome(
            ok: true, exitCode: 0, release: target.id, state: "good",
            message:
                "rolled back to \(target.id) (\(target.sha.prefix(12))) in slot \(target.slot) in \(String(format: "%.2f", seconds)) s",
            fields: [
                JSONField("seconds", .double((seconds * 1000).rounded() / 1000)), JSONField("left", .string(leaving)),
            ])
    }
}

/// `deployctl status`: what is live, how healthy, and what the other slot holds.
public enum DeployStatus {
    /// The holder of a lock only if someone holds it now: a killed holder's text stays in the
    /// file, but the kernel has released its lock.
    static func heldLock(_ path: String) -> String? {
        guard FileIO.exists(path) else { return nil }
        do throws(FileLock.Failure) {
            let probe = try FileLock.acquire(path, holder: "")
            probe.release()
            return nil
        } catch {
            if case .held(_, let holder) = error { return holder.isEmpty ? "unknown holder" : holder }
            return nil
        }
    }

    public static func collect(home: Home, manager: ServiceManager, now: Instant) -> JSONValue {
        let slots = Slots(home: home)
        let records = (try? Ledger(path: home.releasesLedger).releases()) ?? []
        func describe(_ slot: String?) -> JSONValue {
            guard let slot else { return .null }
            let id = slots.releaseID(slot)
            let record = records.last { $0.id == id }
            return [
                "slot": .string(slot), "release": id.map { .string($0) } ?? .null,
                "ref": record.map { .string($0.ref) } ?? .null, "sha": record.map { .string($0.sha) } ?? .null,
                "state": record.map { .string($0.state) } ?? .null,
                "since": record.map { .string($0.updatedAt) } ?? .null,
                "by": record.map { .string($0.by) } ?? .null,
            ]
        }
        let active = slots.active()
        var heartbeat: JSONValue = .null
        if let beat = try? HeartbeatStore(home: home).read() {
            heartbeat = [
                "release": .string(beat.release), "pid": .int(beat.pid), "cycle": .int(beat.cycle),
                "phase": .string(beat.phase), "age_seconds": .double((beat.age(now: now) * 10).rounded() / 10),
                "consecutive_errors": .int(beat.consecutiveErrors),
            ]
        }
        return [
            "ok": .bool(active != nil), "home": .string(home.root), "active": describe(active),
            "other": describe(active.map(Slots.other)), "heartbeat": heartbeat,
            "service": .string(manager.engineState()),
            "deploy_lock": heldLock(home.deployLock).map { .string($0) } ?? .null,
            "last_release": records.last?.json ?? .null,
        ]
    }
}
