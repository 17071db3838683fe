#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The Hurst exponent of a series of returns, from how the spread of n-step sums grows with n
/// (aggregated-variance method): 0.5 for a random walk, above for persistent (trending) moves,
/// below for anti-persistent (mean-reverting) ones. Unbiased for iid increments, unlike plain R/S.
public enum HurstExponent {
    public static func estimate(returns: [Double], lags: [Int] = [1, 2, 4, 8, 16]) -> Double? {
        let usable = lags.filter { $0 * 4 <= returns.count }
        guard usable.count >= 3 else { return nil }
        var prefix = [0.0]
        prefix.reserveCapacity(returns.count + 1)
        for r in returns { prefix.append(prefix[prefix.count - 1] + r) }
        var xs: [Double] = []
        var ys: [Double] = []
        for lag in usable {
            var sums: [Double] = []
            sums.reserveCapacity(returns.count - lag + 1)
            for start in 0...(returns.count - lag) { sums.append(prefix[start + lag] - prefix[start]) }
            let sd = standardDeviation(sums)
            guard sd > 0 else { return nil }
            xs.append(log(Double(lag)))
            ys.append(log(sd))
        }
        let mx = mean(xs)
        let my = mean(ys)
        var sxy = 0.0
        var sxx = 0.0
        for (x, y) in zip(xs, ys) {
            sxy += (x - mx) * (y - my)
            sxx += (x - mx) * (x - mx)
        }
        return sxx > 0 ? sxy / sxx : nil
    }
}

/// The market regime the Hurst exponent points to.
public enum Regime: String, Sendable {
    case trending, meanReverting = "mean_reverting", random
}

/// Hurst regime as a directional signal: in a persistent regime follow the recent move, in an
/// anti-persistent one fade it, in a random one say nothing.
public struct HurstRegimeSignal: Signal {
    public let name = "hurst_regime"
    public var window = 100
    public var band = 0.05

    public init() {}

    public func hurst(_ s: MarketSnapshot) -> Double? {
        guard s.candles.count > window else { return nil }
        return HurstExponent.estimate(returns: logReturns(s.candles.suffix(window + 1)))
    }

    public func regime(_ s: MarketSnapshot) -> Regime? {
        guard let h = hurst(s) else { return nil }
        return h > 0.5 + band ? .trending : h < 0.5 - band ? .meanReverting : .random
    }

    public func read(_ s: MarketSnapshot) -> SignalReading {
        guard let h = hurst(s) else { return .unavailable("fewer than \(window + 1) candles") }
        let c = s.candles
        let recent = c[c.count - 1].close - c[c.count - 6].close
        guard abs(h - 0.5) > band, recent != 0 else { return .score(0) }
        return .score(clampUnit((recent > 0 ? 1 : -1) * (h - 0.5) * 4))
    }
}
