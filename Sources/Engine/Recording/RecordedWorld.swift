import Exchange
import TradingCore
import TradingStore

/// The world as a recording says it was: each cycle's market, kill switch and feed notices, the
/// broker's answers and the writes that failed, said again in the same order and words. A call
/// the recording does not hold (an order the live engine never placed) is filled on paper and
/// counted as a divergence: an A/A replay has none.
///
/// - Important: not Sendable; the replay's thread drives it.
public final class RecordedWorld: EngineWorld {
    public let feedName: String
    public let mode: String
    let paper: PaperBroker
    var current: RecordedCycle?
    var used: Set<Int> = []
    var writes: [WriteKind: Int] = [:]
    /// Calls the recording held no answer for, as `cycle N: what`.
    public private(set) var divergences: [String] = []

    public init(feedName: String, mode: String, paper: PaperBroker) {
        self.feedName = feedName
        self.mode = mode
        self.paper = paper
    }

    public var live: LiveWorld? { nil }

    /// The cycle the next `runCycle` reads.
    func load(_ cycle: RecordedCycle) {
        current = cycle
        used.removeAll()
        writes.removeAll()
    }

    /// After the last cycle: writes are made, none fails.
    func finish() { current = nil }

    public func market(at time: Instant) throws -> [MarketSnapshot]? {
        guard let current else { return nil }
        return current.market
    }

    public func feedNotices() -> [FeedNotice] { current?.notices ?? [] }
    public func killSwitchOn() -> Bool { current?.kill ?? false }

    public func order(symbol: String, buy: Bool, notional: Double, market: MarketSnapshot) throws -> Fill {
        let call = RecordedAnswers.orderCall(symbol: symbol, buy: buy, notional: notional)
        return try answer("o", call) {
            try paper.marketOrder(symbol: symbol, buy: buy, notional: notional, market: market)
        }
    }

    public func close(symbol: String, buy: Bool, quantity: Double, market: MarketSnapshot, onPaper: Bool) throws
        -> Fill
    {
        let call = RecordedAnswers.closeCall(symbol: symbol, buy: buy, quantity: quantity, onPaper: onPaper)
        return try answer("x", call) { try paper.close(symbol: symbol, buy: buy, quantity: quantity, market: market) }
    }

    /// The first answer of this cycle not yet given whose call `matches`, now given.
    func take(where matches: (JSONObject) -> Bool) -> JSONObject? {
        let answers = current?.answers ?? []
        guard
            let index = answers.indices.first(where: { i in
                !used.contains(i) && (answers[i].objectValue.map(matches) ?? false)
            })
        else { return nil }
        used.insert(index)
        return answers[index].objectValue
    }

    /// The recorded answer to this very call, or the paper broker's.
    func answer(_ kind: String, _ call: JSONValue, paperFill: () throws -> Fill) throws -> Fill {
        if let a = take(where: { $0[kind] == call }) {
            if let err = a["err"] { throw RecordedAnswers.error(err) }
            do {
                return try RecordedAnswers.fill(a["fill"])
            } catch {
                divergences.append("cycle \(current?.cycle ?? 0): \(kind) \(call.serialized()): \(error)")
            }
        } else {
            divergences.append(
                "cycle \(current?.cycle ?? 0): \(kind == "o" ? "order" : "close") \(call.serialized()) not recorded")
        }
        return try paperFill()
    }

    public func reconcile(open: [Position], now: Instant) throws -> Reconciliation? {
        guard let a = take(where: { $0["r"] != nil }) else { return nil }
        if let err = a["err"] { throw RecordedAnswers.error(err) }
        do {
            return try RecordedAnswers.reconciliation(a["r"])
        } catch {
            divergences.append("cycle \(current?.cycle ?? 0): reconciliation: \(error)")
            return nil
        }
    }

    /// A write the live engine could not make fails again, in the same words, without being
    /// made; the others are made in the replay's home.
    public func write(_ kind: WriteKind, _ body: () throws -> Void) throws {
        let n = writes[kind, default: 0]
        writes[kind] = n + 1
        let failed = current?.failures.first { f in
            let o = f.objectValue
            return o?["k"]?.stringValue == kind.rawValue && o?["n"]?.doubleValue == Double(n)
        }
        if let failed { throw RecordedAnswers.error(failed.objectValue?["err"]) }
        try body()
    }
}
