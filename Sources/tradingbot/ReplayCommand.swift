import ArgumentParser
import CLISupport
import Engine
import Foundation
import TradingCore
import TradingStore

/// `tradingbot replay`: the decision code over recorded data at full speed.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract:
            "Run the engine over recorded candles, or over the flight recorder's recording, into a home of its own.",
        discussion: """
            --recorded replays what the live engine recorded in --home's data/recording, from the checkpoint at or \
            before --from to --to, exactly as `tradingbot run` ran (its bot.json as it parsed it, its settings, \
            market, kill switch, broker answers and failed writes); --config F replays with another bot.json \
            (keys a recording cannot show, cycle_seconds, the exchange section and symbols never recorded, are \
            named as not compared; exit 2 when they are the only change); it runs at low priority (nice 10) and prints \
            a line per segment on stderr. Exit 1 when the recording cannot be read. --feed and --recorded exclude \
            each other. \
            FEED is a CSV file or a folder of them (ts,open,high,low,close,volume; ts in ms). The replay home \
            (--into, default a fresh temporary folder) gets its own positions file, signals, decisions and \
            heartbeat. Risk limits and fees come from --home's config/bot.json when it has one; --home is only \
            read. --into must be a new or empty folder: a replay never writes into a home that holds anything \
            (a live home's bot.json and positions). The temporary folder is removed after the run unless --keep.
            """
    )

    @Option(help: "CSV file or folder of recorded candles.")
    var feed: String?

    @Flag(help: "Replay the flight recorder's recording of --home (data/recording) instead of candles.")
    var recorded = false

    @Option(help: "With --recorded: start at the last checkpoint at or before this time (ISO 8601).")
    var from: String?

    @Option(help: "With --recorded: stop after the last cycle at or before this time (ISO 8601).")
    var to: String?

    @Option(help: "With --recorded: replay with this bot.json instead of the recorded one (what would it have done?).")
    var config: String?

    @Option(help: "Home whose config (risk, fees, asset universe) the replay uses, when it has one.")
    var home: String?

    @Option(
        help:
            "Asset universe (symbol -> sector) to use instead of --home's, e.g. for recorded markets it does not list.")
    var universe: String?

    @Option(help: "A new or empty folder to replay into (default: a temporary folder, removed afterwards).")
    var into: String?

    @Flag(help: "Keep the temporary replay folder (its path is printed).")
    var keep = false

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        if recorded == (feed != nil) {
            throw CommandFailure.usage(
                recorded
                    ? "--feed and --recorded exclude each other: --recorded replays the live engine's recording, --feed recorded candles"
                    : "name what to replay: --feed PATH (recorded candles) or --recorded (the live engine's recording in --home)"
            )
        }
        if !recorded && (from != nil || to != nil || config != nil) {
            throw CommandFailure.usage("--from, --to and --config go with --recorded")
        }
        try Self.checkInto(into)
        if recorded {
            try runRecorded()
            return
        }
        guard let feed else { return }
        let source = Home.resolve(option: home)
        let base = FileIO.exists(source.botConfig) ? try ConfigFiles.bot(source.botConfig) : nil
        let sectors: AssetUniverse?
        if let universe {
            guard FileIO.exists(universe) else {
                throw CommandFailure.usage(
                    "--universe \(universe): no such file (an asset_universe.json: {\"symbols\": {\"BTCUSDT\": \"mega\", ...}})"
                )
            }
            sectors = try ConfigFiles.assetUniverse(universe)
        } else {
            sectors = FileIO.exists(source.assetUniverse) ? try ConfigFiles.assetUniverse(source.assetUniverse) : nil
        }
        let temporary = into == nil
        let target = Home(root: into ?? (NSTemporaryDirectory() + "tradingbot-replay-\(UUID().uuidString.prefix(8))"))
        defer { if temporary && !keep { try? FileManager.default.removeItem(atPath: target.root) } }
        var settings = EngineSettings()
        settings.persistEvery = 500
        settings.release = "replay"
        let summary: ReplayRunner.Summary
        do {
            summary = try ReplayRunner.run(
                feedPath: feed, home: target, baseConfig: base, universe: sectors, settings: settings)
        } catch let error as StoreError {
            throw CommandFailure.usage("\(error)")
        }
        let removed = temporary && !keep
        if json {
            var out = summary.json.objectValue ?? JSONObject()
            if removed { out["home"] = .null }
            printJSON(.object(out))
        } else {
            print(
                "Replayed \(grouped(summary.candles)) candles in \(summary.cycles) cycles"
                    + (removed ? " (the temporary home is removed; --keep keeps it)" : " into \(summary.home)"))
            print(
                "Trades \(summary.trades), win rate \(Int((summary.winRate * 100).rounded())) %, net P&L \(money(summary.netPnl)), max drawdown \((summary.maxDrawdown * 1000).rounded() / 10) %"
            )
            let stats = summary.statistics
            let json = summary.json.objectValue
            func shown(_ key: String) -> String { json?[key]?.doubleValue.map { "\($0)" } ?? "n/a" }
            print(
                "Fees \(money(stats.totalFees)), profit factor \(shown("profit_factor")), expectancy \(shown("expectancy")) per trade, Sharpe \(shown("sharpe")), Sortino \(shown("sortino")), average hold \(Int((stats.averageHoldSeconds ?? 0) / 60)) min"
            )
            print(
                "Exits: "
                    + stats.exitReasons.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(
                        separator: ", "))
            print(ReplayCommand.autonomyLine(summary.autonomy))
            print("Decisions hash \(summary.decisionsHash)")
            if !summary.otherSectorSymbols.isEmpty {
                print(
                    "Not in the asset universe, traded in sector \"other\": \(summary.otherSectorSymbols.joined(separator: ", "))"
                )
            }
            for note in summary.notes { print("note: \(note)") }
        }
    }

    /// A replay resumes whatever positions its home holds and writes its own bot.json: into a
    /// live home it would overwrite the operator's config and trade its book.
    static func checkInto(_ into: String?) throws {
        guard let into else { return }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: into)) ?? []
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: into, isDirectory: &isFolder)
            && (!isFolder.boolValue || !entries.isEmpty)
        {
            throw CommandFailure.usage(
                "--into \(into) is not an empty folder (it holds \(entries.prefix(3).joined(separator: ", "))\(entries.count > 3 ? ", …" : "")): a replay never writes into a home that holds anything; name a new or empty folder, or leave --into out for a temporary one"
            )
        }
    }
}

extension ReplayCommand {
    /// One line of the controller's state at the end: scaling step and changes, the bot's health.
    static func autonomyLine(_ view: JSONValue) -> String {
        let o = view.objectValue
        let scaling = o?["scaling"]?.objectValue
        guard scaling?["enabled"] == .bool(true) else { return "Capital scaling: off (risk.scaling.enabled is false)" }
        let level = scaling?["level"]?.doubleValue ?? 1
        let changes = (scaling?["history"]?.arrayValue ?? []).filter {
            $0.objectValue?["reason"]?.stringValue != "history"
        }
        let downs = changes.filter {
            ($0.objectValue?["to"]?.doubleValue ?? 0) < ($0.objectValue?["from"]?.doubleValue ?? 0)
        }.count
        let health = o?["bot"]?.objectValue?["score"]?.doubleValue.map { "\($0)" } ?? "n/a"
        return
            "Capital scaling: ends at \(Int((level * 100).rounded())) % of max_exposure_fraction after \(changes.count) change(s) (\(downs) down); bot health \(health)"
    }
}
