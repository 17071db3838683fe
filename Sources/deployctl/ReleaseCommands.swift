import ArgumentParser
import CLISupport
import Deploy
import Foundation
import TradingCore
import TradingStore

/// Options every command that changes or reads a deployment shares.
struct DeployOptions: ParsableArguments {
    @OptionGroup var homeOptions: HomeOptions

    @Flag(help: "Print one JSON object.")
    var json = false

    var home: Home { homeOptions.resolved }

    func config() throws -> DeployConfig {
        let path = home.deployConfig
        guard FileIO.exists(path) else {
            throw CommandFailure.usage(
                "\(path): not found. Run deployctl init --home \(home.root) --repo URL|PATH first.")
        }
        return try ConfigFiles.deploy(path)
    }

    /// deploy.json for the guard's own jobs (watchdog, boot): a key only a newer deployctl in a
    /// slot reads is left at its default, with a warning on stderr, instead of stopping the guard.
    func guardConfig(quietly: Bool = false) throws -> DeployConfig {
        guard FileIO.exists(home.deployConfig) else { return try config() }
        let loaded = try GuardConfig.load(home: home)
        if let note = loaded.note, !quietly { FileHandle.standardError.write(Data("WARNING \(note)\n".utf8)) }
        return loaded.config
    }

    func manager(_ config: DeployConfig) -> ServiceManager {
        guard config.serviceManager == "supervisor" else { return SystemdManager(secretNames: config.secretNames) }
        return SupervisorManager(home: home, config: config)
    }

    var progress: StepProgress { json ? SilentProgress() : TerminalProgress() }

    func finish(_ outcome: DeployOutcome) throws {
        if json { printJSON(outcome.json) } else { print(outcome.message) }
        if outcome.exitCode != 0 { throw ExitCode(outcome.exitCode) }
    }
}

struct ReleaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "Build a git ref into the inactive slot, check it against the live data, flip, restart, probation.",
        discussion:
            "Exit 0 good (or on probation with --detach); 1 failed or rolled back; 2 config; 3 another release holds the lock."
    )

    @OptionGroup var options: DeployOptions

    @Option(help: "Branch, tag or sha (default: deploy.json default_ref).")
    var ref: String?

    @Flag(help: "Release a sha that an earlier release marked bad.")
    var force = false

    @Flag(help: "Return after the first healthy heartbeat; the watchdog gives the verdict.")
    var detach = false

    @Option(help: "Wait up to this many seconds for another release to finish.")
    var wait: Double = 0

    @Option(
        name: .customLong("strategy-change"),
        help:
            "Why this release changes decisions: the decision diff reports them without blocking (limits still block).")
    var strategyChange: String?

    func run() throws {
        let config = try options.config()
        if let strategyChange, strategyChange.trimmingCharacters(in: .whitespaces).isEmpty {
            throw CommandFailure.usage(
                "--strategy-change needs the reason, e.g. --strategy-change \"entry threshold 0.25 -> 0.3\"")
        }
        var opts = ReleasePipeline.Options()
        opts.strategyChange = strategyChange
        opts.ref = ref
        opts.force = force
        opts.detach = detach
        opts.waitForLock = wait
        let pipeline = ReleasePipeline(
            home: options.home, config: config, manager: options.manager(config), progress: options.progress,
            now: { WallClock.now })
        try options.finish(pipeline.run(opts))
    }
}

struct RollbackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback", abstract: "Flip back to the newest release marked good in the other slot (no rebuild)."
    )

    @OptionGroup var options: DeployOptions

    @Option(help: "Wait up to this many seconds for the deploy lock.")
    var wait: Double = 0

    func run() throws {
        let config = try options.config()
        try options.finish(
            Rollback(home: options.home, config: config, manager: options.manager(config), progress: options.progress)
                .run(wait: wait))
    }
}

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "The live slot and release, its heartbeat, the other slot, the service.")

    @OptionGroup var options: DeployOptions

    func run() throws {
        let config = try options.config()
        let status = DeployStatus.collect(home: options.home, manager: options.manager(config), now: WallClock.now)
        let o = status.objectValue ?? JSONObject()
        if options.json {
            printJSON(status)
            if o["ok"] != .bool(true) { throw ExitCode(ExitStatus.failed) }
            return
        }
        func line(_ v: JSONValue?) -> String {
            guard let s = v?.objectValue else { return "none" }
            return
                "slot \(s["slot"]?.stringValue ?? "?"): \(s["release"]?.stringValue ?? "no release") \(s["ref"]?.stringValue ?? "") \(s["sha"]?.stringValue?.prefix(12) ?? "") [\(s["state"]?.stringValue ?? "-")] since \(s["since"]?.stringValue ?? "-") by \(s["by"]?.stringValue ?? "-")"
        }
        print("Home       \(options.home.root)")
        print("Live       \(line(o["active"]))")
        print("Other      \(line(o["other"]))")
        if let hb = o["heartbeat"]?.objectValue {
            print(
                "Heartbeat  \(hb["release"]?.stringValue ?? "?") cycle \(hb["cycle"]?.serialized() ?? "?") \(hb["phase"]?.stringValue ?? "?"), \(hb["age_seconds"]?.serialized() ?? "?") s old, \(hb["consecutive_errors"]?.serialized() ?? "0") consecutive errors"
            )
        } else {
            print("Heartbeat  none yet")
        }
        print("Service    \(o["service"]?.stringValue ?? "?")")
        if let next = o["next"]?.stringValue { print("Next       \(next)") }
        if let lock = o["deploy_lock"]?.stringValue { print("Lock       \(lock)") }
        for problem in o["problems"]?.arrayValue ?? [] { print("PROBLEM    \(problem.stringValue ?? "")") }
        if o["ok"] != .bool(true) { throw ExitCode(ExitStatus.failed) }
    }
}

struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "Every release in the ledger, newest first.")

    @OptionGroup var options: DeployOptions

    func run() throws {
        let records = try Ledger(path: options.home.releasesLedger).releases().reversed()
        if options.json {
            printJSON(["ok": true, "releases": .array(records.map(\.json))])
            return
        }
        if records.isEmpty { print("no releases yet (\(options.home.releasesLedger))") }
        for r in records {
            let error = (r.error ?? "").replacingOccurrences(of: "\n", with: " ")
            let why = r.failedStep.map { " at \($0): \(error.prefix(160))" } ?? ""
            print("\(r.startedAt)  \(r.id)  \(r.ref) \(r.sha.prefix(12))  slot \(r.slot)  \(r.state)\(why)")
            if let d = r.decisions { print("    " + Self.decisions(d)) }
        }
    }
}

extension HistoryCommand {
    /// The decision diff of a release on one line: verdict, counts, the commonest transitions.
    static func decisions(_ d: JSONObject) -> String {
        var line = "decisions: \(d["verdict"]?.stringValue ?? "?")"
        if d["would_block"] == .bool(true) { line += " (would block)" }
        if let changed = d["changed"]?.doubleValue {
            line += ", \(Int(changed)) lines changed (\(Int(d["changed_entries"]?.doubleValue ?? 0)) entries)"
        }
        if let e = d["entries"]?.objectValue {
            line += ", entries \(Int(e["current"]?.doubleValue ?? 0)) -> \(Int(e["candidate"]?.doubleValue ?? 0))"
        }
        let top = (d["transitions"]?.arrayValue ?? []).prefix(3).compactMap(\.objectValue).map {
            "\($0["from"]?.stringValue ?? "") -> \($0["to"]?.stringValue ?? "") x\(Int($0["count"]?.doubleValue ?? 0))"
        }
        if !top.isEmpty { line += "; " + top.joined(separator: ", ") }
        if let why = d["strategy_change"]?.stringValue { line += "; strategy change: \(why)" }
        if let note = d["note"]?.stringValue, d["changed"] == nil { line += "; \(note)" }
        return line
    }
}

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Prepare a home: folders, deploy.json with the repository, default configs.")

    @OptionGroup var options: DeployOptions

    @Option(help: "Git URL or local path of the bot's repository.")
    var repo: String

    @Option(help: "systemd or supervisor.")
    var serviceManager: String = "supervisor"

    func run() throws {
        guard ["systemd", "supervisor"].contains(serviceManager) else {
            throw CommandFailure.usage("--service-manager \(serviceManager): expected systemd or supervisor")
        }
        let home = options.home
        let result = try HomeSetup.initialize(home: home, repo: repo, serviceManager: serviceManager)
        if options.json {
            printJSON([
                "ok": true, "home": .string(home.root), "written": .array(result.written.map { .string($0) }),
                "next": .array(result.next.map { .string($0) }),
            ])
        } else {
            for path in result.written { print("wrote \(path)") }
            print("Next:")
            for command in result.next { print("  \(command)") }
        }
    }
}

struct InstallUnitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install-units",
        abstract: "Write the systemd units or the supervisord config for this home into HOME/deploy.")

    @OptionGroup var options: DeployOptions

    @Flag(help: "systemd units (Type=notify engine with WatchdogSec, watchdog service and timer).")
    var systemd = false

    @Flag(help: "A supervisord config (containers, development, CI).")
    var supervisor = false

    @Option(help: "The user the systemd units (and, with --supervisor, the boot unit) run as (default: this user).")
    var user: String?

    func run() throws {
        guard systemd != supervisor else { throw CommandFailure.usage("pass exactly one of --systemd or --supervisor") }
        // The user this runs as (runuser keeps root's $USER), else $USER.
        let user =
            self.user ?? getpwuid(geteuid()).map { String(cString: $0.pointee.pw_name) }
            ?? ProcessInfo.processInfo.environment["USER"] ?? "tradingbot"
        let result = try Units.install(home: options.home, config: try options.config(), systemd: systemd, user: user)
        if options.json {
            printJSON([
                "ok": true, "files": .array(result.files.map { .string($0) }),
                "next": .array(result.next.map { .string($0) }),
            ])
        } else {
            for f in result.files { print("wrote \(f)") }
            print("Next:")
            for c in result.next { print("  \(c)") }
        }
    }
}
