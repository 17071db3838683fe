import Foundation
import TradingCore

/// `state/snapshots/`: copies of the positions file to go back to when it is damaged. The
/// engine takes one when each UTC day ends and every release takes one before its checks; the
/// newest `keep` of each kind stay. They are the operator's data: 0600 in a 0700 folder.
public struct PositionSnapshots: Sendable {
    public let home: Home
    public let keep: Int

    public init(home: Home, keep: Int = 30) {
        self.home = home
        self.keep = keep
    }

    public var folder: String { home.stateDir + "/snapshots" }

    public struct Entry: Sendable {
        public var path: String
        public var modified: Instant
    }

    /// Copies the positions file to `folder/name`, then keeps only the newest `keep`.
    /// - Returns: the snapshot's path, or nil when there is no positions file yet.
    @discardableResult
    public func take(_ name: String) throws -> String? {
        guard FileIO.exists(home.positions) else { return nil }
        try FileIO.makePrivateDirectory(folder)
        let path = folder + "/" + name
        try FileIO.copy(home.positions, to: path, mode: 0o600)
        prune()
        return path
    }

    /// The snapshots, newest first.
    public func list() -> [Entry] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { $0.hasSuffix(".json") && !$0.contains(".tmp-") }.compactMap { name in
            let path = folder + "/" + name
            var info = stat()
            guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
            let micros = Int64(info.st_mtim.tv_sec) * 1_000_000 + Int64(info.st_mtim.tv_nsec / 1000)
            return Entry(path: path, modified: Instant(microseconds: micros))
        }.sorted { ($0.modified, $0.path) > ($1.modified, $1.path) }
    }

    /// Removes all but the newest `keep` of each kind (`day-`, `before-`, anything else), so
    /// thirty release attempts never push out the end-of-day copies.
    public func prune() {
        func kind(_ path: String) -> String {
            let name = (path as NSString).lastPathComponent
            return name.hasPrefix("day-") ? "day" : name.hasPrefix("before-") ? "before" : "other"
        }
        for (_, entries) in Dictionary(grouping: list(), by: { kind($0.path) }) {
            for old in entries.dropFirst(keep) { unlink(old.path) }
        }
    }
}
