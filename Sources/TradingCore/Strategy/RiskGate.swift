/// An open position as the risk gate sees it.
public struct Exposure: Sendable, Equatable {
    public var symbol: String
    public var sector: String
    public var margin: Double
    /// Price x size at the last known price.
    public var notional: Double
    /// The position's strategy (`Ensemble-<dominant>`), for the allocation cap.
    public var strategy: String?

    public init(symbol: String, sector: String, margin: Double, notional: Double, strategy: String? = nil) {
        self.symbol = symbol
        self.sector = sector
        self.margin = margin
        self.notional = notional
        self.strategy = strategy
    }
}

/// The risk gate's verdict on a proposed entry.
public enum RiskVerdict: Sendable, Equatable {
    /// `bound`: the cap that set the size (`conviction` when none did).
    case allow(notional: Double, margin: Double, bound: String)
    /// `rule` is the config name of the limit that blocked it.
    case block(rule: String, detail: String)
}

/// The old bot's risk limits: concurrency, one position per symbol, per-symbol and total exposure
/// as fractions of equity (notional by default, margin when `exposure_basis` says so), positions
/// per sector, notional bounds and a daily cap. An entry's size is the smallest of its caps.
public struct RiskGate: Sendable {
    public var limits: BotConfig.RiskLimits

    public init(limits: BotConfig.RiskLimits) { self.limits = limits }

    /// A strategy's allocation: its share of the scaled total exposure.
    public struct StrategyShare: Sendable, Equatable {
        public var strategy: String
        public var share: Double
        public init(strategy: String, share: Double) {
            self.strategy = strategy
            self.share = share
        }
    }

    /// - Parameters:
    ///   - exposureScale: capital scaling's multiplier of `max_exposure_fraction` (at most 1: it
    ///     never raises the limit); the cap it sets is named `capital_scaling`.
    ///   - allocation: the entering strategy's share of that scaled exposure, a cap on the
    ///     exposure of its open positions named `allocation`; nil: no cap.
    public func evaluate(
        symbol: String, sector: String, desiredNotional: Double, leverage: Double, equity: Double,
        open: [Exposure], openedToday: Int, exposureScale: Double = 1, allocation: StrategyShare? = nil
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
        guard equity > 0, leverage > 0 else { return .block(rule: "balance", detail: "no equity to trade") }
        // Caps in notional: a margin basis turns margin room into notional room by the leverage.
        let scale = limits.exposureBasis == "margin" ? leverage : 1
        var notional = max(desiredNotional, limits.minNotional)
        var bound = "conviction"
        func cap(_ room: Double, _ rule: String) {
            if room <= notional {
                notional = room
                bound = rule
            }
        }
        cap(limits.maxNotional, "max_notional")
        cap(limits.maxSymbolFraction * equity * scale, "max_symbol_fraction")
        let used = open.reduce(0) { $0 + measure($1) }
        cap((limits.maxExposureFraction * equity - used) * scale, "max_exposure_fraction")
        let scaled = limits.maxExposureFraction * min(1, max(0, exposureScale))
        if exposureScale < 1 { cap((scaled * equity - used) * scale, "capital_scaling") }
        if let allocation {
            let own = open.filter { $0.strategy == allocation.strategy }.reduce(0) { $0 + measure($1) }
            cap((allocation.share * scaled * equity - own) * scale, "allocation")
        }
        if notional < limits.minNotional {
            return .block(
                rule: bound,
                detail:
                    "room for \(money(max(0, notional))) notional is below the minimum \(money(limits.minNotional)) (\(limits.exposureBasis) in use \(money(used)) against equity \(money(equity))\(exposureScale < 1 ? "; capital scaling allows \(percent(exposureScale)) of max_exposure_fraction" : "")\(allocation.map { "; \($0.strategy)'s allocation is \(percent($0.share)) of it" } ?? ""))"
            )
        }
        return .allow(notional: notional, margin: notional / leverage, bound: bound)
    }

    /// The counting limits a set of open positions already breaks (two on one symbol, more than
    /// `max_per_sector` in a sector, more than `max_positions`), naming the positions: a file
    /// the old bot or a hand edit left that way. The engine opens nothing that adds to it.
    /// - Parameter open: (where in the file, symbol) of each open position.
    public func breaches(open: [(label: String, symbol: String)], sector: (String) -> String) -> [String] {
        var out: [String] = []
        if open.count > limits.maxPositions {
            out.append("\(open.count) open positions (max_positions \(limits.maxPositions))")
        }
        for (symbol, list) in Dictionary(grouping: open, by: \.symbol).sorted(by: { $0.key < $1.key })
        where list.count > 1 {
            out.append("\(list.count) open positions on \(symbol) (\(list.map(\.label).joined(separator: ", ")))")
        }
        for (name, list) in Dictionary(grouping: open, by: { sector($0.symbol) }).sorted(by: { $0.key < $1.key })
        where list.count > limits.maxPerSector {
            out.append(
                "\(list.count) open positions in sector \(name) (\(list.map { "\($0.symbol) at \($0.label)" }.joined(separator: ", ")); max_per_sector \(limits.maxPerSector))"
            )
        }
        return out
    }

    /// What the exposure limits count of a position.
    func measure(_ e: Exposure) -> Double { limits.exposureBasis == "margin" ? e.margin : e.notional }

    /// Whether the open positions respect every limit (asserted on every replay cycle). The
    /// counting limits are `breaches`; the exposure limits compare each position's notional,
    /// fixed at entry, with today's equity, which has moved since the entry was sized:
    /// `equityDrift` is the fall of equity the caller allows for (an allowance, not a measure).
    public func invariantViolations(open: [Exposure], equity: Double, equityDrift: Double = 0) -> [String] {
        let sectors = Dictionary(open.map { ($0.symbol, $0.sector) }, uniquingKeysWith: { first, _ in first })
        var out = breaches(open: open.map { ($0.symbol, $0.symbol) }) { sectors[$0] ?? "other" }
        let room = equity * (1 + equityDrift)
        for (symbol, list) in Dictionary(grouping: open, by: \.symbol) {
            let used = list.reduce(0) { $0 + measure($1) }
            if used > limits.maxSymbolFraction * room + 0.01 {
                out.append("\(symbol) \(limits.exposureBasis) \(used) over the limit")
            }
        }
        let total = open.reduce(0) { $0 + measure($1) }
        if total > limits.maxExposureFraction * room + 0.01 {
            out.append("total \(limits.exposureBasis) \(total) over the exposure limit")
        }
        return out
    }
}
