import TradingCore

/// How this run of the engine persists and names itself; strategy and exits come from bot.json.
public struct EngineSettings: Sendable {
    /// The release running (from deployctl via TRADINGBOT_RELEASE); written into the heartbeat.
    public var release = "dev"
    /// Persist positions and the heartbeat every N cycles (1 in service; more in fast replays).
    public var persistEvery = 1
    public var slippage = 0.0002
    /// Fill an entry decided on a candle's close at the next candle's open (replays of recorded
    /// candles), not at the close the decision saw: a replay must not flatter.
    public var fillAtNextOpen = false

    public init() {}
}
