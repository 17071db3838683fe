/// An open position as the risk gate sees it.
public struct Exposure: Sendable, Equatable {
    public var symbol: String
    public var sector: String
    public var margin: Double

    public init(symbol: String, sector: String, margin: Double) {
        self.symbol = symbol
        self.sector = sector
        self.margin = margin
    }
}

/// The risk gate's verdict on a proposed entry.
public enum RiskVerdict: Sendable, Equatable {
    case allow(notional: Double, margin: Double)
    /// `rule` is the config name of the limit that blocked it.
    case block(rule: String, detail: String)
}

/// SEED.md's risk limits: concurrency, one position per symbol, per-symbol and total margin
/// as fractions of the balance, positions per sector, notional bounds and a daily cap.
public struct RiskGate: Sendable {
    public var limits: BotConfig.RiskLimits

    public init(limits: BotConfig.RiskLimits) { self.limits = limits }

    public func evaluate(
        symbol: String, sector: String, desiredNotional: Double, leverage: Double, balance: Double,
        open: [Exposure], openedToday: Int
    ) -> RiskVerdict {
        if open.count >= limits.maxPositions {
            return .block(rule: "max_positions", detail: "\(open.count) positions open (limit \(limits.maxPositions))")
        }
        if open.contains(where: { $0.symbol == symbol }) {
            return .block(rule: "one_per_symbol", detail: "a \(symbol) position is already open")
        }
        let inSector = open.filter { $0.sector == sector }.count
        if inSector >= limits.maxPerSector {
            return .block(
                rule: "max_per_sector",
                detail: "\(inSector) positions open in sector \(sector) (limit \(limits.maxPerSector))")
        }
        if openedToday >= limits.maxPositionsPerDay {
            return .block(
                rule: "max_positions_per_day",
                detail: "\(openedToday) positions opened today (limit \(limits.maxPositionsPerDay))")
        }
        guard balance > 0, leverage > 0 else { return .block(rule: "balance", detail: "no balance to trade") }
        var notional = min(max(desiredNotional, limits.minNotional), limits.maxNotional)
        var binding = "max_notional"
        let symbolRoom = limits.maxSymbolFraction * balance * leverage
        if notional > symbolRoom {
            notional = symbolRoom
            binding = "max_symbol_fraction"
        }
        let used = open.reduce(0) { $0 + $1.margin }
        let exposureRoom = (limits.maxExposureFraction * balance - used) * leverage
        if notional > exposureRoom {
            notional = exposureRoom
            binding = "max_exposure_fraction"
        }
        if notional < limits.minNotional {
            return .block(
                rule: binding,
                detail:
                    "room for \(money(max(0, notional))) notional is below the minimum \(money(limits.minNotional)) (margin in use \(money(used)) of \(money(balance)))"
            )
        }
        return .allow(notional: notional, margin: notional / leverage)
    }

    /// Whether the open positions respect every limit (asserted on every replay cycle).
    public func invariantViolations(open: [Exposure], balance: Double) -> [String] {
        var out: [String] = []
        if open.count > limits.maxPositions { out.append("\(open.count) positions > \(limits.maxPositions)") }
        let bySymbol = Dictionary(grouping: open, by: \.symbol)
        for (symbol, list) in bySymbol where list.count > 1 { out.append("\(list.count) positions in \(symbol)") }
        for (symbol, list) in bySymbol {
            let margin = list.reduce(0) { $0 + $1.margin }
            if margin > limits.maxSymbolFraction * balance + 0.01 {
                out.append("\(symbol) margin \(margin) over limit")
            }
        }
        for (sector, list) in Dictionary(grouping: open, by: \.sector) where list.count > limits.maxPerSector {
            out.append("\(list.count) positions in sector \(sector)")
        }
        let total = open.reduce(0) { $0 + $1.margin }
        if total > limits.maxExposureFraction * balance + 0.01 {
            out.append("total margin \(total) over exposure limit")
        }
        return out
    }
}
