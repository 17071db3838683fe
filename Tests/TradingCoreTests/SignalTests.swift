import Foundation
import TestSupport
import Testing

@testable import TradingCore

/// A small seeded generator so the series are the same on every run.
struct TestRandom {
    var state: UInt64
    mutating func uniform() -> Double {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Double(state >> 11) / Double(1 << 53)
    }
    mutating func normal() -> Double {
        (-2 * log(max(uniform(), 1e-12))).squareRoot() * cos(2 * .pi * uniform())
    }
}

/// AR(1) returns: phi > 0 persistent, phi < 0 anti-persistent, 0 a random walk.
func ar1Returns(_ n: Int, phi: Double, seed: UInt64) -> [Double] {
    var rng = TestRandom(state: seed)
    var out: [Double] = []
    var previous = 0.0
    for _ in 0..<n {
        previous = phi * previous + 0.01 * rng.normal()
        out.append(previous)
    }
    return out
}

func candles(closes: [Double], volumes: [Double]? = nil) -> [Candle] {
    closes.enumerated().map { i, c in
        let open = i == 0 ? c : closes[i - 1]
        return Candle(
            ts: Instant(microseconds: Int64(i) * 60_000_000), open: open, high: max(open, c) * 1.001,
            low: min(open, c) * 0.999, close: c, volume: volumes?[i] ?? 100)
    }
}

func prices(fromReturns returns: [Double]) -> [Double] {
    var p = 100.0
    return returns.map { r in
        p *= exp(r)
        return p
    }
}

@Suite struct SignalTests {
    @Test(arguments: [UInt64(1), 2, 3, 4, 5])
    func hurstIsNearHalfForARandomWalk(seed: UInt64) throws {
        let h = try #require(HurstExponent.estimate(returns: ar1Returns(2000, phi: 0, seed: seed)))
        #expect(abs(h - 0.5) < 0.06, "H = \(h)")
    }

    @Test func hurstIsAboveHalfWhenTrendingAndBelowWhenMeanReverting() throws {
        for seed in [UInt64(7), 8, 9] {
            let trending = try #require(HurstExponent.estimate(returns: ar1Returns(2000, phi: 0.6, seed: seed)))
            let reverting = try #require(HurstExponent.estimate(returns: ar1Returns(2000, phi: -0.6, seed: seed)))
            #expect(trending > 0.6, "trending H = \(trending)")
            #expect(reverting < 0.4, "mean-reverting H = \(reverting)")
        }
    }

    @Test func hurstRegimeOnTheSignalWindow() {
        let trending = MarketSnapshot(
            symbol: "X", time: Instant(microseconds: 0),
            candles: candles(closes: prices(fromReturns: ar1Returns(300, phi: 0.7, seed: 3))))
        let reverting = MarketSnapshot(
            symbol: "X", time: Instant(microseconds: 0),
            candles: candles(closes: prices(fromReturns: ar1Returns(300, phi: -0.7, seed: 3))))
        #expect(HurstRegimeSignal().regime(trending) == .trending)
        #expect(HurstRegimeSignal().regime(reverting) == .meanReverting)
    }

    @Test func orderFlowImbalanceOnRealTrades() throws {
        let text = try String(contentsOfFile: Fixtures.data + "/market/trades-eth-2023-02.csv", encoding: .utf8)
        var trades: [PublicTrade] = []
        var buy = 0.0
        var sell = 0.0
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",")
            let price = Double(f[2])!
            let amount = Double(f[3])!
            let side = AggressorSide(rawValue: String(f[1]))
            if side == .buy { buy += price * amount } else { sell += price * amount }
            trades.append(
                PublicTrade(ts: Instant(microseconds: Int64(f[0])! * 1000), price: price, amount: amount, side: side))
        }
        #expect(trades.count == 1000)
        let snapshot = MarketSnapshot(symbol: "ETHUSDT", time: Instant(microseconds: 0), candles: [], trades: trades)
        let score = try #require(OrderFlowImbalance().read(snapshot).value)
        #expect(abs(score - (buy - sell) / (buy + sell)) < 1e-12)
        // Only sells: fully short.
        let sells = trades.map { PublicTrade(ts: $0.ts, price: $0.price, amount: $0.amount, side: .sell) }
        #expect(
            OrderFlowImbalance().read(MarketSnapshot(symbol: "E", time: snapshot.time, candles: [], trades: sells))
                == .score(-1))
    }

    @Test func missingInputsAreUnavailableNotInvented() {
        let bare = MarketSnapshot(
            symbol: "X", time: Instant(microseconds: 0), candles: candles(closes: Array(repeating: 100, count: 200)))
        for signal: any Signal in [
            OrderFlowImbalance(), LiquidationCascade(), FundingRateSignal(), OpenInterestVelocity(),
        ] {
            guard case .unavailable(let why) = signal.read(bare) else {
                Issue.record("\(signal.name) invented a value")
                continue
            }
            #expect(!why.isEmpty)
        }
        let short = MarketSnapshot(symbol: "X", time: Instant(microseconds: 0), candles: candles(closes: [1, 2, 3]))
        for signal: any Signal in [
            Momentum(), MeanReversion(), VolatilityBreakout(), VolumeSpike(), TrendStrength(), HurstRegimeSignal(),
        ] {
            #expect(signal.read(short).value == nil, "\(signal.name) on 3 candles")
        }
    }

    @Test func priceSignalsPointTheRightWay() throws {
        var rng = TestRandom(state: 11)
        let up = (0..<200).map { i in 100 * exp(0.002 * Double(i) + 0.001 * rng.normal()) }
        let down = up.map { 10_000 / $0 }
        let upSnap = MarketSnapshot(symbol: "X", time: Instant(microseconds: 0), candles: candles(closes: up))
        let downSnap = MarketSnapshot(symbol: "X", time: Instant(microseconds: 0), candles: candles(closes: down))
        #expect(try #require(Momentum().read(upSnap).value) > 0.5)
        #expect(try #require(Momentum().read(downSnap).value) < -0.5)
        #expect(try #require(TrendStrength().read(upSnap).value) > 0.9)
        #expect(try #require(TrendStrength().read(downSnap).value) < -0.9)
        // Stretched far above its mean: mean reversion says SHORT.
        let spike = Array(repeating: 100.0, count: 40) + [100, 100, 112]
        let spikeSnap = MarketSnapshot(symbol: "X", time: Instant(microseconds: 0), candles: candles(closes: spike))
        #expect(try #require(MeanReversion().read(spikeSnap).value) < -0.5)
        #expect(try #require(VolatilityBreakout().read(spikeSnap).value) > 0.5)
        let volumes = Array(repeating: 100.0, count: 42) + [900]
        let volumeSnap = MarketSnapshot(
            symbol: "X", time: Instant(microseconds: 0), candles: candles(closes: spike, volumes: volumes))
        #expect(try #require(VolumeSpike().read(volumeSnap).value) > 0.5)
    }

    @Test func flowSignalsPointTheRightWay() throws {
        let base = candles(closes: (0..<30).map { 100 + Double($0) })
        var s = MarketSnapshot(symbol: "X", time: Instant(microseconds: 0), candles: base, fundingRate: 0.001)
        #expect(FundingRateSignal().read(s) == .score(-1))
        s.fundingRate = -0.00025
        #expect(FundingRateSignal().read(s) == .score(0.5))
        s.openInterest = (0..<10).map { 1000 * (1 + 0.01 * Double($0)) }
        #expect(try #require(OpenInterestVelocity().read(s).value) > 0.9)
        s.liquidations = [Liquidation(ts: base[base.count - 1].ts, side: .long, notional: 1e9)]
        #expect(LiquidationCascade().read(s) == .score(-1))
        s.liquidations = []
        #expect(LiquidationCascade().read(s) == .score(0))
    }
}
