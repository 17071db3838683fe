/// The instant the operator reset the paper wallet and the capital it restarted with.
/// Balances count only trades closed at or after `at`, compared as instants, never as text.
public struct WalletReset: Sendable, Equatable {
    public var at: Instant
    public var startingCapital: Double

    public init(at: Instant, startingCapital: Double) {
        self.at = at
        self.startingCapital = startingCapital
    }

    /// Whether a closed trade counts toward the balance.
    public func counts(_ position: Position) -> Bool {
        guard let closed = position.closedAt?.instant else { return false }
        return closed >= at
    }
}
