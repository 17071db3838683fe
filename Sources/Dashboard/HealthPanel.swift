import TradingCore
import TradingStore

/// Green, amber or red, by the thresholds the watchdog acts on.
public enum HealthLevel: String, Sendable, Comparable {
    case green, amber, red
    var rank: Int { self == .green ? 0 : self == .amber ? 1 : 2 }
    public static func < (a: HealthLevel, b: HealthLevel) -> Bool { a.rank < b.rank }
}

public struct HealthItem: Sendable {
    public var name: String
    public var level: HealthLevel
    public var text: String
}

/// The system health panel on every page: is the engine alive, is it trading, what guards it.
public struct HealthPanel: Sendable {
    public var items: [HealthItem]
    public var worst: HealthLevel { items.map(\.level).max() ?? .green }

    public var json: JSONValue {
        .array(
            items.map {
                ["name": .string($0.name), "level": .string($0.level.rawValue), "text": .string($0.text)]
            })
    }

    public static func read(_ data: DashboardData, positions: PositionsSnapshot) -> HealthPanel {
        let now = data.now
        let bot = try? data.config().get()
        let deploy = (try? ConfigFiles.deploy(data.home.deployConfig)) ?? DeployConfig()
        let limits = HealthThresholds(cycleSeconds: bot?.cycleSeconds ?? 60, watchdog: deploy.watchdog)
        var items: [HealthItem] = []
        func add(_ name: String, _ level: HealthLevel, _ text: String) {
            items.append(HealthItem(name: name, level: level, text: text))
        }
        func ago(_ t: Instant) -> String { "\(duration(max(0, t.seconds(until: now)))) ago" }

        let heartbeat = data.heartbeat()
        switch heartbeat {
        case .failure(let error):
            add("Engine", .red, "heartbeat unreadable: \(error)")
        case .success(nil):
            add("Engine", .red, "no heartbeat yet at \(data.home.heartbeat): the engine has not run in this home")
        case .success(let beat?):
            let age = beat.age(now: now)
            let level: HealthLevel =
                age > limits.stallSeconds || beat.phase == "stopped"
                ? .red : (age > limits.cycleSeconds * 1.5 || beat.consecutiveErrors > 0 ? .amber : .green)
            var text = "cycle \(beat.cycle), \(beat.phase), heartbeat \(ago(beat.writtenAt)), release \(beat.release)"
            if age > limits.stallSeconds { text += " (stalled: threshold \(Int(limits.stallSeconds)) s)" }
            if beat.consecutiveErrors > 0 {
                text += "; \(beat.consecutiveErrors) failed cycle(s) in a row: \(beat.lastError ?? "")"
            }
            add("Engine", level, text)
            let quiet = (beat.lastSignalsAt ?? beat.startedAt).map { $0.seconds(until: now) } ?? 0
            add(
                "Signal engine",
                quiet > limits.tradingStallSeconds ? .red : (beat.signalsEvaluated == 0 ? .amber : .green),
                "\(beat.signalsEvaluated) signals on \(beat.symbolsEvaluated) symbols last cycle"
                    + (beat.lastSignalsAt.map { ", last evaluated \(ago($0))" } ?? ""))
            add(
                "Reducing", beat.reducing == nil ? .green : .amber,
                beat.reducing.map { "no new entries: \($0)" } ?? "no: entries allowed")
        }
        let cycle = data.lastCycle()
        if let cycle, let ts = cycle["ts"]?.instantValue {
            let n = { (k: String) in Int(cycle[k]?.doubleValue ?? 0) }
            add(
                "Decision engine", .green,
                "last cycle \(ago(ts)): \(n("executed")) executed, \(n("blocked")) blocked, \(n("skipped")) skipped, \(n("closed")) closed"
            )
        } else {
            add("Decision engine", .amber, "no cycle logged yet in \(data.home.decisionsLog)")
        }
        add(
            "Trade execution", .green,
            positions.lastFill.map { "last fill \(ago($0))" } ?? "no fill since the wallet reset")
        let breaker = cycle?["breaker"]?.stringValue
        let killSwitch = data.killSwitchOn
        add(
            "Circuit breaker", breaker == "tripped" || killSwitch ? .red : .green,
            (breaker == "tripped" ? "tripped: no new entries" : "armed")
                + (killSwitch ? "; kill switch ON" : "; kill switch off"))
        if let w = data.watchdog() {
            let late = w.at.map { $0.seconds(until: now) > 300 } ?? true
            let level: HealthLevel =
                w.verdict == "healthy" || w.verdict == "not_deployed" ? (late ? .amber : .green) : .red
            add(
                "Watchdog", level,
                "\(w.verdict ?? "no verdict") \(w.at.map(ago) ?? "")" + (w.action.map { ", last action: \($0)" } ?? "")
                    + (late ? " (no run in the last 5 minutes)" : ""))
        } else {
            add("Watchdog", .amber, "no watchdog run recorded in this home")
        }
        let recording = RecordingStatus.read(home: data.home, minFreeDiskMB: deploy.watchdog.minFreeDiskMB)
        let beat = try? heartbeat.get()
        if let problem = recording.problem(now: now, beat: beat, staleAfter: max(120, limits.stallSeconds)) {
            add("Recording", .amber, problem)
        } else {
            add(
                "Recording", .green,
                recording.summary + (recording.newestWrittenAt.map { ", last written \(ago($0))" } ?? ""))
        }
        let r = data.release()
        if let release = r.release {
            let level: HealthLevel = r.state == "good" ? .green : (r.state == "probation" ? .amber : .red)
            add(
                "Release", level,
                "\(release) in slot \(r.slot ?? "?"): \(r.state ?? "not in the ledger")"
                    + (r.since.map { " since \($0.iso8601)" } ?? ""))
        } else {
            add("Release", .amber, "no release deployed (slots/current is absent): a development run")
        }
        return HealthPanel(items: items)
    }
}

/// "42 s", "5 min", "3 h 10 min", "2 d 4 h".
func duration(_ seconds: Double) -> String {
    let s = Int(seconds)
    if s < 120 { return "\(s) s" }
    if s < 3600 { return "\(s / 60) min" }
    if s < 86_400 { return "\(s / 3600) h \(s % 3600 / 60) min" }
    return "\(s / 86_400) d \(s % 86_400 / 3600) h"
}
