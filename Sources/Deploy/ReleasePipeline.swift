import Foundation
import GitKit
import TradingCore
import TradingStore

/// The result of a release or rollback, for the CLI's exit code and --json.
public struct DeployOutcome {
    public var ok: Bool
    /// 0 ok, 1 failed (nothing changed or rolled back), 2 configuration, 3 locked.
    public var exitCode: Int32
    public var release: String
    public var state: String
    public var message: String
    public var fields: [JSONField] = []

    public var json: JSONValue {
        var o = JSONObject([
            JSONField("ok", .bool(ok)), JSONField("release", .string(release)), JSONField("state", .string(state)),
            JSONField("message", .string(message)),
        ])
        o.fields.append(contentsOf: fields)
        return .object(o)
    }
}

/// `deployctl release`: lock -> inactive slot -> git -> build -> smoke and data checks -> flip ->
/// restart -> probation -> good, or roll back. Every step is timed and written to the ledger;
/// every state move goes through `ReleaseMachine`. A failure before the flip changes nothing
/// live; every failure after it goes to one handler (`afterFlip`) that restores a running engine
/// where the rollback rule finds one, and reports what is really live.
public final class ReleasePipeline {
    public struct Options {
        public var ref: String?
        public var force = false
        public var detach = false
        public var waitForLock = 0.0
        /// Why the candidate's decisions are meant to change: the decision diff reports them
        /// without blocking (a broken limit still blocks).
        public var strategyChange: String?
        public init() {}
    }

    let home: Home
    let config: DeployConfig
    let manager: ServiceManager
    let progress: StepProgress
    let ledger: Ledger
    let slots: Slots
    let now: () -> Instant
    var steps: [JSONValue] = []
    var checks: [CheckResult] = []
    /// `Strategy-Change:` trailers of the commits the candidate brings over the live release.
    var declaredChanges: [String] = []
    var decisions: DecisionsCheck.Report?

    public init(
        home: Home, config: DeployConfig, manager: ServiceManager, progress: StepProgress,
        now: @escaping () -> Instant, ledger: Ledger? = nil
    ) {
        self.home = home
        self.config = config
        self.manager = manager
        self.progress = progress
        self.now = now
        self.ledger = ledger ?? Ledger(path: home.releasesLedger)
        slots = Slots(home: home)
    }

    struct StepFailure: Error {
        var step: String
        var detail: String
    }

    /// Runs one named step: progress line, timing, ledger event; a thrown error fails the step.
    func step<T>(_ release: String, _ name: String, _ what: String, _ body: () throws -> (T, String)) throws -> T {
        progress.begin(name, what)
        let start = Date()
        do {
            let (value, detail) = try body()
            let seconds = Date().timeIntervalSince(start)
            progress.end(name, ok: true, seconds: seconds, detail: detail)
            try record(release, name, ok: true, seconds: seconds, detail: detail)
            return value
        } catch let failure as StepFailure {
            let seconds = Date().timeIntervalSince(start)
            progress.end(name, ok: false, seconds: seconds, detail: failure.detail)
            try? record(release, name, ok: false, seconds: seconds, detail: failure.detail)
            throw failure
        } catch {
            let seconds = Date().timeIntervalSince(start)
            progress.end(name, ok: false, seconds: seconds, detail: "\(error)")
            try? record(release, name, ok: false, seconds: seconds, detail: "\(error)")
            throw StepFailure(step: name, detail: "\(error)")
        }
    }

    func record(_ release: String, _ name: String, ok: Bool, seconds: Double, detail: String) throws {
        let event: [JSONField] = [
            JSONField("name", .string(name)), JSONField("ok", .bool(ok)),
            JSONField("seconds", .double((seconds * 1000).rounded() / 1000)), JSONField("detail", .string(detail)),
        ]
        steps.append(.object(JSONObject(event)))
        try ledger.append(release, "step", event, at: now())
    }

    /// The build folders a checkout keeps, so builds stay incremental: `.build` and `.build-*`.
    static func isBuildFolder(_ name: String) -> Bool { name == ".build" || name.hasPrefix(".build-") }

    static func newID(at: Instant) -> String {
        let c = at.civil
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let stamp = "\(c.year)\(two(c.month))\(two(c.day))-\(two(c.hour))\(two(c.minute))\(two(c.second))"
        return "r\(stamp)-\(String(UInt16.random(in: 0...UInt16.max), radix: 16))"
    }

    public func run(_ options: Options) -> DeployOutcome {
        let ref = options.ref ?? config.defaultRef
        let id = Self.newID(at: now())
        guard !config.repo.isEmpty else {
            return DeployOutcome(
                ok: false, exitCode: 2, release: id, state: "failed",
                message: "\(home.deployConfig): field \"repo\" is empty; run deployctl init --repo URL|PATH first")
        }
        let holder =
            "pid \(ProcessIdentity.pid) on \(ProcessIdentity.hostname) releasing \(ref) (\(id)) since \(now().iso8601)"
        let lock: FileLock
        do {
            try home.createDirectories()
        } catch {
            return DeployOutcome(ok: false, exitCode: 1, release: id, state: "failed", message: "\(error)")
        }
        switch DeployLock.take(home: home, holder: holder, wait: options.waitForLock) {
        case .success(let taken): lock = taken
        case .failure(let outcome):
            return DeployOutcome(
                ok: false, exitCode: outcome.exitCode, release: id, state: "locked", message: outcome.message)
        }
        defer { lock.release() }
        let previous = slots.active()
        let slot = slots.inactive()
        let machine = ReleaseMachine(id: id, ledger: ledger, now: now)
        let previousRelease = previous.flatMap { slots.releaseID($0) }
        do {
            try closeAbandoned()
            try ledger.append(
                id, "started",
                [
                    JSONField("ref", .string(ref)), JSONField("slot", .string(slot)),
                    JSONField("previous_slot", previous.map { .string($0) } ?? .null),
                    JSONField("previous_release", previousRelease.map { .string($0) } ?? .null),
                    JSONField(
                        "by",
                        .string("\(ProcessInfo.processInfo.environment["USER"] ?? "root")@\(ProcessIdentity.hostname)")),
                    JSONField("pid", .int(ProcessIdentity.pid)),
                ], at: now())
            let sha = try prepare(machine, ref: ref, slot: slot, options: options)
            let replacedPid = (try? HeartbeatStore(home: home).read())?.pid
            ProcessRunner.ignoreHangups()
            try step(id, "flip", "point slots/current at \(slot)") {
                try machine.move(to: .flipped, [JSONField("slot", .string(slot))])
                try slots.flip(to: slot)
                return ((), "slots/current -> \(slot) (was \(previous ?? "none"))")
            }
            return goLive(
                machine, sha: sha, slot: slot, previous: previous, previousRelease: previousRelease,
                replacedPid: replacedPid,
                options: options)
        } catch {
            let failure = error as? StepFailure ?? StepFailure(step: "release", detail: "\(error)")
            // The flip is the one line between "nothing changed" and "something did": ask the
            // disk which side of it we are on rather than assume.
            if slots.active() == slot {
                return afterFlip(
                    machine, slot: slot, previous: previous, previousRelease: previousRelease,
                    reason: "step \(failure.step) failed: \(failure.detail)")
            }
            try? machine.move(to: .failed, [JSONField("step", .string(failure.step))])
            return DeployOutcome(
                ok: false, exitCode: 1, release: id, state: "failed",
                message:
                    "step \(failure.step) failed: \(failure.detail). Nothing live changed (slot \(previous ?? "none") still current).",
                fields: outcomeFields(slot: slot))
        }
    }

    /// Releases left before the flip by a deployctl that died (the lock is ours, so none of them
    /// is still running) are marked failed, so the ledger never shows a build that is not going on.
    func closeAbandoned() throws {
        try ledger.closeAbandoned(at: now(), because: "its deployctl stopped")
    }

    func outcomeFields(slot: String) -> [JSONField] {
        [
            JSONField("slot", .string(slot)), JSONField("steps", .array(steps)),
            JSONField("checks", .array(checks.map(\.json))),
            JSONField("decisions", decisions?.json ?? .null),
        ]
    }

    /// Why `slot` must not be built over now, or nil: the live release is unproven (its
    /// deployctl was killed after the flip, or it went live with --detach) and `slot` is where
    /// its verdict would go back to. Overwriting it would leave a failing live release nowhere to go.
    func wayBackAtRisk(slot: String, records: [ReleaseRecord]) -> String? {
        guard let live = slots.active(), live != slot, let liveID = slots.releaseID(live) else { return nil }
        guard let record = records.last(where: { $0.id == liveID }),
            record.stateValue == .probation || record.stateValue == .flipped
        else { return nil }
        let goBack = GoBack(home: home, config: config, manager: manager, now: now, by: "release")
        let leaving = GoBack.Leaving(
            slot: live, release: liveID, previousSlot: record.previousSlot, previousRelease: record.previousRelease)
        guard case .slot(let target, let release, _) = goBack.target(leaving, records: records), target == slot else {
            return nil
        }
        return
            "the live release \(liveID) (slot \(live)) is still on probation, and slot \(slot) holds \(release), its way back; building over it now would leave nothing to go back to. Wait for its verdict (the watchdog marks it good after \(config.probation.healthyCycles) healthy cycles or rolls it back; deployctl status), or pass --force"
    }

    /// Everything before the flip: git, build, checks, all in the inactive slot. Throws a
    /// StepFailure; nothing live is touched.
    func prepare(_ machine: ReleaseMachine, ref: String, slot: String, options: Options) throws -> String {
        let id = machine.id
        let path = slots.path(slot)
        let sha: String = try step(id, "git", "fetch \(config.repo) and check out \(ref) in slot \(slot)") {
            // Fetching touches only .git: the slot's release stays whole (and a rollback target)
            // until the checkout below changes its files.
            let repo = try SlotCheckout(home: home, config: config).open(slot)
            let sha = try repo.resolve(ref)
            let records = try ledger.releases()
            let bad = records.filter { $0.sha == sha && $0.state == ReleaseState.bad.rawValue }
            if !bad.isEmpty && !options.force {
                throw StepFailure(
                    step: "git",
                    detail:
                        "\(sha.prefix(12)) was marked bad by release \(bad[bad.count - 1].id); pass --force to release it anyway"
                )
            }
            if !options.force, let risk = wayBackAtRisk(slot: slot, records: records) {
                throw StepFailure(step: "git", detail: risk)
            }
            try slots.forgetRelease(slot)
            let removed = try repo.checkoutHard(sha, keep: Self.isBuildFolder)
            let subject = (try? repo.subject(of: sha)) ?? ""
            let liveSha = slots.active().flatMap { slots.releaseID($0) }.flatMap { live in
                records.last(where: { $0.id == live })?.sha
            }
            declaredChanges = ((try? repo.messages(of: sha, since: liveSha ?? "")) ?? []).flatMap(
                Self.strategyChangeTrailers)
            try ledger.append(
                id, "resolved", [JSONField("sha", .string(sha)), JSONField("subject", .string(subject))], at: now())
            return (
                sha,
                "\(ref) = \(sha.prefix(12)) \(subject)"
                    + (removed.isEmpty ? "" : "; removed \(removed.count) untracked or ignored")
            )
        }
        try machine.move(to: .building)
        let workspace = BuildWorkspace(home: home)
        try step(id, "build", "\(config.build.command) in the build workspace, products into slot \(slot)") {
            try build(id, workspace: workspace, slotPath: path)
        }
        try machine.move(to: .checking)
        let preflight = Preflight(home: home, config: config)
        checks = preflight.run(slot: slot, release: id, now: now(), progress: progress)
        for check in checks {
            try ledger.append(
                id, "check",
                [
                    JSONField("name", .string(check.name)), JSONField("ok", .bool(check.ok)),
                    JSONField("detail", .string(check.detail)),
                ], at: now())
        }
        if let failed = checks.first(where: { !$0.ok }) {
            throw StepFailure(step: "checks", detail: "\(failed.name): \(failed.detail)")
        }
        try decide(machine, slot: slot, options: options)
        // Each product is still what the build produced (nothing wrote into the slot since).
        do {
            try workspace.verify(workspace.products(binary: config.binary), in: path)
        } catch {
            throw StepFailure(step: "products", detail: "\(error)")
        }
        // Only now is the slot a whole release: checkout, products, checks, decisions.
        try slots.writeReleaseID(id, slot: slot)
        return sha
    }
}
