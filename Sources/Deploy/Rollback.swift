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
        let records: [ReleaseRecord]
        do {
            records = try ledger.releases()
        } catch {
            return DeployOutcome(
                ok: false, exitCode: 1, release: leaving, state: "unchanged",
                message: "cannot read \(ledger.path): \(error); nothing changed")
        }
        let leavingRecord = records.last { $0.id == leaving }
        // The same rule as a failed release: checked, binary and release file included, before
        // anything is stopped.
        var refusals: [String] = []
        var chosen: (slot: String, release: String, why: String)?
        for slot in active.map({ [Slots.other($0)] }) ?? Slots.names {
            switch RollbackRule.target(
                other: slots.view(slot, binary: config.binary), previousSlot: leavingRecord?.previousSlot,
                previousRelease: leavingRecord?.previousRelease, records: records)
            {
            case .slot(let s, let release, let why):
                if chosen == nil { chosen = (s, release, why) }
            case .none(let why): refusals.append(why)
            }
        }
        guard let target = chosen else {
            return DeployOutcome(
                ok: false, exitCode: 1, release: leaving, state: "unchanged",
                message: "nothing to roll back to: \(refusals.joined(separator: "; ")). Nothing changed.")
        }
        let engine = EngineSwitch(home: home, config: config, manager: manager, now: { WallClock.now })
        let start = Date()
        progress.begin(
            "rollback", "point slots/current at \(target.slot) (\(target.release), \(target.why)) and restart")
        if let problem = engine.run(target.slot, release: target.release) {
            progress.end("rollback", ok: false, seconds: Date().timeIntervalSince(start), detail: problem)
            // Put back what was running before this command, and say what is live.
            var restored =
                "slots/current named no release before, so there is nothing to put back; NOTHING IS PROVEN TO BE TRADING"
            if let active, !leaving.isEmpty {
                progress.begin("restore", "point slots/current back at \(active) (\(leaving)) and restart")
                let again = engine.run(active, release: leaving)
                progress.end("restore", ok: again == nil, seconds: Date().timeIntervalSince(start), detail: again ?? "")
                restored =
                    again == nil
                    ? "\(leaving) in slot \(active) is running again"
                    : "restoring \(leaving) in slot \(active) FAILED too (\(again ?? "")); NOTHING IS PROVEN TO BE TRADING"
            }
            return DeployOutcome(
                ok: false, exitCode: 1, release: target.release, state: "failed",
                message:
                    "\(target.release) in slot \(target.slot) did not come up healthy: \(problem). \(restored). Live now: \(engine.liveState())."
            )
        }
        let seconds = Date().timeIntervalSince(start)
        var note = ""
        if let leavingRecord, let state = leavingRecord.stateValue, state.next.contains(.rolledBack) {
            do {
                try ReleaseMachine(id: leaving, ledger: ledger, state: state, now: { WallClock.now })
                    .move(to: .rolledBack, [JSONField("to", .string(target.release))])
            } catch {
                note = " The ledger could not record it (\(error))."
            }
        }
        progress.end("rollback", ok: true, seconds: seconds, detail: "\(target.release) running")
        let targetRecord = records.last { $0.id == target.release }
        let sha = targetRecord?.sha ?? ""
        return DeployOutcome(
            ok: true, exitCode: 0, release: target.release, state: targetRecord?.state ?? "unknown",
            message:
                "rolled back to \(target.release) (\(sha.prefix(12))) in slot \(target.slot) in \(String(format: "%.2f", seconds)) s.\(note)",
            fields: [
                JSONField("seconds", .double((seconds * 1000).rounded() / 1000)), JSONField("left", .string(leaving)),
            ])
    }
}

/// `deployctl status`: what is live, how healthy, and what the other slot holds.
public enum DeployStatus {
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
        let beat = try? HeartbeatStore(home: home).read()
        if let beat {
            heartbeat = [
                "release": .string(beat.release), "pid": .int(beat.pid), "cycle": .int(beat.cycle),
                "phase": .string(beat.phase), "age_seconds": .double((beat.age(now: now) * 10).rounded() / 10),
                "consecutive_errors": .int(beat.consecutiveErrors),
            ]
        }
        let health = manager.health()
        var problems: [String] = []
        let quotedHome = shellWord(home.root)
        if active == nil && !records.isEmpty {
            problems.append(
                "slots/current is absent though \(records.count) release(s) exist: nothing is trading; `deployctl rollback --home \(quotedHome)` or `deployctl release --home \(quotedHome)`"
            )
        }
        if active != nil && !health.running {
            problems.append(
                "the engine is not running (\(health.state)): nothing is trading; `deployctl doctor --home \(quotedHome)` says how to start it"
            )
        }
        let liveRelease = active.flatMap { slots.releaseID($0) }
        if health.running, let beat, let liveRelease, beat.release != liveRelease, beat.phase != "stopped" {
            problems.append(
                "the engine's heartbeat names \(beat.release) but slots/current holds \(liveRelease): the slot was flipped without the engine being restarted (a killed release?); `deployctl rollback --home \(quotedHome)` or restart the engine"
            )
        }
        if health.running, let beat {
            let cycle = (try? ConfigFiles.bot(home.botConfig))?.cycleSeconds ?? 60
            let stall = cycle * ((try? ConfigFiles.deploy(home.deployConfig))?.watchdog.stallCycles ?? 3)
            if beat.age(now: now) > Double(stall) {
                problems.append(
                    "the service says running but the last heartbeat is \(Int(beat.age(now: now))) s old (stall threshold \(stall) s): the engine is stalled; see RUNBOOK 'Is it trading?'"
                )
            }
        }
        let liveState = active.flatMap { slots.releaseID($0) }.flatMap { id in records.last { $0.id == id } }?
            .stateValue
        return [
            "ok": .bool(active != nil && problems.isEmpty), "home": .string(home.root), "active": describe(active),
            "other": describe(active.map(Slots.other)), "heartbeat": heartbeat,
            "service": .string(health.state), "engine_running": .bool(health.running),
            "next": liveState.map { .string($0.outlook) } ?? .null,
            "problems": .array(problems.map { .string($0) }),
            "deploy_lock": FileLock.currentHolder(home.deployLock).map { .string($0) } ?? .null,
            "last_release": records.last?.json ?? .null,
        ]
    }
}
