import TradingCore

/// Where the engine gets its market each cycle.
public protocol MarketFeed: AnyObject {
    /// `sim`, `replay:PATH` or `blofin`, for logs and the heartbeat.
    var name: String { get }
    var symbols: [String] { get }
    /// The market for the cycle at `time`: a simulated feed makes it, a replay feed returns its
    /// next recorded step (whatever `time` says). Nil when a replay has run out of data.
    func advance(to time: Instant) throws -> [MarketSnapshot]?
}

/// Executes orders. Paper trading fills against the snapshot; live trading sends them.
public protocol Broker: AnyObject {
    func marketOrder(symbol: String, buy: Bool, notional: Double, market: MarketSnapshot) throws -> Fill
    /// Closes a quantity at market.
    func close(symbol: String, buy: Bool, quantity: Double, market: MarketSnapshot) throws -> Fill
}

/// One executed order.
public struct Fill: Sendable, Equatable {
    public var price: Double
    public var quantity: Double
    public var fee: Double

    public init(price: Double, quantity: Double, fee: Double) {
        self.price = price
        self.quantity = quantity
        self.fee = fee
    }

    public var notional: Double { price * quantity }
}

/// A broker error a person can act on.
public struct BrokerError: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Paper trading: fills at the touch with slippage and the taker fee (SEED.md: 0.06 %).
public final class PaperBroker: Broker {
    public let model: FillModel

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
