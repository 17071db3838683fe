import Exchange
import TradingCore
import TradingStore

/// Exits: every open position checked each cycle against the exit policy and its stops.
extension TradingEngine {
    func runExits(now: Instant, result: inout CycleResult) throws {
        let equity = balance + unrealized()
        let drawdown = peakEquity > 0 ? max(0, (peakEquity - equity) / peakEquity) : 0
        var index = 0
        while index < file.open.count {
            var p = file.open[index]
            guard let entry = p.entryPrice, entry > 0, let side = p.side, let opened = p.openedAt?.instant else {
                index += 1
                continue
            }
            // A symbol the feed no longer delivers: its last known price (the entry price when
            // none was seen since the start), and only max hold can close it.
            let stale = missingSymbols.contains(p.symbol) || lastMarket[p.symbol]?.lastPrice == nil
            let market =
                lastMarket[p.symbol].flatMap { $0.lastPrice == nil ? nil : $0 }
                ?? MarketSnapshot(
                    symbol: p.symbol, time: now,
                    candles: [Candle(ts: now, open: entry, high: entry, low: entry, close: entry, volume: 0)])
            guard let price = market.lastPrice else {
                index += 1
                continue
            }
            let sign = side == .long ? 1.0 : -1.0
            func moveAt(_ x: Double) -> Double { (x - entry) / entry * sign }
            let move = moveAt(price)
            let held = opened.seconds(until: now)
            // A position filled at this cycle's close saw none of its candle; one filled at its
            // open (`fillAtNextOpen`) saw all of it.
            let sawCandle = settings.stopsWithinCandle && !stale && (held > 0 || settings.fillAtNextOpen)
            let candle = sawCandle ? market.candles.last : nil
            // The stops standing when the candle opened, against its range: filled at their level
            // (or at the open past a gap) before this candle's best move raises them.
            let hit = candle.flatMap {
                config.exits.stopWithin(
                    heldSeconds: held, openMove: moveAt($0.open),
                    adverseMove: moveAt(side == .long ? $0.low : $0.high),
                    bestMove: p.extra["best_move"]?.doubleValue ?? 0)
            }
            let favourable = candle.map { moveAt(side == .long ? $0.high : $0.low) } ?? move
            let best = max(p.extra["best_move"]?.doubleValue ?? 0, move, favourable)
            if best != p.extra["best_move"]?.doubleValue {
                p.extra["best_move"] = .double(round6(best))
                file.open[index] = p
                dirty = true
            }
            let due =
                hit?.reason
                ?? (stale
                    ? (held >= config.exits.maxHoldSeconds ? ExitReason.maxHold : nil)
                    : config.exits.exit(heldSeconds: held, move: move, bestMove: best, drawdown: drawdown))
            // No exit closes a position in the cycle that opened it, except a real stop: a fresh
            // fill always shows the slippage as a small loss.
            guard let reason = due, held > 0 || reason == .emergencyPositionLoss else {
                index += 1
                continue
            }
            let quantity = p.size ?? 0
            let fillMarket =
                hit.map { hit in
                    let level = entry * (1 + hit.fillMove * sign)
                    return MarketSnapshot(
                        symbol: p.symbol, time: now,
                        candles: [Candle(ts: now, open: level, high: level, low: level, close: level, volume: 0)])
                } ?? market
            let fill: Fill
            do {
                fill = try world.close(
                    symbol: p.symbol, buy: side == .short, quantity: quantity, market: fillMarket,
                    onPaper: closesOnPaper(p))
            } catch {
                // One close the exchange refuses (or does not answer) must not stop the other
                // positions' exits; this one is tried again next cycle.
                exitFailures.append("\(p.symbol): \(error)")
                stores.log(
                    "error", "exit_failed", cycle: cycle, at: now,
                    [
                        JSONField("symbol", .string(p.symbol)), JSONField("reason", .string(reason.rawValue)),
                        JSONField("error", .string("\(error)")),
                    ])
                index += 1
                continue
            }
            let left = try book(
                index: index, fill: fill, reason: reason,
                fillLabel: hit.map { $0.gapped ? "open" : "level" } ?? "close",
                now: now, result: &result)
            // A part filled: the rest stays open and is tried again next cycle, not now.
            if !left { index += 1 }
        }
    }

    /// Whether `p` closes on paper: a paper position left in the file when the engine trades
    /// on the exchange; the exchange never had it. (A position of another exchange mode stops
    /// the engine at start: see `init`.)
    func closesOnPaper(_ p: Position) -> Bool {
        let opened = p.extra["mode"]?.stringValue ?? "paper"
        return opened != world.mode && world.mode != "paper"
    }
}
