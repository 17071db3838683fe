import Foundation
import TradingCore
import TradingStore

/// What the watchdog tells the operator: a fault once per cooldown, a rollback always, the
/// recovery once, each critical event the engine logged once. An alert that cannot be sent
/// waits in state/watchdog.json for the next run; nothing here can fail a run.
extension Watchdog {
    static let faults: Set<WatchdogVerdict> = [.notRunning, .crashLoop, .stalled, .erroring, .tradingStall, .diskLow]

    /// The alerts this run owes, given the verdict, what was done, and the engine's new critical
    /// events. Updates the cooldowns, the open fault and the health streak in `state`.
    func alerts(
        verdict: WatchdogVerdict, detail: String, evidence e: WatchdogEvidence, decision: Decision, outcome: Outcome,
        action: String, critical: [JSONObject], state: inout WatchdogState
    ) -> [Alert] {
        let at = now()
        var out: [Alert] = []
        func make(_ kind: Alert.Kind, _ key: String, _ headline: String, _ what: String, _ next: String) -> Alert {
            Alert(
                kind: kind, key: key, headline: headline, what: what, home: home.root, release: e.liveRelease,
                action: action, next: next, at: at)
        }
        /// Sends `key` unless it was sent within the cooldown.
        func once(_ alert: Alert) {
            let cooled = state.alertedAt[alert.key].map {
                $0.seconds(until: at) >= Double(config.watchdog.alertCooldownSeconds)
            }
            guard cooled ?? true else { return }
            out.append(alert)
            state.alertedAt[alert.key] = at
        }
        let status = "deployctl status --home \(home.root)"
        let name = verdict.rawValue.replacingOccurrences(of: "_", with: " ").uppercased()
        state.healthySince = verdict == .healthy ? (state.healthySince ?? at) : nil
        // What was done to a release comes first: a rollback is news whatever the verdict (a
        // release marked bad by a killed run goes while it looks healthy).
        let id = e.liveRelease ?? "?"
        switch outcome {
        case .rolledBack:
            let why = Self.faults.contains(verdict) ? name : "MARKED BAD"
            out.append(make(.fault, "rollback:\(id)", "ROLLED BACK (\(why))", detail, next(verdict, decision)))
            state.alertedAt["rollback:\(id)"] = at
        case .stoppedNowhere:
            out.append(
                make(
                    .fault, "rollback:\(id)", "STOPPED, NOTHING TO GO BACK TO, NEEDS YOU", detail,
                    "release a fix: deployctl release --home \(home.root) --ref FIXED_REF"))
            state.alertedAt["rollback:\(id)"] = at
        case .rollbackFailed:
            once(make(.fault, "rollback_failed:\(id)", "ROLLBACK FAILED, NEEDS YOU", detail, status))
        case .restartFailed:
            once(make(.fault, "restart_failed", "RESTART FAILED, NEEDS YOU", detail, next(verdict, .gaveUp(""))))
        case .committed:
            out.append(make(.event, "good:\(id)", "RELEASE COMMITTED", "release \(id) met its probation bar", status))
        case .nothing, .restarted:
            break
        }
        if Self.faults.contains(verdict) {
            if ![.rolledBack, .stoppedNowhere, .rollbackFailed, .restartFailed].contains(outcome) {
                var key = verdict.rawValue
                var headline = name
                if case .gaveUp = decision {
                    key = "gave_up:\(verdict.rawValue)"
                    headline += ", NEEDS YOU"
                }
                once(make(.fault, key, headline, detail, next(verdict, decision)))
            }
            if state.openFault == nil { state.openFault = verdict.rawValue }
        } else if verdict == .healthy, let fault = state.openFault,
            (state.healthySince?.seconds(until: at) ?? 0) >= Double(config.watchdog.recoverySeconds),
            fault != WatchdogVerdict.tradingStall.rawValue || e.priceChangeSeen
        {
            // Healthy for `recovery_seconds` (a frozen feed also needs a real price change since
            // the restart): the incident is over, and the next one is news whatever the cooldown.
            out.append(
                make(
                    .recovery, "recovery", "HEALTHY AGAIN", "the engine is healthy again after \(fault): \(detail)",
                    status))
            state.openFault = nil
            state.alertedAt = state.alertedAt.filter { $0.key.hasPrefix("rollback:") }
        }
        for event in critical.prefix(5) {
            let name = event["event"]?.stringValue ?? "event"
            let said = event.fields.filter { !["ts", "level", "event", "cycle", "pid"].contains($0.key) }
                .map { "\($0.key): \($0.value.stringValue ?? $0.value.serialized())" }.joined(separator: "; ")
            var alert = make(
                .event, "event:\(name)", "ENGINE: \(name.replacingOccurrences(of: "_", with: " ").uppercased())",
                "the engine logged \(name) at \(event["ts"]?.stringValue ?? "?")" + (said.isEmpty ? "" : ": \(said)"),
                Self.nextStep(afterEvent: name, home: home))
            alert.action = "nothing: the engine acted on it itself"
            // Scaling may step down on each fall: the operator hears of it once per cooldown.
            if Self.cooledEvents.contains(name) { once(alert) } else { out.append(alert) }
        }
        if critical.count > 5 {
            out.append(
                make(
                    .event, "event:more", "ENGINE: \(critical.count - 5) MORE CRITICAL EVENTS",
                    "\(critical.count) critical events since the last look", "grep critical \(home.botLog) | tail"))
        }
        return out
    }

    /// Critical events alerted once per cooldown rather than each time.
    static let cooledEvents: Set<String> = ["capital_scaled"]

    /// The command that helps most after the engine logged `event` as critical.
    static func nextStep(afterEvent event: String, home: Home) -> String {
        let h = home.root
        switch event {
        case "capital_scaled":
            return
                "tradingbot report --home \(h) (its capital scaling lines say why; RUNBOOK 'Why is it trading smaller?')"
        case "capital_scaling_off":
            return
                "the release running trades at the full configured limits: release one with capital scaling, or set risk.max_exposure_fraction lower (RUNBOOK 'Capital scaling is off after a rollback')"
        case "positions_unreadable":
            return
                "deployctl check data --positions \(h)/logs/positions_futures.json (it names each record and field to fix; see RUNBOOK 'A value cannot be used')"
        case "exchange_unknown_position":
            return
                "tradingbot exchange ping --private --home \(h); close the position on BloFin (RUNBOOK 'Trade on BloFin')"
        default:
            return "grep \(event) \(home.botLog) | tail -n 5; tradingbot kill-switch status --home \(h)"
        }
    }

    /// The one command that helps most after `verdict` and `decision`.
    func next(_ verdict: WatchdogVerdict, _ decision: Decision) -> String {
        let h = home.root
        switch (verdict, decision) {
        case (.diskLow, _):
            return "df -h \(h); free space (old logs/*.jsonl.N can go), then deployctl watchdog --once --home \(h)"
        case (_, .rollBack):
            return "deployctl status --home \(h) (the release is marked bad: release a fix; its sha needs --force)"
        case (_, .gaveUp(let why)) where why.contains("no live slot"):
            return "tradingbot run --home \(h) (or start the service), then deployctl status --home \(h)"
        case (_, .gaveUp):
            return
                "tail -n 50 \(h)/logs/bot.jsonl; if this release is the cause: deployctl rollback --home \(h)"
        default:
            return "deployctl status --home \(h); if it recurs: tail -n 50 \(h)/logs/bot.jsonl"
        }
    }

    /// Sends what is pending and what is new. A failed send stays pending (at most 20, oldest
    /// dropped) and after one failure the rest wait for the next run; a hook that refuses for
    /// good (a 4xx: deleted, wrong chat id) is not retried for ever; the run spends at most
    /// about 20 s sending.
    func deliver(_ new: [Alert], state: inout WatchdogState, sender: AlertSender) {
        let queue = state.pending + new
        guard !queue.isEmpty else { return }
        switch sender.webhookState {
        case .absent:
            // Still on record in watchdog.jsonl: the operator can read what would have been sent.
            for alert in new { logAlert(alert, sent: false, result: "not sent: no webhook configured") }
            state.pending = []
            return
        case .unreadable(let why):
            for alert in new { logAlert(alert, sent: false, result: "not sent yet: \(why)") }
            state.pending = Array(queue.suffix(20))
            return
        case .configured:
            break
        }
        let started = now()
        var stop = false
        var left: [Alert] = []
        for alert in queue {
            if stop || started.seconds(until: now()) > 20 {
                left.append(alert)
                continue
            }
            switch sender.send(alert) {
            case .success(let result): logAlert(alert, sent: true, result: result)
            case .failure(let error):
                if error.isPermanent {
                    logAlert(
                        alert, sent: false,
                        result: "\(error); dropped: fix the webhook, then deployctl alert test --home \(home.root)")
                } else {
                    stop = true
                    left.append(alert)
                    logAlert(alert, sent: false, result: "\(error); retried on the next run")
                }
            }
        }
        state.pending = Array(left.suffix(20))
    }

    /// The dead-man's-switch ping of a healthy run; a failure is logged when it starts and when
    /// it ends, not every run.
    func ping(state: inout WatchdogState, sender: AlertSender) {
        guard let result = sender.ping() else { return }
        switch result {
        case .success(let text):
            if state.pingFailing { logLine([JSONField("ping", .string(text)), JSONField("ok", .bool(true))]) }
            state.pingFailing = false
        case .failure(let error):
            if !state.pingFailing {
                logLine([JSONField("ping", .string("\(error)")), JSONField("ok", .bool(false))])
            }
            state.pingFailing = true
        }
    }

    func logAlert(_ alert: Alert, sent: Bool, result: String) {
        logLine(alert.logFields(sent: sent, result: result))
    }

    func logLine(_ fields: [JSONField], at: Instant? = nil) {
        Self.logLine(home: home, fields, at: at ?? now())
    }

    /// One fsynced line in logs/watchdog.jsonl, whoever writes it (the watchdog, or a release or
    /// rollback about its alert); a log that cannot be written never fails anything.
    static func logLine(home: Home, _ fields: [JSONField], at: Instant) {
        guard let appender = try? JSONLAppender(path: home.logsDir + "/watchdog.jsonl", rotation: .standard) else {
            return
        }
        defer { appender.close() }
        try? appender.append(.object(JSONObject([JSONField("ts", .string(at.iso8601))] + fields)), sync: true)
    }
}
