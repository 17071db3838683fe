/// The side of a futures position.
public enum Direction: String, Sendable, Equatable {
    case long = "LONG"
    case short = "SHORT"
}

/// A timestamp field: the instant it denotes and the value as the file spelled it, so a rewrite
/// keeps `+00:00`, naive or epoch spellings the operator's other tools may rely on.
public struct Timestamp: Sendable, Equatable {
    public var instant: Instant
    public var original: JSONValue

    /// A timestamp this program creates: ISO-8601 with `Z`.
    public init(_ instant: Instant) {
        self.instant = instant
        self.original = .string(instant.iso8601)
    }

    public init(instant: Instant, original: JSONValue) {
        self.instant = instant
        self.original = original
    }
}

/// One open or closed position in `logs/positions_futures.json` (schema in docs/formats.md).
/// Every field but `symbol` may be missing in real files; `extra` keeps the rest verbatim.
public struct Position: Sendable, Equatable {
    public var symbol: String
    /// As written (`LONG` or `SHORT`); see `side`.
    public var direction: String?
    public var entryPrice: Double?
    public var exitPrice: Double?
    public var size: Double?
    public var leverage: Double?
    public var marginCollateral: Double?
    /// Gross P&L in USDT.
    public var pnl: Double?
    /// P&L after fees in USDT: what the balance counts.
    public var netPnl: Double?
    public var openedAt: Timestamp?
    public var closedAt: Timestamp?
    public var strategy: String?
    public var botType: String?
    /// Fields this program does not model (and known fields it could not read), in file order.
    public var extra: JSONObject
    /// Modelled fields as the file spelled them where a rewrite would spell them otherwise (a
    /// price stored as a string, `5.0`, a lone surrogate escape): written back while the value
    /// is unchanged, so the operator's other tools read what they wrote.
    public var written = JSONObject()

    public init(
        symbol: String, direction: String? = nil, entryPrice: Double? = nil, exitPrice: Double? = nil,
        size: Double? = nil, leverage: Double? = nil, marginCollateral: Double? = nil, pnl: Double? = nil,
        netPnl: Double? = nil, openedAt: Timestamp? = nil, closedAt: Timestamp? = nil, strategy: String? = nil,
        botType: String? = nil, extra: JSONObject = JSONObject()
    ) {
        self.symbol = symbol
        self.direction = direction
        self.entryPrice = entryPrice
        self.exitPrice = exitPrice
        self.size = size
        self.leverage = leverage
        self.marginCollateral = marginCollateral
        self.pnl = pnl
        self.netPnl = netPnl
        self.openedAt = openedAt
        self.closedAt = closedAt
        self.strategy = strategy
        self.botType = botType
        self.extra = extra
    }

    public var side: Direction? {
        guard let direction else { return nil }
        return Direction(rawValue: direction) ?? Direction(rawValue: direction.trimmingSpaces.uppercased())
    }

    /// Net P&L, falling back to gross P&L less any `fees` field when a file lacks `net_pnl`
    /// (absent or null). A `net_pnl` that is there but unusable (NaN, text) is not replaced by a
    /// guess: the trade is left out and named.
    public var effectiveNetPnl: Double? {
        if let netPnl { return netPnl }
        guard let pnl, extra["net_pnl"]?.isNull ?? true else { return nil }
        return pnl - (extra["fees"]?.doubleValue ?? 0)
    }
}

/// The whole positions file: open and closed positions plus any other top-level fields.
public struct PositionsFile: Sendable, Equatable {
    public var open: [Position]
    public var closed: [Position]
    /// Top-level fields besides the two lists, kept for rewrites.
    public var extra: JSONObject

    public init(open: [Position] = [], closed: [Position] = [], extra: JSONObject = JSONObject()) {
        self.open = open
        self.closed = closed
        self.extra = extra
    }
}

extension Position {
    /// What closing this open position at `price` would add to the balance: the move, less the
    /// fee paid at entry (computed from the entry notional when the record has none, as for
    /// positions resumed from the old bot) and the taker fee the exit will cost, plus the
    /// funding booked so far. Nil when the record lacks a side, entry price or size.
    public func unrealizedPnl(at price: Double, takerFee: Double) -> Double? {
        guard let entry = entryPrice, let q = size, let side else { return nil }
        let entryFee = extra["entry_fee"]?.doubleValue ?? takerFee * entry * q
        return (price - entry) * q * (side == .long ? 1 : -1) - entryFee - takerFee * price * q
            + (extra["funding"]?.doubleValue ?? 0)
    }
}
