import Exchange
import Foundation
import TradingCore

// The cost of one cycle's market-data pull on BloFin's REST API, against a local server in its
// format (bench/blofin_pull_bench.py starts it): the feed's plan (bulk tickers, funding every few
// minutes, candles only for symbols behind, within a budget) beside the naive pull (ticker,
// candles and funding per symbol), in the same run.
// usage: blofin-bench BASE_URL SYMBOLS [--cycles N] [--bar 1m]

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.isEmpty ? 0 : s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

func seconds() -> Double { BloFinClient.monotonicSeconds() }

let args = CommandLine.arguments
let baseURL = args[1]
let count = Int(args[2]) ?? 50
let cycles = args.firstIndex(of: "--cycles").flatMap { Int(args[$0 + 1]) } ?? 5
let bar = args.firstIndex(of: "--bar").map { args[$0 + 1] } ?? "1m"
let barSeconds = Double(ExchangeSettings.barSeconds[bar] ?? 60)
let budgetPerMinute = ExchangeSettings().requestsPerMinute
func now() -> Instant { Instant(seconds: Date().timeIntervalSince1970) }
func unlimitedClient() -> BloFinClient {
    let c = BloFinClient(baseURL: baseURL, credentials: nil, wallClock: now)
    // The baseline is timed raw: no waiting on the client's own limiter.
    c.limiter = RateLimiter(address: [.init(limit: 1_000_000, seconds: 60)], trade: [])
    return c
}

let instruments = try unlimitedClient().instruments()
let symbols = instruments.prefix(count).map(\.symbol)

// The plan: a cold start, then the cycles of a bar turn (every symbol one candle behind), then
// a cycle inside a bar (nothing behind).
let client = unlimitedClient()
let feed = try BloFinFeed(client: client, symbols: symbols, bar: bar, requestBudget: budgetPerMinute)
var t0 = seconds()
_ = try feed.advance(to: now())
var cold = feed.lastPull
var coldSeconds = seconds() - t0
// Finish the cold load (the budget spreads it over cycles).
var coldCycles = 1
while feed.lastPull.deferred > 0 {
    _ = try feed.advance(to: now())
    coldCycles += 1
    cold.requests += feed.lastPull.requests
}
var turnRequests: [Double] = []
var turnSeconds: [Double] = []
var turnDeferred: [Double] = []
for k in 1...cycles {
    // One bar later on the feed's clock: every symbol's newest closed candle is behind.
    t0 = seconds()
    _ = try feed.advance(to: now().adding(seconds: Double(k) * barSeconds))
    turnSeconds.append(seconds() - t0)
    turnRequests.append(Double(feed.lastPull.requests))
    turnDeferred.append(Double(feed.lastPull.deferred))
}
let steadyFeed = try BloFinFeed(client: unlimitedClient(), symbols: symbols, bar: bar, requestBudget: 100_000)
_ = try steadyFeed.advance(to: now())
var innerSeconds: [Double] = []
var innerRequests: [Double] = []
for _ in 0..<cycles {
    t0 = seconds()
    _ = try steadyFeed.advance(to: now())
    innerSeconds.append(seconds() - t0)
    innerRequests.append(Double(steadyFeed.lastPull.requests))
}

// The naive pull: three requests per symbol, every cycle.
var naiveSeconds: [Double] = []
var naiveRequests: [Double] = []
let naive = unlimitedClient()
let byId = Dictionary(instruments.map { ($0.symbol, $0.instId) }, uniquingKeysWith: { a, _ in a })
for _ in 0..<cycles {
    let before = naive.requestsSent
    t0 = seconds()
    for s in symbols {
        let id = byId[s]!
        _ = try naive.get("/api/v1/market/tickers", query: [("instId", id)])
        _ = try naive.candles(instId: id, bar: bar, limit: 150)
        _ = try naive.get("/api/v1/market/funding-rate", query: [("instId", id)])
    }
    naiveSeconds.append(seconds() - t0)
    naiveRequests.append(Double(naive.requestsSent - before))
}

/// Requests a minute at one cycle a minute, as a share of BloFin's 500 per address.
func share(_ requests: Double) -> Double { (requests / 500 * 1000).rounded() / 10 }
let result: [String: Any] = [
    "symbols": symbols.count, "bar": bar, "cycles": cycles, "budget_per_cycle": budgetPerMinute,
    "plan": [
        "cold_requests": cold.requests, "cold_cycles": coldCycles,
        "cold_first_cycle_ms": (coldSeconds * 1000).rounded(),
        "bar_turn_requests_median": median(turnRequests), "bar_turn_ms_median": (median(turnSeconds) * 1000).rounded(),
        "bar_turn_deferred_median": median(turnDeferred),
        "bar_turn_share_of_limit_pct": share(median(turnRequests)),
        "inside_bar_requests_median": median(innerRequests),
        "inside_bar_ms_median": (median(innerSeconds) * 1000).rounded(),
    ],
    "naive": [
        "requests_median": median(naiveRequests), "ms_median": (median(naiveSeconds) * 1000).rounded(),
        "share_of_limit_pct": share(median(naiveRequests)),
    ],
    "ratio_naive_to_plan_requests": (median(naiveRequests) / max(1, median(turnRequests)) * 100).rounded() / 100,
    "ratio_naive_to_plan_ms": (median(naiveSeconds) / max(1e-9, median(turnSeconds)) * 100).rounded() / 100,
]
let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys, .prettyPrinted])
print(String(decoding: data, as: UTF8.self))
