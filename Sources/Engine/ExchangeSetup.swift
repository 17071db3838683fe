import Exchange
import Foundation
import TradingCore
import TradingStore

/// Builds what a run trades with from bot.json's `exchange` section, the flags that override it,
/// and the secrets (environment, then the home's 0600 secrets file): the feed, and the broker
/// for demo and live orders. Refuses, before anything is sent, what the operator has not allowed.
public struct ExchangeSetup {
    public var feed: any MarketFeed
    /// Nil for paper trading (the engine's paper broker fills on the feed's market).
    public var broker: (any Broker)?
    public var mode: String
    /// Where orders go (demo and live), for the start log.
    public var tradingURL: String?

    /// A setting the operator must change; nothing was sent.
    public struct Refused: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    public static func make(
        config: BotConfig, home: Home, symbols: [String], feed feedName: String, mode: String, seed: UInt64,
        environment: [String: String], now: Instant
    ) throws -> ExchangeSetup {
        let settings = config.exchange
        guard ExchangeSettings.modes.contains(mode) else {
            throw Refused(message: "--mode \(mode): expected paper, demo or live")
        }
        if let why = ExchangeSettings.feedProblem(feedName) { throw Refused(message: "--feed: \(why)") }
        let override = environment[BloFinCredentials.baseURLVariable].flatMap { $0.isEmpty ? nil : $0 }
        let tradingURL = settings.tradingURL(mode: mode, override: override)
        let limits = SharedLimits()
        // Demo and live trade on their host's own market; paper on production's public prices.
        let marketURL = mode == "paper" ? (override ?? settings.marketDataURL) : tradingURL
        var setup: ExchangeSetup
        switch feedName {
        case "sim":
            setup = ExchangeSetup(
                feed: SimulatedFeed(symbols: symbols, seed: seed, intervalSeconds: config.cycleSeconds, start: now),
                broker: nil, mode: mode)
        case "blofin":
            let client = Self.client(baseURL: marketURL, credentials: nil, limits: limits)
            let budget = max(3, settings.requestsPerMinute * config.cycleSeconds / 60)
            setup = ExchangeSetup(
                feed: try BloFinFeed(client: client, symbols: symbols, bar: settings.bar, requestBudget: budget),
                broker: nil, mode: mode)
        default:
            let path = String(feedName.dropFirst("replay:".count))
            setup = ExchangeSetup(
                feed: ReplayFeed(series: try MarketDataFiles.load(path).series, name: feedName), broker: nil, mode: mode
            )
        }
        guard
            let (url, credentials) = try orders(
                config: config, home: home, feed: feedName, mode: mode, environment: environment)
        else { return setup }
        let client = Self.client(baseURL: url, credentials: credentials, limits: limits)
        setup.broker = BloFinBroker(
            client: client, mode: mode, stopLossFraction: config.exits.emergencyPositionLoss,
            leverage: Int(config.strategy.leverage), marginMode: settings.marginMode)
        setup.tradingURL = url
        return setup
    }

    /// Where orders go and with which keys, or nil for paper trading; refuses what the operator
    /// has not allowed (without network: selfcheck runs it too).
    public static func orders(
        config: BotConfig, home: Home, feed feedName: String, mode: String, environment: [String: String]
    ) throws -> (url: String, credentials: BloFinCredentials)? {
        guard mode != "paper" else { return nil }
        guard feedName == "blofin" else {
            throw Refused(
                message: "--mode \(mode) sends orders to BloFin: it needs --feed blofin (the feed is \(feedName))")
        }
        let settings = config.exchange
        let override = environment[BloFinCredentials.baseURLVariable].flatMap { $0.isEmpty ? nil : $0 }
        let url = settings.tradingURL(mode: mode, override: override)
        if let why = settings.refusal(mode: mode, url: url) { throw Refused(message: why) }
        switch BloFinCredentials.resolve({ SecretsFile.value($0, home: home, environment: environment) }) {
        case .success(let credentials): return (url, credentials)
        case .failure(let missing): throw Refused(message: "--mode \(mode): \(missing)")
        }
    }

    /// A client on the wall clock, with the transport's defaults.
    public static func client(
        baseURL: String, credentials: BloFinCredentials?, limits: SharedLimits = SharedLimits()
    ) -> BloFinClient {
        BloFinClient(baseURL: baseURL, credentials: credentials, limits: limits, wallClock: { WallClock.now })
    }
}
