/// The numbers a trader compares strategies by, over the counted closed trades and the equity at
/// each UTC day's end. Definitions (docs/formats.md): daily returns of that equity; Sharpe =
/// mean / standard deviation x sqrt(365) (crypto trades every day); Sortino the same over the
/// downside deviation; profit factor = gross wins / gross losses, nil without losses (JSON has no
/// infinity); expectancy = mean net P&L per trade.
public struct TradeStatistics: Sendable, Equatable {
    public var trades = 0
    public var totalFees = 0.0
    public var funding = 0.0
    public var grossWins = 0.0
    public var grossLosses = 0.0
    public var netPnl = 0.0
    public var holdSeconds = 0.0
    public var holdsCounted = 0
    public var exitReasons: [String: Int] = [:]

    public init() {}

    /// Adds one counted closed trade.
    public mutating func add(_ p: Position, net: Double) {
        trades += 1
        netPnl += net
        if net > 0 { grossWins += net } else { grossLosses -= net }
        totalFees += p.extra["fees"]?.doubleValue ?? 0
        funding += p.extra["funding"]?.doubleValue ?? 0
        if let opened = p.openedAt?.instant, let closed = p.closedAt?.instant, closed >= opened {
            holdSeconds += opened.seconds(until: closed)
            holdsCounted += 1
        }
        exitReasons[p.extra["exit_reason"]?.stringValue ?? "unknown", default: 0] += 1
    }

    public var profitFactor: Double? { grossLosses > 0 ? grossWins / grossLosses : nil }
    public var expectancy: Double? { trades > 0 ? netPnl / Double(trades) : nil }
    public var averageHoldSeconds: Double? { holdsCounted > 0 ? holdSeconds / Double(holdsCounted) : nil }

    /// Daily returns of an equity series (one value per UTC day's end, oldest first), starting
    /// from `start`.
    public static func dailyReturns(start: Double, dayEnds: [Double]) -> [Double] {
        var previous = start
        var out: [Double] = []
        for equity in dayEnds {
            if previous > 0 { out.append(equity / previous - 1) }
            previous = equity
        }
        return out
    }

    /// The largest fall of equity from one UTC day's end to the next (the first day from
    /// `start`), in money; 0 when no day lost.
    public static func worstDay(start: Double, dayEnds: [Double]) -> Double {
        var previous = start
        var worst = 0.0
        for equity in dayEnds {
            worst = min(worst, equity - previous)
            previous = equity
        }
        return worst
    }

    /// Sharpe and Sortino of daily returns, annualised by sqrt(365); nil with fewer than two
    /// days, or no variation (no downside for Sortino).
    public static func ratios(_ returns: [Double]) -> (sharpe: Double?, sortino: Double?) {
        guard returns.count >= 2 else { return (nil, nil) }
        let n = Double(returns.count)
        let mean = returns.reduce(0, +) / n
        let variance = returns.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
        let downside = (returns.reduce(0) { $0 + min(0, $1) * min(0, $1) } / n).squareRoot()
        let year = Double(365).squareRoot()
        return (
            variance > 0 ? mean / variance.squareRoot() * year : nil, downside > 0 ? mean / downside * year : nil
        )
    }

    /// The largest fall of equity from a running peak, as a fraction of that peak.
    public static func maxDrawdown(_ equity: [Double]) -> Double {
        var peak = -Double.infinity
        var worst = 0.0
        for e in equity {
            peak = max(peak, e)
            if peak > 0 { worst = max(worst, (peak - e) / peak) }
        }
        return worst
    }

    /// The JSON fields the replay summary and `report` share; `dayEnds` give the daily returns,
    /// and each caller measures the drawdown on the finest equity it has.
    public func json(start: Double, dayEnds: [Double], maxDrawdown: Double) -> [JSONField] {
        func number(_ v: Double?, _ places: Double = 10_000) -> JSONValue {
            v.map { .double(($0 * places).rounded() / places) } ?? .null
        }
        let (sharpe, sortino) = Self.ratios(Self.dailyReturns(start: start, dayEnds: dayEnds))
        return [
            JSONField("total_fees", number(totalFees, 100)), JSONField("funding", number(funding, 100)),
            JSONField("profit_factor", number(profitFactor)), JSONField("expectancy", number(expectancy, 100)),
            JSONField("sharpe", number(sharpe)), JSONField("sortino", number(sortino)),
            JSONField("max_drawdown", number(maxDrawdown)),
            JSONField("avg_hold_seconds", number(averageHoldSeconds, 1)),
            JSONField(
                "exit_reasons",
                .object(JSONObject(exitReasons.sorted { $0.key < $1.key }.map { JSONField($0.key, .int($0.value)) }))),
        ]
    }
}
