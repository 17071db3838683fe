import Exchange
import TradingCore
import TradingStore

/// Everything a cycle learns from outside the engine, through one door: the market, the kill
/// switch, the broker's answers and whether a write worked. Live it is the real feed, files and
/// broker; the flight recorder wraps it to keep what it said; a recorded replay says it again.
/// The engine reads the world no other way, so a replay of a recording decides what it decided.
///
/// - Important: not Sendable; the engine's thread drives it.
public protocol EngineWorld: AnyObject {
    /// `sim`, `replay:PATH` or `blofin`, for logs and the decisions line.
    var feedName: String { get }
    /// `paper`, `demo` or `live`: written into each position the broker opens.
    var mode: String { get }
    /// The market for the cycle at `time`; nil when a replay has run out.
    func market(at time: Instant) throws -> [MarketSnapshot]?
    /// What the feed has to tell the operator since it was last asked.
    func feedNotices() -> [FeedNotice]
    func killSwitchOn() -> Bool
    func order(symbol: String, buy: Bool, notional: Double, market: MarketSnapshot) throws -> Fill
    /// Closes on the broker that opened the position: `onPaper` for a paper position left in
    /// the file while the engine trades on the exchange (the exchange never had it).
    func close(symbol: String, buy: Bool, quantity: Double, market: MarketSnapshot, onPaper: Bool) throws -> Fill
    /// What the exchange holds that the engine's positions do not; nil for a broker that holds
    /// nothing elsewhere (paper).
    func reconcile(open: [Position], now: Instant) throws -> Reconciliation?
    /// Runs one write of the engine's files. Whether it worked changes what the engine does (a
    /// failed positions write stops entries), so it is part of the world too.
    func write(_ kind: WriteKind, _ body: () throws -> Void) throws
    /// The live world under any wrapper (exchange retries are logged from its clients).
    var live: LiveWorld? { get }
}

/// The engine's writes whose outcome changes what it does next.
public enum WriteKind: String, Sendable, CaseIterable {
    case positions, day, signals, decisions, database, weights
}

/// The world as it is: the feed, the broker, the kill switch file; writes run as they are.
public final class LiveWorld: EngineWorld {
    public let feed: any MarketFeed
    public let broker: any Broker
    let paper: PaperBroker
    let killSwitch: KillSwitch

    /// The world of `feed` and `broker` (the paper broker, filling as `config` and `settings` say,
    /// when nil).
    public convenience init(
        config: BotConfig, settings: EngineSettings, feed: any MarketFeed, broker: (any Broker)?, home: Home
    ) {
        let paper = PaperBroker(model: FillModel(fees: config.fees, slippage: settings.slippage))
        self.init(feed: feed, broker: broker ?? paper, paper: paper, home: home)
    }

    public init(feed: any MarketFeed, broker: any Broker, paper: PaperBroker, home: Home) {
        self.feed = feed
        self.broker = broker
        self.paper = paper
        killSwitch = KillSwitch(home: home)
    }

    public var feedName: String { feed.name }
    public var mode: String { broker.mode }
    public var live: LiveWorld? { self }

    public func market(at time: Instant) throws -> [MarketSnapshot]? { try feed.advance(to: time) }
    public func feedNotices() -> [FeedNotice] { feed.drainNotices() }
    /// The kill switch is a file: `touch state/kill_switch` stops new entries at the next cycle.
    public func killSwitchOn() -> Bool { killSwitch.isOn }

    public func order(symbol: String, buy: Bool, notional: Double, market: MarketSnapshot) throws -> Fill {
        try broker.marketOrder(symbol: symbol, buy: buy, notional: notional, market: market)
    }

    public func close(symbol: String, buy: Bool, quantity: Double, market: MarketSnapshot, onPaper: Bool) throws
        -> Fill
    {
        try (onPaper ? paper : broker).close(symbol: symbol, buy: buy, quantity: quantity, market: market)
    }

    public func reconcile(open: [Position], now: Instant) throws -> Reconciliation? {
        guard let exchange = broker as? any ReconcilingBroker else { return nil }
        return try exchange.reconcile(open: open, now: now)
    }

    public func write(_ kind: WriteKind, _ body: () throws -> Void) throws { try body() }
}
