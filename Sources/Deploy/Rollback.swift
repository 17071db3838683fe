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
        // The same path as a failed release and the watchdog: the rule, the target's binary and
        // release file, and whether it reads the live config, all before anything is stopped.
        let goBack = GoBack(home: home, config: config, manager: manager, now: { WallClock.now }, by: "rollback")
        let from = GoBack.Leaving(
            slot: active, release: leaving, previousSlot: leavingRecord?.previousSlot,
            previousRelease: leavingRecord?.previousRelease)
        let start = Date()
        let outcome = goBack.run(from, stopWhenNowhere: false, progress: progress)
        let said = GoBack.describe(outcome)
        let target: (slot: String, release: String)
        switch outcome {
        case .nowhere:
            // Refused, nothing changed: the operator reads why right here.
            return DeployOutcome(
                ok: false, exitCode: 1, release: leaving, state: "unchanged", message: "\(said) Nothing changed.")
        case .failed(let slot, let release, _):
            // Put back what was running before this command, and say what is live.
            var restored =
                "slots/current named no release before, so there is nothing to put back; NOTHING IS PROVEN TO BE TRADING"
            if let active, !leaving.isEmpty {
                progress.begin("restore", "point slots/current back at \(active) (\(leaving)) and restart")
                let again = goBack.restore(from)
                progress.end("restore", ok: again == nil, seconds: Date().timeIntervalSince(start), detail: again ?? "")
                restored =
                    again == nil
                    ? "\(leaving) in slot \(active) is running again"
                    : "restoring \(leaving) in slot \(active) FAILED too (\(again ?? "")); NOTHING IS PROVEN TO BE TRADING"
            }
            goBack.alert(outcome, leaving: from, reason: "deployctl rollback by the operator; \(restored)")
            return DeployOutcome(
                ok: false, exitCode: 1, release: release, state: "failed",
                message:
                    "\(said) \(release) in slot \(slot) did not come up healthy; \(restored). Live now: \(goBack.engine.liveState())."
            )
        case .went(let slot, let release, _, _):
            target = (slot, release)
            goBack.alert(outcome, leaving: from, reason: "deployctl rollback by the operator")
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
        let targetRecord = records.last { $0.id == target.release }
        let sha = targetRecord?.sha ?? ""
        return DeployOutcome(
            ok: true, exitCode: 0, release: target.release, state: targetRecord?.state ?? "unknown",
            message: "\(said) \(target.release) is \(sha.prefix(12)).\(note)",
            fields: [
                JSONField("seconds", .double((seconds * 1000).rounded() / 1000)), JSONField("left", .string(leaving)),
            ])
    }
}
