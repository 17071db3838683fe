import Exchange
import TradingCore
import TradingStore

/// Entries: the decision for each symbol, the order, the fill of the next candle's open.
extension TradingEngine {
    /// Fills the entries ordered last cycle at this cycle's first price, the open of the candle
    /// after the one the decision saw (plus slippage and the fee). An entry the breaker or the
    /// reducing state now forbids, or whose symbol has no candle, is cancelled.
    func fillPending(_ snapshots: [MarketSnapshot], now: Instant, result: inout CycleResult) throws {
        let orders = pending
        pending.removeAll()
        for order in orders {
            func line(_ action: String, _ reason: String, price: Double? = nil) throws {
                hash.add(
                    "\(cycle)|\(order.symbol)|\(action)|\(order.direction.rawValue)|\(price.map { "\($0)" } ?? "")")
                var o = JSONObject([
                    JSONField("ts", .string(now.iso8601)), JSONField("cycle", .int(cycle)),
                    JSONField("symbol", .string(order.symbol)), JSONField("action", .string(action)),
                    JSONField("direction", .string(order.direction.rawValue)), JSONField("reason", .string(reason)),
                    JSONField("rule", .string(order.bound)), JSONField("notional", .double(cents(order.notional))),
                ])
                if let price { o["price"] = .double(price) }
                if let sizing = order.extra["sizing"] { o["sizing"] = sizing }
                try world.write(.signals) { try stores.signals.append(.object(o)) }
            }
            let why = !breaker.allowsEntries ? breakerDescription : reducingReason
            guard let snapshot = snapshots.first(where: { $0.symbol == order.symbol }),
                let open = snapshot.candles.last?.open, open > 0, why == nil,
                !file.open.contains(where: { $0.symbol == order.symbol })
            else {
                try line("cancelled", why ?? "no candle for \(order.symbol) to fill at")
                continue
            }
            let atOpen = MarketSnapshot(
                symbol: order.symbol, time: now,
                candles: [Candle(ts: now, open: open, high: open, low: open, close: open, volume: 0)])
            let fill = try openPosition(order, at: atOpen, now: now)
            try line("executed", "\(order.direction.rawValue) \(order.symbol) at the open \(open)", price: fill.price)
        }
    }

    func decide(_ snapshot: MarketSnapshot, now: Instant, result: inout CycleResult) throws {
        let readings = SignalCatalog.all.map { (name: $0.name, reading: $0.read(snapshot)) }
        result.signalsEvaluated += readings.count
        let decision = EnsembleDecision(readings: readings, weights: weights)
        let symbol = snapshot.symbol
        func record(
            _ action: String, _ reason: String, rule: String? = nil, notional: Double? = nil, sizing: JSONValue? = nil
        ) throws {
            let direction = decision.direction?.rawValue ?? "NONE"
            // A skip's rule is for the log (and the A/A); the hash keeps its older form, so the
            // decisions hash of a replay stays comparable across releases.
            let hashed = action == "skipped" ? "" : (rule ?? "")
            hash.add("\(cycle)|\(symbol)|\(action)|\(direction)|\(hashed)|\(notional.map { String(cents($0)) } ?? "")")
            var line = JSONObject([
                JSONField("ts", .string(now.iso8601)), JSONField("cycle", .int(cycle)),
                JSONField("symbol", .string(symbol)),
                JSONField("action", .string(action)), JSONField("direction", .string(direction)),
                JSONField("score", .double(round4(decision.score))), JSONField("agreeing", .int(decision.agreeing)),
                JSONField("reason", .string(reason)),
            ])
            if let rule { line["rule"] = .string(rule) }
            if action != "skipped" {
                line["setup"] = decision.setup.map { .string($0) } ?? .null
                line["scores"] = scoresJSON(decision)
                line["unavailable"] = .array(
                    readings.compactMap {
                        if case .unavailable(let why) = $0.reading { return .string("\($0.name): \(why)") }
                        return nil
                    })
            }
            if let notional { line["notional"] = .double(cents(notional)) }
            if let sizing { line["sizing"] = sizing }
            try world.write(.signals) { try stores.signals.append(.object(line)) }
        }
        guard let direction = decision.direction, abs(decision.score) >= config.strategy.entryThreshold else {
            result.skipped += 1
            return try record(
                "skipped",
                "score \(round4(decision.score)) below the entry threshold \(config.strategy.entryThreshold)",
                rule: "entry_threshold")
        }
        guard decision.agreeing >= config.strategy.minAgreeing else {
            result.skipped += 1
            return try record(
                "skipped", "\(decision.agreeing) signal(s) agree; \(config.strategy.minAgreeing) needed",
                rule: "min_agreeing")
        }
        if file.open.contains(where: { $0.symbol == symbol }) || pending.contains(where: { $0.symbol == symbol }) {
            result.skipped += 1
            return try record("skipped", "a \(symbol) position is already open", rule: "already_open")
        }
        func block(_ rule: String, _ detail: String) throws {
            result.blocked += 1
            try record("blocked", detail, rule: rule)
        }
        guard breaker.allowsEntries else {
            if case .tripped(let reason, _) = breaker.state { return try block("circuit_breaker", reason) }
            return
        }
        if let why = reducingReason { return try block("reducing", why) }
        if let why = RegimeGate.blockReason(dominant: decision.dominant, regime: hurst.regime(snapshot)) {
            return try block("hurst_regime", why)
        }
        if let setup = decision.setup, let why = expectancy.blockReason(setup: setup, now: now) {
            return try block("expectancy", why)
        }
        // Predictive sizing: conviction above the threshold, times the setup's health, scales the
        // notional up to the maximum; capital scaling and the strategy's allocation cap it.
        let strategy = "Ensemble-\(decision.dominant ?? "mixed")"
        let plan = sizing(decision, strategy: strategy, now: now)
        let verdict = risk.evaluate(
            symbol: symbol, sector: sector(symbol), desiredNotional: plan.desired,
            leverage: config.strategy.leverage, equity: balance + unrealized(), open: exposures(),
            openedToday: openedToday, exposureScale: plan.scaling, allocation: plan.allocation)
        switch verdict {
        case .block(let rule, let detail):
            return try block(rule, detail)
        case .allow(let notional, let margin, let bound):
            var extra = JSONObject()
            extra["signal_ctx"] = scoresJSON(decision)
            extra["setup"] = decision.setup.map { .string($0) } ?? .null
            if autonomyOn { extra["sizing"] = plan.json }
            let order = EntryOrder(
                symbol: symbol, direction: direction, notional: notional, margin: margin, bound: bound, extra: extra,
                strategy: strategy)
            // Counted once placed: a fill that throws counts nothing.
            let fill: Fill?
            do {
                fill = settings.fillAtNextOpen ? nil : try openPosition(order, at: snapshot, now: now)
            } catch let notSent as OrderNotSent {
                // Not a failure: the exchange's minimum size, an instrument not trading.
                return try block(notSent.rule, notSent.reason)
            }
            if fill == nil { pending.append(order) }
            openedToday += 1
            result.executed += 1
            if let fill {
                try record(
                    "executed", "\(direction.rawValue) \(symbol) at \(fill.price)", rule: bound, notional: notional,
                    sizing: extra["sizing"])
            } else {
                try record(
                    "ordered", "\(direction.rawValue) \(symbol) at the next candle's open", rule: bound,
                    notional: notional, sizing: extra["sizing"])
            }
        }
    }

    /// Fills `order` at `market` and opens its position: the one way a position is opened.
    func openPosition(_ order: EntryOrder, at market: MarketSnapshot, now: Instant) throws -> Fill {
        let fill = try world.order(
            symbol: order.symbol, buy: order.direction == .long, notional: order.notional, market: market)
        if let expected = market.lastPrice, expected > 0 {
            autonomy.filled(slippage: (fill.price - expected) / expected * (order.direction == .long ? 1 : -1))
        }
        var extra = order.extra
        extra["entry_fee"] = .double(round6(fill.fee))
        extra["best_move"] = .double(0)
        extra["mode"] = .string(world.mode)
        extra["release"] = .string(settings.release)
        for field in fill.details.fields { extra[field.key] = field.value }
        file.open.append(
            Position(
                symbol: order.symbol, direction: order.direction.rawValue, entryPrice: fill.price,
                size: round6(fill.quantity), leverage: config.strategy.leverage, marginCollateral: cents(order.margin),
                openedAt: Timestamp(now), strategy: order.strategy, botType: "alpha", extra: extra))
        dirty = true
        return fill
    }
}
