import TradingCore
import TradingStore

extension TradingEngine {
    /// Keeps the newest candle of each symbol in data/candles.db and, once an hour, drops what
    /// is older than a week. Derived data: a failure is logged once and never stops trading.
    func recordCandles(_ snapshots: [MarketSnapshot], now: Instant) {
        do {
            if candleStore == nil { candleStore = try CandleStore(path: stores.home.candleStore) }
            guard let store = candleStore else { return }
            try store.record(snapshots.compactMap { s in s.candles.last.map { (s.symbol, $0) } })
            if cycle % 60 == 1 { try store.prune(before: now.adding(seconds: -CandleStore.retentionSeconds)) }
            candleProblem = nil
        } catch {
            if candleProblem == nil {
                stores.log(
                    "error", "candles_not_recorded", cycle: cycle, at: now, [JSONField("error", .string("\(error)"))])
            }
            candleProblem = "\(error)"
        }
    }
}
