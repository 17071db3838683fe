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
/// restart -> probation -> good, or roll back. Every step is timed and written to the ledger.
/// A failure before the flip changes nothing live.
public final class ReleasePipeline {
    public struct Options {
        public var ref: String?
        public var force = false
        public var detach = false
        public var waitForLock = 0.0
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

    public init(
        home: Home, config: DeployConfig, manager: ServiceManager, progress: StepProgress, now: @escaping () -> Instant
    ) {
        self.home = home
        self.config = config
        self.manager = manager
        self.progress = progress
        self.now = now
        ledger = Ledger(path: home.releasesLedger)
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

    func state(_ release: String, _ state: String, _ fields: [JSONField] = []) throws {
        try ledger.append(release, "state", [JSONField("state", .string(state))] + fields, at: now())
    }

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
        do {
            try ledger.append(
                id, "started",
                [
                    JSONField("ref", .string(ref)), JSONField("slot", .string(slot)),
                    JSONField("previous_slot", previous.map { .string($0) } ?? .null),
                    JSONField(
                        "by",
                        .string("\(ProcessInfo.processInfo.environment["USER"] ?? "root")@\(ProcessIdentity.hostname)")),
                    JSONField("pid", .int(ProcessIdentity.pid)),
                ], at: now())
            return try pipeline(id: id, ref: ref, slot: slot, previous: previous, options: options)
        } catch let failure as StepFailure {
            try? state(id, "failed", [JSONField("step", .string(failure.step))])
            return DeployOutcome(
                ok: false, exitCode: 1, release: id, state: "failed",
                message:
                    "step \(failure.step) failed: \(failure.detail). Nothing live changed (slot \(previous ?? "none") still current).",
                fields: outcomeFields(slot: slot))
        } catch {
            try? state(id, "failed")
            return DeployOutcome(
                ok: false, exitCode: 1, release: id, state: "failed", message: "\(error)",
                fields: outcomeFields(slot: slot))
        }
    }

    func outcomeFields(slot: String) -> [JSONField] {
        [
            JSONField("slot", .string(slot)), JSONField("steps", .array(steps)),
            JSONField("checks", .array(checks.map(\.json))),
        ]
    }

    func pipeline(id: String, ref: String, slot: String, previous: String?, options: Options) throws -> DeployOutcome {
        let path = slots.path(slot)
        let sha: String = try step(id, "git", "fetch \(config.repo) and check out \(ref) in slot \(slot)") {
            let repo: GitRepository
            if FileManager.default.fileExists(atPath: path + "/.git") {
                repo = try GitRepository.open(path)
                try repo.fetch(credentials: config.gitCredentials)
            } else {
                try? FileManager.default.removeItem(atPath: path)
                repo = try GitRepository.clone(url: config.repo, into: path, credentials: config.gitCredentials)
            }
            let sha = try repo.resolve(ref)
            let bad = try ledger.releases().filter { $0.sha == sha && $0.state == "bad" }
            if !bad.isEmpty && !options.force {
                throw StepFailure(
                    step: "git",
                    detail:
                        "\(sha.prefix(12)) was marked bad by release \(bad[bad.count - 1].id); pass --force to release it anyway"
                )
            }
            let removed = try repo.checkoutHard(sha) { $0.hasPrefix(".build") }
            try slots.writeReleaseID(id, slot: slot)
            let subject = (try? repo.subject(of: sha)) ?? ""
            try ledger.append(
                id, "resolved", [JSONField("sha", .string(sha)), JSONField("subject", .string(subject))], at: now())
            return (
                sha,
                "\(ref) = \(sha.prefix(12)) \(subject)"
                    + (removed.isEmpty ? "" : "; removed \(removed.count) untracked")
            )
        }
        try state(id, "building")
        try step(id, "build", "\(config.build.command) in slot \(slot)") {
            try FileManager.default.createDirectory(atPath: home.deployLogsDir, withIntermediateDirectories: true)
            let log = home.deployLogsDir + "/\(id).log"
            let outcome = try ProcessRunner.shell(
                config.build.command, in: path, environment: ["TRADINGBOT_HOME": home.root],
                timeout: Double(config.build.timeoutSeconds), log: log)
            if outcome.timedOut {
                throw StepFailure(step: "build", detail: "timed out after \(config.build.timeoutSeconds) s; log \(log)")
            }
            guard outcome.status == 0 else {
                throw StepFailure(
                    step: "build", detail: "exit \(outcome.status); log \(log); last lines:\n\(outcome.output)")
            }
            return ((), "built in \(String(format: "%.1f", outcome.seconds)) s; log \(log)")
        }
        try state(id, "checking")
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
        try step(id, "flip", "point slots/current at \(slot)") {
            try slots.flip(to: slot)
            return ((), "slots/current -> \(slot) (was \(previous ?? "none"))")
        }
        try state(id, "flipped", [JSONField("slot", .string(slot))])
        do {
            try step(id, "restart", "restart the engine through \(manager.name)") {
                try manager.restartEngine()
                return ((), manager.engineState())
            }
        } catch let failure as StepFailure {
            return try rollBack(id: id, slot: slot, previous: previous, reason: "restart failed: \(failure.detail)")
        }
        try state(id, "probation")
        let probation = Probation(home: home, manager: manager)
        let needed = options.detach ? 1 : config.probation.healthyCycles
        let verdict = probation.watch(release: id, cycles: needed, timeout: Double(config.probation.timeoutSeconds))
        switch verdict {
        case .healthy(let cycles, let seconds):
            try record(id, "probation", ok: true, seconds: seconds, detail: "\(cycles) healthy cycle(s) under \(id)")
            progress.end("probation", ok: true, seconds: seconds, detail: "\(cycles) healthy cycle(s)")
            if options.detach {
                return DeployOutcome(
                    ok: true, exitCode: 0, release: id, state: "probation",
                    message:
                        "\(id) (\(sha.prefix(12))) is live in slot \(slot) on probation; the watchdog gives the verdict",
                    fields: outcomeFields(slot: slot) + [JSONField("sha", .string(sha))])
            }
            try state(id, "good")
            return DeployOutcome(
                ok: true, exitCode: 0, release: id, state: "good",
                message: "\(id) (\(sha.prefix(12))) is live in slot \(slot) and marked good",
                fields: outcomeFields(slot: slot) + [JSONField("sha", .string(sha))])
        case .failed(let why):
            try record(id, "probation", ok: false, seconds: Double(config.probation.timeoutSeconds), detail: why)
            progress.end("probation", ok: false, seconds: 0, detail: why)
            return try rollBack(id: id, slot: slot, previous: previous, reason: "probation failed: \(why)")
        }
    }

    /// Puts the previous slot back (if its release was good), restarts it and marks `id` bad.
    func rollBack(id: String, slot: String, previous: String?, reason: String) throws -> DeployOutcome {
        try state(id, "bad", [JSONField("reason", .string(reason))])
        let records = try ledger.releases()
        guard let previous, let previousID = slots.releaseID(previous),
            records.contains(where: { $0.id == previousID && $0.isGood })
        else {
            try? manager.stopEngine()
            try slots.clear()
            try ledger.append(id, "rolled_back", [JSONField("to", .null)], at: now())
            return DeployOutcome(
                ok: false, exitCode: 1, release: id, state: "bad",
                message:
                    "\(reason). No release marked good to go back to: the engine is stopped and slots/current removed.",
                fields: outcomeFields(slot: slot))
        }
        try step(id, "rollback", "point slots/current back at \(previous) (\(previousID)) and restart") {
            try slots.flip(to: previous)
            try manager.restartEngine()
            let verdict = Probation(home: home, manager: manager).watch(
                release: previousID, cycles: 1, timeout: Double(config.probation.timeoutSeconds))
            guard case .healthy = verdict else {
                throw StepFailure(
                    step: "rollback", detail: "the previous release \(previousID) did not come back healthy: \(verdict)"
                )
            }
            return ((), "slots/current -> \(previous); \(previousID) is running again")
        }
        try ledger.append(id, "rolled_back", [JSONField("to", .string(previousID))], at: now())
        return DeployOutcome(
            ok: false, exitCode: 1, release: id, state: "bad",
            message: "\(reason). Rolled back to \(previousID) in slot \(previous); \(id) is marked bad.",
            fields: outcomeFields(slot: slot))
    }
}
