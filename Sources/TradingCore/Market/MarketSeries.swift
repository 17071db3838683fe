/// Recorded market data for one symbol, as loaded from files: the input of a replay.
public struct MarketSeries: Sendable, Equatable {
    public var symbol: String
    public var intervalSeconds: Int
    public var candles: [Candle]
    /// Funding rates by time, oldest first.
    public var funding: [(ts: Instant, rate: Double)]
    /// Public trades with aggressor side, oldest first.
    public var trades: [PublicTrade]

    public init(
        symbol: String, intervalSeconds: Int, candles: [Candle], funding: [(ts: Instant, rate: Double)] = [],
        trades: [PublicTrade] = []
    ) {
        self.symbol = symbol
        self.intervalSeconds = intervalSeconds
        self.candles = candles
        self.funding = funding
        self.trades = trades
    }

    public static func == (a: MarketSeries, b: MarketSeries) -> Bool {
        a.symbol == b.symbol && a.intervalSeconds == b.intervalSeconds && a.candles == b.candles
            && a.funding.map(\.ts) == b.funding.map(\.ts) && a.funding.map(\.rate) == b.funding.map(\.rate)
            && a.trades == b.trades
    }

    /// A symbol name from a file name: `XRP-USDT-5m` -> XRPUSDT, `trades-eth-2023-02` -> ETH.
    /// Interval, date and kind tokens are dropped; what is left is joined and upper-cased.
    public static func symbol(fromFileStem stem: String) -> (symbol: String, kind: String, interval: Int?) {
        var kind = "candles"
        var interval: Int?
        var parts: [String] = []
        for token in stem.split(whereSeparator: { $0 == "-" || $0 == "_" }).map({ String($0).lowercased() }) {
            if token == "funding" || token == "trades" {
                kind = token
            } else if let seconds = intervalSeconds(token) {
                interval = seconds
            } else if token.allSatisfy(\.isNumber) {
                continue
            } else {
                parts.append(token.uppercased())
            }
        }
        return (parts.joined(), kind, interval)
    }

    /// `5m` -> 300, `1h` -> 3600, `8h` -> 28800; nil for other tokens.
    public static func intervalSeconds(_ token: String) -> Int? {
        guard let unit = token.last, let n = Int(token.dropLast()), n > 0 else { return nil }
        switch unit {
        case "s": return n
        case "m": return n * 60
        case "h": return n * 3600
        case "d": return n * 86_400
        case "w": return n * 604_800
        default: return nil
        }
    }
}
