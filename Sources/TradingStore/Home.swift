import Foundation

/// The deployment root and every path in it (docs/home.md). No other code spells a
/// data path: a flip or rollback changes `slots/current`, never where the data lives.
public struct Home: Sendable, Equatable {
    /// Absolute path of the home directory.
    public let root: String

    public init(root: String) {
        self.root = Home.absolute(root)
    }

    /// `--home`, else `TRADINGBOT_HOME`, else the current directory.
    public static func resolve(option: String?, environment: [String: String] = ProcessInfo.processInfo.environment)
        -> Home
    {
        if let option, !option.isEmpty { return Home(root: option) }
        if let env = environment["TRADINGBOT_HOME"], !env.isEmpty { return Home(root: env) }
        return Home(root: FileManager.default.currentDirectoryPath)
    }

    static func absolute(_ path: String) -> String {
        var p = path
        if !p.hasPrefix("/") { p = FileManager.default.currentDirectoryPath + "/" + p }
        var parts: [Substring] = []
        for part in p.split(separator: "/") {
            if part == "." || part.isEmpty { continue }
            if part == ".." {
                _ = parts.popLast()
                continue
            }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    func path(_ components: String...) -> String { ([root] + components).joined(separator: "/") }

    public var configDir: String { path("config") }
    public var botConfig: String { path("config", "bot.json") }
    public var assetUniverse: String { path("config", "asset_universe.json") }
    public var deployConfig: String { path("config", "deploy.json") }
    public var logsDir: String { path("logs") }
    public var positions: String { path("logs", "positions_futures.json") }
    public var signalsLog: String { path("logs", "signals.jsonl") }
    public var decisionsLog: String { path("logs", "enriched_decisions.jsonl") }
    public var botLog: String { path("logs", "bot.jsonl") }
    public var deployLogsDir: String { path("logs", "deploy") }
    public var dataDir: String { path("data") }
    public var database: String { path("data", "trading_system.db") }
    /// The candles the engine saw (a week), for the dashboard's missed opportunities.
    public var candleStore: String { path("data", "candles.db") }
    /// The flight recorder's segments: each cycle's inputs and the engine's checkpoints.
    public var recordingDir: String { path("data", "recording") }
    /// The flight recorder's bound (a file of its own: older engines never read it).
    public var recordingConfig: String { path("config", "recording.json") }
    public var stateDir: String { path("state") }
    public var heartbeat: String { path("state", "heartbeat.json") }
    /// Capital scaling's state (the step and its evidence), and the engine's last view of its
    /// health and allocation (for the dashboard and /metrics).
    public var scalingState: String { path("state", "scaling.json") }
    public var healthView: String { path("state", "health.json") }
    public var releasesLedger: String { path("state", "releases.jsonl") }
    /// The decision diff's report of each release (`RELEASE.json`).
    public var decisionsDir: String { path("state", "decisions") }
    /// Where the decision diff's two replays write while they run (under the deploy lock).
    public var decisionsScratch: String { path("state", "decisions-replays") }
    public var engineLock: String { path("state", "engine.lock") }
    public var deployLock: String { path("state", "deploy.lock") }
    public var positionsLock: String { path("state", "positions.lock") }
    public var featureStore: String { path("feature_store") }
    /// The engine's learned signal weights.
    public var signalWeights: String { path("feature_store", "signal_weights.json") }
    public var reportsDir: String { path("reports") }
    public var slotsDir: String { path("slots") }
    /// Where every release is built, for either slot (one build folder that stays incremental);
    /// only its products are copied into the slot. Used under the deploy lock.
    public var buildWorkspace: String { path("workspace") }
    public var currentSlot: String { path("slots", "current") }
    public func slot(_ name: String) -> String { path("slots", name) }

    /// The release id of the live slot (its `.release`), which the service starts the engine
    /// under: no shell wrapper in the units has to read it.
    public var currentRelease: String? {
        guard let bytes = try? FileIO.read(currentSlot + "/.release") else { return nil }
        let text = String(String(decoding: bytes, as: UTF8.self).trimmingSpaces)
        return text.isEmpty ? nil : text
    }

    /// Creates the directories the bot writes into (config is the operator's to create).
    public func createDirectories() throws {
        for dir in [logsDir, dataDir, stateDir, featureStore, reportsDir, slotsDir] {
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            } catch {
                throw StoreError(path: dir, message: "cannot create directory: \(error.localizedDescription)")
            }
        }
    }
}
