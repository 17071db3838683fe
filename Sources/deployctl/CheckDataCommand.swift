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
        subcommands: [CheckSlotCommand.self, CheckDataCommand.self],
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
