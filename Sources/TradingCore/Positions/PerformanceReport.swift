/// Totals for one group of trades (a day, a strategy, a symbol).
public struct TradeTotals: Sendable, Equatable {
    public var trades = 0
    public var wins = 0
    public var losses = 0
    public var netPnl = 0.0

    public init() {}

    public mutating func add(_ net: Double) {
        trades += 1
        netPnl += net
        if net > 0 { wins += 1 } else if net < 0 { losses += 1 }
    }

    /// Wins over decided trades (breakeven trades are neither), 0 when there are none.
    public var winRate: Double { wins + losses == 0 ? 0 : Double(wins) / Double(wins + losses) }
}

/// The numbers the dashboard shows: balance since the wallet reset and its breakdowns.
public struct PerformanceReport: Sendable, Equatable {
    public var reset: WalletReset
    public var balance: Double
    /// Closed trades counted since the reset.
    public var totals: TradeTotals
    /// Every closed trade in the file, counted or not.
    public var closedTradesTotal: Int
    public var grossPnl: Double
    public var openPositions: Int
    public var openMargin: Double
    public var firstCountedClose: Instant?
    public var lastCountedClose: Instant?
    public var lastClose: Instant?
    /// Keyed by UTC day `YYYY-MM-DD`, strategy and symbol; sorted when read through `sorted`.
    public var byDay: [String: TradeTotals]
    public var byStrategy: [String: TradeTotals]
    public var bySymbol: [String: TradeTotals]
    /// Records left out because a field they need cannot be used: open positions that cannot
    /// be valued, and trades that may count for the balance but whose close time or P&L cannot
    /// be read. At most `leftOutShown` are described; `leftOutCount` counts them all.
    public var leftOut: [String] = []
    public var leftOutCount = 0
    /// Fees, funding, profit factor, holds and exit reasons of the counted trades.
    public var statistics = TradeStatistics()
    /// Net P&L of the counted trades per UTC day (by the day's start), for daily returns.
    public var netByDayStart: [Instant: Double] = [:]
    static let leftOutShown = 10

    /// Builds the report from a positions file.
    public init(file: PositionsFile, reset: WalletReset) {
        var accumulator = Accumulator(reset: reset)
        for p in file.closed { accumulator.addClosed(p) }
        for p in file.open { accumulator.addOpen(p) }
        self = accumulator.report
    }

    init(reset: WalletReset) {
        self.reset = reset
        balance = reset.startingCapital
        totals = TradeTotals()
        closedTradesTotal = 0
        grossPnl = 0
        openPositions = 0
        openMargin = 0
        byDay = [:]
        byStrategy = [:]
        bySymbol = [:]
    }

    /// Builds a report one record at a time, for files too large to hold.
    public struct Accumulator: Sendable {
        public private(set) var report: PerformanceReport

        public init(reset: WalletReset) { report = PerformanceReport(reset: reset) }

        /// A closed trade, with the fields the reader could not use.
        public mutating func addClosed(_ p: Position, issues: [RecordIssue] = []) {
            report.closedTradesTotal += 1
            if let closed = p.closedAt?.instant, report.lastClose.map({ closed > $0 }) ?? true {
                report.lastClose = closed
            }
            guard report.reset.counts(p), let net = p.effectiveNetPnl, let closed = p.closedAt?.instant else {
                let mayCount = p.closedAt.map { $0.instant >= report.reset.at } ?? true
                if !issues.isEmpty && mayCount { leaveOut(issues) }
                return
            }
            report.totals.add(net)
            report.balance += net
            report.grossPnl += p.pnl ?? net
            if report.firstCountedClose.map({ closed < $0 }) ?? true { report.firstCountedClose = closed }
            if report.lastCountedClose.map({ closed > $0 }) ?? true { report.lastCountedClose = closed }
            report.byDay[closed.utcDay, default: TradeTotals()].add(net)
            report.statistics.add(p, net: net)
            report.netByDayStart[closed.startOfUTCDay, default: 0] += net
            report.byStrategy[p.strategy ?? "unknown", default: TradeTotals()].add(net)
            report.bySymbol[p.symbol, default: TradeTotals()].add(net)
        }

        private mutating func leaveOut(_ issues: [RecordIssue]) {
            report.leftOutCount += 1
            guard report.leftOut.count < PerformanceReport.leftOutShown else { return }
            report.leftOut.append(
                "\(issues[0].location): " + issues.map { "\($0.field) \($0.message)" }.joined(separator: "; "))
        }

        /// An open position, with the fields the reader could not use.
        public mutating func addOpen(_ p: Position, issues: [RecordIssue] = []) {
            if !issues.isEmpty { leaveOut(issues) }
            report.openPositions += 1
            report.openMargin += p.marginCollateral ?? 0
        }
    }

    /// The realised balance at the end of every UTC day from the first counted close to the
    /// last, days without trades included (they are days of zero return, not missing ones).
    public var balanceAtDayEnds: [Double] {
        guard let first = netByDayStart.keys.min(), let last = netByDayStart.keys.max() else { return [] }
        var out: [Double] = []
        var balance = reset.startingCapital
        var day = first
        while day <= last {
            balance += netByDayStart[day] ?? 0
            out.append(balance)
            day = day.adding(seconds: 86_400)
        }
        return out
    }

    /// A breakdown as (key, totals) pairs: days oldest first, others by net P&L, best first.
    public static func sorted(_ groups: [String: TradeTotals], byKey: Bool) -> [(key: String, totals: TradeTotals)] {
        let pairs = groups.map { (key: $0.key, totals: $0.value) }
        if byKey { return pairs.sorted { $0.key < $1.key } }
        return pairs.sorted {
            $0.totals.netPnl != $1.totals.netPnl ? $0.totals.netPnl > $1.totals.netPnl : $0.key < $1.key
        }
    }
}
