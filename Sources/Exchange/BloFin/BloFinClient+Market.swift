import TradingCore

/// One USDT perpetual as BloFin lists it. Sizes are in contracts of `contractValue` base units.
public struct BloFinInstrument: Sendable, Equatable {
    public var instId: String
    public var baseCurrency: String
    public var quoteCurrency: String
    public var contractValue: Double
    public var lotSize: Double
    public var minSize: Double
    public var tickSize: Double
    public var maxLeverage: Double
    public var state: String

    /// The bot's name for it (`BTCUSDT` for `BTC-USDT`).
    public var symbol: String { baseCurrency + quoteCurrency }
    public var isLive: Bool { state == "live" }

    /// Contracts for a notional at a price: rounded down to the lot size; nil below the minimum.
    public func contracts(notional: Double, price: Double) -> Double? {
        guard price > 0, contractValue > 0, lotSize > 0 else { return nil }
        let raw = notional / (price * contractValue)
        let lots = (raw / lotSize + 1e-9).rounded(.down)
        // 41 lots of 0.1 are 4.1, not 4.1000000000000005: the size is sent as text.
        let size = (lots * lotSize * 1e9).rounded() / 1e9
        return size >= minSize && size > 0 ? size : nil
    }
}

public struct BloFinTicker: Sendable, Equatable {
    public var instId: String
    public var last: Double
    public var bid: Double?
    public var bidSize: Double?
    public var ask: Double?
    public var askSize: Double?
    public var time: Instant?
}

/// A candle and whether BloFin says it is complete (`confirm` "1").
public struct BloFinCandle: Sendable, Equatable {
    public var candle: Candle
    public var confirmed: Bool
}

public struct BloFinFunding: Sendable, Equatable {
    public var instId: String
    public var rate: Double
    public var time: Instant?
}

/// The public endpoints.
extension BloFinClient {
    public func serverTime() throws(BloFinError) -> Instant {
        let data = try get("/api/v1/public/time")
        let object = data.objectValue ?? data.arrayValue?.first?.objectValue
        guard let t = BloFinJSON.instant(object?["ts"] ?? object?["serverTime"] ?? data) else {
            throw .malformed(endpoint: "/api/v1/public/time", why: "no server time")
        }
        return t
    }

    public func instruments() throws(BloFinError) -> [BloFinInstrument] {
        let endpoint = "/api/v1/market/instruments"
        guard let rows = try get(endpoint).arrayValue else {
            throw .malformed(endpoint: endpoint, why: "data is not a list")
        }
        var out: [BloFinInstrument] = []
        for row in rows {
            guard let o = row.objectValue, let instId = BloFinJSON.text(o["instId"]) else {
                throw .malformed(endpoint: endpoint, why: "an instrument without instId")
            }
            let parts = instId.split(separator: "-").map(String.init)
            out.append(
                BloFinInstrument(
                    instId: instId, baseCurrency: BloFinJSON.text(o["baseCurrency"]) ?? parts.first ?? instId,
                    quoteCurrency: BloFinJSON.text(o["quoteCurrency"]) ?? (parts.count > 1 ? parts[1] : ""),
                    contractValue: try BloFinJSON.require(o, "contractValue", endpoint),
                    lotSize: try BloFinJSON.require(o, "lotSize", endpoint),
                    minSize: try BloFinJSON.require(o, "minSize", endpoint),
                    tickSize: try BloFinJSON.require(o, "tickSize", endpoint),
                    maxLeverage: BloFinJSON.double(o["maxLeverage"]) ?? 0,
                    state: BloFinJSON.text(o["state"]) ?? "live"))
        }
        return out
    }

    /// The instruments by the bot's symbol name, loaded once an hour.
    public func instrumentsBySymbol() throws(BloFinError) -> [String: BloFinInstrument] {
        if let cache = instrumentCache, let at = instrumentsLoadedAt, monotonic() - at < 3600 { return cache }
        var map: [String: BloFinInstrument] = [:]
        for i in try instruments() { map[i.symbol] = i }
        instrumentCache = map
        instrumentsLoadedAt = monotonic()
        return map
    }

    /// Every ticker in one request (the cycle's prices and top of book).
    public func tickers() throws(BloFinError) -> [BloFinTicker] {
        let endpoint = "/api/v1/market/tickers"
        guard let rows = try get(endpoint).arrayValue else {
            throw .malformed(endpoint: endpoint, why: "data is not a list")
        }
        var out: [BloFinTicker] = []
        out.reserveCapacity(rows.count)
        for row in rows {
            guard let o = row.objectValue, let instId = BloFinJSON.text(o["instId"]) else {
                throw .malformed(endpoint: endpoint, why: "a ticker without instId")
            }
            out.append(
                BloFinTicker(
                    instId: instId, last: try BloFinJSON.require(o, "last", endpoint),
                    bid: BloFinJSON.double(o["bidPrice"]),
                    bidSize: BloFinJSON.double(o["bidSize"]), ask: BloFinJSON.double(o["askPrice"]),
                    askSize: BloFinJSON.double(o["askSize"]), time: BloFinJSON.instant(o["ts"])))
        }
        return out
    }

    /// Candles, oldest first (BloFin sends newest first); at most 1440.
    public func candles(instId: String, bar: String, limit: Int) throws(BloFinError) -> [BloFinCandle] {
        let endpoint = "/api/v1/market/candles"
        let data = try get(
            endpoint, query: [("instId", instId), ("bar", bar), ("limit", String(max(1, min(1440, limit))))])
        guard let rows = data.arrayValue else { throw .malformed(endpoint: endpoint, why: "data is not a list") }
        var out: [BloFinCandle] = []
        out.reserveCapacity(rows.count)
        for row in rows.reversed() {
            guard let f = row.arrayValue, f.count >= 6, let ts = BloFinJSON.instant(f[0]),
                let open = BloFinJSON.double(f[1]), let high = BloFinJSON.double(f[2]),
                let low = BloFinJSON.double(f[3]),
                let close = BloFinJSON.double(f[4]), let volume = BloFinJSON.double(f[5])
            else {
                throw .malformed(endpoint: endpoint, why: "a candle of \(instId) is not [ts, o, h, l, c, vol, ...]")
            }
            let confirmed = f.count >= 9 ? BloFinJSON.text(f[8]) == "1" : true
            out.append(
                BloFinCandle(
                    candle: Candle(ts: ts, open: open, high: high, low: low, close: close, volume: volume),
                    confirmed: confirmed))
        }
        return out
    }

    /// Every instrument's current funding rate in one request.
    public func fundingRates() throws(BloFinError) -> [BloFinFunding] {
        let endpoint = "/api/v1/market/funding-rate"
        guard let rows = try get(endpoint).arrayValue else {
            throw .malformed(endpoint: endpoint, why: "data is not a list")
        }
        return rows.compactMap { row in
            guard let o = row.objectValue, let instId = BloFinJSON.text(o["instId"]),
                let rate = BloFinJSON.double(o["fundingRate"])
            else { return nil }
            return BloFinFunding(instId: instId, rate: rate, time: BloFinJSON.instant(o["fundingTime"]))
        }
    }

    /// Every instrument's mark price (what BloFin values positions and triggers liquidations at).
    public func markPrices() throws(BloFinError) -> [String: Double] {
        let endpoint = "/api/v1/market/mark-price"
        guard let rows = try get(endpoint).arrayValue else {
            throw .malformed(endpoint: endpoint, why: "data is not a list")
        }
        var out: [String: Double] = [:]
        for o in rows.compactMap(\.objectValue) {
            if let instId = BloFinJSON.text(o["instId"]), let mark = BloFinJSON.double(o["markPrice"]) {
                out[instId] = mark
            }
        }
        return out
    }

    /// Best bid and ask with sizes (depth 1).
    public func orderBook(instId: String) throws(BloFinError) -> TopOfBook? {
        let endpoint = "/api/v1/market/books"
        let data = try get(endpoint, query: [("instId", instId), ("size", "1")])
        guard let book = data.arrayValue?.first?.objectValue,
            let bid = book["bids"]?.arrayValue?.first?.arrayValue,
            let ask = book["asks"]?.arrayValue?.first?.arrayValue,
            bid.count >= 2, ask.count >= 2, let bp = BloFinJSON.double(bid[0]), let bs = BloFinJSON.double(bid[1]),
            let ap = BloFinJSON.double(ask[0]), let asz = BloFinJSON.double(ask[1])
        else { return nil }
        return TopOfBook(bid: bp, bidSize: bs, ask: ap, askSize: asz)
    }
}
