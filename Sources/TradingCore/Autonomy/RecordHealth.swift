/// The trade-based part of the health, from a positions file's closed trades: the bot's, each
/// strategy's and each setup's record over its newest `window` closed trades. What `report`
/// prints; the engine's own scores also read its drawdown, cycles and fills.
public struct RecordHealth: Sendable {
    public struct Entry: Sendable {
        public var name: String
        public var trades: Int
        public var net: Double
        public var health: HealthScore
    }

    public var bot: Entry
    public var strategies: [Entry]
    public var setups: [Entry]
    public static let window = 20
    /// How many of the newest closed trades `report` reads for it (one pass, bounded memory).
    public static let tradesRead = 2000

    /// `closed`: the counted closed trades (after the wallet reset).
    public init(closed: [Position]) {
        let ordered = closed.compactMap { p -> (Position, Instant, Double)? in
            guard let at = p.closedAt?.instant, let net = p.effectiveNetPnl else { return nil }
            return (p, at, net)
        }.sorted { $0.1 < $1.1 }
        func entry(_ name: String, _ nets: [Double]) -> Entry {
            let recent = Array(nets.suffix(Self.window))
            return Entry(
                name: name, trades: recent.count, net: recent.reduce(0, +), health: HealthScore.record(recent))
        }
        bot = entry("bot", ordered.map(\.2))
        func grouped(_ key: (Position) -> String?) -> [Entry] {
            var lists: [String: [Double]] = [:]
            for (p, _, net) in ordered {
                if let k = key(p) { lists[k, default: []].append(net) }
            }
            return lists.keys.sorted().map { entry($0, lists[$0] ?? []) }
        }
        strategies = grouped { $0.strategy }
        setups = grouped { $0.extra["setup"]?.stringValue }
    }

    public var json: JSONValue {
        func object(_ e: Entry) -> JSONValue {
            [
                "score": .double(HealthScore.round2(e.health.score)), "trades": .int(e.trades),
                "net": .double(HealthScore.round2(e.net)),
            ]
        }
        return .object(
            JSONObject([
                JSONField("window", .int(Self.window)), JSONField("bot", object(bot)),
                JSONField("strategies", .object(JSONObject(strategies.map { JSONField($0.name, object($0)) }))),
                JSONField("setups", .object(JSONObject(setups.map { JSONField($0.name, object($0)) }))),
            ]))
    }

    /// One line: the bot's record health and the weakest setups.
    public var text: String {
        guard bot.trades > 0 else { return "no closed trades: every setup sizes by conviction alone" }
        let weakest = setups.filter { $0.health.score < 100 }.sorted { $0.health.score < $1.health.score }.prefix(3)
        return "\(round1(bot.health.score)) over the newest \(bot.trades) trades"
            + (weakest.isEmpty
                ? "; every setup at full health"
                : "; weakest setups " + weakest.map { "\($0.name) \(round1($0.health.score))" }.joined(separator: ", "))
    }
}
