import ArgumentParser
import CLISupport
import Deploy
import TradingCore
import TradingStore

/// `deployctl check`: the pre-flip checks. `check data` runs the data-date sanity checks alone.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Run every pre-flip check on a slot without flipping (or `check data` on a file).",
        subcommands: [CheckSlotCommand.self, CheckDataCommand.self, CheckDecisionsCommand.self],
        defaultSubcommand: CheckSlotCommand.self
    )
}

/// `deployctl check [--slot A|B]`: smoke and data checks on a slot, no flip.
struct CheckSlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slot", abstract: "Every pre-flip check on a slot (default: the live one), without flipping.")

    @OptionGroup var options: DeployOptions

    @Option(help: "A or B (default: the live slot).")
    var slot: String?

    func run() throws {
        let config = try options.config()
        let slots = Slots(home: options.home)
        guard let target = slot ?? slots.active() else {
            throw CommandFailure.usage("no live slot yet; pass --slot A or --slot B")
        }
        guard Slots.names.contains(target) else { throw CommandFailure.usage("--slot \(target): expected A or B") }
        let results = Preflight(home: options.home, config: config).run(
            slot: target, release: slots.releaseID(target) ?? "check", now: WallClock.now, progress: options.progress)
        let ok = results.allSatisfy(\.ok)
        if options.json {
            printJSON(["ok": .bool(ok), "slot": .string(target), "checks": .array(results.map(\.json))])
        } else {
            for r in results { print("  " + r.line) }
            print(ok ? "All checks passed on slot \(target)." : "FAILED on slot \(target).")
        }
        if !ok { throw ExitCode(ExitStatus.failed) }
    }
}

struct CheckDataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Data-date sanity checks of a positions file against the wallet reset.",
        discussion: """
            Fails (exit 1) when a record or timestamp cannot be read, a timestamp is before 2009 or after \
            now + 5 minutes, a trade closed before it opened, the wallet reset is in the future, or the reset \
            excludes every closed trade. Warns (exit 0) when the reset precedes every trade. Exit 2 on a usage \
            or config error.
            """
    )

    @OptionGroup var homeOptions: HomeOptions

    @Option(help: "The positions file to check.")
    var positions: String

    @Option(help: "bot.json with the wallet reset (default: HOME/config/bot.json).")
    var config: String?

    @Option(help: "Check as of this instant (ISO-8601; default: the wall clock).")
    var now: String?

    @Option(help: "Clock skew allowed for timestamps in the future, in seconds.")
    var skew: Int = 300

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let home = homeOptions.resolved
        let (bot, configPath) = try loadBotConfig(explicit: config, home: home)
        let instant = try now.map { try parseInstant($0, option: "--now") } ?? WallClock.now
        guard skew >= 0 else { throw CommandFailure.usage("--skew must be 0 or more seconds") }
        // The open positions against the risk limits, by the home's sectors when it has them.
        let universe = (try? ConfigFiles.assetUniverse(home.assetUniverse)) ?? AssetUniverse(sectors: [:])
        let report = DataCheckRunner.run(
            positionsPath: positions, reset: bot.walletReset, now: instant, skewSeconds: Double(skew),
            configName: configPath, limits: bot.risk, universe: universe)
        if json {
            printJSON(
                report.json(extra: [
                    JSONField("positions", .string(positions)), JSONField("config", .string(configPath)),
                ]))
        } else {
            print("Data checks of \(positions) (wallet reset from \(configPath))")
            for check in report.checks {
                print("  " + check.line)
            }
            print(report.ok ? (report.warnings.isEmpty ? "All checks passed." : "Passed with warnings.") : "FAILED.")
        }
        if !report.ok { throw ExitCode(ExitStatus.failed) }
    }
}

/// `deployctl check decisions`: the A/A of the flight recorder (report only).
struct CheckDecisionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decisions",
        abstract:
            "Replay the live release's recording with the live binary and compare its decisions with the live engine's.",
        discussion: """
            The A/A: the live slot's tradingbot replays what the live release recorded in the last --hours \
            (replay --recorded, at low priority), and its signal lines must be the live engine's own \
            (logs/signals.jsonl and its rotated files), matched by time, symbol and order in the cycle, \
            comparing action, direction, rule, notional to the cent, and a close's reason, net P&L and price. \
            Verdicts: identical, partial (less than 1 h recorded by the live release), mismatch (the first \
            differing line of each side), incomplete (gaps, or the replay could not finish), no_recording. \
            Report only: exit 0 whatever the verdict; 2 config; 3 another deploy holds the lock.
            """
    )

    @OptionGroup var options: DeployOptions

    @Option(help: "Hours of recording to check (default 24).")
    var hours: Double = 24

    @Option(help: "Seconds to wait for the deploy lock (default 0: exit 3 when held).")
    var wait: Double = 0

    func run() throws {
        guard hours > 0 && hours <= 24 * 30 else {
            throw CommandFailure.usage("--hours must be above 0 and at most 720")
        }
        let config = try options.guardConfig(quietly: options.json)
        let home = options.home
        let lock: FileLock
        switch DeployLock.take(home: home, holder: "check decisions pid \(ProcessIdentity.pid)", wait: wait) {
        case .success(let held): lock = held
        case .failure(let refusal): throw CommandFailure(code: refusal.exitCode, refusal.message)
        }
        defer { lock.release() }
        ProcessRunner.endChildrenOnSignals()
        let report = DecisionsCheck(home: home, config: config).run(
            hours: hours, now: WallClock.now,
            progress: { line in if !options.json { print("  " + line) } })
        if options.json {
            printJSON(report.json)
            return
        }
        print(report.summary)
        for s in report.segments { print("  \(s.name) (\(s.release)): \(s.checked ? "checked" : s.note)") }
        for note in report.notes { print("  note: \(note)") }
        if let m = report.firstMismatch?.objectValue {
            print("  first differing line, cycle at \(m["ts"]?.stringValue ?? "?"):")
            print("    live   \(m["live"]?.serialized() ?? "none")")
            print("    replay \(m["replay"]?.serialized() ?? "none")")
            print(
                "  reproduce: tradingbot replay --recorded --home \(home.root) --from \(m["ts"]?.stringValue ?? "") --keep"
            )
        }
    }
}
