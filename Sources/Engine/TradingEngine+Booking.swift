import Exchange
import TradingCore
import TradingStore

/// Booking a close, and what the open positions are worth and commit.
extension TradingEngine {
    /// Books the close of the open position at `index` at `fill`: the one way a position is
    /// closed. A fill for less than the position (an exchange's partial fill) closes that part;
    /// the rest stays open with its share of the entry fee, margin and funding. Returns whether
    /// the position left the open list.
    @discardableResult
    func book(index: Int, fill: Fill, reason: ExitReason, fillLabel: String, now: Instant, result: inout CycleResult)
        throws -> Bool
    {
        var p = file.open[index]
        guard let entry = p.entryPrice, let side = p.side else { return false }
        let sign = side == .long ? 1.0 : -1.0
        var remainder: Position?
        if let size = p.size, fill.quantity > 0, fill.quantity < size * 0.999 {
            let share = fill.quantity / size
            var rest = p
            rest.size = round6(size - fill.quantity)
            rest.marginCollateral = p.marginCollateral.map { cents($0 * (1 - share)) }
            p.size = round6(fill.quantity)
            p.marginCollateral = p.marginCollateral.map { cents($0 * share) }
            for key in ["entry_fee", "funding", "contracts"] {
                guard let v = p.extra[key]?.doubleValue else { continue }
                rest.extra[key] = .double(round6(v * (1 - share)))
                p.extra[key] = .double(round6(v * share))
            }
            remainder = rest
            stores.log(
                "warning", "partial_close", cycle: cycle, at: now,
                [
                    JSONField("symbol", .string(p.symbol)), JSONField("closed", .double(round6(fill.quantity))),
                    JSONField("left_open", .double(round6(size - fill.quantity))),
                ])
        }
        let quantity = p.size ?? 0
        let gross = (fill.price - entry) * quantity * sign
        let fees = (p.extra["entry_fee"]?.doubleValue ?? 0) + fill.fee
        let funding = p.extra["funding"]?.doubleValue ?? 0
        let net = gross - fees + funding
        p.exitPrice = fill.price
        p.pnl = round6(gross)
        p.netPnl = round6(net)
        p.closedAt = Timestamp(now)
        p.extra["exit_reason"] = .string(reason.rawValue)
        p.extra["fees"] = .double(round6(fees))
        if let id = fill.details["order_id"] { p.extra["exit_order_id"] = id }
        if let remainder { file.open[index] = remainder } else { file.open.remove(at: index) }
        file.closed.append(p)
        pendingClosed.append(p)
        closedThisRun.append(p)
        if config.walletReset.counts(p) {
            balance += p.netPnl ?? 0
            dayPnl += p.netPnl ?? 0
        }
        if let setup = p.extra["setup"]?.stringValue { expectancy.record(setup: setup, netPnl: net, at: now) }
        autonomy.tradeClosed(strategy: p.strategy ?? "unknown", netPnl: net, at: now)
        if let ctx = p.extra["signal_ctx"]?.objectValue {
            var scores: [String: Double] = [:]
            for f in ctx.fields { scores[f.key] = f.value.doubleValue }
            weights.learn(scores: scores, direction: side, netPnl: net)
            weightsDirty = true
        }
        dirty = true
        result.closed += 1
        hash.add("\(cycle)|\(p.symbol)|closed|\(reason.rawValue)|\(cents(net))")
        let line: JSONValue = [
            "ts": .string(now.iso8601), "cycle": .int(cycle), "symbol": .string(p.symbol), "action": "closed",
            "direction": .string(side.rawValue), "reason": .string(reason.rawValue), "net_pnl": .double(cents(net)),
            "fill": .string(fillLabel), "price": .double(fill.price),
        ]
        try world.write(.signals) { try stores.signals.append(line) }
        return remainder == nil
    }

    /// The open positions as the risk gate counts them: margin, and notional at the entry price
    /// (what was committed; the limits are checked when entering).
    func exposures() -> [Exposure] {
        file.open.map {
            Exposure(
                symbol: $0.symbol, sector: sector($0.symbol), margin: $0.marginCollateral ?? 0,
                notional: ($0.entryPrice ?? 0) * ($0.size ?? 0), strategy: $0.strategy)
        }
            + pending.map {
                Exposure(
                    symbol: $0.symbol, sector: sector($0.symbol), margin: $0.margin, notional: $0.notional,
                    strategy: $0.strategy)
            }
    }

    /// Unrealised P&L of the open positions at the last prices seen, net of the fee paid at
    /// entry and the fee the exit will cost: what closing now would really add to the balance.
    /// A position resumed from the old bot's file, with no entry fee recorded, gets it from its
    /// entry notional.
    func unrealized() -> Double {
        file.open.reduce(0.0) { total, p in
            let price = lastMarket[p.symbol]?.lastPrice ?? p.entryPrice ?? 0
            return total + (p.unrealizedPnl(at: price, takerFee: config.fees.taker) ?? 0)
        }
    }
}
