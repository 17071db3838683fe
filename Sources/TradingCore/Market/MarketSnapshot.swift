/// One closed candle. `ts` is the candle's open time.
public struct Candle: Sendable, Equatable {
    public var ts: Instant
    public var open: Double
    public var high: Double
    public var low: Double
    public var close: Double
    public var volume: Double

    public init(ts: Instant, open: Double, high: Double, low: Double, close: Double, volume: Double) {
        self.ts = ts
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
    }
}

/// Which side took liquidity in a public trade.
public enum AggressorSide: String, Sendable { case buy, sell }

/// A public trade with its aggressor side when the feed knows it.
public struct PublicTrade: Sendable, Equatable {
    public var ts: Instant
    public var price: Double
    public var amount: Double
    public var side: AggressorSide?

    public init(ts: Instant, price: Double, amount: Double, side: AggressorSide?) {
        self.ts = ts
        self.price = price
        self.amount = amount
        self.side = side
    }
}

/// Best bid and ask with their sizes.
public struct TopOfBook: Sendable, Equatable {
    public var bid: Double
    public var bidSize: Double
    public var ask: Double
    public var askSize: Double

    public init(bid: Double, bidSize: Double, ask: Double, askSize: Double) {
        self.bid = bid
        self.bidSize = bidSize
        self.ask = ask
        self.askSize = askSize
    }

    public var mid: Double { (bid + ask) / 2 }
}

/// A forced liquidation: `side` is the side of the position that was liquidated.
public struct Liquidation: Sendable, Equatable {
    public var ts: Instant
    public var side: Direction
    public var notional: Double

    public init(ts: Instant, side: Direction, notional: Double) {
        self.ts = ts
        self.side = side
        self.notional = notional
    }
}

/// What the feed knows about one symbol at one cycle. Inputs a feed lacks are nil, and the
/// signals that need them report "unavailable" rather than invent them.
public struct MarketSnapshot: Sendable, Equatable {
    public var symbol: String
    public var time: Instant
    /// Closed candles, oldest first (the feed keeps a bounded window).
    public var candles: [Candle]
    public var book: TopOfBook?
    public var trades: [PublicTrade]?
    public var fundingRate: Double?
    /// Open interest history aligned with the candles' tail, oldest first.
    public var openInterest: [Double]?
    public var liquidations: [Liquidation]?

    public init(
        symbol: String, time: Instant, candles: [Candle], book: TopOfBook? = nil, trades: [PublicTrade]? = nil,
        fundingRate: Double? = nil, openInterest: [Double]? = nil, liquidations: [Liquidation]? = nil
    ) {
        self.symbol = symbol
        self.time = time
        self.candles = candles
        self.book = book
        self.trades = trades
        self.fundingRate = fundingRate
        self.openInterest = openInterest
        self.liquidations = liquidations
    }

    public var lastPrice: Double? { candles.last?.close }

    /// Best price to buy at (the ask, else the last close).
    public var askPrice: Double? { book?.ask ?? lastPrice }
    /// Best price to sell at (the bid, else the last close).
    public var bidPrice: Double? { book?.bid ?? lastPrice }
}
