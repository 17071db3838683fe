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

/// `deployctl check decisions`: the A/A of the flight recorder and the A/B of a candidate.
struct CheckDecisionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decisions",
        abstract:
            "Replay the recorded window with the live build and a candidate, and compare their decisions.",
        discussion: """
            The live slot's tradingbot and the candidate (--slot: another slot's built release, by default the \
            inactive one; --config F: the live binary with a proposed bot.json) each replay the recording of the \
            last --hours (replay --recorded, in parallel, at low priority) from the same checkpoint. \
            The A/A: the live build's replay must write the live engine's own signal lines (identical, partial, \
            mismatch, incomplete, no_recording; it never blocks). The A/B: the candidate's lines against the live \
            build's, per line action (executed, blocked:RULE, skipped:RULE, closed:REASON), direction and notional \
            to the cent; transitions with counts, the first 20 differing lines, totals side by side, and the \
            limits the candidate broke with its own entries. deploy.json's decision_diff decides: mode block or \
            report, the entry and exit ratios, the share of changed entry decisions, timeout_seconds. \
            Exit 0 when the policy lets it through (would_block in report mode), 1 when it blocks, 2 usage or \
            configuration, 3 another deploy holds the lock. Builds nothing.
            """
    )

    @OptionGroup var options: DeployOptions

    @Option(help: "Hours of recording to replay (default: decision_diff.hours, 24).")
    var hours: Double?

    @Option(help: "The candidate slot, A or B (default: the inactive slot, when it holds a built release).")
    var slot: String?

    @Option(help: "A proposed bot.json, tried with the live binary against the live one.")
    var config: String?

    @Option(help: "Seconds to wait for the deploy lock (default 0: exit 3 when held).")
    var wait: Double = 0

    func run() throws {
        let deploy = try options.guardConfig(quietly: options.json)
        let hours = hours ?? deploy.decisionDiff.hours
        guard hours > 0 && hours <= 24 * 30 else {
            throw CommandFailure.usage("--hours must be above 0 and at most 720")
        }
        let home = options.home
        let check = DecisionsCheck(home: home, config: deploy)
        let lock: FileLock
        switch DeployLock.take(home: home, holder: "check decisions pid \(ProcessIdentity.pid)", wait: wait) {
        case .success(let held): lock = held
        case .failure(let refusal): throw CommandFailure(code: refusal.exitCode, refusal.message)
        }
        defer { lock.release() }
        // Under the lock: a release that finished while we waited may have flipped the slots.
        let candidate: DecisionsCheck.Candidate?
        do {
            candidate = try check.candidate(slot: slot, configFile: config)
        } catch {
            throw CommandFailure.usage("\(error)")
        }
        ProcessRunner.endChildrenOnSignals()
        let report = check.run(
            hours: hours, now: WallClock.now, candidate: candidate,
            progress: { line in if !options.json { print("  " + line) } })
        if let refusal = report.refusal {
            throw CommandFailure.usage("--config \(config ?? ""): \(refusal)")
        }
        if options.json {
            printJSON(report.json)
        } else {
            print(report.text(home: home).joined(separator: "\n"))
        }
        if report.blocks {
            throw CommandFailure(
                code: ExitStatus.failed,
                "the decision diff blocks this candidate: \(report.reasons.joined(separator: "; "))")
        }
    }
}
