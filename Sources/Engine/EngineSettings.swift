import TradingCore

/// How this run of the engine persists and names itself; strategy and exits come from bot.json.
public struct EngineSettings: Sendable {
    /// The release running (from deployctl via TRADINGBOT_RELEASE); written into the heartbeat.
    public var release = "dev"
    /// Persist positions and the heartbeat every N cycles (1 in service; more in fast replays).
    public var persistEvery = 1
    public var slippage = 0.0002

    public init() {}
}
