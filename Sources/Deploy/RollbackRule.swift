import TradingCore
import TradingStore

/// Where a live release that has to go is replaced from: one rule for `release` (a failed
/// candidate), `rollback` (the operator) and the watchdog (a bad release), so they never disagree.
///
/// 1. The other slot, when its release is marked good.
/// 2. Else the other slot when it still holds the very release that was running before the
///    flip, unless that is marked bad or never went live (a `--detach` release, or one whose
///    deployctl died, is never marked good but traded fine). Slot and release must both match:
///    a slot name alone may since hold something else.
/// 3. Else nothing: the caller stops the engine, leaves `slots/current` on the release that failed
///    for inspection and says so loudly.
///
/// In every case the slot must be intact (its binary and release file present), checked before
/// anything is stopped.
public enum RollbackRule {
    /// What a slot holds, as read from disk by the caller.
    public struct SlotView: Sendable, Equatable {
        public var slot: String
        /// The `.release` id, or nil when the file is missing.
        public var release: String?
        /// The binary is present and executable.
        public var binaryPresent: Bool

        public init(slot: String, release: String?, binaryPresent: Bool) {
            self.slot = slot
            self.release = release
            self.binaryPresent = binaryPresent
        }
    }

    public enum Target: Sendable, Equatable {
        case slot(String, release: String, why: String)
        /// Nowhere to go, and why (for the operator).
        case none(String)
    }

    /// - Parameters:
    ///   - other: the slot that is not being left.
    ///   - previousSlot: the slot that was live before the leaving release was flipped in.
    ///   - previousRelease: the release that slot held then.
    ///   - records: the ledger.
    public static func target(
        other: SlotView, previousSlot: String?, previousRelease: String?, records: [ReleaseRecord]
    ) -> Target {
        guard let release = other.release else {
            return .none("slot \(other.slot) holds no release (no .release file)")
        }
        guard other.binaryPresent else {
            return .none("slot \(other.slot) (\(release)) has no binary")
        }
        let state = records.last { $0.id == release }.map(\.state)
        switch state {
        case ReleaseState.good.rawValue:
            return .slot(other.slot, release: release, why: "the last release marked good")
        case ReleaseState.bad.rawValue:
            return .none("slot \(other.slot) holds \(release), which is marked bad")
        case ReleaseState.failed.rawValue, ReleaseState.started.rawValue, ReleaseState.building.rawValue,
            ReleaseState.checking.rawValue:
            return .none("slot \(other.slot) holds \(release) (\(state ?? "")), which never went live")
        default:
            if previousSlot == other.slot && previousRelease == release {
                return .slot(
                    other.slot, release: release,
                    why: "it was running before the flip (\(state ?? "not in the ledger"), never marked bad)")
            }
            return .none(
                "slot \(other.slot) holds \(release) (\(state ?? "not in the ledger")), never marked good and not the one running before the flip"
            )
        }
    }
}
