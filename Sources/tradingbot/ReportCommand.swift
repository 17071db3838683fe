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
        let engine = EngineState(store: HeartbeatStore(home: home))
        if json {
            var object = report.json.objectValue ?? JSONObject()
            object.fields.insert(JSONField("positions", .string(path)), at: 0)
            object.fields.insert(JSONField("ok", .bool(true)), at: 0)
            object["engine"] = engine.json
            printJSON(.object(object))
        } else {
            print("Positions       \(path)")
            print(report.text)
            print("Engine          \(engine.text)")
        }
    }
}

/// Whether the engine is entering or reducing (no new entries, exits going on), from its last
/// heartbeat: the positions file cannot say. A report never fails because of it.
struct EngineState {
    var heartbeat: Heartbeat?
    var problem: String?
    let path: String

    init(store: HeartbeatStore) {
        path = store.path
        do { heartbeat = try store.read() } catch { problem = "\(error)" }
    }

    var text: String {
        if let problem { return "unknown: \(problem)" }
        guard let h = heartbeat else { return "unknown: no heartbeat at \(path) (the engine has not run in this home)" }
        let seen = "(heartbeat \(h.writtenAt.iso8601), release \(h.release), cycle \(h.cycle))"
        return h.reducing.map { "REDUCING: \($0) \(seen)" } ?? "entering normally \(seen)"
    }

    var json: JSONValue {
        if let problem { return ["error": .string(problem)] }
        guard let h = heartbeat else { return .null }
        return [
            "heartbeat_at": .string(h.writtenAt.iso8601), "release": .string(h.release), "cycle": .int(h.cycle),
            "phase": .string(h.phase), "reducing": h.reducing.map { .string($0) } ?? .null,
        ]
    }
}
