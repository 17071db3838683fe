/// Attribution-weighted allocation: each strategy's share of the scaled exposure, from the net
/// P&L attributed to it over the window. Half the exposure is shared equally among the active
/// strategies (the floor a strategy earns its way back from), the other half by positive
/// attributed P&L; no share is below zero and they sum to 1. Before the window holds
/// `minTrades` closed trades there is no record to allocate by, and no strategy is capped.
public enum Allocation {
    /// The share of the exposure every active strategy keeps whatever its record, as a part of
    /// an equal share.
    public static let floorPart = 0.5

    /// Shares by strategy. `attributed`: net P&L of each strategy's closed trades in the window;
    /// `trades`: how many closed trades the window holds; `asking`: the strategy entering now
    /// (active even without a record). Nil when there is no record yet (no cap).
    public static func shares(attributed: [String: Double], trades: Int, asking: String?, minTrades: Int)
        -> [String: Double]?
    {
        guard trades >= minTrades else { return nil }
        var names = Set(attributed.keys)
        if let asking { names.insert(asking) }
        guard !names.isEmpty else { return nil }
        let n = Double(names.count)
        let floor = floorPart / n
        let earned = names.reduce(0.0) { $0 + max(0, attributed[$1] ?? 0) }
        var out: [String: Double] = [:]
        for name in names {
            let part = earned > 0 ? max(0, attributed[name] ?? 0) / earned : 1 / n
            out[name] = floor + (1 - floorPart) * part
        }
        return out
    }
}
