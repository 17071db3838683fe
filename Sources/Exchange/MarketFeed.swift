import TradingCore

/// Where the engine gets its market each cycle.
public protocol MarketFeed: AnyObject {
    /// `sim`, `replay:PATH` or `blofin`, for logs and the heartbeat.
    var name: String { get }
    var symbols: [String] { get }
    /// The market for the cycle at `time`: a simulated feed makes it, a replay feed returns its
    /// next recorded step (whatever `time` says). Nil when a replay has run out of data.
    func advance(to time: Instant) throws -> [MarketSnapshot]?
    /// What the feed has to tell the operator since it was last asked (a symbol the exchange does
    /// not list, an input it cannot deliver, a symbol whose data failed this cycle); the engine logs it.
    func drainNotices() -> [FeedNotice]
}

extension MarketFeed {
    public func drainNotices() -> [FeedNotice] { [] }
}

/// Something a feed reports once, for the log.
public struct FeedNotice: Sendable, Equatable {
    public var level: String
    public var event: String
    public var message: String

    public init(level: String, event: String, message: String) {
        self.level = level
        self.event = event
        self.message = message
    }
}

/// Executes orders. Paper trading fills against the snapshot; live trading sends them.
public protocol Broker: AnyObject {
    /// `paper`, `demo` or `live`: written into each position it opens.
    var mode: String { get }
    func marketOrder(symbol: String, buy: Bool, notional: Double, market: MarketSnapshot) throws -> Fill
    /// Closes a quantity at market.
    func close(symbol: String, buy: Bool, quantity: Double, market: MarketSnapshot) throws -> Fill
}

/// One executed order.
public struct Fill: Sendable, Equatable {
    public var price: Double
    public var quantity: Double
    public var fee: Double
    /// What the exchange calls the order (`order_id`, `client_order_id`, `contracts`,
    /// `stop_price`), kept in the position's record; empty for paper fills.
    public var details = JSONObject()

    public init(price: Double, quantity: Double, fee: Double, details: JSONObject = JSONObject()) {
        self.price = price
        self.quantity = quantity
        self.fee = fee
        self.details = details
    }

    public var notional: Double { price * quantity }
}

/// A broker error a person can act on.
public struct BrokerError: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// An order the broker did not send, for a reason that is not a failure (below the exchange's
/// minimum size): the engine records the entry as blocked, not the cycle as failed.
public struct OrderNotSent: Error, CustomStringConvertible {
    public var rule: String
    public var reason: String
    public init(rule: String, reason: String) {
        self.rule = rule
        self.reason = reason
    }
    public var description: String { reason }
}

/// A broker that holds positions somewhere else (the exchange) and says each cycle how they
/// differ from the engine's.
public protocol ReconcilingBroker: Broker {
    func reconcile(open: [Position], now: Instant) throws -> Reconciliation
}

/// What the exchange says that the engine's positions do not.
public struct Reconciliation: Sendable {
    /// An open position of the engine that the exchange closed (its stop, its take-profit, a
    /// liquidation, a hand): booked as a closed trade at this price and fee.
    public struct Closed: Sendable {
        public var symbol: String
        /// The fill price; nil when no fill was found (the engine books its last price seen).
        public var price: Double?
        public var fee: Double
        public var reason: ExitReason
        public var orderId: String?
        public init(symbol: String, price: Double?, fee: Double, reason: ExitReason, orderId: String?) {
            self.symbol = symbol
            self.price = price
            self.fee = fee
            self.reason = reason
            self.orderId = orderId
        }
    }
    public var closed: [Closed] = []
    /// Positions on the exchange the engine does not know: no new entries while any exist.
    public var unknown: [String] = []
    /// Every other difference (sizes, sides, fills not found), for the log.
    public var differences: [String] = []
    public init() {}
}

/// Paper trading: fills at the touch with slippage and the taker fee (the old bot's: 0.06 %).
public final class PaperBroker: Broker {
    public let model: FillModel
    public let mode = "paper"

    public init(model: FillModel) { self.model = model }

    public func marketOrder(symbol: String, buy: Bool, notional: Double, market: MarketSnapshot) throws -> Fill {
        guard let bid = market.bidPrice, let ask = market.askPrice, bid > 0, ask > 0 else {
            throw BrokerError("no price for \(symbol) in this cycle's market data")
        }
        let price = model.marketPrice(buy: buy, bid: bid, ask: ask)
        return Fill(price: price, quantity: notional / price, fee: model.fee(notional: notional))
    }

    /// Closes a quantity at market.
    public func close(symbol: String, buy: Bool, quantity: Double, market: MarketSnapshot) throws -> Fill {
        guard let bid = market.bidPrice, let ask = market.askPrice, bid > 0, ask > 0 else {
            throw BrokerError("no price for \(symbol) in this cycle's market data")
        }
        let price = model.marketPrice(buy: buy, bid: bid, ask: ask)
        return Fill(price: price, quantity: quantity, fee: model.fee(notional: price * quantity))
    }
}
