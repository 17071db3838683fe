import Foundation
import TradingCore
import TradingStore

/// Moves the engine to another slot and proves it there: flip, restart, one fresh healthy cycle.
/// Shared by a failed release going back, `deployctl rollback`, and a rollback that must undo
/// itself, so all three prove a switch the same way and describe what is live the same way.
struct EngineSwitch {
    let home: Home
    let config: DeployConfig
    let manager: ServiceManager
    let now: () -> Instant

    var slots: Slots { Slots(home: home) }

    /// Points `slots/current` at `slot`, restarts, and waits for one fresh healthy cycle of
    /// `release`. Returns nil when it runs, else why not.
    func run(_ slot: String, release: String) -> String? {
        let replaced = (try? HeartbeatStore(home: home).read())?.pid
        let since = now()
        do {
            try slots.flip(to: slot)
            try manager.restartEngine()
            _ = manager.restartDashboard()  // best effort: never a reason to fail the switch
        } catch {
            return "\(error)"
        }
        let verdict = Probation(home: home, manager: manager).watch(
            release: release, cycles: 1, since: since, replacedPid: replaced,
            limits: Probation.Limits(home: home, config: config))
        if case .failed(let why) = verdict { return why }
        return nil
    }

    /// Stops the engine and says what the service manager says afterwards, not what was asked:
    /// "STOPPED" only when it is.
    func stop() -> String {
        var said = "The engine is STOPPED"
        do {
            try manager.stopEngine()
        } catch {
            said = "Stopping the engine FAILED (\(error))"
        }
        let health = manager.health()
        if health.running { said = "Stopping the engine FAILED (\(health.state)): the failed release may still run" }
        return said
    }

    /// What is live right now, read from disk and the service manager, never assumed.
    func liveState() -> String {
        let active = slots.active()
        let release = active.flatMap { slots.releaseID($0) }
        var text =
            active.map { "slots/current -> \($0) (\(release ?? "no release file"))" } ?? "slots/current is absent"
        text += "; service: \(manager.engineState())"
        if let beat = try? HeartbeatStore(home: home).read() {
            text +=
                "; last heartbeat: \(beat.release) cycle \(beat.cycle) \(beat.phase), \(Int(beat.age(now: now()))) s old"
        }
        return text
    }
}
