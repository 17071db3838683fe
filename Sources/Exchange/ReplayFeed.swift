import TradingCore

/// Replays recorded candles (and funding and trades where present), one step per cycle: each
/// step is the next candle close across all symbols, so symbols stay in time with each other.
public final class ReplayFeed: MarketFeed {
    public let name: String
    public let symbols: [String]
    private let series: [MarketSeries]
    private var cursors: [Int]
    /// Candles each snapshot carries (the signals need at most ~110).
    public var window = 150

    public init(series: [MarketSeries], name: String) {
        self.series = series
        self.name = name
        symbols = series.map(\.symbol)
        cursors = Array(repeating: 0, count: series.count)
    }

    /// Total candles across symbols (for throughput numbers).
    public var candleCount: Int { series.reduce(0) { $0 + $1.candles.count } }

    public func advance(to time: Instant) throws -> [MarketSnapshot]? {
        var next: Instant?
        for (i, s) in series.enumerated() where cursors[i] < s.candles.count {
            let ts = s.candles[cursors[i]].ts
            if next.map({ ts < $0 }) ?? true { next = ts }
        }
        guard let step = next else { return nil }
        var snapshots: [MarketSnapshot] = []
        for (i, s) in series.enumerated() where cursors[i] < s.candles.count && s.candles[cursors[i]].ts == step {
            let index = cursors[i]
            cursors[i] += 1
            let close = step.adding(seconds: Double(s.intervalSeconds))
            let candles = Array(s.candles[max(0, index - window + 1)...index])
            var snapshot = MarketSnapshot(symbol: s.symbol, time: close, candles: candles)
            if !s.funding.isEmpty { snapshot.fundingRate = s.funding.last(where: { $0.ts <= close })?.rate }
            if !s.trades.isEmpty { snapshot.trades = s.trades.filter { $0.ts >= step && $0.ts < close } }
            snapshots.append(snapshot)
        }
        return snapshots
    }
}
