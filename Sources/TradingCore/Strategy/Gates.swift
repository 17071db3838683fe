/// Blocks setups whose recent expectancy (mean net P&L of the last trades) is negative.
/// Outcomes expire after `horizonSeconds`: a blocked setup cannot trade to redeem itself, so
/// without expiry one bad run would block it for ever.
public struct ExpectancyGate: Sendable, Equatable {
    public var window = 20
    public var minTrades = 5
    public var horizonSeconds = 72 * 3600.0
    public private(set) var outcomes: [String: [Outcome]] = [:]

    public struct Outcome: Sendable, Equatable {
        public var at: Instant
        public var netPnl: Double
        public init(at: Instant, netPnl: Double) {
            self.at = at
            self.netPnl = netPnl
        }
    }

    public init() {}

    /// The gate with the outcomes a checkpoint kept, unrounded.
    public init(outcomes: [String: [Outcome]]) { self.outcomes = outcomes }

    public mutating func record(setup: String, netPnl: Double, at: Instant) {
        var list = outcomes[setup, default: []]
        list.append(Outcome(at: at, netPnl: netPnl))
        if list.count > window { list.removeFirst(list.count - window) }
        outcomes[setup] = list
    }

    /// Net P&L of the setup's outcomes still inside the horizon at `now`, oldest first.
    public func recent(setup: String, now: Instant) -> [Double] {
        let since = now.adding(seconds: -horizonSeconds)
        return (outcomes[setup] ?? []).filter { $0.at >= since }.map(\.netPnl)
    }

    /// Why the setup is blocked at `now`, or nil when allowed.
    public func blockReason(setup: String, now: Instant) -> String? {
        let since = now.adding(seconds: -horizonSeconds)
        guard let recent = outcomes[setup]?.filter({ $0.at >= since }), recent.count >= minTrades else { return nil }
        let expectancy = mean(recent.map(\.netPnl))
        guard expectancy < 0 else { return nil }
        return "recent expectancy of \(setup) is \(money(expectancy)) per trade over its last \(recent.count) trades"
    }
}

/// Hurst regime gate: do not fade a trending market or chase a mean-reverting one.
public enum RegimeGate {
    static let trendFollowing: Set<String> = ["momentum", "trend_strength", "volatility_breakout"]

    public static func blockReason(dominant: String?, regime: Regime?) -> String? {
        guard let dominant, let regime else { return nil }
        if regime == .trending && dominant == "mean_reversion" { return "mean reversion in a trending regime" }
        if regime == .meanReverting && trendFollowing.contains(dominant) {
            return "\(dominant) in a mean-reverting regime"
        }
        return nil
    }
}
