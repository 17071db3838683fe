import Foundation
import TradingCore
import TradingStore

/// `deployctl watchdog`: judges the live engine and heals it. It commits a release on probation
/// that has met its bar, rolls back an unproven release that fails (by the one rollback rule),
/// and restarts a proven one with backoff, never rolling it back. Every verdict that changes
/// and every action goes to logs/watchdog.jsonl; counters live in state/watchdog.json.
public struct Watchdog {
    let home: Home
    let config: DeployConfig
    let manager: ServiceManager
    let now: () -> Instant
    /// Where the alert webhook's variables are looked up first (then the home's secrets.env).
    let environment: [String: String]
    /// A daemon's memory across runs: the state when state/watchdog.json could not be written.
    let memory: WatchdogMemory?

    public init(
        home: Home, config: DeployConfig, manager: ServiceManager, now: @escaping () -> Instant,
        environment: [String: String] = ProcessInfo.processInfo.environment, memory: WatchdogMemory? = nil
    ) {
        self.home = home
        self.config = config
        self.manager = manager
        self.now = now
        self.environment = environment
        self.memory = memory
    }

    /// The error lines and the critical lines among what bot.jsonl gained. Only recent lines
    /// count: after a gap between runs, or a log read again from its start (a restored home),
    /// old errors are not a burst and old critical events are not news.
    func news(_ lines: [JSONValue], since lastRun: Instant?) -> (errors: Int, critical: [JSONObject]) {
        let at = now()
        let burstFrom = max(lastRun?.adding(seconds: -5) ?? at.adding(seconds: -300), at.adding(seconds: -300))
        let criticalFrom = max(lastRun?.adding(seconds: -5) ?? at.adding(seconds: -3600), at.adding(seconds: -3600))
        var errors = 0
        var critical: [JSONObject] = []
        for line in lines {
            guard let o = line.objectValue, let level = o["level"]?.stringValue else { continue }
            // A line without a readable time counts: better one alert too many than one missed.
            let ts = o["ts"]?.instantValue
            if level == "error" && (ts.map { $0 >= burstFrom } ?? true) { errors += 1 }
            if level == "critical" && (ts.map { $0 >= criticalFrom } ?? true) { critical.append(o) }
        }
        return (errors, critical)
    }

    /// One run's outcome, for the exit code and `--json`.
    public struct Report {
        public var verdict: String
        public var detail: String
        public var evidence: JSONValue
        public var action: String
        public var exitCode: Int32
        /// The dashboard's /healthz: `up`, `down: why`, or `not checked` (none runs here, or a
        /// dry run). Never part of the verdict or the exit code: it does not trade.
        public var dashboard = "not checked"

        public var json: JSONValue {
            [
                "ok": .bool(exitCode == 0), "verdict": .string(verdict), "detail": .string(detail),
                "evidence": evidence, "action": .string(action), "dashboard": .string(dashboard),
            ]
        }
    }

    var statePath: String { home.stateDir + "/watchdog.json" }

    /// Judges once and, unless `dryRun`, acts.
    public func runOnce(dryRun: Bool) -> Report {
        // A mistyped --home must not become a new home with an engine started in it.
        guard FileIO.exists(home.botConfig) else {
            return Report(
                verdict: "no_home", detail: "\(home.botConfig) not found: is --home right?", evidence: .null,
                action: "none", exitCode: 2)
        }
        // Two watchdogs (a timer run and a daemon, or two timers) never both act; a dry run
        // changes nothing, so it needs no lock.
        var own: FileLock?
        if !dryRun {
            do throws(FileLock.Failure) {
                try? FileManager.default.createDirectory(atPath: home.stateDir, withIntermediateDirectories: true)
                own = try FileLock.acquire(
                    home.stateDir + "/watchdog.lock", holder: "watchdog pid \(ProcessIdentity.pid)")
            } catch {
                if case .held = error {
                    return Report(
                        verdict: "busy", detail: "\(error)", evidence: .null,
                        action: "none: another watchdog is running", exitCode: 0)
                }
                return Report(verdict: "error", detail: "\(error)", evidence: .null, action: "none", exitCode: 2)
            }
        }
        defer { own?.release() }
        // A home nothing was ever released into, with no engine ever started: not a fault (the
        // timer may be installed before the first release), and nothing to alert.
        if Slots(home: home).active() == nil, (try? HeartbeatStore(home: home).read()) ?? nil == nil,
            ((try? Ledger(path: home.releasesLedger).releases()) ?? []).isEmpty
        {
            return Report(
                verdict: "not_deployed",
                detail: "nothing released into this home yet: deployctl release --home \(shellWord(home.root))",
                evidence: .null, action: "none", exitCode: 0)
        }
        if !dryRun { endLeftovers() }
        // A state that could not be saved last run (a daemon keeps it in memory) beats the disk.
        var state = memory?.unsaved ?? WatchdogState.load(statePath)
        var evidence = collect()
        // Only what bot.jsonl gained since the last look (a first look starts at its end).
        let tail = JSONLTail.read(home.botLog, since: state.botLogCursor)
        let (errors, critical) = news(tail.lines, since: state.lastRun)
        evidence.newErrorEvents = errors
        let (verdict, detail) = WatchdogJudge.verdict(evidence)
        let (decision, action, outcome): (Decision, String, Outcome)
        var dashboard: DashboardProbe?
        if dryRun {
            let planned = plan(verdict, evidence, state)
            (decision, action, outcome) = (planned, planned.description, .nothing)
        } else {
            (decision, action, outcome) = act(verdict, evidence, &state)
            let at = now()
            // A changed verdict, or a new action: the same "nothing to do" every 30 s is not news.
            if verdict.rawValue != state.lastVerdict || (action != "none" && action != state.lastAction) {
                log(verdict: verdict, detail: detail, evidence: evidence, action: action, at: at)
            }
            // Alerts after the action, so they say what was done. At least once: a run killed
            // before its state is saved sends them again rather than never.
            state.botLogCursor = tail.cursor
            let sender = AlertSender(home: home, config: config, environment: environment)
            let owed = alerts(
                verdict: verdict, detail: detail, evidence: evidence, decision: decision, outcome: outcome,
                action: action, critical: critical, state: &state)
            dashboard = probeDashboard()
            let dashboardOwed = dashboardAlerts(dashboard, release: evidence.liveRelease, state: &state)
            // Rollbacks by a release or the operator whose alert could not be sent then.
            let spooled = AlertSpool.take(home)
            deliver(owed + dashboardOwed + (spooled ?? []), state: &state, sender: sender)
            if verdict == .healthy { ping(state: &state, sender: sender) }
            state.lastVerdict = verdict.rawValue
            state.lastRun = at
            state.lastAction = action == "none" ? state.lastAction : action
            do {
                try state.save(statePath)
                memory?.unsaved = nil
                if spooled != nil { AlertSpool.done(home) }
            } catch {
                if memory != nil && spooled != nil { AlertSpool.done(home) }
                // Without its state the next run would alert and count everything again.
                if memory?.unsaved == nil {
                    logLine([JSONField("state_not_saved", .string("\(error)"))])
                }
                memory?.unsaved = state
            }
        }
        return Report(
            verdict: verdict.rawValue, detail: detail, evidence: evidence.json,
            action: dryRun ? "dry run: " + action : action,
            exitCode: verdict == .healthy || verdict == .starting ? 0 : 1,
            dashboard: dashboard?.text ?? "not checked")
    }

    /// A build or check a SIGKILLed deployctl left running would hold both cores until the next
    /// release: when no one holds the deploy lock (taken without waiting), its run is over, and
    /// what it left is ended now.
    func endLeftovers() {
        let file = DeployLock.childrenFile(home)
        guard let run = try? FileIO.read(file), !ProcessRunner.trackedRunIsOwned(file) else { return }
        let text = String(decoding: run, as: UTF8.self)
        guard
            case .success(let lock) = DeployLock.take(
                home: home, holder: "watchdog pid \(ProcessIdentity.pid)", wait: 0)
        else { return }
        // Taking the lock ended them (DeployLock.take does, for every holder).
        lock.release()
        logLine([
            JSONField("action", .string("ended what a killed deployctl left running")),
            JSONField("run", .string(text.trimmingCharacters(in: .whitespacesAndNewlines))),
        ])
    }

    /// Reads everything the judge needs; each read is cheap and none changes anything.
    func collect() -> WatchdogEvidence {
        var e = WatchdogEvidence()
        let slots = Slots(home: home)
        let records = (try? Ledger(path: home.releasesLedger).releases()) ?? []
        e.liveRelease = slots.active().flatMap { slots.releaseID($0) }
        e.liveState = e.liveRelease.flatMap { id in records.last { $0.id == id } }?.stateValue
        let thresholds = HealthThresholds(
            cycleSeconds: ConfigFiles.cycleSeconds(home.botConfig), watchdog: config.watchdog)
        e.stallSeconds = thresholds.stallSeconds
        e.tradingStallSeconds = thresholds.tradingStallSeconds
        e.errorBurst = config.watchdog.errorBurst
        e.minFreeDiskBytes = Int64(config.watchdog.minFreeDiskMB) * 1_000_000
        e.healthyCycles = config.probation.healthyCycles
        if let beat = try? HeartbeatStore(home: home).read() {
            e.heartbeatRelease = beat.release
            e.heartbeatPid = beat.pid
            e.heartbeatPidAlive = Probation.alive(beat.pid)
            e.heartbeatAgeSeconds = beat.age(now: now())
            e.heartbeatCycle = beat.cycle
            e.heartbeatPhase = beat.phase
            e.consecutiveErrors = beat.consecutiveErrors
            // Counted from the engine's start when nothing happened yet; an engine too old to
            // write these fields is not judged on them.
            e.secondsSinceSignals = (beat.lastSignalsAt ?? beat.startedAt).map { $0.seconds(until: now()) }
            e.secondsSincePriceChange = (beat.lastPriceChangeAt ?? beat.startedAt).map { $0.seconds(until: now()) }
            e.priceChangeSeen = beat.lastPriceChangeAt != nil
            e.signalsSeen = beat.lastSignalsAt != nil || beat.startedAt == nil
        }
        // A fresh heartbeat from a living engine already says it runs: asking the service manager
        // (a supervisorctl process, ~100 ms) is only worth it when something looks wrong. The
        // watchdog runs twice a minute for ever.
        if let age = e.heartbeatAgeSeconds, age <= e.stallSeconds, e.heartbeatPidAlive, e.consecutiveErrors == 0 {
            e.serviceRunning = true
            e.serviceState = "not asked: the heartbeat is fresh"
        } else {
            let health = manager.health()
            e.serviceRunning = health.running
            e.serviceGaveUp = health.gaveUp
            e.serviceState = health.state
            e.serviceUptimeSeconds = health.uptimeSeconds
        }
        e.startGraceSeconds = Double(config.probation.startGraceSeconds)
        if let free = (try? FileManager.default.attributesOfFileSystem(forPath: home.root))?[.systemFreeSize]
            as? NSNumber
        {
            e.freeDiskBytes = free.int64Value
        }
        return e
    }

    /// What `act` would do, without doing it.
    func plan(_ verdict: WatchdogVerdict, _ e: WatchdogEvidence, _ state: WatchdogState) -> Decision {
        var copy = state
        return decide(verdict, e, &copy)
    }

    enum Decision: CustomStringConvertible {
        case none
        case markGood
        case rollBack
        case restart
        case leave(String)
        case gaveUp(String)

        var description: String {
            switch self {
            case .none: "none"
            case .markGood: "mark the release on probation good"
            case .rollBack: "roll back the unproven release"
            case .restart: "restart the engine"
            case .leave(let why): "none: \(why)"
            case .gaveUp(let why): "none: \(why); NEEDS THE OPERATOR"
            }
        }
    }

    /// The order of the issue: commit a probation that met its bar; roll back an unproven
    /// release; restart a proven one with backoff; never flip while a release holds the lock.
    /// - Parameter holdingLock: the deploy lock is ours (the second look, under the lock).
    func decide(
        _ verdict: WatchdogVerdict, _ e: WatchdogEvidence, _ state: inout WatchdogState, holdingLock: Bool = false
    ) -> Decision {
        let release = holdingLock ? nil : releaseInProgress()
        if verdict == .starting || verdict == .stopped { return .none }
        // Without a live slot (an engine started by hand) there is nothing to roll back or commit.
        guard e.liveRelease != nil else {
            return verdict == .healthy ? .none : .gaveUp("no live slot: the watchdog only judges this home")
        }
        // A live release marked bad (a rollback a killed run left unfinished, or a failed first
        // release that something restarted) goes, whatever the engine looks like.
        if e.liveState == .bad && release == nil { return .rollBack }
        if verdict == .healthy {
            guard WatchdogJudge.probationMet(e) else { return .none }
            if let release { return .leave("release \(release.id) is in progress and gives its own verdict") }
            return .markGood
        }
        if verdict == .diskLow { return .gaveUp("the disk is nearly full; free space under \(home.root)") }
        if let release {
            if release.stateValue?.isBeforeFlip == true {
                // Its build can take half an hour; the live engine is still ours to restart.
                return restartOrGiveUp(&state)
            }
            return .leave("\(release.id) holds the deploy lock past its flip (probation or a rollback): its verdict")
        }
        // A frozen feed is most often the exchange or the network, not the release: restart it,
        // never mark a release bad for it (a stall that outlives the restarts needs the operator).
        // But an unproven release whose engine never evaluated a signal is the release's fault.
        let unproven = e.liveState == .probation || e.liveState == .flipped
        if verdict == .tradingStall && e.liveState != .bad && !(unproven && !e.signalsSeen) {
            return restartOrGiveUp(&state)
        }
        // An unproven release, or one marked bad whose rollback a killed run left unfinished.
        if let live = e.liveState, live == .probation || live == .flipped || live == .bad {
            let hour = now().adding(seconds: -3600)
            guard state.rollbacks.filter({ $0 > hour }).count < config.watchdog.maxRollbacksPerHour else {
                return .gaveUp("\(config.watchdog.maxRollbacksPerHour) rollbacks in the last hour already")
            }
            return .rollBack
        }
        return restartOrGiveUp(&state)
    }

    func restartOrGiveUp(_ state: inout WatchdogState) -> Decision {
        let hour = now().adding(seconds: -3600)
        let recent = state.restarts.filter { $0 > hour }
        guard recent.count < config.watchdog.maxRestartsPerHour else {
            return .gaveUp(
                "\(recent.count) restarts in the last hour (max_restarts_per_hour \(config.watchdog.maxRestartsPerHour)); a release that proved itself is not rolled back: look at the logs, then `deployctl rollback` if this release is the cause"
            )
        }
        // Backoff: 0 s, then 30 s, 60 s, 120 s ... between restarts, at most 10 minutes.
        if let last = recent.last {
            let wait = min(600.0, 30.0 * pow(2.0, Double(recent.count - 1)))
            if last.seconds(until: now()) < wait {
                // Worded without the seconds elapsed, so the log records it once, not every run.
                return .leave("backing off: the next restart comes \(Int(wait)) s after the last (\(last.iso8601))")
            }
        }
        return .restart
    }

    /// The newest release in the ledger while someone holds the deploy lock: a release, or a
    /// rollback by `release` or by the operator. Only before a release's flip may the watchdog
    /// touch the engine (a restart); otherwise it leaves everything to the holder.
    func releaseInProgress() -> ReleaseRecord? {
        guard let holder = FileLock.currentHolder(home.deployLock) else { return nil }
        if let newest = (try? Ledger(path: home.releasesLedger).releases())?.last, holder.contains(newest.id) {
            return newest
        }
        // A rollback, or a holder we cannot place: treated as past a flip, so left alone.
        var other = ReleaseRecord(id: "the deploy lock's holder (\(holder))")
        other.state = ReleaseState.flipped.rawValue
        return other
    }

    /// What an action really did, for the alerts: a rollback decided is not a rollback done.
    enum Outcome: Equatable {
        case nothing
        case restarted
        case restartFailed
        case committed
        case rolledBack
        /// Marked bad and stopped: nothing to go back to.
        case stoppedNowhere
        case rollbackFailed
    }

    func act(_ verdict: WatchdogVerdict, _ e: WatchdogEvidence, _ state: inout WatchdogState) -> (
        Decision, String, Outcome
    ) {
        let decision = decide(verdict, e, &state)
        let (text, outcome) = carryOut(decision, e, &state)
        return (decision, text, outcome)
    }

    func carryOut(_ decision: Decision, _ e: WatchdogEvidence, _ state: inout WatchdogState) -> (String, Outcome) {
        switch decision {
        case .none, .leave, .gaveUp: return (decision.description, .nothing)
        case .restart:
            state.restarts.append(now())
            // Silent past the stall threshold while its process lives: it would not stop on the
            // manager's SIGTERM, so it goes first, and the restart only starts a new one.
            let ended =
                SilentEngine.endIfSilent(home: home, stallSeconds: e.stallSeconds, now: now()).map { "; " + $0 } ?? ""
            do {
                try manager.restartEngine()
                return ("restarted the engine (\(manager.health().state))\(ended)", .restarted)
            } catch {
                return ("restart FAILED: \(error)", .restartFailed)
            }
        case .markGood, .rollBack:
            // Changing the verdict of a release takes the deploy lock, like a release does.
            guard
                case .success(let lock) = DeployLock.take(
                    home: home, holder: "watchdog pid \(ProcessIdentity.pid)", wait: 0)
            else { return ("none: the deploy lock is held; next run", .nothing) }
            defer { lock.release() }
            // What was read before the lock may have changed (a release marked its own verdict
            // and let go): judge again under the lock, act only if the answer is the same.
            var fresh = collect()
            fresh.newErrorEvents = e.newErrorEvents
            var scratch = state
            let again = decide(WatchdogJudge.verdict(fresh).0, fresh, &scratch, holdingLock: true)
            guard again.description == decision.description, fresh.liveRelease == e.liveRelease else {
                return ("none: the state changed while taking the lock (\(again)); next run", .nothing)
            }
            guard let id = fresh.liveRelease, let current = fresh.liveState else {
                return ("none: no live release", .nothing)
            }
            let ledger = Ledger(path: home.releasesLedger)
            let machine = ReleaseMachine(id: id, ledger: ledger, state: current, now: now)
            if case .markGood = decision {
                do {
                    if current == .flipped { try machine.move(to: .probation) }
                    try machine.move(to: .good, [JSONField("by", .string("watchdog"))])
                } catch {
                    return ("marking \(id) good FAILED: \(error)", .nothing)
                }
                GuardCopy.installFromSlot(home: home, config: config)
                return ("marked \(id) good after \(e.heartbeatCycle) healthy cycles", .committed)
            }
            let (outcome, text) = rollBack(machine, evidence: e, ledger: ledger)
            if outcome != .nothing { state.rollbacks.append(now()) }
            return (text, outcome)
        }
    }

    /// The unproven live release goes, by the one rollback rule; it is marked bad first (it may
    /// be already: a run killed mid-rollback is finished by the next). Returns what was done.
    func rollBack(_ machine: ReleaseMachine, evidence e: WatchdogEvidence, ledger: Ledger) -> (Outcome, String) {
        let id = machine.id
        let (_, why) = WatchdogJudge.verdict(e)
        if machine.state != .bad { try? machine.move(to: .bad, [JSONField("reason", .string("watchdog: \(why)"))]) }
        let slots = Slots(home: home)
        let record = ((try? ledger.releases()) ?? []).last { $0.id == id }
        guard let active = slots.active() else { return (.nothing, "none: no live slot") }
        let goBack = GoBack(home: home, config: config, manager: manager, now: now, by: "watchdog")
        let leaving = GoBack.Leaving(
            slot: active, release: id, previousSlot: record?.previousSlot, previousRelease: record?.previousRelease)
        // Already stopped (a failed first release kept for inspection): nothing to stop again.
        let outcome = goBack.run(leaving, stopWhenNowhere: e.serviceRunning)
        let said = GoBack.describe(outcome)
        switch outcome {
        case .nowhere where !e.serviceRunning:
            return (.nothing, "none: \(id) is marked bad. \(said) NOTHING IS TRADING, release a fix")
        case .nowhere:
            return (.stoppedNowhere, "marked \(id) bad. \(said) NOTHING IS TRADING")
        case .failed:
            return (.rollbackFailed, "marked \(id) bad. \(said) Live now: \(goBack.engine.liveState())")
        case .went:
            return (.rolledBack, "marked \(id) bad. \(said)")
        }
    }

    func log(verdict: WatchdogVerdict, detail: String, evidence: WatchdogEvidence, action: String, at: Instant) {
        logLine(
            [
                JSONField("verdict", .string(verdict.rawValue)), JSONField("detail", .string(detail)),
                JSONField("action", .string(action)), JSONField("evidence", evidence.json),
            ], at: at)
    }
}

/// What a daemon keeps between its runs in memory.
public final class WatchdogMemory: @unchecked Sendable {
    var unsaved: WatchdogState?
    public init() {}
}

/// state/watchdog.json: what must survive from one run to the next.
struct WatchdogState {
    var lastRun: Instant?
    var lastVerdict: String?
    var lastAction: String?
    var restarts: [Instant] = []
    var rollbacks: [Instant] = []
    /// Where the last look at bot.jsonl stopped.
    var botLogCursor: LogCursor?
    /// When each alert key was last sent (the cooldown), the fault a recovery will close, the
    /// alerts still to deliver, and whether the dead-man's ping is failing.
    var alertedAt: [String: Instant] = [:]
    var openFault: String?
    var pending: [Alert] = []
    var pingFailing = false
    /// Healthy without a break since then (nil while not healthy): a recovery is announced only
    /// after `recovery_seconds` of it.
    var healthySince: Instant?

    static func load(_ path: String) -> WatchdogState {
        var s = WatchdogState()
        guard let o = (try? ConfigFiles.json(path))?.objectValue else { return s }
        func instant(_ v: JSONValue?) -> Instant? { v?.instantValue }
        s.lastRun = instant(o["last_run"])
        s.lastVerdict = o["last_verdict"]?.stringValue
        s.lastAction = o["last_action"]?.stringValue
        s.restarts = (o["restarts"]?.arrayValue ?? []).compactMap { instant($0) }
        s.rollbacks = (o["rollbacks"]?.arrayValue ?? []).compactMap { instant($0) }
        s.botLogCursor = LogCursor.parse(o["bot_log"])
        for field in o["alerted_at"]?.objectValue?.fields ?? [] {
            if let at = instant(field.value) { s.alertedAt[field.key] = at }
        }
        s.openFault = o["open_fault"]?.stringValue
        s.pending = (o["pending_alerts"]?.arrayValue ?? []).compactMap(Alert.parse)
        s.pingFailing = o["ping_failing"]?.boolValue ?? false
        s.healthySince = instant(o["healthy_since"])
        return s
    }

    func save(_ path: String) throws {
        // Only the last day matters to the hourly budgets.
        let keep = { (list: [Instant]) in list.suffix(100).map { JSONValue.string($0.iso8601) } }
        let value: JSONValue = [
            "last_run": lastRun.map { .string($0.iso8601) } ?? .null,
            "last_verdict": lastVerdict.map { .string($0) } ?? .null,
            "last_action": lastAction.map { .string($0) } ?? .null,
            "restarts": .array(keep(restarts)), "rollbacks": .array(keep(rollbacks)),
            "bot_log": botLogCursor?.json ?? .null,
            "alerted_at": .object(
                JSONObject(alertedAt.sorted { $0.key < $1.key }.map { JSONField($0.key, .string($0.value.iso8601)) })),
            "open_fault": openFault.map { .string($0) } ?? .null,
            "pending_alerts": .array(pending.map(\.json)), "ping_failing": .bool(pingFailing),
            "healthy_since": healthySince.map { .string($0.iso8601) } ?? .null,
        ]
        try FileIO.writeJSON(path, value)
    }
}

/// HOME/bin/deployctl: the deployctl the units, the timer and the operator call. It lives
/// outside the slots, so a bad release cannot bring its own broken guard.
public enum GuardCopy {
    public static func path(_ home: Home) -> String { home.root + "/bin/deployctl" }

    /// Installs this deployctl there when there is none yet (a home made before the guard).
    public static func installIfMissing(home: Home) throws {
        if !FileManager.default.isExecutableFile(atPath: path(home)) { try installSelf(home: home) }
    }

    /// Copies this running deployctl there (init).
    public static func installSelf(home: Home) throws {
        let me = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        try install(from: me, home: home)
    }

    /// Replaces it with the deployctl a release marked good built in its slot, when there is one.
    @discardableResult
    static func installFromSlot(home: Home, config: DeployConfig) -> Bool {
        let slots = Slots(home: home)
        guard let active = slots.active() else { return false }
        let built = slotDeployctl(home: home, slot: active, binary: config.binary)
        guard FileManager.default.isExecutableFile(atPath: built) else { return false }
        return (try? install(from: built, home: home)) != nil
    }

    /// The deployctl a release built beside its `binary` in `slot`.
    static func slotDeployctl(home: Home, slot: String, binary: String) -> String {
        Slots(home: home).path(slot) + "/" + deployctlBeside(binary)
    }

    /// The deployctl a build makes beside `binary`, relative like it (a release's product).
    static func deployctlBeside(_ binary: String) -> String {
        let folder = (binary as NSString).deletingLastPathComponent
        return folder.isEmpty ? "deployctl" : folder + "/deployctl"
    }

    static func install(from source: String, home: Home) throws {
        let target = path(home)
        if source == target { return }
        try FileManager.default.createDirectory(atPath: home.root + "/bin", withIntermediateDirectories: true)
        try FileIO.copy(source, to: target, mode: 0o755)
        chmod(target, 0o755)
    }
}
