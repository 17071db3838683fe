import Foundation
import TradingCore
import TradingStore

/// Everything the engine writes, opened once per run from the home.
///
/// - Important: not Sendable; owned by the engine's thread.
public final class EngineStores {
    public let home: Home
    public let positions: PositionsStore
    public let heartbeat: HeartbeatStore
    let signals: JSONLAppender
    let decisions: JSONLAppender
    let botLog: JSONLAppender
    let database: AnalyticsDatabase
    /// Echoes each event for the journal (`tradingbot run` without `--quiet`); nil in replays.
    public var console: ConsoleEcho?

    public init(home: Home) throws {
        self.home = home
        try home.createDirectories()
        positions = PositionsStore(home: home)
        heartbeat = HeartbeatStore(home: home)
        signals = try JSONLAppender(path: home.signalsLog, rotation: .standard)
        decisions = try JSONLAppender(path: home.decisionsLog, rotation: .standard)
        botLog = try JSONLAppender(path: home.botLog, rotation: .standard)
        database = try AnalyticsDatabase(path: home.database)
    }

    /// The kill switch is a file: `touch state/kill_switch` stops new entries at the next cycle.
    public var killSwitchOn: Bool { KillSwitch(home: home).isOn }

    var weightsPath: String { home.signalWeights }

    /// The learned weights. A file the engine cannot read (another bot's shape, a torn hand
    /// edit) must not stop trading: it is moved aside, named in `problem`, and learning starts
    /// from the defaults.
    func loadWeights() -> (weights: SignalWeights, problem: String?) {
        guard FileIO.exists(weightsPath) else { return (SignalWeights(), nil) }
        do {
            return (try SignalWeights.parse(try ConfigFiles.json(weightsPath), file: weightsPath), nil)
        } catch {
            let aside = weightsPath + ".unreadable-\(WallClock.now.microseconds)"
            let moved = rename(weightsPath, aside) == 0
            return (
                SignalWeights(),
                "\(error); starting from the default weights"
                    + (moved ? " (the file is kept as \(aside))" : " (it could not be moved aside)")
            )
        }
    }

    func saveWeights(_ weights: SignalWeights) throws {
        try FileIO.writeJSON(weightsPath, weights.json)
    }

    /// One structured line in logs/bot.jsonl (level, event, cycle, details).
    public func log(_ level: String, _ event: String, cycle: Int, at: Instant, _ fields: [JSONField] = []) {
        var object = JSONObject([
            JSONField("ts", .string(at.iso8601)), JSONField("level", .string(level)),
            JSONField("event", .string(event)),
            JSONField("cycle", .int(cycle)), JSONField("pid", .int(ProcessIdentity.pid)),
        ])
        object.fields.append(contentsOf: fields)
        try? botLog.append(.object(object), sync: level == "error" || level == "critical")
        console?.event(level: level, event: event, cycle: cycle, at: at, fields: fields)
    }
}
