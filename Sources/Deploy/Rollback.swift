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
