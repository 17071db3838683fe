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
    /// Check the stops against each candle's high and low, not only its close (replays of
    /// recorded candles): a stop the price touched and came back from is filled at its level.
    public var stopsWithinCandle = false
    /// Keep each cycle's newest candles in data/candles.db (the service; replays have their
    /// recorded files already).
    public var recordCandles = true
    /// Copy the positions file into state/snapshots when each UTC day ends (the service; a
    /// replay's temporary home needs none).
    public var daySnapshots = true

    public init() {}
}
