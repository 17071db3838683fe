/// Why a position was closed; the raw value goes into the record's `exit_reason`.
public enum ExitReason: String, Sendable {
    case trailingStop = "trailing_stop"
    case maxHold = "max_hold"
    case profitLock = "profit_lock"
    case emergencyPositionLoss = "emergency_position_loss"
    case emergencyDrawdown = "emergency_drawdown"
}

/// SEED.md's exits. Moves are fractions of the entry price (unlevered). Emergency exits bypass
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
