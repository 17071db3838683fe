import TradingCore

/// `state/heartbeat.json`, written atomically by the engine and read by the watchdog and deployctl.
public struct HeartbeatStore: Sendable {
    public let path: String

    public init(path: String) { self.path = path }
    public init(home: Home) { self.init(path: home.heartbeat) }

    public func write(_ heartbeat: Heartbeat) throws {
        try FileIO.writeJSON(path, heartbeat.json)
    }

    /// The last heartbeat, or nil when the engine has never written one.
    public func read() throws -> Heartbeat? {
        guard FileIO.exists(path) else { return nil }
        return try Heartbeat.parse(try ConfigFiles.json(path), file: path)
    }
}
