/// A health score, 0 to 100: 100 less the penalty points of what the engine knows against a setup,
/// a strategy or the bot. It starts at 100 because no record is a neutral record (sizing then
/// follows conviction as before); only evidence of trouble takes points off, so a score can fall
/// at once but never rises above what a clean record earns. docs/autonomy.md lists the weights.
public struct HealthScore: Sendable, Equatable {
    public var score: Double
    /// Each part's penalty in points (name, points taken off), for logs and the dashboard.
    public var penalties: [Penalty]

    public struct Penalty: Sendable, Equatable {
        public var name: String
        public var points: Double
        public init(name: String, points: Double) {
            self.name = name
            self.points = points
        }
    }

    /// Points each input can take off the bot's score; the record's three parts are scaled to
    /// the whole 100 for a setup or strategy, which has no drawdown or cycles of its own.
    public enum Weight {
        /// Recency-weighted expectancy below zero: the edge is gone.
        public static let expectancy = 25.0
        /// Profit factor below 1: the losers outweigh the winners.
        public static let profitFactor = 15.0
        /// Losses in a row at the end of the record: reacts before an average turns.
        public static let losingStreak = 20.0
        /// The day's fall from its equity peak, as a share of `exits.emergency_drawdown`.
        public static let drawdown = 20.0
        /// Cycles that failed (an exception, a failed write) among the recent ones.
        public static let errors = 10.0
        /// Cycles with a reconciliation or execution problem (unknown exchange positions, a
        /// close or entry that failed).
        public static let execution = 5.0
        /// Mean adverse slippage of recent fills against the price the decision saw.
        public static let slippage = 5.0
        public static var record: Double { expectancy + profitFactor + losingStreak }
    }

    /// Trades before a record counts fully; fewer are shrunk toward neutral (a single loss is
    /// not yet a record).
    public static let confidenceTrades = 5.0
    /// How fast old trades fade from the expectancy: each older trade weighs this much of the next.
    public static let recencyDecay = 0.8
    /// Losses in a row that take the whole streak penalty.
    public static let fullStreak = 4.0
    /// Failed cycles that take the whole error penalty, as a share of recent cycles.
    public static let fullErrorRate = 0.2
    /// Cycles with a problem that take the whole execution penalty, as a share of recent cycles.
    public static let fullProblemRate = 0.2
    /// Mean adverse slippage (fraction of price) that takes the whole slippage penalty: 20 bps.
    public static let fullSlippage = 0.002

    public init(score: Double, penalties: [Penalty]) {
        self.score = score
        self.penalties = penalties
    }

    /// The record part alone (0 to 1 of the record's weight taken off) of closed trades' net
    /// P&L, oldest first.
    public static func recordPenalties(_ trades: [Double]) -> [Penalty] {
        guard !trades.isEmpty else {
            return [
                Penalty(name: "expectancy", points: 0), Penalty(name: "profit_factor", points: 0),
                Penalty(name: "losing_streak", points: 0),
            ]
        }
        let confidence = min(1, Double(trades.count) / confidenceTrades)
        // Recency-weighted mean against the typical size of a trade: scale-free, -1...1.
        var weighted = 0.0
        var weightSum = 0.0
        var factor = 1.0
        for net in trades.reversed() {
            weighted += factor * net
            weightSum += factor
            factor *= recencyDecay
        }
        let typical = trades.reduce(0) { $0 + abs($1) } / Double(trades.count)
        let edge = typical > 0 ? (weighted / weightSum) / typical : 0
        let expectancyBad = clamp01(-edge)
        let wins = trades.filter { $0 > 0 }.reduce(0, +)
        let losses = -trades.filter { $0 < 0 }.reduce(0, +)
        let profitFactor = losses > 0 ? wins / losses : 1
        let profitFactorBad = clamp01(1 - profitFactor)
        let streak = Double(trades.reversed().prefix { $0 < 0 }.count)
        let streakBad = clamp01(streak / fullStreak)
        return [
            Penalty(name: "expectancy", points: Weight.expectancy * expectancyBad * confidence),
            Penalty(name: "profit_factor", points: Weight.profitFactor * profitFactorBad * confidence),
            Penalty(name: "losing_streak", points: Weight.losingStreak * streakBad * confidence),
        ]
    }

    /// A setup's or strategy's health: its record alone, scaled to 100.
    public static func record(_ trades: [Double]) -> HealthScore {
        let parts = recordPenalties(trades).map {
            Penalty(name: $0.name, points: $0.points * 100 / Weight.record)
        }
        return HealthScore(score: bounded(100 - parts.reduce(0) { $0 + $1.points }), penalties: parts)
    }

    /// What the bot's score reads besides its record.
    public struct BotInputs: Sendable, Equatable {
        /// Net P&L of the recent closed trades, oldest first.
        public var trades: [Double] = []
        /// The day's fall from its equity peak, as a fraction of the peak.
        public var drawdown = 0.0
        /// `exits.emergency_drawdown`: the drawdown that takes the whole penalty.
        public var emergencyDrawdown = 0.015
        /// Recent cycles, and how many of them failed or had a problem with the exchange.
        public var cycles = 0
        public var failedCycles = 0
        public var problemCycles = 0
        /// Adverse slippage of recent fills, as fractions of the expected price (negative:
        /// better than expected).
        public var slippages: [Double] = []
        public init() {}
    }

    /// The bot's health: its record, its drawdown, its cycles and its fills.
    public static func bot(_ inputs: BotInputs) -> HealthScore {
        var parts = recordPenalties(inputs.trades)
        parts.append(
            Penalty(
                name: "drawdown",
                points: Weight.drawdown * clamp01(inputs.drawdown / max(1e-9, inputs.emergencyDrawdown))))
        let cycles = Double(max(1, inputs.cycles))
        parts.append(
            Penalty(
                name: "errors",
                points: Weight.errors * clamp01(Double(inputs.failedCycles) / cycles / fullErrorRate)))
        parts.append(
            Penalty(
                name: "execution",
                points: Weight.execution * clamp01(Double(inputs.problemCycles) / cycles / fullProblemRate)))
        let slip = inputs.slippages.isEmpty ? 0 : inputs.slippages.reduce(0, +) / Double(inputs.slippages.count)
        parts.append(Penalty(name: "slippage", points: Weight.slippage * clamp01(slip / fullSlippage)))
        return HealthScore(score: bounded(100 - parts.reduce(0) { $0 + $1.points }), penalties: parts)
    }

    public var json: JSONValue {
        .object(
            JSONObject(
                [JSONField("score", .double(Self.round2(score)))]
                    + [
                        JSONField(
                            "penalties",
                            .object(JSONObject(penalties.map { JSONField($0.name, .double(Self.round2($0.points))) })))
                    ]))
    }

    static func round2(_ v: Double) -> Double { (v * 100).rounded() / 100 }
    static func bounded(_ v: Double) -> Double { v.isFinite ? max(0, min(100, v)) : 0 }
}

func clamp01(_ v: Double) -> Double { v.isFinite ? max(0, min(1, v)) : 0 }
