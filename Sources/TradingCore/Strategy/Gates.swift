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

    /// A book of outcomes kept by another key and window (the allocation's, by strategy).
    public init(window: Int, horizonSeconds: Double, outcomes: [String: [Outcome]] = [:]) {
        self.window = window
        self.horizonSeconds = horizonSeconds
        self.outcomes = outcomes
    }

    /// The outcomes as a checkpoint keeps them: by key, `[[TIME, net_pnl], ...]`, unrounded.
    public var outcomesJSON: JSONValue {
        .object(
            JSONObject(
                outcomes.keys.sorted().map { key in
                    JSONField(
                        key,
                        .array(
                            (outcomes[key] ?? []).map {
                                .array([SnapshotCodec.instantJSON($0.at), .double($0.netPnl)])
                            }))
                }))
    }

    /// The outcomes `outcomesJSON` wrote; a pair it cannot read is left out.
    public static func outcomes(from value: JSONValue?) -> [String: [Outcome]] {
        var outcomes: [String: [Outcome]] = [:]
        for field in value?.objectValue?.fields ?? [] {
            outcomes[field.key] = (field.value.arrayValue ?? []).compactMap { pair in
                guard let a = pair.arrayValue, a.count == 2, let at = SnapshotCodec.instant(a[0]),
                    let net = a[1].doubleValue
                else { return nil }
                return Outcome(at: at, netPnl: net)
            }
        }
        return outcomes
    }

    public mutating func record(setup: String, netPnl: Double, at: Instant) {
        outcomes[setup, default: []].appendKeepingNewest(Outcome(at: at, netPnl: netPnl), window)
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

extension Array {
    /// Appends `element`, dropping the oldest so at most `kept` remain (a window of the newest).
    public mutating func appendKeepingNewest(_ element: Element, _ kept: Int) {
        append(element)
        if count > kept { removeFirst(count - kept) }
    }
}
