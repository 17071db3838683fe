import Exchange
import TradingCore

/// The engine's side of trading on an exchange: what the feed has to say, and each cycle's
/// reconciliation of the engine's positions with the exchange's (the governance layer).
extension TradingEngine {
    /// Logs each retry of the exchange clients (what failed, the wait) as `exchange_retry`, so a
    /// flaky connection shows before it fails a cycle.
    public func logExchangeRetries(now: @escaping () -> Instant) {
        guard let live = world.live else { return }
        let clients = [(live.feed as? BloFinFeed)?.client, (live.broker as? BloFinBroker)?.client].compactMap { $0 }
        for client in clients {
            client.onRetry = { [weak self] message in
                guard let self else { return }
                self.stores.log(
                    "warning", "exchange_retry", cycle: self.cycle, at: now(), [JSONField("message", .string(message))])
            }
        }
    }

    func logFeedNotices(now: Instant) {
        for notice in world.feedNotices() {
            stores.log(
                notice.level, notice.event, cycle: cycle, at: now,
                [JSONField("feed", .string(world.feedName)), JSONField("message", .string(notice.message))])
        }
    }

    /// Books what the exchange closed (its stop, its take-profit, a liquidation) as closed trades
    /// at their fill price and fee, logs every difference, and stops new entries while the
    /// exchange holds a position the engine does not know or cannot be asked.
    func reconcileWithExchange(now: Instant, result: inout CycleResult) throws {
        let report: Reconciliation
        do {
            guard let answer = try world.reconcile(open: file.open, now: now) else { return }
            report = answer
        } catch {
            if reconcileProblem == nil {
                stores.log(
                    "error", "reconcile_failed", cycle: cycle, at: now,
                    [
                        JSONField("error", .string("\(error)")),
                        JSONField("effect", .string("no new entries until the exchange answers; exits go on")),
                    ])
            }
            reconcileProblem = "\(error)"
            return
        }
        if reconcileProblem != nil {
            stores.log("info", "reconcile_recovered", cycle: cycle, at: now, [])
            reconcileProblem = nil
        }
        for closed in report.closed {
            guard let index = file.open.firstIndex(where: { $0.symbol == closed.symbol }) else { continue }
            let p = file.open[index]
            let price = closed.price ?? lastMarket[p.symbol]?.lastPrice ?? p.entryPrice ?? 0
            stores.log(
                "warning", "closed_on_exchange", cycle: cycle, at: now,
                [
                    JSONField("symbol", .string(closed.symbol)), JSONField("reason", .string(closed.reason.rawValue)),
                    JSONField("price", .double(price)), JSONField("fee", .double(round6(closed.fee))),
                    JSONField("order_id", closed.orderId.map { .string($0) } ?? .null),
                ])
            var details = JSONObject()
            if let id = closed.orderId { details["order_id"] = .string(id) }
            try book(
                index: index,
                fill: Fill(
                    price: price, quantity: p.size ?? 0, fee: closed.fee, details: details),
                reason: closed.reason, fillLabel: "exchange", now: now, result: &result)
        }
        for difference in report.differences {
            stores.log(
                "warning", "exchange_difference", cycle: cycle, at: now, [JSONField("difference", .string(difference))])
        }
        if report.unknown != exchangeUnknown {
            if !report.unknown.isEmpty {
                // Critical: the watchdog alerts the operator.
                stores.log(
                    "critical", "exchange_unknown_position", cycle: cycle, at: now,
                    [
                        JSONField("positions", .array(report.unknown.map { .string($0) })),
                        JSONField(
                            "effect", .string("no new entries until the exchange and the bot agree; exits go on")),
                    ])
            } else {
                stores.log("info", "exchange_positions_agree", cycle: cycle, at: now, [])
            }
            exchangeUnknown = report.unknown
        }
    }
}
