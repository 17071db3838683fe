/// Order-flow imbalance: net aggressive buying over the recent trades, else the top-of-book
/// size imbalance (a weaker proxy, halved).
public struct OrderFlowImbalance: Signal {
    public let name = "ofi"
    public var minTrades = 10

    public init() {}

    public func read(_ s: MarketSnapshot) -> SignalReading {
        if let trades = s.trades {
            var buy = 0.0
            var sell = 0.0
            var sided = 0
            for t in trades {
                switch t.side {
                case .buy?: buy += t.amount * t.price
                case .sell?: sell += t.amount * t.price
                case nil: continue
                }
                sided += 1
            }
            if sided >= minTrades, buy + sell > 0 { return .score(clampUnit((buy - sell) / (buy + sell))) }
        }
        if let book = s.book, book.bidSize + book.askSize > 0 {
            return .score(clampUnit(0.5 * (book.bidSize - book.askSize) / (book.bidSize + book.askSize)))
        }
        return .unavailable("no trades with aggressor side and no order book")
    }
}

/// Liquidation cascade: forced selling (longs liquidated) pushes price down, so follow it.
public struct LiquidationCascade: Signal {
    public let name = "liquidation_cascade"
    /// Liquidations within this many candles count.
    public var windowCandles = 3
    /// Liquidated notional, as a share of the average candle's traded value, for full strength.
    public var fullStrengthShare = 0.05

    public init() {}

    public func read(_ s: MarketSnapshot) -> SignalReading {
        guard let liquidations = s.liquidations else { return .unavailable("the feed has no liquidation events") }
        guard s.candles.count >= 20, let last = s.candles.last else { return .unavailable("fewer than 20 candles") }
        let interval =
            s.candles.count > 1
            ? s.candles[s.candles.count - 1].ts.microseconds - s.candles[s.candles.count - 2].ts.microseconds
            : 60_000_000
        let since = Instant(microseconds: last.ts.microseconds - interval * Int64(windowCandles - 1))
        var longs = 0.0
        var shorts = 0.0
        for l in liquidations where l.ts >= since {
            if l.side == .long { longs += l.notional } else { shorts += l.notional }
        }
        let total = longs + shorts
        guard total > 0 else { return .score(0) }
        let traded = mean(s.candles.suffix(20).map { $0.volume * $0.close })
        let intensity = traded > 0 ? min(1, total / (traded * fullStrengthShare)) : 1
        return .score(clampUnit((shorts - longs) / total * intensity))
    }
}

/// Funding rate: a high positive rate means crowded longs paying shorts; fade the crowd.
public struct FundingRateSignal: Signal {
    public let name = "funding_rate"
    /// The 8-hour rate treated as extreme (0.05 %).
    public var extreme = 0.0005

    public init() {}

    public func read(_ s: MarketSnapshot) -> SignalReading {
        guard let rate = s.fundingRate else { return .unavailable("the feed has no funding rate") }
        return .score(clampUnit(-rate / extreme))
    }
}

/// Open-interest velocity: new money entering confirms the price move; leaving money does not.
public struct OpenInterestVelocity: Signal {
    public let name = "oi_velocity"
    public var lookback = 6
    /// OI growth over the lookback for full strength (5 %).
    public var fullStrength = 0.05

    public init() {}

    public func read(_ s: MarketSnapshot) -> SignalReading {
        guard let oi = s.openInterest else { return .unavailable("the feed has no open interest") }
        guard oi.count > lookback, s.candles.count > lookback, let first = oi.dropLast(lookback).last, first > 0,
            let lastOI = oi.last
        else { return .unavailable("fewer than \(lookback + 1) open-interest points") }
        let velocity = lastOI / first - 1
        let priceChange = s.candles[s.candles.count - 1].close - s.candles[s.candles.count - 1 - lookback].close
        guard velocity > 0, priceChange != 0 else { return .score(0) }
        return .score(clampUnit((priceChange > 0 ? 1 : -1) * velocity / fullStrength))
    }
}
