import TradingCore

/// Strategy parameters that are not operator config (yet): thresholds, leverage, exits.
public struct EngineSettings: Sendable {
    /// The release running (from deployctl via TRADINGBOT_RELEASE); written into the heartbeat.
    public var release = "dev"
    public var leverage = 5.0
    /// Minimum |ensemble score| for an entry.
    public var entryThreshold = 0.25
    /// Minimum number of signals agreeing with the ensemble's direction.
    public var minAgreeing = 3
    public var exits = ExitPolicy()
    /// Persist positions and the heartbeat every N cycles (1 in service; more in fast replays).
    public var persistEvery = 1
    public var slippage = 0.0002

    public init() {}
}
