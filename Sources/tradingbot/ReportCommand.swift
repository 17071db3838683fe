import ArgumentParser
import CLISupport
import Engine
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
        var record = RecordHealth.Accumulator()
        do {
            // One pass: the report, and each key's newest trades for the record health.
            let reset = bot.walletReset
            (report, _) = try store.reportAndRecent(reset: reset, limit: 0, mapped: false) { list, position in
                if list == .closed, reset.counts(position) { record.add(position) }
            }
        } catch {
            throw CommandFailure.failed("\(error)")
        }
        let engine = EngineState(store: HeartbeatStore(home: home))
        let health = record.result
        let scaling = ScalingReport(home: home, settings: bot.risk.scaling, maxExposure: bot.risk.maxExposureFraction)
        if json {
            var object = report.json.objectValue ?? JSONObject()
            object.fields.insert(JSONField("positions", .string(path)), at: 0)
            object.fields.insert(JSONField("ok", .bool(true)), at: 0)
            object["engine"] = engine.json
            object["record_health"] = health.json
            object["scaling"] = scaling.json
            printJSON(.object(object))
        } else {
            print("Positions       \(path)")
            print(report.text)
            print("Engine          \(engine.text)")
            print("Record health   \(health.text)")
            print("Capital scaling \(scaling.text)")
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

/// Capital scaling as state/scaling.json and bot.json say: the step, when and why it last moved.
struct ScalingReport {
    var settings: ScalingSettings
    var maxExposure: Double
    var state: CapitalScaling?
    var problem: String?
    let path: String

    init(home: Home, settings: ScalingSettings, maxExposure: Double) {
        self.settings = settings
        self.maxExposure = maxExposure
        path = home.scalingState
        (state, problem) = ScalingFile.load(path)
    }

    var level: Double { settings.level(of: state) }

    var text: String {
        guard settings.enabled else {
            return "off (risk.scaling.enabled is false): the full max_exposure_fraction \(maxExposure)"
        }
        var out =
            "\(Int((level * 100).rounded())) % of max_exposure_fraction \(maxExposure) (\((maxExposure * level * 10_000).rounded() / 10_000))"
        if let problem { return out + "; the state cannot be read (\(problem)): the engine computes it again" }
        guard let state else { return out + "; no state yet (the engine computes it when it starts)" }
        if let last = state.history.last {
            out +=
                "; last change \(last.at.iso8601) \(Int((last.from * 100).rounded())) % -> \(Int((last.to * 100).rounded())) % (\(last.reason): \(last.detail))"
        }
        return out
            + "; \(state.tradesSince) of \(settings.minTrades) closed trades toward the next step up, net \(money(state.netSince))"
    }

    var json: JSONValue {
        var o = JSONObject([
            JSONField("enabled", .bool(settings.enabled)), JSONField("level", .double(level)),
            JSONField("max_exposure_fraction", .double((maxExposure * level * 1_000_000).rounded() / 1_000_000)),
            JSONField("configured_max_exposure_fraction", .double(maxExposure)),
        ])
        if let problem { o["problem"] = .string(problem) }
        if let state {
            o["state"] = state.json
        }
        return .object(o)
    }
}
