import Exchange
import TradingCore
import TradingStore

/// Perpetual funding settled on open positions.
extension TradingEngine {
    /// Perpetual funding, settled every 8 hours (00:00, 08:00, 16:00 UTC): each position open
    /// before a funding time that passed since the last cycle pays (or receives) notional x rate
    /// at the feed's funding rate; a long pays a positive rate, a short receives it. The amount
    /// accumulates in the position's `funding` and counts in its net P&L at the close and in
    /// the unrealised P&L until then. A funding time passed while the engine was down is not
    /// guessed at.
    func bookFunding(now: Instant) {
        defer { lastCycleAt = now }
        guard let last = lastCycleAt, now > last else { return }
        let period = Int64(8 * 3600) * 1_000_000
        let fundingTime = Instant(microseconds: now.microseconds / period * period)
        guard fundingTime > last else { return }
        for index in file.open.indices {
            var p = file.open[index]
            guard let opened = p.openedAt?.instant, opened < fundingTime, let side = p.side, let q = p.size,
                let market = lastMarket[p.symbol], !missingSymbols.contains(p.symbol),
                let rate = market.fundingRate, let price = market.lastPrice
            else { continue }
            let amount = -(side == .long ? 1.0 : -1.0) * q * price * rate
            p.extra["funding"] = .double(round6((p.extra["funding"]?.doubleValue ?? 0) + amount))
            file.open[index] = p
            dirty = true
            hash.add("\(cycle)|\(p.symbol)|funding|\(round6(amount))")
        }
    }
}
