import ArgumentParser
import CLISupport
import TradingCore
import TradingStore

/// `tradingbot report`: the numbers the dashboard shows, from the positions file.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Balance, trades and P&L since the wallet reset.",
        discussion: """
            Records with a value that cannot be used are counted where they can be and listed as left out \
            (`left_out` in --json), so one bad value never hides the rest. Exit 1 when the file cannot be read \
            at all (a syntax error names its line, column and record); 2 on a config error.
            """
    )

    @OptionGroup var homeOptions: HomeOptions

    @Option(help: "Positions file (default: HOME/logs/positions_futures.json).")
    var positions: String?

    @Option(help: "bot.json to take the wallet reset from (default: HOME/config/bot.json).")
    var config: String?

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let home = homeOptions.resolved
        let (bot, _) = try loadBotConfig(explicit: config, home: home)
        let path = positions ?? home.positions
        let store = PositionsStore(path: path, lockPath: home.positionsLock)
        let report: PerformanceReport
        do {
            report = try store.report(reset: bot.walletReset)
        } catch {
            throw CommandFailure.failed("\(error)")
        }
        if json {
            var object = report.json.objectValue ?? JSONObject()
            object.fields.insert(JSONField("positions", .string(path)), at: 0)
            object.fields.insert(JSONField("ok", .bool(true)), at: 0)
            printJSON(.object(object))
        } else {
            print("Positions       \(path)")
            print(report.text)
        }
    }
}
