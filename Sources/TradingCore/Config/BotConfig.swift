/// `config/bot.json`: what the trading service needs. Only `wallet_reset` (its `at` and
/// `starting_capital`) is required; a missing section or key takes its documented default, so
/// a home written before a setting existed still loads, while an unknown or misspelt key fails
/// loudly (with the allowed keys) instead of silently running on a default.
public struct BotConfig: Sendable, Equatable {
    public var walletReset: WalletReset
    public var cycleSeconds: Int = 60
    public var fees = Fees()
    public var risk = RiskLimits()
    /// Symbols the engine trades; empty means every symbol of the asset universe.
    public var symbols: [String] = []
    public var exits = ExitPolicy()
    public var strategy = Strategy()
    public var dashboard = DashboardSettings()
    public var exchange = ExchangeSettings()

    /// Entry thresholds and leverage of the ensemble.
    public struct Strategy: Sendable, Equatable {
        public var leverage = 5.0
        /// Minimum |ensemble score| (0-1) for an entry.
        public var entryThreshold = 0.25
        /// Minimum number of signals agreeing with the ensemble's direction.
        public var minAgreeing = 3
    }

    /// Exchange fees as fractions of notional (the old bot's: taker 0.06 %, maker 0.02 %).
    public struct Fees: Sendable, Equatable {
        public var taker = 0.0006
        public var maker = 0.0002
        public init() {}
    }

    /// The risk gate's limits (docs/formats.md).
    public struct RiskLimits: Sendable, Equatable {
        public var maxPositions = 10
        public var maxSymbolFraction = 0.10
        public var maxExposureFraction = 0.60
        public var maxPerSector = 2
        public var minNotional = 200.0
        public var maxNotional = 2000.0
        public var maxPositionsPerDay = 20
        public var dailyLossLimitFraction = 0.05
        /// What the per-symbol and total exposure limits measure against equity: `notional`
        /// (price x size, the usual futures meaning) or `margin` (for an operator who meant that).
        public var exposureBasis = "notional"
        /// Capital scaling of `max_exposure_fraction` (docs/autonomy.md).
        public var scaling = ScalingSettings()
    }

    public init(walletReset: WalletReset) { self.walletReset = walletReset }

    /// The keys of bot.json's top level.
    public static let keys = [
        "wallet_reset", "cycle_seconds", "fees", "risk", "symbols", "exits", "strategy", "dashboard",
        "exchange",
    ]

    /// Validates a parsed `bot.json`; `file` names it in errors. A missing key takes its default
    /// (`wallet_reset.at` and `starting_capital` have none), so a home's file keeps loading when a
    /// later version adds settings; an unknown key or a value out of range fails, naming both.
    public static func parse(_ value: JSONValue, file: String) throws(ConfigError) -> BotConfig {
        let root = try ConfigSection(file: file, path: "", value: value)
        try root.allowOnly(keys)
        guard let resetSection = try root.section("wallet_reset") else {
            throw ConfigError(
                file: file, field: "wallet_reset",
                message: "is missing; expected {\"at\": \"2025-12-18T00:00:00Z\", \"starting_capital\": 10000}")
        }
        try resetSection.allowOnly(["at", "starting_capital"])
        var c = BotConfig(
            walletReset: WalletReset(
                at: try resetSection.instant("at"),
                startingCapital: try resetSection.number("starting_capital", in: 1...1_000_000_000)))
        c.cycleSeconds = try root.int("cycle_seconds", in: 1...3600, default: c.cycleSeconds)
        if let fees = try root.section("fees") {
            try fees.allowOnly(["taker", "maker"])
            c.fees.taker = try fees.number("taker", in: 0...0.01, default: c.fees.taker)
            c.fees.maker = try fees.number("maker", in: -0.001...0.01, default: c.fees.maker)
        }
        if let risk = try root.section("risk") {
            try risk.allowOnly([
                "max_positions", "max_symbol_fraction", "max_exposure_fraction", "max_per_sector", "min_notional",
                "max_notional", "max_positions_per_day", "daily_loss_limit_fraction", "exposure_basis", "scaling",
            ])
            var r = c.risk
            r.maxPositions = try risk.int("max_positions", in: 1...100, default: r.maxPositions)
            r.maxSymbolFraction = try risk.number("max_symbol_fraction", in: 0.001...1, default: r.maxSymbolFraction)
            r.maxExposureFraction = try risk.number(
                "max_exposure_fraction", in: 0.001...1, default: r.maxExposureFraction)
            r.maxPerSector = try risk.int("max_per_sector", in: 1...100, default: r.maxPerSector)
            r.minNotional = try risk.number("min_notional", in: 1...1_000_000, default: r.minNotional)
            r.maxNotional = try risk.number(
                "max_notional", in: r.minNotional...10_000_000, default: max(r.maxNotional, r.minNotional))
            r.maxPositionsPerDay = try risk.int("max_positions_per_day", in: 1...10_000, default: r.maxPositionsPerDay)
            r.dailyLossLimitFraction = try risk.number(
                "daily_loss_limit_fraction", in: 0.001...1, default: r.dailyLossLimitFraction)
            r.exposureBasis = try risk.choice("exposure_basis", ["notional", "margin"], default: r.exposureBasis)
            c.risk = r
        }
        c.symbols = try root.strings("symbols", default: c.symbols)
        if let exits = try root.section("exits") {
            try exits.allowOnly([
                "min_hold_seconds", "max_hold_seconds", "trailing_activation", "trailing_distance",
                "profit_lock_trigger", "profit_lock_floor", "emergency_position_loss", "emergency_drawdown",
            ])
            var e = c.exits
            e.minHoldSeconds = try exits.number("min_hold_seconds", in: 0...86_400, default: e.minHoldSeconds)
            e.maxHoldSeconds = try exits.number("max_hold_seconds", in: 1...2_592_000, default: e.maxHoldSeconds)
            e.trailingActivation = try exits.number("trailing_activation", in: 0...1, default: e.trailingActivation)
            e.trailingDistance = try exits.number("trailing_distance", in: 0.0001...1, default: e.trailingDistance)
            e.profitLockTrigger = try exits.number("profit_lock_trigger", in: 0...1, default: e.profitLockTrigger)
            e.profitLockFloor = try exits.number("profit_lock_floor", in: 0...1, default: e.profitLockFloor)
            e.emergencyPositionLoss = try exits.number(
                "emergency_position_loss", in: 0.001...1, default: e.emergencyPositionLoss)
            e.emergencyDrawdown = try exits.number("emergency_drawdown", in: 0.001...1, default: e.emergencyDrawdown)
            c.exits = e
        }
        // After the exits: the step-down drawdown must stay below their emergency drawdown.
        if let scaling = try root.section("risk")?.section("scaling") {
            c.risk.scaling = try ScalingSettings.parse(scaling, emergencyDrawdown: c.exits.emergencyDrawdown)
        }
        if let strategy = try root.section("strategy") {
            try strategy.allowOnly(["leverage", "entry_threshold", "min_agreeing"])
            c.strategy.leverage = try strategy.number("leverage", in: 1...100, default: c.strategy.leverage)
            c.strategy.entryThreshold = try strategy.number(
                "entry_threshold", in: 0.01...1, default: c.strategy.entryThreshold)
            c.strategy.minAgreeing = try strategy.int("min_agreeing", in: 1...10, default: c.strategy.minAgreeing)
        }
        if let dashboard = try root.section("dashboard") { c.dashboard = try DashboardSettings.parse(dashboard) }
        if let exchange = try root.section("exchange") { c.exchange = try ExchangeSettings.parse(exchange) }
        return c
    }
}
