/// bot.json's `exchange` section: where the market comes from and where orders go, so the
/// service units (which run `tradingbot run --home H`) need no flags. `--feed` and `--mode`
/// override it for one run.
public struct ExchangeSettings: Sendable, Equatable {
    public static let productionURL = "https://openapi.blofin.com"
    public static let demoURL = "https://demo-trading-openapi.blofin.com"

    /// `sim`, `blofin` or `replay:PATH`.
    public var feed = "sim"
    /// `paper` (simulated fills on the feed's market), `demo` (orders to BloFin's demo account) or
    /// `live` (real orders).
    public var mode = "paper"
    /// Public market data (no keys): production's prices, also for paper and demo trading.
    public var marketDataURL = productionURL
    /// Where orders go; by default the demo host for `demo`, production for `live`.
    public var tradingURL: String?
    /// Live trading needs this set to true in the file, besides `--mode live` or `mode: live`.
    public var live = false
    /// Live trading on BloFin's production host needs this second setting as well.
    public var allowProduction = false
    /// The candle size the signals read.
    public var bar = "1m"
    /// Market-data requests a minute the feed may spend: BloFin allows 500 per address, and the
    /// plan stays at half of that so private calls and retries have room.
    public var requestsPerMinute = 240
    public var marginMode = "isolated"

    public init() {}

    public static let modes = ["paper", "demo", "live"]
    public static let barSeconds: [String: Int] = [
        "1m": 60, "3m": 180, "5m": 300, "15m": 900, "30m": 1800, "1H": 3600, "2H": 7200, "4H": 14_400,
    ]
    static let keys = [
        "feed", "mode", "market_data_url", "trading_url", "live", "allow_production", "bar", "requests_per_minute",
        "margin_mode",
    ]

    static func parse(_ section: ConfigSection) throws(ConfigError) -> ExchangeSettings {
        try section.allowOnly(keys)
        var e = ExchangeSettings()
        e.feed = try section.string("feed", default: e.feed)
        if let why = Self.feedProblem(e.feed) { throw section.fail("feed", why) }
        e.mode = try section.string("mode", default: e.mode)
        guard modes.contains(e.mode) else {
            throw section.fail("mode", "\"\(e.mode)\" is not one of \(modes.joined(separator: ", "))")
        }
        e.marketDataURL = try section.string("market_data_url", default: e.marketDataURL)
        guard Self.isHTTPURL(e.marketDataURL) else {
            throw section.fail("market_data_url", "expected an http(s) URL such as \(productionURL)")
        }
        if section.object["trading_url"].map({ !$0.isNull }) ?? false {
            let url = try section.string("trading_url")
            guard Self.isHTTPURL(url) else {
                throw section.fail("trading_url", "expected an http(s) URL such as \(demoURL)")
            }
            e.tradingURL = url
        }
        e.live = try section.bool("live", default: e.live)
        e.allowProduction = try section.bool("allow_production", default: e.allowProduction)
        e.bar = try section.string("bar", default: e.bar)
        guard barSeconds[e.bar] != nil else {
            throw section.fail("bar", "\"\(e.bar)\" is not one of \(barSeconds.keys.sorted().joined(separator: ", "))")
        }
        e.requestsPerMinute = try section.int("requests_per_minute", in: 10...450, default: e.requestsPerMinute)
        e.marginMode = try section.string("margin_mode", default: e.marginMode)
        guard ["isolated", "cross"].contains(e.marginMode) else {
            throw section.fail("margin_mode", "\"\(e.marginMode)\" is not isolated or cross")
        }
        return e
    }

    public static func feedProblem(_ feed: String) -> String? {
        if feed == "sim" || feed == "blofin" { return nil }
        if feed.hasPrefix("replay:"), feed.count > "replay:".count { return nil }
        return "\"\(feed)\" is not sim, blofin or replay:PATH"
    }

    static func isHTTPURL(_ url: String) -> Bool {
        (url.hasPrefix("https://") || url.hasPrefix("http://")) && url.count > "https://".count
    }

    public static func isProductionHost(_ url: String) -> Bool {
        var rest = Substring(url)
        for scheme in ["https://", "http://"] where rest.lowercased().hasPrefix(scheme) {
            rest = rest.dropFirst(scheme.count)
        }
        var authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        var host = authority.prefix { $0 != ":" }.lowercased()
        while host.hasSuffix(".") { host.removeLast() }
        return host == "openapi.blofin.com"
    }

    /// Where orders go for `mode`: `override` (BLOFIN_BASE_URL), else `trading_url`, else the
    /// demo host for demo and production for live.
    public func tradingURL(mode: String, override: String?) -> String {
        if let override, !override.isEmpty { return override }
        return tradingURL ?? (mode == "live" ? Self.productionURL : Self.demoURL)
    }

    /// Why orders must not be sent to `url` in `mode`, or nil when they may.
    public func refusal(mode: String, url: String) -> String? {
        switch mode {
        case "demo" where Self.isProductionHost(url):
            return
                "mode demo sends orders to BloFin's demo account, but the trading URL is the production host \(url): remove exchange.trading_url (or BLOFIN_BASE_URL), or use mode live"
        case "live" where !live:
            return
                "live trading needs \"live\": true in the exchange section of config/bot.json, besides --mode live; nothing was sent"
        case "live" where Self.isProductionHost(url) && !allowProduction:
            return
                "live trading on BloFin's production host (\(url)) needs \"allow_production\": true in the exchange section of config/bot.json as well; nothing was sent"
        default:
            return nil
        }
    }
}
