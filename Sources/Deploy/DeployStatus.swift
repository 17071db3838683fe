import Foundation
import TradingCore
import TradingStore

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
            let cycle = ConfigFiles.cycleSeconds(home.botConfig)
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
