/// Why a position was closed; the raw value goes into the record's `exit_reason`.
public enum ExitReason: String, Sendable {
    case trailingStop = "trailing_stop"
    case maxHold = "max_hold"
    case profitLock = "profit_lock"
    case emergencyPositionLoss = "emergency_position_loss"
    case emergencyDrawdown = "emergency_drawdown"
    /// Closed on the exchange, not by the engine: the stop-loss it carries filled, its take-profit
    /// filled, it was liquidated, or it was closed by hand (found by the reconciliation).
    case exchangeStopLoss = "exchange_stop_loss"
    case exchangeTakeProfit = "exchange_take_profit"
    case exchangeLiquidation = "exchange_liquidation"
    case closedOnExchange = "closed_on_exchange"
}

/// The old bot's exits. Moves are fractions of the entry price (unlevered). Emergency exits bypass
/// the minimum hold; the others wait for it.
public struct ExitPolicy: Sendable, Equatable {
    public var minHoldSeconds = 300.0
    public var maxHoldSeconds = 4 * 3600.0
    public var trailingActivation = 0.008
    public var trailingDistance = 0.005
    public var profitLockTrigger = 0.015
    public var profitLockFloor = 0.005
    public var emergencyPositionLoss = 0.02
    public var emergencyDrawdown = 0.015

    public init() {}

    /// The exit due now, if any.
    /// - Parameters:
    ///   - move: current favourable move (negative when losing), `(price - entry) / entry * side`.
    ///   - bestMove: the best favourable move seen since entry.
    ///   - drawdown: the account's fall from its peak equity today, as a fraction.
    public func exit(heldSeconds: Double, move: Double, bestMove: Double, drawdown: Double) -> ExitReason? {
        if -move > emergencyPositionLoss { return .emergencyPositionLoss }
        if drawdown > emergencyDrawdown && move < 0 { return .emergencyDrawdown }
        if heldSeconds < minHoldSeconds { return nil }
        if heldSeconds >= maxHoldSeconds { return .maxHold }
        if bestMove >= profitLockTrigger && move <= profitLockFloor { return .profitLock }
        if bestMove >= trailingActivation && bestMove - move >= trailingDistance { return .trailingStop }
        return nil
    }
}

/// A stop reached inside a candle, and the move at which it fills.
public struct StopHit: Sendable, Equatable {
    public var reason: ExitReason
    /// The favourable move of the fill: the stop's level, or the open's when the candle opened
    /// beyond it.
    public var fillMove: Double
    /// True when the candle opened beyond the level (a gap): the fill is at the open.
    public var gapped: Bool

    public init(reason: ExitReason, fillMove: Double, gapped: Bool) {
        self.reason = reason
        self.fillMove = fillMove
        self.gapped = gapped
    }
}

extension ExitPolicy {
    /// The stop a candle's range reached, for replays of recorded candles: a close-only check
    /// would miss a stop the price touched and came back from, and fill it at a later, better
    /// price. Only the stops standing when the candle opened count (`bestMove` from before this
    /// candle): the order of its high and low is unknown, so a trailing level raised by this
    /// candle's high is checked at its close, never against its own low.
    /// - Parameters:
    ///   - openMove: the favourable move at the candle's open.
    ///   - adverseMove: the favourable move at its worst price (the low of a long, the high of a
    ///     short).
    /// - Returns: the first level the price met falling from the open (the highest), filled at
    ///   that level, or at the open when it opened beyond it; nil when no stop was reached.
    public func stopWithin(heldSeconds: Double, openMove: Double, adverseMove: Double, bestMove: Double) -> StopHit? {
        var levels: [(reason: ExitReason, move: Double)] = [(.emergencyPositionLoss, -emergencyPositionLoss)]
        if heldSeconds >= minHoldSeconds {
            if bestMove >= profitLockTrigger { levels.append((.profitLock, profitLockFloor)) }
            if bestMove >= trailingActivation { levels.append((.trailingStop, bestMove - trailingDistance)) }
        }
        guard let first = levels.filter({ adverseMove <= $0.move }).max(by: { $0.move < $1.move }) else {
            return nil
        }
        let gapped = openMove <= first.move
        return StopHit(reason: first.reason, fillMove: gapped ? openMove : first.move, gapped: gapped)
    }
}
