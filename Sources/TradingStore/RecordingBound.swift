import TradingCore

/// How much disk the flight recorder may use: `config/recording.json` `{"max_mb": 2000}` (a file
/// of its own, so an older engine after a rollback never meets an unknown key in bot.json), and
/// never so much that the home's free space falls below the watchdog's `min_free_disk_mb` plus
/// 1 GB (the engine's own files come first).
public struct RecordingBound: Sendable, Equatable {
    public static let defaultMaxMB = 2000
    public static let maxMBRange = 50...1_000_000
    public static let keys = ["max_mb"]

    public var maxBytes: Int64
    public var minFreeBytes: Int64

    public init(maxMB: Int = defaultMaxMB, minFreeDiskMB: Int = 1000) {
        maxBytes = Int64(maxMB) * 1_000_000
        minFreeBytes = (Int64(minFreeDiskMB) + 1000) * 1_000_000
    }

    /// The home's bound. A missing file takes the defaults; an unreadable one too, with the
    /// problem returned for the log: the recorder must never keep the engine from trading.
    /// `minFreeDiskMB` is deploy.json's watchdog floor when the caller has read it already.
    public static func load(home: Home, minFreeDiskMB: Int? = nil) -> (RecordingBound, problem: String?) {
        let minFree =
            minFreeDiskMB
            ?? (FileIO.exists(home.deployConfig) ? try? ConfigFiles.deploy(home.deployConfig) : nil)?.watchdog
            .minFreeDiskMB ?? DeployConfig().watchdog.minFreeDiskMB
        guard FileIO.exists(home.recordingConfig) else { return (RecordingBound(minFreeDiskMB: minFree), nil) }
        do {
            return (
                try parse(ConfigFiles.json(home.recordingConfig), file: home.recordingConfig, minFree: minFree), nil
            )
        } catch {
            return (RecordingBound(minFreeDiskMB: minFree), "\(error); recording with max_mb \(defaultMaxMB)")
        }
    }

    static func parse(_ value: JSONValue, file: String, minFree: Int) throws(ConfigError) -> RecordingBound {
        let root = try ConfigSection(file: file, path: "", value: value)
        try root.allowOnly(keys)
        return RecordingBound(
            maxMB: try root.int("max_mb", in: maxMBRange, default: defaultMaxMB), minFreeDiskMB: minFree)
    }
}
