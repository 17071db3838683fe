import TradingCore
import TradingStore

/// Blocked signals and what the market did in the hour after: whether the price went the
/// signal's way, and by how much. From the newest blocked lines of signals.jsonl (its last
/// 2 MB) and the candles the engine kept in data/candles.db.
public struct MissedOpportunities: Sendable {
    public struct Case: Sendable {
        public var at: Instant
        public var symbol: String
        public var direction: String
        public var rule: String
        /// The favourable move of the close an hour later, and the best favourable move within
        /// the hour (fractions of the price at the block).
        public var moveAfter: Double
        public var bestMove: Double
        public var followed: Bool { moveAfter > 0 }
    }

    public static let horizonSeconds = 3600.0
    public var cases: [Case] = []
    /// Blocked signals seen, including those without prices to judge them by.
    public var blocked = 0
    /// Why nothing could be measured, when nothing could.
    public var problem: String?

    static func read(_ home: Home, now: Instant, maxCases: Int = 500) -> MissedOpportunities {
        var out = MissedOpportunities()
        let lines = JSONLTail.lastLines(home.signalsLog, maxBytes: 2 << 20).compactMap { $0.objectValue }
        let blocked = lines.filter {
            $0["action"]?.stringValue == "blocked" && ["LONG", "SHORT"].contains($0["direction"]?.stringValue ?? "")
        }
        out.blocked = blocked.count
        guard FileIO.exists(home.candleStore) else {
            out.problem = "no candles recorded yet (data/candles.db): the engine keeps them as it runs"
            return out
        }
        let store: CandleStore
        do { store = try CandleStore(path: home.candleStore, readOnly: true) } catch {
            out.problem = "\(error)"
            return out
        }
        for line in blocked.suffix(maxCases) {
            guard let at = line["ts"]?.instantValue, at.adding(seconds: horizonSeconds) <= now,
                let symbol = line["symbol"]?.stringValue, let direction = line["direction"]?.stringValue,
                let candles = try? store.candles(
                    symbol, from: at.adding(seconds: -600), to: at.adding(seconds: horizonSeconds)),
                let start = candles.last(where: { $0.ts <= at }), start.close > 0
            else { continue }
            let after = candles.filter { $0.ts > at }
            guard let end = after.last else { continue }
            let sign = direction == "LONG" ? 1.0 : -1.0
            func move(_ price: Double) -> Double { (price - start.close) / start.close * sign }
            let best = after.map { max(move($0.high), move($0.low)) }.max() ?? 0
            out.cases.append(
                Case(
                    at: at, symbol: symbol, direction: direction, rule: line["rule"]?.stringValue ?? "?",
                    moveAfter: move(end.close), bestMove: best))
        }
        if out.cases.isEmpty && out.problem == nil {
            out.problem =
                out.blocked == 0
                ? "no blocked signal in the newest lines of logs/signals.jsonl"
                : "no blocked signal has an hour of recorded prices after it yet"
        }
        return out
    }
}
