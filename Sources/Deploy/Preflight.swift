import Foundation
import TradingCore
import TradingStore

/// The checks a candidate slot must pass before it may go live (docs/architecture.md, the release steps):
/// its selfcheck against the live home, the configured smoke commands, the data-date checks on
/// a snapshot of the live positions, its report against the current release's on the same
/// snapshot, and a round trip of the snapshot through its store.
public struct Preflight {
    public let home: Home
    public let config: DeployConfig
    public let slots: Slots

    public init(home: Home, config: DeployConfig) {
        self.home = home
        self.config = config
        slots = Slots(home: home)
    }

    public func binary(_ slot: String) -> String { slots.path(slot) + "/" + config.binary }

    func environment(release: String) -> [String: String] {
        ["TRADINGBOT_RELEASE": release, "TRADINGBOT_HOME": home.root]
    }

    /// Every check on `slot`, in order; stops early only where later checks cannot run.
    public func run(slot: String, release: String, now: Instant, progress: StepProgress) -> [CheckResult] {
        var results: [CheckResult] = []
        func timed(_ name: String, _ what: String, _ body: () throws -> [CheckResult]) {
            progress.begin(name, what)
            let start = Date()
            let found: [CheckResult]
            do { found = try body() } catch { found = [CheckResult(name: name, ok: false, detail: "\(error)")] }
            results.append(contentsOf: found)
            let failed = found.filter { !$0.ok }
            progress.end(
                name, ok: failed.isEmpty, seconds: Date().timeIntervalSince(start),
                detail: failed.map { "\($0.name): \($0.detail)" }.joined(separator: "; "))
        }
        let candidate = binary(slot)
        guard FileManager.default.isExecutableFile(atPath: candidate) else {
            return [
                CheckResult(
                    name: "binary", ok: false,
                    detail:
                        "\(candidate) is missing or not executable: did the build produce it? (deploy.json \"binary\")")
            ]
        }
        timed("smoke", "selfcheck of the candidate against the live home") {
            try smoke(candidate, slot: slot, release: release)
        }
        guard results.allSatisfy(\.ok) else { return results }
        timed("dashboard", "the candidate's dashboard answers /healthz and /login") {
            [dashboardSmoke(candidate, release: release)]
        }
        guard results.allSatisfy(\.ok) else { return results }
        guard FileIO.exists(home.positions) else {
            results.append(
                CheckResult(name: "data", ok: true, detail: "no live positions file yet; data checks skipped"))
            return results
        }
        let snapshots = PositionSnapshots(home: home)
        let snapshot = snapshots.folder + "/before-\(release).positions.json"
        timed("data", "data-date checks on a snapshot of the live positions") {
            // It stays, as a copy to restore from should this release damage the file.
            try snapshots.take("before-\(release).positions.json")
            let bot = try ConfigFiles.bot(home.botConfig)
            let report = DataCheckRunner.run(
                positionsPath: snapshot, reset: bot.walletReset, now: now,
                skewSeconds: Double(config.checks.skewSeconds),
                configName: home.botConfig)
            return report.checks.map {
                CheckResult(name: "data.\($0.name)", ok: $0.ok, warning: $0.warning, detail: $0.detail)
            }
        }
        timed("report", "the candidate's report against the current release's on the snapshot") {
            [try compareReports(candidate, snapshot: snapshot, slot: slot, release: release)]
        }
        timed("roundtrip", "the snapshot through the candidate's store") {
            [try roundTrip(candidate, snapshot: snapshot, release: release)]
        }
        return results
    }

    func smoke(_ candidate: String, slot: String, release: String) throws -> [CheckResult] {
        let outcome = try ProcessRunner.run(
            candidate, ["selfcheck", "--json", "--home", home.root], environment: environment(release: release),
            timeout: 120, without: config.secretNames, tracking: DeployLock.childrenFile(home))
        var results: [CheckResult]
        if outcome.status == 0 {
            results = [CheckResult(name: "selfcheck", ok: true, detail: "every subsystem initialised")]
        } else {
            let failed =
                (try? JSONValue.parse(outcome.output))?.objectValue?["checks"]?.arrayValue?
                .compactMap { $0.objectValue }.filter { $0["ok"] == .bool(false) }
                .map { "\($0["name"]?.stringValue ?? "?"): \($0["detail"]?.stringValue ?? "")" } ?? []
            results = [
                CheckResult(
                    name: "selfcheck", ok: false,
                    detail: "exit \(outcome.status)"
                        + (failed.isEmpty
                            ? ": \(ProcessRunner.lastLines(outcome.output, 5))" : ": \(failed.joined(separator: "; "))")
                )
            ]
        }
        for (i, command) in config.checks.smokeCommands.enumerated() {
            let o = try ProcessRunner.shell(
                command, in: slots.path(slot),
                environment: environment(release: release), timeout: 300, without: config.secretNames,
                tracking: DeployLock.childrenFile(home))
            results.append(
                CheckResult(
                    name: "smoke_command_\(i + 1)", ok: o.status == 0,
                    detail: o.status == 0
                        ? command : "\(command) exited \(o.status): \(ProcessRunner.lastLines(o.output, 5))"))
        }
        return results
    }

    /// The numbers a report prints that must agree across releases.
    struct ReportNumbers {
        var closedTrades: Int
        var closedTradesTotal: Int
        var balance: Double
        var netPnl: Double

        init?(_ value: JSONValue?) {
            guard let o = value?.objectValue, let a = o["closed_trades"]?.doubleValue,
                let b = o["closed_trades_total"]?.doubleValue, let c = o["balance"]?.doubleValue,
                let d = o["net_pnl"]?.doubleValue
            else { return nil }
            closedTrades = Int(a)
            closedTradesTotal = Int(b)
            balance = c
            netPnl = d
        }
    }

    func report(_ binary: String, snapshot: String, release: String) throws -> (ReportNumbers?, String) {
        let o = try ProcessRunner.run(
            binary, ["report", "--json", "--home", home.root, "--positions", snapshot],
            environment: environment(release: release), timeout: 120, without: config.secretNames,
            tracking: DeployLock.childrenFile(home))
        guard o.status == 0 else { return (nil, "exit \(o.status): \(ProcessRunner.lastLines(o.output, 5))") }
        return (ReportNumbers(try? JSONValue.parse(o.output)), o.output)
    }

    func compareReports(_ candidate: String, snapshot: String, slot: String, release: String) throws -> CheckResult {
        let (mine, raw) = try report(candidate, snapshot: snapshot, release: release)
        guard let mine else {
            return CheckResult(
                name: "report_agrees", ok: false,
                detail: "the candidate's report --json failed or lacks the contract's keys: \(raw.prefix(300))")
        }
        var reference: ReportNumbers?
        var against = "this deployctl"
        if let active = slots.active(), active != slot, FileManager.default.isExecutableFile(atPath: binary(active)) {
            reference = try report(binary(active), snapshot: snapshot, release: slots.releaseID(active) ?? "current").0
            against = "the current release (slot \(active))"
        }
        if reference == nil {
            let bot = try ConfigFiles.bot(home.botConfig)
            let r = try PositionsStore(path: snapshot, lockPath: home.positionsLock).report(reset: bot.walletReset)
            reference = ReportNumbers(r.json)
        }
        guard let reference else { return CheckResult(name: "report_agrees", ok: false, detail: "no reference report") }
        if mine.closedTrades == 0 && reference.closedTrades > 0 {
            return CheckResult(
                name: "report_agrees", ok: false,
                detail:
                    "the candidate sees no trades after the wallet reset where \(against) sees \(reference.closedTrades): a date or year bug would hide every trade from the dashboard"
            )
        }
        let tolerance = config.checks.reportTolerance
        var differences: [String] = []
        if mine.closedTrades != reference.closedTrades {
            differences.append("closed_trades \(mine.closedTrades) vs \(reference.closedTrades)")
        }
        if mine.closedTradesTotal != reference.closedTradesTotal {
            differences.append("closed_trades_total \(mine.closedTradesTotal) vs \(reference.closedTradesTotal)")
        }
        if abs(mine.balance - reference.balance) > tolerance {
            differences.append("balance \(mine.balance) vs \(reference.balance)")
        }
        if abs(mine.netPnl - reference.netPnl) > tolerance {
            differences.append("net_pnl \(mine.netPnl) vs \(reference.netPnl)")
        }
        guard differences.isEmpty else {
            return CheckResult(
                name: "report_agrees", ok: false,
                detail:
                    "the candidate's report differs from \(against) on the same snapshot: \(differences.joined(separator: ", ")) (tolerance \(tolerance))"
            )
        }
        return CheckResult(
            name: "report_agrees", ok: true,
            detail: "\(mine.closedTrades) trades, balance \(money(mine.balance)), as \(against) reports")
    }

    func roundTrip(_ candidate: String, snapshot: String, release: String) throws -> CheckResult {
        let out = snapshot + ".roundtrip"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let o = try ProcessRunner.run(
            candidate, ["roundtrip", "--positions", snapshot, "--out", out], environment: environment(release: release),
            timeout: 120, without: config.secretNames, tracking: DeployLock.childrenFile(home))
        guard o.status == 0 else {
            return CheckResult(
                name: "roundtrip", ok: false,
                detail: "tradingbot roundtrip exited \(o.status): \(ProcessRunner.lastLines(o.output, 5))")
        }
        let original = try JSONValue.parse(try FileIO.read(snapshot))
        let rewritten = try JSONValue.parse(try FileIO.read(out))
        if let why = PositionsRoundTrip.difference(original: original, rewritten: rewritten) {
            return CheckResult(
                name: "roundtrip", ok: false, detail: "the candidate's store does not keep the data: \(why)")
        }
        let count =
            (original.objectValue?["closed_positions"]?.arrayValue?.count ?? 0)
            + (original.objectValue?["open_positions"]?.arrayValue?.count ?? 0)
        return CheckResult(
            name: "roundtrip", ok: true, detail: "\(grouped(count)) records and every unknown field kept")
    }
}
