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

    /// `closed`: the counted closed trades (after the wallet reset).
    public init(closed: [Position]) {
        var accumulator = Accumulator()
        for p in closed { accumulator.add(p) }
        self = accumulator.result
    }

    init(bot: Entry, strategies: [Entry], setups: [Entry]) {
        self.bot = bot
        self.strategies = strategies
        self.setups = setups
    }

    /// Built record by record in a reader's one pass, keeping only each key's newest trades
    /// (time and net P&L), so a history of any length costs what the window holds.
    public struct Accumulator: Sendable {
        var bot = Newest()
        var strategies: [String: Newest] = [:]
        var setups: [String: Newest] = [:]

        public init() {}

        /// A counted closed trade.
        public mutating func add(_ p: Position) {
            guard let at = p.closedAt?.instant, let net = p.effectiveNetPnl else { return }
            bot.add(at, net)
            if let strategy = p.strategy { strategies[strategy, default: Newest()].add(at, net) }
            if let setup = p.extra["setup"]?.stringValue { setups[setup, default: Newest()].add(at, net) }
        }

        public var result: RecordHealth {
            func entry(_ name: String, _ newest: Newest) -> Entry {
                let nets = newest.ordered
                return Entry(
                    name: name, trades: nets.count, net: nets.reduce(0, +), health: HealthScore.record(nets))
            }
            return RecordHealth(
                bot: entry("bot", bot), strategies: strategies.keys.sorted().map { entry($0, strategies[$0]!) },
                setups: setups.keys.sorted().map { entry($0, setups[$0]!) })
        }
    }

    /// A key's newest `window` trades, whatever order they come in.
    struct Newest: Sendable {
        var items: [(at: Instant, net: Double)] = []

        mutating func add(_ at: Instant, _ net: Double) {
            items.append((at, net))
            if items.count >= 4 * RecordHealth.window { prune() }
        }

        mutating func prune() {
            items.sort { $0.at < $1.at }
            if items.count > RecordHealth.window { items.removeFirst(items.count - RecordHealth.window) }
        }

        /// Net P&L, oldest first.
        var ordered: [Double] {
            var copy = self
            copy.prune()
            return copy.items.map(\.net)
        }
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
