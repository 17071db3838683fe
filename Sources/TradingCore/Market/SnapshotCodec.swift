/// A market snapshot as the flight recorder keeps it: what changed since the same symbol's
/// previous snapshot (a window that slid keeps only its new tail), rebuilt exactly on reading.
/// Numbers are written in their shortest round-trip form, so a rebuilt snapshot equals the one
/// the engine used, bit for bit.
///
/// An array field is `"x": [...]` (the whole value), `"x~": [dropped, [added...]]` (the previous
/// value less its first `dropped` items, plus `added`), or absent (nil).
public enum SnapshotCodec {
    public static func encode(_ s: MarketSnapshot, after previous: MarketSnapshot?) -> JSONValue {
        var o = JSONObject()
        o["s"] = .string(s.symbol)
        o["t"] = instantJSON(s.time)
        put(&o, "c", s.candles, previous?.candles, candle)
        if let b = s.book { o["b"] = .array([.double(b.bid), .double(b.bidSize), .double(b.ask), .double(b.askSize)]) }
        put(&o, "tr", s.trades, previous?.trades, trade)
        if let f = s.fundingRate { o["f"] = .double(f) }
        put(&o, "oi", s.openInterest, previous?.openInterest) { .double($0) }
        put(&o, "lq", s.liquidations, previous?.liquidations, liquidation)
        return .object(o)
    }

    /// The snapshot `value` describes, given the symbol's previous one.
    public static func decode(_ value: JSONValue, after previous: MarketSnapshot?) throws(RecordingError)
        -> MarketSnapshot
    {
        guard let o = value.objectValue, let symbol = o["s"]?.stringValue, let time = instant(o["t"]) else {
            throw RecordingError("a snapshot without its symbol or time")
        }
        let candles = try take(o, "c", previous?.candles, candle) ?? []
        var book: TopOfBook?
        if let b = o["b"] {
            guard let a = b.arrayValue, a.count == 4, let bid = a[0].doubleValue, let bidSize = a[1].doubleValue,
                let ask = a[2].doubleValue, let askSize = a[3].doubleValue
            else { throw RecordingError("\(symbol): an unreadable book") }
            book = TopOfBook(bid: bid, bidSize: bidSize, ask: ask, askSize: askSize)
        }
        return MarketSnapshot(
            symbol: symbol, time: time, candles: candles, book: book,
            trades: try take(o, "tr", previous?.trades, trade), fundingRate: o["f"]?.doubleValue,
            openInterest: try take(o, "oi", previous?.openInterest) { v throws(RecordingError) in
                guard let d = v.doubleValue else { throw RecordingError("\(symbol): an unreadable open interest") }
                return d
            },
            liquidations: try take(o, "lq", previous?.liquidations, liquidation))
    }

    public static func instantJSON(_ t: Instant) -> JSONValue { .number(String(t.microseconds)) }

    public static func instant(_ v: JSONValue?) -> Instant? {
        guard case .number(let text)? = v, let us = Int64(text) else { return nil }
        return Instant(microseconds: us)
    }

    // MARK: the window of an array field

    static func put<T: Equatable>(
        _ o: inout JSONObject, _ key: String, _ value: [T]?, _ previous: [T]?, _ encode: (T) -> JSONValue
    ) {
        guard let value else { return }
        if let previous, let dropped = slid(previous, value) {
            o[key + "~"] = .array([.int(dropped), .array(value[(previous.count - dropped)...].map(encode))])
        } else {
            o[key] = .array(value.map(encode))
        }
    }

    /// How many items `value` dropped from the front of `previous` when it kept the rest in
    /// order and only added at the end; nil when it is not such a slide (then it is kept whole).
    static func slid<T: Equatable>(_ previous: [T], _ value: [T]) -> Int? {
        if previous.isEmpty { return 0 }
        guard let first = value.first else { return previous.isEmpty ? 0 : nil }
        var tries = 0
        var k = 0
        while k < previous.count, tries < 3 {
            if previous[k] == first {
                tries += 1
                let kept = previous.count - k
                if kept <= value.count, previous[k...].elementsEqual(value[..<kept]) { return k }
            }
            k += 1
        }
        // Everything dropped: a window that moved past all it held.
        return nil
    }

    static func take<T>(
        _ o: JSONObject, _ key: String, _ previous: [T]?, _ decode: (JSONValue) throws(RecordingError) -> T
    ) throws(RecordingError) -> [T]? {
        if let whole = o[key] {
            guard let items = whole.arrayValue else { throw RecordingError("\(key) is not a list") }
            var out: [T] = []
            out.reserveCapacity(items.count)
            for item in items { out.append(try decode(item)) }
            return out
        }
        guard let slide = o[key + "~"] else { return nil }
        guard let pair = slide.arrayValue, pair.count == 2, let text = pair[0].doubleValue,
            let added = pair[1].arrayValue
        else { throw RecordingError("\(key)~ is not [dropped, [added]]") }
        let dropped = Int(text)
        guard let previous, dropped >= 0, dropped <= previous.count else {
            throw RecordingError("\(key)~ slides a window the recording does not have (a cycle is missing)")
        }
        var out = Array(previous[dropped...])
        for item in added { out.append(try decode(item)) }
        return out
    }

    // MARK: items

    static func candle(_ c: Candle) -> JSONValue {
        .array([
            instantJSON(c.ts), .double(c.open), .double(c.high), .double(c.low), .double(c.close), .double(c.volume),
        ])
    }

    static func candle(_ v: JSONValue) throws(RecordingError) -> Candle {
        guard let a = v.arrayValue, a.count == 6, let ts = instant(a[0]), let open = a[1].doubleValue,
            let high = a[2].doubleValue, let low = a[3].doubleValue, let close = a[4].doubleValue,
            let volume = a[5].doubleValue
        else { throw RecordingError("an unreadable candle") }
        return Candle(ts: ts, open: open, high: high, low: low, close: close, volume: volume)
    }

    static func trade(_ t: PublicTrade) -> JSONValue {
        .array([instantJSON(t.ts), .double(t.price), .double(t.amount), t.side.map { .string($0.rawValue) } ?? .null])
    }

    static func trade(_ v: JSONValue) throws(RecordingError) -> PublicTrade {
        guard let a = v.arrayValue, a.count == 4, let ts = instant(a[0]), let price = a[1].doubleValue,
            let amount = a[2].doubleValue
        else { throw RecordingError("an unreadable trade") }
        return PublicTrade(ts: ts, price: price, amount: amount, side: a[3].stringValue.flatMap(AggressorSide.init))
    }

    static func liquidation(_ l: Liquidation) -> JSONValue {
        .array([instantJSON(l.ts), .string(l.side.rawValue), .double(l.notional)])
    }

    static func liquidation(_ v: JSONValue) throws(RecordingError) -> Liquidation {
        guard let a = v.arrayValue, a.count == 3, let ts = instant(a[0]),
            let side = a[1].stringValue.flatMap(Direction.init), let notional = a[2].doubleValue
        else { throw RecordingError("an unreadable liquidation") }
        return Liquidation(ts: ts, side: side, notional: notional)
    }
}

/// A recording that cannot be read as written.
public struct RecordingError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
