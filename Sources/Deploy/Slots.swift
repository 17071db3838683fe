import Foundation
import TradingStore

#if canImport(Glibc)
    import Glibc
#endif

/// The two checkouts A and B and the `current` symlink. A flip is the only thing that changes
/// which one is live: a temporary symlink renamed over `current` (atomic), then a directory
/// fsync so the change survives a power cut.
public struct Slots: Sendable {
    public let home: Home
    public static let names = ["A", "B"]

    public init(home: Home) { self.home = home }

    public func path(_ slot: String) -> String { home.slot(slot) }

    /// The slot `current` points at, or nil before the first release.
    public func active() -> String? {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: home.currentSlot) else {
            return nil
        }
        let name = String(target.split(separator: "/").last ?? "")
        return Self.names.contains(name) ? name : nil
    }

    /// The slot a release goes into: the one `current` does not point at.
    public func inactive() -> String { active() == "A" ? "B" : "A" }

    public static func other(_ slot: String) -> String { slot == "A" ? "B" : "A" }

    /// Points `current` at `slot` atomically.
    public func flip(to slot: String) throws {
        try FileManager.default.createDirectory(atPath: home.slotsDir, withIntermediateDirectories: true)
        let temp = home.slotsDir + "/.current.tmp-\(getpid())"
        unlink(temp)
        guard symlink(slot, temp) == 0 else {
            throw StoreError(path: temp, message: "cannot create the new symlink: \(String(cString: strerror(errno)))")
        }
        guard rename(temp, home.currentSlot) == 0 else {
            let text = String(cString: strerror(errno))
            unlink(temp)
            throw StoreError(path: home.currentSlot, message: "cannot rename the new symlink into place: \(text)")
        }
        try FileIO.syncDirectory(of: home.currentSlot)
    }

    /// Removes `current` (only when a first release fails on probation: nothing to go back to).
    public func clear() throws {
        unlink(home.currentSlot)
        try FileIO.syncDirectory(of: home.currentSlot)
    }

    /// The release id a slot was built as (written into the slot after checkout).
    public func releaseID(_ slot: String) -> String? {
        guard let bytes = try? FileIO.read(path(slot) + "/.release") else { return nil }
        let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }

    /// Written only once the slot's checkout and binary are complete, so a release id on a slot
    /// always means a whole release.
    func writeReleaseID(_ id: String, slot: String) throws {
        try FileIO.writeAtomically(path(slot) + "/.release", Array((id + "\n").utf8))
    }

    /// Removes the slot's release id, durably, before anything in the slot changes: a crash in
    /// the middle of a checkout or build then leaves a slot that no rollback will pick.
    func forgetRelease(_ slot: String) throws {
        let file = path(slot) + "/.release"
        guard unlink(file) == 0 || errno == ENOENT else {
            throw StoreError(path: file, message: "cannot remove: \(String(cString: strerror(errno)))")
        }
        if FileIO.exists(path(slot)) { try FileIO.syncDirectory(of: file) }
    }

    /// What the rollback rule needs to know about a slot.
    public func view(_ slot: String, binary: String) -> RollbackRule.SlotView {
        RollbackRule.SlotView(
            slot: slot, release: releaseID(slot),
            binaryPresent: FileManager.default.isExecutableFile(atPath: path(slot) + "/" + binary))
    }
}
