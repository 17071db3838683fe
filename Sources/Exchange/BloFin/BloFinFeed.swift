import TradingCore

/// The market from BloFin's public endpoints, planned to stay far under its rate limit: each
/// cycle is one bulk tickers call (prices and top of book), the funding rates in one call every
/// few minutes, and candles only for symbols whose newest closed candle is behind, within a
/// request budget per cycle (the stalest first; the rest wait a cycle). Only closed candles
/// (`confirm` "1") reach the signals. BloFin has no open-interest endpoint: that signal reads
/// unavailable on this feed, said once.
public final class BloFinFeed: MarketFeed {
    public let name = "blofin"
    public let symbols: [String]
    public let client: BloFinClient
    /// BloFin's bar name (`1m`, `5m`, ...) and its length.
    public let bar: String
    public let barSeconds: Int
    /// Closed candles kept per symbol (what the signals look back over).
    public let window: Int
    /// Requests this feed may send in one cycle, all calls included.
    public var requestBudget: Int
    public var fundingRefreshSeconds = 300.0

    var candles: [String: [Candle]] = [:]
    var funding: [String: Double] = [:]
    var fundingAt: Instant?
    var instruments: [String: BloFinInstrument] = [:]
    var notices: [FeedNotice] = []
    var started = false
    var failing: Set<String> = []
    /// What the last cycle's pull did.
    public private(set) var lastPull = Pull()

    public struct Pull: Sendable, Equatable {
        public var requests = 0
        public var candleRequests = 0
        /// Symbols whose candles were behind and had to wait for a later cycle (budget spent).
        public var deferred = 0
        public var delivered = 0
    }

    public init(client: BloFinClient, symbols: [String], bar: String, window: Int = 150, requestBudget: Int) throws {
        guard let seconds = ExchangeSettings.barSeconds[bar] else {
            throw BrokerError(
                "bar \(bar): expected one of \(ExchangeSettings.barSeconds.keys.sorted().joined(separator: ", "))")
        }
        self.client = client
        self.symbols = symbols
        self.bar = bar
        barSeconds = seconds
        self.window = window
        self.requestBudget = max(3, requestBudget)
    }

    public func drainNotices() -> [FeedNotice] {
        defer { notices.removeAll() }
        return notices
    }

    public func advance(to time: Instant) throws -> [MarketSnapshot]? {
        let before = client.requestsSent
        var pull = Pull()
        if !started {
            instruments = try client.instrumentsBySymbol()
            let unlisted = symbols.filter { instruments[$0] == nil }
            if !unlisted.isEmpty {
                notices.append(
                    FeedNotice(
                        level: "warning", event: "feed_symbols_unlisted",
                        message:
                            "BloFin lists no USDT perpetual for \(unlisted.count) symbol(s), left out: \(unlisted.prefix(20).joined(separator: ", "))"
                    ))
            }
            notices.append(
                FeedNotice(
                    level: "info", event: "feed_input_unavailable",
                    message:
                        "BloFin has no open-interest, public-trades-by-cycle or liquidation feed in this client: those signals read unavailable"
                ))
            started = true
        } else {
            instruments = try client.instrumentsBySymbol()
        }
        var tickers: [String: BloFinTicker] = [:]
        for t in try client.tickers() { tickers[t.instId] = t }
        if fundingAt.map({ $0.seconds(until: time) >= fundingRefreshSeconds }) ?? true {
            do {
                for f in try client.fundingRates() { funding[f.instId] = f.rate }
                fundingAt = time
            } catch {
                notices.append(
                    FeedNotice(level: "warning", event: "feed_funding_failed", message: "funding rates: \(error)"))
            }
        }
        refreshCandles(now: time.adding(seconds: Double(client.clockOffsetMs) / 1000), before: before, pull: &pull)
        var out: [MarketSnapshot] = []
        out.reserveCapacity(symbols.count)
        for symbol in symbols {
            guard let instrument = instruments[symbol], let series = candles[symbol], !series.isEmpty else { continue }
            var book: TopOfBook?
            if let t = tickers[instrument.instId], let bid = t.bid, let ask = t.ask, bid > 0, ask >= bid {
                book = TopOfBook(bid: bid, bidSize: t.bidSize ?? 0, ask: ask, askSize: t.askSize ?? 0)
            }
            out.append(
                MarketSnapshot(
                    symbol: symbol, time: time, candles: series, book: book, fundingRate: funding[instrument.instId]))
        }
        pull.delivered = out.count
        pull.requests = client.requestsSent - before
        lastPull = pull
        return out
    }

    /// Fetches the candles that are behind, stalest first, within the cycle's budget.
    func refreshCandles(now: Instant, before: Int, pull: inout Pull) {
        let period = Int64(barSeconds) * 1_000_000
        // The newest candle that has closed by now opened one bar before the current one.
        let newestClosed = Instant(microseconds: (now.microseconds / period - 1) * period)
        let behind = symbols.compactMap { symbol -> (String, Instant?)? in
            guard instruments[symbol] != nil else { return nil }
            let last = candles[symbol]?.last?.ts
            if let last, last >= newestClosed { return nil }
            return (symbol, last)
        }
        .sorted { ($0.1?.microseconds ?? Int64.min) < ($1.1?.microseconds ?? Int64.min) }
        for (symbol, last) in behind {
            guard client.requestsSent - before < requestBudget, let instrument = instruments[symbol] else {
                pull.deferred += 1
                continue
            }
            let missing = last.map { Int($0.seconds(until: newestClosed)) / barSeconds } ?? window
            pull.candleRequests += 1
            do {
                let fetched = try client.candles(instId: instrument.instId, bar: bar, limit: min(window, missing) + 2)
                merge(symbol, fetched.filter(\.confirmed).map(\.candle))
                if failing.remove(symbol) != nil {
                    notices.append(
                        FeedNotice(level: "info", event: "feed_symbol_recovered", message: "\(symbol): candles again"))
                }
            } catch {
                // One symbol's failure does not stop the others; said once until it recovers.
                if failing.insert(symbol).inserted {
                    notices.append(
                        FeedNotice(
                            level: "warning", event: "feed_symbol_failed", message: "\(symbol) candles: \(error)"))
                }
            }
        }
    }

    func merge(_ symbol: String, _ fresh: [Candle]) {
        var series = candles[symbol] ?? []
        let lastTs = series.last?.ts
        for c in fresh where lastTs.map({ c.ts > $0 }) ?? true {
            if let end = series.last?.ts, c.ts <= end { continue }
            series.append(c)
        }
        if series.count > window { series.removeFirst(series.count - window) }
        candles[symbol] = series
    }
}
