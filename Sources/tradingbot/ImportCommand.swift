import ArgumentParser
import CLISupport
import TradingCore
import TradingStore

/// `tradingbot import`: brings the Python bot's files into a home, after the data checks.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Bring the old Python bot's positions, logs and feature store into a home.",
        discussion: """
            Reads OLD_BOT_DIR (or its logs/ folder): positions_futures.json, signals.jsonl, \
            enriched_decisions.jsonl and feature_store/. The source is never modified. The data checks run \
            first and must pass (warnings are shown). Takes state/engine.lock, so it refuses to run under a \
            running engine (exit 3). A home that already has trades is replaced only with --force, and its \
            files are kept as FILE.before-import-TIME. Exit 1 when a check fails or the home \
            has trades, 2 on a usage or config error.
            """
    )

    @OptionGroup var homeOptions: HomeOptions

    @Option(name: .customLong("from"), help: "The folder the Python bot ran in.")
    var from: String

    @Option(help: "bot.json with the wallet reset (default: HOME/config/bot.json).")
    var config: String?

    @Flag(help: "Show what would be imported; write nothing.")
    var dryRun = false

    @Flag(help: "Replace a home that already has trades (each replaced file is kept beside the new one).")
    var force = false

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let home = homeOptions.resolved
        let (bot, configPath) = try loadBotConfig(explicit: config, home: home)
        let importer = OldBotImport(home: home)
        let now = WallClock.now
        let survey: OldBotImport.Survey
        do {
            survey = try importer.survey(try OldBotImport.locate(from), reset: bot.walletReset, now: now)
        } catch let failure as OldBotImport.Failure {
            throw CommandFailure(code: failure.code.exitStatus, failure.message)
        }
        var kept: [String] = []
        var failure: OldBotImport.Failure?
        if !dryRun {
            do {
                kept = try importer.apply(survey, force: force, stamp: now.fileStamp)
            } catch let error as OldBotImport.Failure {
                failure = error
            }
        }
        let imported = !dryRun && failure == nil
        if json {
            printJSON(
                survey.json(
                    configPath: configPath, home: home, dryRun: dryRun, imported: imported, kept: kept,
                    error: failure?.message))
        } else {
            print(survey.text(configPath: configPath, home: home))
            if let failure {
                print("NOT IMPORTED: \(failure.message)")
            } else if dryRun {
                print("Dry run: nothing was written.")
            } else {
                print("Imported into \(home.root).")
                for path in kept { print("Kept what it replaced: \(path)") }
                print("Next: tradingbot report --home \(home.root)")
            }
        }
        if let failure { throw ExitCode(failure.code.exitStatus) }
        if !survey.check.ok { throw ExitCode(ExitStatus.failed) }
    }
}

extension OldBotImport.Survey {
    func json(configPath: String, home: Home, dryRun: Bool, imported: Bool, kept: [String], error: String?)
        -> JSONValue
    {
        var object =
            check.json(extra: [
                JSONField("from", .string(source.folder)), JSONField("positions", .string(source.positions)),
                JSONField("config", .string(configPath)), JSONField("home", .string(home.root)),
                JSONField("signals", source.signals.map { .string($0) } ?? .null),
                JSONField("signal_lines", .int(signalLines)),
                JSONField("decisions", source.decisions.map { .string($0) } ?? .null),
                JSONField("decision_lines", .int(decisionLines)),
                JSONField("feature_store", source.featureStore.map { .string($0) } ?? .null),
                JSONField("feature_files", .array(source.featureFiles.map { .string($0) })),
                JSONField("home_closed_trades", .int(homeClosed)), JSONField("home_open_positions", .int(homeOpen)),
                JSONField("home_unreadable", .bool(homeUnreadable)),
                JSONField("dry_run", .bool(dryRun)), JSONField("imported", .bool(imported)),
                JSONField("kept", .array(kept.map { .string($0) })),
            ]).objectValue ?? JSONObject()
        if let error {
            object["ok"] = .bool(false)
            object["error"] = .string(error)
        }
        return .object(object)
    }

    func text(configPath: String, home: Home) -> String {
        var lines = ["Old bot folder   \(source.folder)"]
        if let s = check.summary {
            let range =
                s.firstTimestamp.map { "\($0.iso8601) .. \(s.lastTimestamp?.iso8601 ?? "-")" } ?? "no timestamps"
            lines.append(
                "Positions        \(source.positions): \(grouped(s.openPositions)) open, \(grouped(s.closedTrades)) closed, \(range)"
            )
            lines.append(
                "Wallet reset     \(s.resetAt.iso8601) (from \(configPath)): \(grouped(s.countedTrades)) trade(s) would count, balance \(money(s.balance))"
            )
        } else {
            lines.append("Positions        \(source.positions): cannot be read")
        }
        lines.append(
            "Signals          " + (source.signals.map { "\($0): \(grouped(signalLines)) line(s)" } ?? "none found"))
        lines.append(
            "Decisions        " + (source.decisions.map { "\($0): \(grouped(decisionLines)) line(s)" } ?? "none found"))
        lines.append(
            "Feature store    "
                + (source.featureStore.map { "\($0): \(source.featureFiles.count) file(s)" } ?? "none found"))
        if foreignWeights {
            lines.append(
                "                 its signal_weights.json is not in this engine's shape: imported as signal_weights.imported.json; the engine learns its own"
            )
        }
        let homeState =
            homeUnreadable
            ? "has a positions file that cannot be read"
            : !homeHasData
                ? "has no trades yet" : "has \(grouped(homeClosed)) closed trade(s) and \(homeOpen) open position(s)"
        lines.append("Home             \(home.root) \(homeState)")
        lines.append(
            "Data checks      " + (check.ok ? (check.warnings.isEmpty ? "passed" : "passed with warnings") : "FAILED"))
        for c in check.checks {
            lines.append("  " + c.line)
        }
        return lines.joined(separator: "\n")
    }
}
