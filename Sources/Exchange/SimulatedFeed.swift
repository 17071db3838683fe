#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import TradingCore

extension SeededRandom {
    /// Standard normal (Box-Muller).
    mutating func normal() -> Double {
        let u = max(uniform(), 1e-12)
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * uniform())
    }
}

/// The offline default market: every symbol of the universe moves through trending,
/// mean-reverting and volatile regimes; volume follows moves, order flow agrees with price,
/// funding follows the basis, open interest grows in trends, and now and then a liquidation
/// cascade hits one side. Deterministic in the seed and the number of cycles asked for.
public final class SimulatedFeed: MarketFeed {
    public let name = "sim"
    public let symbols: [String]
    public let intervalSeconds: Int
    private var markets: [SymbolMarket]

    public init(symbols: [String], seed: UInt64, intervalSeconds: Int, start: Instant, warmup: Int = 150) {
        self.symbols = symbols
        self.intervalSeconds = intervalSeconds
        markets = symbols.map { SymbolMarket(symbol: $0, seed: seed) }
        for i in 0..<markets.count {
            for k in stride(from: warmup, to: 0, by: -1) {
                markets[i].step(close: start.adding(seconds: Double(-k * intervalSeconds)), interval: intervalSeconds)
            }
        }
    }

    public func advance(to time: Instant) throws -> [MarketSnapshot]? {
        var out: [MarketSnapshot] = []
        out.reserveCapacity(markets.count)
        for i in 0..<markets.count {
            markets[i].step(close: time, interval: intervalSeconds)
            out.append(markets[i].snapshot(time: time))
        }
        return out
    }
}

/// One symbol's simulated market state.
struct SymbolMarket {
    enum Phase { case trending(Double), meanReverting, volatile }

    let symbol: String
    var rng: SeededRandom
    var price: Double
    var anchor: Double
    var phase: Phase = .meanReverting
    var phaseLeft = 0
    var premium = 0.0
    var oi: Double
    var candles: [Candle] = []
    var oiHistory: [Double] = []
    var trades: [PublicTrade] = []
    var liquidations: [Liquidation] = []
    var book = TopOfBook(bid: 0, bidSize: 0, ask: 0, askSize: 0)
    static let window = 150

    init(symbol: String, seed: UInt64) {
        self.symbol = symbol
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in symbol.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        rng = SeededRandom(seed: seed ^ h)
        price = Self.startPrice(symbol, &rng)
        anchor = price
        oi = 5_000_000 * (1 + rng.uniform())
    }

    static func startPrice(_ symbol: String, _ rng: inout SeededRandom) -> Double {
        let known: [String: Double] = [
            "BTCUSDT": 60_000, "ETHUSDT": 3_000, "SOLUSDT": 150, "BNBUSDT": 600, "XRPUSDT": 0.6, "ADAUSDT": 0.45,
            "AVAXUSDT": 30, "DOGEUSDT": 0.15, "LINKUSDT": 15, "ARBUSDT": 1.1, "OPUSDT": 2, "UNIUSDT": 8,
            "AAVEUSDT": 100, "PEPEUSDT": 0.00001, "OKBUSDT": 45, "TRXUSDT": 0.12,
        ]
        return known[symbol] ?? (1 + 99 * rng.uniform())
    }

    mutating func nextPhase() {
        let r = rng.uniform()
        if r < 0.4 {
            phase = .trending(rng.uniform() < 0.5 ? 1 : -1)
        } else if r < 0.85 {
            phase = .meanReverting
            anchor = price
        } else {
            phase = .volatile
        }
        phaseLeft = 20 + Int(rng.uniform() * 100)
    }

    mutating func step(close: Instant, interval: Int) {
        if phaseLeft <= 0 { nextPhase() }
        phaseLeft -= 1
        let open = price
        var high = price
        var low = price
        // Per sub-step: about 0.1 % per candle in calm markets, like a major perp's 1-minute bars.
        var sigma = 0.0003
        if case .volatile = phase { sigma *= 2.5 }
        for _ in 0..<12 {
            var drift = 0.0
            switch phase {
            case .trending(let direction): drift = direction * 0.00004
            case .meanReverting: drift = -0.05 * log(price / anchor)
            case .volatile: break
            }
            price *= exp(drift + sigma * rng.normal())
            high = max(high, price)
            low = min(low, price)
        }
        liquidations.removeAll { $0.ts.seconds(until: close) > Double(interval * 10) }
        // A liquidation cascade: one side is forced out and the price gaps with it.
        if rng.uniform() < 0.004 {
            let down = rng.uniform() < 0.5
            price *= down ? 0.992 : 1.008
            high = max(high, price)
            low = min(low, price)
            let notional = oi * price * 0.002 * (1 + rng.uniform())
            liquidations.append(Liquidation(ts: close, side: down ? .long : .short, notional: notional))
        }
        let ret = log(price / open)
        let volume = (1000 + 40_000 * abs(ret) * 100) * exp(0.3 * rng.normal()) / max(price, 1e-9) * 100
        candles.append(
            Candle(
                ts: close.adding(seconds: Double(-interval)), open: open, high: high, low: low, close: price,
                volume: volume))
        if candles.count > Self.window { candles.removeFirst(candles.count - Self.window) }
        // Order flow that agrees with the move.
        let buyShare = 0.5 + max(-0.3, min(0.3, ret * 60))
        trades.removeAll(keepingCapacity: true)
        for k in 0..<30 {
            let side: AggressorSide = rng.uniform() < buyShare ? .buy : .sell
            let amount = volume / 30 * (0.2 - log(max(rng.uniform(), 1e-9))) / 1.2
            trades.append(
                PublicTrade(
                    ts: close.adding(seconds: Double(k - 30) * Double(interval) / 30), price: price, amount: amount,
                    side: side))
        }
        let spread = price * 0.0001 * (1 + sigma * 2000)
        let depth = volume / 20
        book = TopOfBook(
            bid: price - spread / 2, bidSize: depth * (0.5 + buyShare) * (0.8 + 0.4 * rng.uniform()),
            ask: price + spread / 2, askSize: depth * (1.5 - buyShare) * (0.8 + 0.4 * rng.uniform()))
        // Funding follows the perp premium, which follows recent moves.
        premium = 0.9 * premium + 0.1 * ret * 5
        if case .trending = phase { oi *= 1.003 + 0.002 * rng.normal() } else { oi *= 0.9995 + 0.002 * rng.normal() }
        oiHistory.append(oi)
        if oiHistory.count > 50 { oiHistory.removeFirst(oiHistory.count - 50) }
    }

    func snapshot(time: Instant) -> MarketSnapshot {
        MarketSnapshot(
            symbol: symbol, time: time, candles: candles, book: book, trades: trades,
            fundingRate: max(-0.0075, min(0.0075, 0.0001 + premium * 0.05)), openInterest: oiHistory,
            liquidations: liquidations)
    }
}
