#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Momentum: the return over `lookback` candles in units of its expected noise.
public struct Momentum: Signal {
    public let name = "momentum"
    public var lookback = 12
    public var volatilityWindow = 48

    public init() {}

    public func read(_ s: MarketSnapshot) -> SignalReading {
        let c = s.candles
        guard c.count > max(lookback, volatilityWindow), c[c.count - 1 - lookback].close > 0 else {
            return .unavailable("fewer than \(max(lookback, volatilityWindow) + 1) candles")
        }
        let r = log(c[c.count - 1].close / c[c.count - 1 - lookback].close)
        let noise = standardDeviation(logReturns(c.suffix(volatilityWindow + 1))) * Double(lookback).squareRoot()
        guard noise > 0 else { return .score(0) }
        return .score(clampUnit(r / (2 * noise)))
    }
}

/// Mean reversion: stretched away from the moving average, expect a pull back.
public struct MeanReversion: Signal {
    public let name = "mean_reversion"
    public var window = 20

    public init() {}

    public func read(_ s: MarketSnapshot) -> SignalReading {
        guard s.candles.count >= window, let last = s.candles.last else {
            return .unavailable("fewer than \(window) candles")
        }
        let closes = s.candles.suffix(window).map(\.close)
        let sd = standardDeviation(closes)
        guard sd > 0 else { return .score(0) }
        return .score(clampUnit(-(last.close - mean(closes)) / sd / 3))
    }
}

/// Volatility breakout: a close beyond the range of the last `window` candles, in ATRs.
public struct VolatilityBreakout: Signal {
    public let name = "volatility_breakout"
    public var window = 20

    public init() {}

    public func read(_ s: MarketSnapshot) -> SignalReading {
        guard s.candles.count > window, let last = s.candles.last else {
            return .unavailable("fewer than \(window + 1) candles")
        }
        let prior = s.candles.dropLast().suffix(window)
        let high = prior.map(\.high).max() ?? last.close
        let low = prior.map(\.low).min() ?? last.close
        let atr = mean(prior.map { $0.high - $0.low })
        guard atr > 0 else { return .score(0) }
        if last.close > high { return .score(clampUnit(0.5 + (last.close - high) / atr)) }
        if last.close < low { return .score(clampUnit(-0.5 - (low - last.close) / atr)) }
        return .score(0)
    }
}

/// Volume spike: unusual volume in the direction of the candle that carried it.
public struct VolumeSpike: Signal {
    public let name = "volume_spike"
    public var window = 20
    public var threshold = 2.0

    public init() {}

    public func read(_ s: MarketSnapshot) -> SignalReading {
        guard s.candles.count > window, let last = s.candles.last else {
            return .unavailable("fewer than \(window + 1) candles")
        }
        let average = mean(s.candles.dropLast().suffix(window).map(\.volume))
        guard average > 0, last.close != last.open else { return .score(0) }
        let ratio = last.volume / average
        guard ratio >= threshold else { return .score(0) }
        return .score(clampUnit((last.close > last.open ? 1 : -1) * (0.3 + (ratio - threshold) / 3)))
    }
}

/// Trend strength: the sign of the regression slope of log price, scaled by its R².
public struct TrendStrength: Signal {
    public let name = "trend_strength"
    public var window = 30

    public init() {}

    public func read(_ s: MarketSnapshot) -> SignalReading {
        guard s.candles.count >= window else { return .unavailable("fewer than \(window) candles") }
        let ys = s.candles.suffix(window).map { $0.close > 0 ? log($0.close) : 0 }
        let n = Double(ys.count)
        let mx = (n - 1) / 2
        let my = mean(ys)
        var sxy = 0.0
        var sxx = 0.0
        var syy = 0.0
        for (i, y) in ys.enumerated() {
            let dx = Double(i) - mx
            sxy += dx * (y - my)
            sxx += dx * dx
            syy += (y - my) * (y - my)
        }
        guard sxx > 0, syy > 0 else { return .score(0) }
        let r2 = sxy * sxy / (sxx * syy)
        return .score(clampUnit((sxy > 0 ? 1 : -1) * r2))
    }
}
