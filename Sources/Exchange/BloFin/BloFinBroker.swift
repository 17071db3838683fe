import Foundation
import TradingCore

/// Orders on BloFin (the demo host unless the operator set live trading on production). Every
/// entry carries its stop-loss to the exchange, so a stalled engine is not an unprotected one;
/// each cycle's reconciliation books what the exchange closed and reports what it does not know.
public final class BloFinBroker: ReconcilingBroker {
    public let client: BloFinClient
    /// `demo` or `live`.
    public let mode: String
    /// The stop each entry carries, as a fraction of the entry price (the emergency position loss).
    public let stopLossFraction: Double
    public let leverage: Int
    public let marginMode: String
    var leverageSet: Set<String> = []
    var sequence = 0
    let idPrefix: String
    /// Differences already reported, so each is logged once (not every cycle).
    var reported: Set<String> = []
    /// Reconciliations in a row that did not find a position of the bot on BloFin, nor its
    /// closing fill: one empty answer is not a close.
    var missing: [String: Int] = [:]
    /// Missing this many times in a row without a closing fill, a position is booked closed.
    public var missingBeforeBooking = 3

    public init(
        client: BloFinClient, mode: String, stopLossFraction: Double, leverage: Int, marginMode: String = "isolated"
    ) {
        self.client = client
        self.mode = mode
        self.stopLossFraction = stopLossFraction
        self.leverage = max(1, leverage)
        self.marginMode = marginMode
        // Client order ids: letters and digits, at most 32; unique across restarts.
        idPrefix = "tb" + String(UInt64(Date().timeIntervalSince1970 * 1000), radix: 36)
    }

    func nextClientOrderId() -> String {
        sequence += 1
        return idPrefix + "x" + String(sequence, radix: 36)
    }

    func instrument(_ symbol: String) throws -> BloFinInstrument {
        guard let i = try client.instrumentsBySymbol()[symbol] else {
            throw BrokerError("BloFin lists no USDT perpetual for \(symbol)")
        }
        guard i.isLive else {
            throw OrderNotSent(rule: "exchange_state", reason: "\(i.instId) is \(i.state) on BloFin")
        }
        return i
    }

    public func marketOrder(symbol: String, buy: Bool, notional: Double, market: MarketSnapshot) throws -> Fill {
        let instrument = try instrument(symbol)
        guard let price = buy ? market.askPrice : market.bidPrice, price > 0 else {
            throw BrokerError("no price for \(symbol) in this cycle's market data")
        }
        guard let contracts = instrument.contracts(notional: notional, price: price) else {
            throw OrderNotSent(
                rule: "exchange_min_size",
                reason:
                    "\(notional.rounded()) USDT of \(instrument.instId) at \(price) is below BloFin's minimum of \(instrument.minSize) contract(s) of \(instrument.contractValue); not sent"
            )
        }
        if !leverageSet.contains(instrument.instId) {
            try client.setLeverage(instId: instrument.instId, leverage: leverage, marginMode: marginMode)
            leverageSet.insert(instrument.instId)
        }
        let stop = Self.stopPrice(entry: price, buy: buy, fraction: stopLossFraction, tick: instrument.tickSize)
        var request = BloFinOrderRequest(
            instId: instrument.instId, buy: buy, contracts: BloFinJSON.decimal(contracts, step: instrument.lotSize),
            clientOrderId: nextClientOrderId())
        request.marginMode = marginMode
        let stopText = BloFinJSON.decimal(stop, step: instrument.tickSize)
        request.stopLossTrigger = stopText
        let fill = try fillOf(request, instrument: instrument)
        var details = fill.details
        // The stop as BloFin holds it (the text sent), not the unrounded number.
        details["stop_price"] = .number(stopText)
        return Fill(price: fill.price, quantity: fill.quantity, fee: fill.fee, details: details)
    }

    public func close(symbol: String, buy: Bool, quantity: Double, market: MarketSnapshot) throws -> Fill {
        let instrument = try client.instrumentsBySymbol()[symbol]
        guard let instrument else { throw BrokerError("BloFin lists no USDT perpetual for \(symbol)") }
        let lots = (quantity / instrument.contractValue / instrument.lotSize).rounded()
        var request = BloFinOrderRequest(
            instId: instrument.instId, buy: buy,
            contracts: BloFinJSON.decimal(lots * instrument.lotSize, step: instrument.lotSize),
            clientOrderId: nextClientOrderId())
        request.marginMode = marginMode
        request.reduceOnly = true
        return try fillOf(request, instrument: instrument)
    }

    /// Places the order and reads its fill: price, base quantity, fee.
    func fillOf(_ request: BloFinOrderRequest, instrument: BloFinInstrument) throws -> Fill {
        let orderId = try client.placeOrder(request)
        guard let order = try client.finishedOrder(instId: instrument.instId, orderId: orderId), order.filledSize > 0,
            let average = order.averagePrice
        else {
            throw BloFinError.orderUnknown(
                symbol: instrument.instId, clientOrderId: request.clientOrderId,
                why: "BloFin took order \(orderId) but reports no fill yet")
        }
        return Fill(
            price: average, quantity: order.filledSize * instrument.contractValue, fee: order.fee,
            details: JSONObject([
                JSONField("order_id", .string(orderId)), JSONField("client_order_id", .string(request.clientOrderId)),
                JSONField("contracts", .double(order.filledSize)),
            ]))
    }

    /// The stop's trigger: `fraction` against the position, rounded to the tick away from the entry.
    static func stopPrice(entry: Double, buy: Bool, fraction: Double, tick: Double) -> Double {
        let raw = buy ? entry * (1 - fraction) : entry * (1 + fraction)
        guard tick > 0 else { return raw }
        let ticks = raw / tick
        return (buy ? ticks.rounded(.down) : ticks.rounded(.up)) * tick
    }

    public func reconcile(open: [Position], now: Instant) throws -> Reconciliation {
        var result = Reconciliation()
        let instruments = try client.instrumentsBySymbol()
        var bySymbol: [String: BloFinPosition] = [:]
        let symbolOf = Dictionary(instruments.values.map { ($0.instId, $0.symbol) }, uniquingKeysWith: { a, _ in a })
        for p in try client.positions() { bySymbol[symbolOf[p.instId] ?? p.instId] = p }
        var known: Set<String> = []
        for p in open {
            guard p.extra["mode"]?.stringValue == mode, p.extra["order_id"] != nil else { continue }
            known.insert(p.symbol)
            guard let instrument = instruments[p.symbol] else { continue }
            if let there = bySymbol[p.symbol] {
                missing[p.symbol] = nil
                let local = p.extra["contracts"]?.doubleValue ?? (p.size ?? 0) / instrument.contractValue
                if abs(abs(there.contracts) - local) > instrument.lotSize / 2 || there.isLong != (p.side == .long) {
                    note(
                        "\(p.symbol): the bot holds \(p.side?.rawValue ?? "?") \(local) contract(s), BloFin \(there.isLong ? "long" : "short") \(abs(there.contracts))",
                        into: &result)
                }
                continue
            }
            if let closed = try closedOnExchange(p, instrument: instrument, now: now, result: &result) {
                missing[p.symbol] = nil
                result.closed.append(closed)
            }
        }
        for (symbol, there) in bySymbol.sorted(by: { $0.key < $1.key }) where !known.contains(symbol) {
            result.unknown.append(
                "\(symbol) \(there.isLong ? "long" : "short") \(abs(there.contracts)) contract(s) at \(there.averagePrice)"
            )
        }
        return result
    }

    /// How the exchange closed `p`: its newest closing order since the position opened. Without
    /// one, nil until the position has been missing `missingBeforeBooking` times in a row; then it
    /// is booked at the last price the engine saw (`price` nil), said as a difference.
    func closedOnExchange(_ p: Position, instrument: BloFinInstrument, now: Instant, result: inout Reconciliation)
        throws -> Reconciliation.Closed?
    {
        let opened = p.openedAt?.instant ?? Instant(microseconds: 0)
        let closing = try client.orderHistory(instId: instrument.instId).first { o in
            o.filledSize > 0 && o.averagePrice != nil && (o.updatedAt ?? now) >= opened
                && (o.reduceOnly || o.category != "normal") && o.orderId != p.extra["order_id"]?.stringValue
        }
        guard let closing, let price = closing.averagePrice else {
            let count = (missing[p.symbol] ?? 0) + 1
            missing[p.symbol] = count
            guard count >= missingBeforeBooking else { return nil }
            missing[p.symbol] = nil
            note(
                "\(p.symbol): not on BloFin for \(count) reconciliations and no closing fill in its order history; booked closed at the last price seen, with no exit fee: check the trade on BloFin",
                into: &result)
            return Reconciliation.Closed(symbol: p.symbol, price: nil, fee: 0, reason: .closedOnExchange, orderId: nil)
        }
        let reason: ExitReason =
            switch closing.category {
            case "sl": .exchangeStopLoss
            case "tp": .exchangeTakeProfit
            case "full_liquidation", "partial_liquidation", "adl": .exchangeLiquidation
            default: .closedOnExchange
            }
        return Reconciliation.Closed(
            symbol: p.symbol, price: price, fee: closing.fee, reason: reason, orderId: closing.orderId)
    }

    func note(_ difference: String, into result: inout Reconciliation) {
        if reported.insert(difference).inserted { result.differences.append(difference) }
    }
}
