#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What one signal says about one symbol now. Scores are in -1...1: positive is LONG,
/// negative SHORT (signals indicate direction directly, never inverted downstream).
public enum SignalReading: Sendable, Equatable {
    case score(Double)
    /// The input this signal needs is missing; the reason names it.
    case unavailable(String)

    public var value: Double? {
        if case .score(let s) = self { return s }
        return nil
    }
}

/// One factor of the multi-factor engine: a small pure function of a snapshot.
public protocol Signal: Sendable {
    /// Stable name used in logs, weights and attribution.
    var name: String { get }
    func read(_ snapshot: MarketSnapshot) -> SignalReading
}

/// The ten signals the old bot used, with their default parameters.
public enum SignalCatalog {
    public static let all: [any Signal] = [
        OrderFlowImbalance(), LiquidationCascade(), FundingRateSignal(), OpenInterestVelocity(), Momentum(),
        MeanReversion(), VolatilityBreakout(), VolumeSpike(), TrendStrength(), HurstRegimeSignal(),
    ]

    public static var names: [String] { all.map(\.name) }
}

@inline(__always)
func clampUnit(_ x: Double) -> Double { x.isFinite ? max(-1, min(1, x)) : 0 }

/// Log returns of consecutive closes.
func logReturns(_ candles: ArraySlice<Candle>) -> [Double] {
    var out: [Double] = []
    out.reserveCapacity(max(0, candles.count - 1))
    var previous: Double?
    for c in candles {
        if let p = previous, p > 0, c.close > 0 { out.append(_log(c.close / p)) }
        previous = c.close
    }
    return out
}

func mean(_ xs: [Double]) -> Double { xs.isEmpty ? 0 : xs.reduce(0, +) / Double(xs.count) }

func standardDeviation(_ xs: [Double]) -> Double {
    guard xs.count > 1 else { return 0 }
    let m = mean(xs)
    var s = 0.0
    for x in xs { s += (x - m) * (x - m) }
    return (s / Double(xs.count - 1)).squareRoot()
}

@inline(__always) func _log(_ x: Double) -> Double { log(x) }
