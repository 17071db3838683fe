/// When an engine counts as stalled or not trading: the watchdog acts on these, and the
/// dashboard colours its health panel by the same numbers, so the two never disagree.
public struct HealthThresholds: Sendable, Equatable {
    public var cycleSeconds: Double
    /// A heartbeat older than this is a stall (`watchdog.stall_cycles` cycles).
    public var stallSeconds: Double
    /// No signal evaluated, or no price changed, for this long is a trading stall.
    public var tradingStallSeconds: Double

    public init(cycleSeconds: Int, watchdog: DeployConfig.Watchdog) {
        self.cycleSeconds = Double(cycleSeconds)
        stallSeconds = Double(cycleSeconds * watchdog.stallCycles)
        tradingStallSeconds = Double(cycleSeconds * watchdog.tradingStallCycles)
    }
}
