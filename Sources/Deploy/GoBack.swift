import Foundation
import TradingCore
import TradingStore

/// The one way back from a live release that has to go, for a failed release, `deployctl
/// rollback` and the watchdog alike: the rollback rule picks the target; the target's own binary
/// is asked whether it reads the live config (a key a newer release added is set aside, a typo
/// is not); the engine is switched and proven; the ledger, the words and the alert are the same
/// whoever went back. Nothing else calls the rule or the switch.
struct GoBack {
    let home: Home
    let config: DeployConfig
    let manager: ServiceManager
    let now: () -> Instant
    /// Who goes back: `release`, `rollback` or `watchdog` (the ledger's `by`, the alert's words).
    let by: String

    /// The release being left and where it came from.
    struct Leaving {
        /// Its slot; nil when slots/current is gone (then either slot may be the target).
        var slot: String?
        var release: String
        var previousSlot: String?
        var previousRelease: String?
    }

    enum Outcome {
        /// Running in `slot`, proven by a fresh healthy cycle, with the config keys set aside for it.
        case went(slot: String, release: String, seconds: Double, setAside: [String])
        /// Nowhere to go (the rule, or the target cannot read the config); nothing was switched
        /// and any key set aside for the target is back.
        case nowhere(String)
        /// The target was switched to and did not come up; any key set aside for it is back.
        case failed(slot: String, release: String, problem: String)

        var setAside: [String] {
            if case .went(_, _, _, let keys) = self { return keys }
            return []
        }
    }

    var slots: Slots { Slots(home: home) }
    var engine: EngineSwitch { EngineSwitch(home: home, config: config, manager: manager, now: now) }

    /// Where the rule sends the engine, and why not when nowhere.
    func target(_ leaving: Leaving, records: [ReleaseRecord]) -> RollbackRule.Target {
        var refusals: [String] = []
        for slot in leaving.slot.map({ [Slots.other($0)] }) ?? Slots.names {
            switch RollbackRule.target(
                other: slots.view(slot, binary: config.binary), previousSlot: leaving.previousSlot,
                previousRelease: leaving.previousRelease, records: records)
            {
            case .slot(let s, let release, let why): return .slot(s, release: release, why: why)
            case .none(let why): refusals.append(why)
            }
        }
        return .none(refusals.joined(separator: "; "))
    }

    /// Goes back. With `stopWhenNowhere` (the leaving release is bad) an engine with nowhere to go
    /// is stopped and the ledger says so; otherwise nothing changes.
    func run(_ leaving: Leaving, stopWhenNowhere: Bool, progress: StepProgress? = nil) -> Outcome {
        let ledger = Ledger(path: home.releasesLedger)
        let records = (try? ledger.releases()) ?? []
        var outcome: Outcome
        switch target(leaving, records: records) {
        case .none(let why):
            outcome = .nowhere(why)
        case .slot(let slot, let release, let why):
            // Read before any key is set aside: whether capital scaling was on for the live release.
            let scaled = ScalingOff.wasOn(home)
            let compat = ConfigCompat(home: home, config: config, tracking: DeployLock.childrenFile(home))
            let leavingBinary = leaving.slot.map { slots.path($0) + "/" + config.binary }
            let prepared = compat.prepare(
                binary: slots.path(slot) + "/" + config.binary, leavingBinary: leavingBinary, release: release,
                now: now())
            if let refusal = prepared.refusal {
                // Nothing switched: the config goes back to what the operator had.
                outcome = .nowhere("slot \(slot) holds \(release), but \(refusal)" + Self.undone(prepared))
            } else {
                progress?.begin("rollback", "point slots/current at \(slot) (\(release), \(why)) and restart")
                let start = Date()
                // A leaving engine that hangs or froze would not stop on the manager's SIGTERM.
                _ = SilentEngine.endIfSilent(
                    home: home, stallSeconds: Probation.Limits(home: home, config: config).stallSeconds, now: now())
                let problem = engine.run(slot, release: release)
                let seconds = Date().timeIntervalSince(start)
                progress?.end("rollback", ok: problem == nil, seconds: seconds, detail: problem ?? "\(release) running")
                if let problem {
                    // It did not come up: whatever runs next (the release put back) reads the
                    // operator's config as it was.
                    outcome = .failed(slot: slot, release: release, problem: problem + Self.undone(prepared))
                } else {
                    outcome = .went(slot: slot, release: release, seconds: seconds, setAside: prepared.setAside)
                    if scaled, let checks = prepared.targetChecks, !checks.contains("scaling") {
                        ScalingOff.log(home, release: release, by: by, at: now())
                    }
                }
            }
        }
        // A rollback from no live release (slots/current gone) names no release in the ledger.
        guard !leaving.release.isEmpty else { return outcome }
        var by = [JSONField("by", .string(self.by))]
        if !outcome.setAside.isEmpty {
            by.append(JSONField("set_aside", .array(outcome.setAside.map { .string($0) })))
        }
        switch outcome {
        case .went(_, let release, _, _):
            try? ledger.append(leaving.release, "rolled_back", [JSONField("to", .string(release))] + by, at: now())
        case .nowhere(let why) where stopWhenNowhere:
            outcome = .nowhere("\(why). \(engine.stop())")
            try? ledger.append(
                leaving.release, "rolled_back", [JSONField("to", .null), JSONField("reason", .string(why))] + by,
                at: now())
        case .nowhere, .failed:
            break
        }
        return outcome
    }

    /// Undoes the keys `prepare` set aside, and says so (or what could not be put back).
    static func undone(_ prepared: ConfigCompat.Preparation) -> String {
        guard !prepared.setAside.isEmpty else { return "" }
        let failed = prepared.undo()
        return failed.isEmpty
            ? " (the keys set aside for it, \(prepared.setAside.joined(separator: ", ")), were put back)"
            : " (putting back the keys set aside FAILED: \(failed.joined(separator: "; ")))"
    }

    /// Puts the left release back after its target failed (`deployctl rollback` only: the left
    /// release was running fine). Nil when it runs again, else why not.
    func restore(_ leaving: Leaving) -> String? {
        guard let slot = leaving.slot else { return "slots/current named no slot before" }
        return engine.run(slot, release: leaving.release)
    }

    /// The words every caller uses for what happened.
    static func describe(_ outcome: Outcome) -> String {
        var text: String
        switch outcome {
        case .went(let slot, let release, let seconds, _):
            text = "Rolled back to \(release) in slot \(slot) in \(String(format: "%.1f", seconds)) s."
        case .nowhere(let why):
            text = "No release to go back to: \(why)."
        case .failed(let slot, let release, let problem):
            text = "Going back to \(release) in slot \(slot) FAILED: \(problem)."
        }
        if !outcome.setAside.isEmpty {
            text +=
                " The live config held keys the older release cannot read, set aside (renamed with a leading _, the file kept as *.before-rollback-*): \(outcome.setAside.joined(separator: ", ")); rename them back once a release that reads them is live (RUNBOOK 'A rollback could not read the config')."
        }
        return text
    }

    /// Tells the operator (release and rollback; the watchdog alerts through its own queue):
    /// sent now, or kept for the watchdog's next run when the hook cannot be reached.
    func alert(_ outcome: Outcome, leaving: Leaving, reason: String) {
        let headline: String
        switch outcome {
        case .went: headline = "ROLLED BACK"
        case .nowhere: headline = "STOPPED, NOTHING TO GO BACK TO, NEEDS YOU"
        case .failed: headline = "ROLLBACK FAILED, NEEDS YOU"
        }
        var alert = Alert(
            kind: .fault, key: "rollback:\(leaving.release)", headline: headline, what: reason, home: home.root,
            release: leaving.release, action: Self.describe(outcome) + " Live now: \(engine.liveState()).",
            next: "deployctl status --home \(shellWord(home.root))", at: now())
        alert.by = by
        AlertSpool.send(alert, home: home, config: config)
    }
}

/// Alerts a release or rollback could not deliver wait in `state/alerts-pending.jsonl` until the
/// watchdog's next run takes them into its own queue (state/watchdog.json) and retries them.
enum AlertSpool {
    static func path(_ home: Home) -> String { home.stateDir + "/alerts-pending.jsonl" }
    static func taken(_ home: Home) -> String { path(home) + ".taken" }

    /// Sends `alert` now; on a failure that may pass, spools it. Every outcome is written to
    /// logs/watchdog.jsonl, where the operator reads what was sent.
    static func send(_ alert: Alert, home: Home, config: DeployConfig) {
        let sender = AlertSender(home: home, config: config, environment: ProcessInfo.processInfo.environment)
        switch sender.webhookState {
        case .absent:
            log(alert, home: home, sent: false, result: "not sent: no webhook configured")
        case .unreadable(let why):
            spool(alert, home: home, why: why)
        case .configured:
            switch sender.send(alert) {
            case .success(let result): log(alert, home: home, sent: true, result: result)
            case .failure(let error) where error.isPermanent:
                log(alert, home: home, sent: false, result: "\(error); dropped: fix the webhook")
            case .failure(let error): spool(alert, home: home, why: "\(error)")
            }
        }
    }

    static func spool(_ alert: Alert, home: Home, why: String) {
        do {
            let appender = try JSONLAppender(path: path(home), mode: 0o600)
            defer { appender.close() }
            try appender.append(alert.json, sync: true)
            // Spooled by root (sudo deployctl rollback): the watchdog, as the home's user, reads it.
            FileIO.giveToFolderOwner([path(home)])
            log(alert, home: home, sent: false, result: "\(why); the watchdog's next run sends it")
        } catch {
            log(alert, home: home, sent: false, result: "\(why); and it could not be kept for later: \(error)")
        }
    }

    /// The spooled alerts, moved aside first so one spooled meanwhile waits for the next run.
    /// A run killed before `done` reads them again: an alert twice rather than never.
    /// Nil when they are there but cannot be read: then they stay for a later run.
    static func take(_ home: Home) -> [Alert]? {
        if !FileIO.exists(taken(home)), FileIO.exists(path(home)) { rename(path(home), taken(home)) }
        guard FileIO.exists(taken(home)) else { return [] }
        return (try? JSONLAppender.readLines(taken(home)))?.0.compactMap(Alert.parse)
    }

    static func done(_ home: Home) { unlink(taken(home)) }

    static func log(_ alert: Alert, home: Home, sent: Bool, result: String) {
        Watchdog.logLine(home: home, alert.logFields(sent: sent, result: result), at: alert.at)
    }
}

/// A way back to a release from before capital scaling: it trades at the full configured limits,
/// and cannot say so itself, so the one who went back logs `capital_scaling_off` (critical: the
/// watchdog alerts it) in the engine's log.
enum ScalingOff {
    /// Whether the live release scaled: the config has it on and a release kept its state.
    static func wasOn(_ home: Home) -> Bool {
        guard FileIO.exists(home.scalingState), let bot = try? ConfigFiles.bot(home.botConfig) else { return false }
        return bot.risk.scaling.enabled
    }

    static func log(_ home: Home, release: String, by: String, at now: Instant) {
        let line = JSONObject([
            JSONField("ts", .string(now.iso8601)), JSONField("level", .string("critical")),
            JSONField("event", .string("capital_scaling_off")), JSONField("cycle", .int(0)),
            JSONField("pid", .int(ProcessIdentity.pid)), JSONField("release", .string(release)),
            JSONField("by", .string(by)),
            JSONField(
                "effect",
                .string(
                    "\(release) has no capital scaling: it trades at the full configured risk.max_exposure_fraction, sizes by conviction alone and caps no strategy; the scaling state in state/scaling.json is kept for the next release that has it"
                )),
        ])
        try? JSONLAppender(path: home.botLog, rotation: .standard).append(.object(line), sync: true)
    }
}
