/// The states a release moves through. Every move is checked here and written to the ledger
/// before it takes effect, so `release`, `rollback`, the watchdog and a restarted deployctl all
/// read one truth from `state/releases.jsonl`.
public enum ReleaseState: String, Sendable, CaseIterable {
    case started, building, checking, flipped, probation, good, bad
    case rolledBack = "rolled_back"
    case failed

    /// Where a release may go from here. `bad` and `failed` are final: nothing written later can
    /// soften a bad verdict (a `failed` after `bad` would let a plain release of that sha through).
    public var next: Set<ReleaseState> {
        switch self {
        case .started: [.building, .failed]
        case .building: [.checking, .failed]
        case .checking: [.flipped, .failed]
        // `failed` only when the flip itself did not happen.
        case .flipped: [.probation, .bad, .failed, .rolledBack]
        case .probation: [.good, .bad, .rolledBack]
        case .good: [.rolledBack, .bad]
        case .rolledBack: [.bad]
        case .bad, .failed: []
        }
    }

    /// Before the flip: a release that stops here never went live.
    public var isBeforeFlip: Bool { [.started, .building, .checking].contains(self) }

    /// What happens next, for `status`.
    public var outlook: String {
        switch self {
        case .started, .building, .checking:
            "not live yet; a release left here by a killed deployctl is marked failed by the next release"
        case .flipped, .probation:
            "live on probation: `deployctl release` gives the verdict, or the watchdog when it was detached or killed"
        case .good: "live and proven; `deployctl rollback` goes back to the release before it"
        case .bad: "refused for ever: a plain release of this sha needs --force"
        case .rolledBack: "left by a rollback; may be released again"
        case .failed: "never went live; nothing to do"
        }
    }
}
