import TradingCore
import TradingStore

/// A state move the machine does not allow (a bug, or a ledger edited by hand).
public struct IllegalTransition: Error, CustomStringConvertible {
    public var release: String
    public var from: ReleaseState
    public var to: ReleaseState
    public var description: String {
        "release \(release) cannot go from \(from.rawValue) to \(to.rawValue) (allowed: \(from.next.map(\.rawValue).sorted().joined(separator: ", ")))"
    }
}

/// One release's state, moved only through `move`, which writes the ledger first.
final class ReleaseMachine {
    let id: String
    let ledger: Ledger
    let now: () -> Instant
    private(set) var state: ReleaseState

    init(id: String, ledger: Ledger, state: ReleaseState = .started, now: @escaping () -> Instant) {
        self.id = id
        self.ledger = ledger
        self.state = state
        self.now = now
    }

    /// Writes the move to the ledger, then takes it. A refused or unwritten move changes nothing.
    func move(to next: ReleaseState, _ fields: [JSONField] = []) throws {
        guard state.next.contains(next) else { throw IllegalTransition(release: id, from: state, to: next) }
        try ledger.append(id, "state", [JSONField("state", .string(next.rawValue))] + fields, at: now())
        state = next
    }
}
