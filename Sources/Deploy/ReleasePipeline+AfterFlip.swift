import Foundation
import TradingCore
import TradingStore

extension ReleasePipeline {
    /// From the flip to the verdict: restart, probation, good. Every failure goes to `afterFlip`.
    func goLive(
        _ machine: ReleaseMachine, sha: String, slot: String, previous: String?, previousRelease: String?,
        replacedPid: Int?, options: Options
    ) -> DeployOutcome {
        let id = machine.id
        let since = now()
        do {
            try step(id, "restart", "restart the engine through \(manager.name)") {
                // A frozen live engine would not stop on the manager's SIGTERM: it goes first.
                _ = SilentEngine.endIfSilent(
                    home: home, stallSeconds: Probation.Limits(home: home, config: config).stallSeconds, now: now())
                try manager.restartEngine()
                // The dashboard follows the new binary; its trouble is said, never a failure.
                let dashboard = manager.restartDashboard().map { "; the dashboard did not restart: \($0)" } ?? ""
                return ((), manager.engineState() + dashboard)
            }
            try machine.move(to: .probation)
        } catch {
            let failure = error as? StepFailure ?? StepFailure(step: "probation", detail: "\(error)")
            return afterFlip(
                machine, slot: slot, previous: previous, previousRelease: previousRelease,
                reason: "\(failure.step) failed: \(failure.detail)")
        }
        let needed = options.detach ? 1 : config.probation.healthyCycles
        let limits = Probation.Limits(home: home, config: config)
        progress.begin(
            "probation",
            "\(needed) healthy cycle(s) of \(id) within \(Int(limits.timeout)) s, its first heartbeat within \(Int(limits.startGrace)) s"
        )
        let watched = Date()
        let verdict = Probation(home: home, manager: manager).watch(
            release: id, cycles: needed, since: since, replacedPid: replacedPid, limits: limits)
        guard case .healthy(let cycles, let seconds) = verdict else {
            let why = verdict.description
            let spent = Date().timeIntervalSince(watched)
            progress.end("probation", ok: false, seconds: spent, detail: why)
            try? record(id, "probation", ok: false, seconds: spent, detail: why)
            return afterFlip(
                machine, slot: slot, previous: previous, previousRelease: previousRelease,
                reason: "probation failed: \(why)")
        }
        progress.end("probation", ok: true, seconds: seconds, detail: "\(cycles) healthy cycle(s)")
        var fields: [JSONField] { outcomeFields(slot: slot) + [JSONField("sha", .string(sha))] }
        do {
            try record(id, "probation", ok: true, seconds: seconds, detail: "\(cycles) healthy cycle(s) under \(id)")
            if options.detach {
                return DeployOutcome(
                    ok: true, exitCode: 0, release: id, state: "probation",
                    message:
                        "\(id) (\(sha.prefix(12))) is live in slot \(slot) on probation after its first healthy cycle; the watchdog marks it good after \(config.probation.healthyCycles) healthy cycles or rolls it back (watch `deployctl status`; `deployctl rollback` if in doubt)",
                    fields: fields)
            }
            try machine.move(to: .good)
            GuardCopy.installFromSlot(home: home, config: config)
        } catch {
            // Proven healthy, but unrecorded: rolling back a good engine because the disk is
            // full would trade a bookkeeping problem for a trading one.
            return DeployOutcome(
                ok: false, exitCode: 1, release: id, state: machine.state.rawValue,
                message:
                    "\(id) passed probation and is trading in slot \(slot), but the ledger could not record it: \(error). It stays live (it is healthy); free space under \(home.stateDir), then run deployctl status. The ledger shows it as \(machine.state.rawValue) until a later write.",
                fields: fields)
        }
        return DeployOutcome(
            ok: true, exitCode: 0, release: id, state: "good",
            message: "\(id) (\(sha.prefix(12))) is live in slot \(slot) and marked good", fields: fields)
    }

    /// The one handler for every failure after the flip: mark the candidate bad, go back where
    /// the rollback rule says (the one go-back path), and report what is really live. Never
    /// "nothing live changed".
    func afterFlip(
        _ machine: ReleaseMachine, slot: String, previous: String?, previousRelease: String?, reason: String
    ) -> DeployOutcome {
        let id = machine.id
        var notes: [String] = []
        do {
            try machine.move(to: .bad, [JSONField("reason", .string(reason))])
        } catch {
            notes.append(
                "The ledger could not record \(id) as bad (\(error)); a plain release of its sha is not refused.")
        }
        let goBack = GoBack(home: home, config: config, manager: manager, now: now, by: "release")
        let leaving = GoBack.Leaving(slot: slot, release: id, previousSlot: previous, previousRelease: previousRelease)
        let start = Date()
        let outcome = goBack.run(leaving, stopWhenNowhere: true, progress: progress)
        let said = GoBack.describe(outcome)
        goBack.alert(outcome, leaving: leaving, reason: "release \(id): \(reason)")
        // Read when the outcome is made, so the steps include the rollback's.
        var fields: [JSONField] { outcomeFields(slot: slot) }
        let tail = notes.isEmpty ? "" : " " + notes.joined(separator: " ")
        switch outcome {
        case .nowhere:
            return DeployOutcome(
                ok: false, exitCode: 1, release: id, state: machine.state.rawValue,
                message:
                    "\(reason). \(said) NOTHING IS TRADING; slots/current stays on slot \(slot) (\(id)) for inspection. Fix the cause and release again. Live now: \(goBack.engine.liveState()).\(tail)",
                fields: fields)
        case .failed(_, _, let problem):
            try? record(id, "rollback", ok: false, seconds: Date().timeIntervalSince(start), detail: problem)
            return DeployOutcome(
                ok: false, exitCode: 1, release: id, state: machine.state.rawValue,
                message:
                    "\(reason). \(said) NOTHING IS PROVEN TO BE TRADING. Live now: \(goBack.engine.liveState()). See RUNBOOK 'Is it trading?'.\(tail)",
                fields: fields)
        case .went(_, let release, let seconds, _):
            try? record(id, "rollback", ok: true, seconds: seconds, detail: "\(release) running again")
            return DeployOutcome(
                ok: false, exitCode: 1, release: id, state: machine.state.rawValue,
                message: "\(reason). \(said) \(id) is marked \(machine.state.rawValue).\(tail)", fields: fields)
        }
    }
}
