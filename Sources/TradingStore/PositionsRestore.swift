import Foundation
import TradingCore

/// Puts a damaged or lost positions file back: from a snapshot or backup (byte for byte), or
/// from the SQLite mirror, which holds every closed trade's record as the file had it. Nothing
/// is lost on the way: the file it replaces is kept beside it, the mirror is backed up before
/// it is rebuilt, and a restore that would drop trades the home knows of needs `force`.
public struct PositionsRestore {
    public enum Source: Sendable {
        case file(String)
        case database
    }

    /// What a restore would write, and what it would change.
    public struct Plan: Sendable {
        public var source: String
        public var bytes: [UInt8]
        public var open: Int
        public var closed: Int
        public var firstClose: Instant?
        public var lastClose: Instant?
        /// Fields the restored file holds that cannot be used (they are kept as written).
        public var unusableFields: Int
        /// The home's positions file now, in words.
        public var current: String
        public var databaseTrades: Int?
        /// Trades the home knows of (the mirror, the readable current file) that the restored
        /// file lacks, in words, oldest close first.
        public var lost: [String]
        public var notes: [String]
    }

    public let home: Home

    public init(home: Home) { self.home = home }

    /// What restoring from `source` would do; reads only.
    public func plan(_ source: Source) throws(HomeRefusal) -> Plan {
        do {
            switch source {
            case .file(let path): return try planFile(path)
            case .database: return try planDatabase()
            }
        } catch let refusal as HomeRefusal {
            throw refusal
        } catch {
            throw HomeRefusal(code: .failed, message: "\(error)")
        }
    }

    /// The home's current file, read once per plan: the file when it can be read, and in words.
    private func current() -> (file: PositionsFile?, words: String) {
        guard FileIO.exists(home.positions) else { return (nil, "absent") }
        do {
            let file = try PositionsCodec.decode(try FileIO.read(home.positions)).file
            return (file, "\(file.open.count) open, \(grouped(file.closed.count)) closed")
        } catch {
            return (nil, "cannot be read: \(error)")
        }
    }

    /// The mirror, or nil with a note when there is none or it cannot be opened (it is rebuilt).
    private func mirror(_ notes: inout [String]) -> AnalyticsDatabase? {
        guard FileIO.exists(home.database) else { return nil }
        do {
            return try AnalyticsDatabase(path: home.database)
        } catch {
            notes.append("the mirror cannot be read (\(error)); it is set aside and rebuilt from the restored file")
            return nil
        }
    }

    private func planFile(_ path: String) throws -> Plan {
        guard FileIO.exists(path) else {
            throw HomeRefusal(
                code: .usage, message: "\(path): no such file; `tradingbot restore --list` shows the copies")
        }
        let bytes = try FileIO.read(path)
        let decoded: PositionsCodec.Decoded
        do {
            decoded = try PositionsCodec.decode(bytes)
        } catch {
            throw HomeRefusal(
                code: .failed,
                message: "\(path) cannot be read either: \(error); choose another copy (`tradingbot restore --list`)")
        }
        let now = current()
        var plan = describe(decoded, source: path, bytes: bytes, current: now.words)
        let restored = Set(Self.keys(decoded.file.closed))
        var lostKeys = Set<String>()
        if let db = mirror(&plan.notes) {
            let check = try db.reconcile(with: decoded.file)
            plan.databaseTrades = check.databaseTrades
            lostKeys.formUnion(check.notInFile)
            if !check.notInFile.isEmpty {
                plan.notes.append(
                    "the mirror holds \(check.notInFile.count) trade(s) this copy lacks (closed after it was taken?): `--from-db` keeps them"
                )
            }
        }
        if let current = now.file {
            lostKeys.formUnion(Set(Self.keys(current.closed)).subtracting(restored))
            let unmirrorable = current.closed.filter { !AnalyticsDatabase.canMirror($0) }.count
            if unmirrorable > 0 && decoded.file.closed.count < current.closed.count {
                plan.notes.append(
                    "the current file also holds \(unmirrorable) record(s) without a usable close time or P&L; compare the counts above"
                )
            }
        }
        plan.lost = Self.inWords(Array(lostKeys))
        return plan
    }

    private func planDatabase() throws -> Plan {
        var notes: [String] = []
        guard FileIO.exists(home.database) else {
            throw HomeRefusal(
                code: .usage,
                message: "\(home.database): no analytics database in this home; restore from a copy instead")
        }
        guard let db = mirror(&notes) else {
            throw HomeRefusal(
                code: .failed, message: "\(notes.joined()); restore from a copy instead (`tradingbot restore --list`)")
        }
        let records = try db.closedRecords()
        let text = #"{"open_positions": [], "closed_positions": ["# + records.map(\.json).joined(separator: ",") + "]}"
        var file = try PositionsCodec.decode(Array(text.utf8)).file
        // Open positions are not mirrored: they come from the current file when it can be read,
        // else from the newest snapshot that can, less those the mirror shows closed since.
        var lost: [String] = []
        let now = current()
        if let current = now.file {
            file.open = current.open
            file.extra = current.extra
            notes.append("open positions: the \(current.open.count) of the current file")
            // Records the mirror cannot hold (no usable close time or P&L) would be dropped too.
            lost =
                current.closed.filter { !AnalyticsDatabase.canMirror($0) }.map {
                    "\($0.symbol): a record without a usable close time or P&L"
                } + Self.inWords(try db.reconcile(with: current).missingFromDatabase)
        } else if let (snapshot, older) = newestReadableSnapshot() {
            let closedSince = Set(try db.reconcile(with: older).notInFile)
            var sinceByPosition: [String: [Position]] = [:]
            for (record, trade) in zip(records, file.closed) where closedSince.contains(record.key) {
                sinceByPosition[Self.positionKey(trade), default: []].append(trade)
            }
            file.open = []
            for position in older.open {
                guard let trades = sinceByPosition[Self.positionKey(position)] else {
                    file.open.append(position)
                    continue
                }
                // Closed since the snapshot: gone when the closes cover its size; a partial close
                // leaves the rest open, which the operator must check against the exchange.
                let closedSize = trades.compactMap(\.size).reduce(0, +)
                if let size = position.size, closedSize < size * (1 - 1e-9) {
                    file.open.append(position)
                    notes.append(
                        "\(position.symbol): partly closed since the snapshot (\(closedSize) of \(size)); kept open at its snapshot size: check it on the exchange"
                    )
                }
            }
            file.extra = older.extra
            notes.append(
                "open positions: \(file.open.count) from \(snapshot.path), taken \(snapshot.modified.iso8601); a position opened after that is not known: compare with the exchange before starting the engine"
            )
        } else {
            notes.append(
                "open positions: NONE (the current file and every snapshot are unreadable); compare with the exchange before starting the engine"
            )
        }
        let bytes = PositionsCodec.encode(file)
        var plan = describe(
            PositionsCodec.Decoded(file: file, issues: []), source: home.database, bytes: bytes, current: now.words)
        plan.databaseTrades = records.count
        plan.lost = lost
        plan.notes += notes
        if !lost.isEmpty {
            plan.notes.append("the current file holds \(lost.count) trade(s) the mirror lacks")
        }
        return plan
    }

    /// The mirror's key of each closed trade (`SYMBOL|SIDE|opened µs|closed µs`).
    static func keys(_ closed: [Position]) -> [String] { AnalyticsDatabase.records(for: closed).map(\.tradeKey) }

    /// Mirror keys as a person reads them, oldest close first.
    static func inWords(_ keys: [String]) -> [String] {
        let parsed = keys.map { key -> (Int64, String) in
            let parts = key.split(separator: "|", omittingEmptySubsequences: false)
            guard parts.count == 4, let closed = Int64(parts[3].split(separator: "#").first ?? "") else {
                return (0, key)
            }
            let side = parts[1].isEmpty ? "" : " " + parts[1].lowercased()
            return (closed, "\(parts[0])\(side) closed \(Instant(microseconds: closed).iso8601)")
        }
        return parsed.sorted { $0 < $1 }.map(\.1)
    }

    /// An open position and the trade it became share the symbol and the opening instant.
    static func positionKey(_ p: Position) -> String {
        "\(p.symbol)|\(p.openedAt?.instant.microseconds ?? 0)"
    }

    private func newestReadableSnapshot() -> (PositionSnapshots.Entry, PositionsFile)? {
        for entry in PositionSnapshots(home: home).list() {
            if let bytes = try? FileIO.read(entry.path), let decoded = try? PositionsCodec.decode(bytes) {
                return (entry, decoded.file)
            }
        }
        return nil
    }

    private func describe(_ decoded: PositionsCodec.Decoded, source: String, bytes: [UInt8], current: String) -> Plan {
        let closes = decoded.file.closed.compactMap { $0.closedAt?.instant }
        return Plan(
            source: source, bytes: bytes, open: decoded.file.open.count, closed: decoded.file.closed.count,
            firstClose: closes.min(), lastClose: closes.max(), unusableFields: decoded.issues.count,
            current: current, databaseTrades: nil, lost: [], notes: [])
    }

    /// Restores from `source` under the engine lock: planned again once the lock is held (an
    /// engine that stopped a moment ago may have written since), refused when it would lose
    /// trades without `force`. Returns the plan carried out and what was kept aside.
    public func run(_ source: Source, force: Bool, stamp: String) throws(HomeRefusal) -> (plan: Plan, kept: [String]) {
        do {
            try home.createDirectories()
        } catch {
            throw HomeRefusal(code: .failed, message: "\(error)")
        }
        let lock = try HomeRefusal.engineLock(home, doing: "restoring", then: "restore. Nothing was changed.")
        defer { lock.release() }
        let plan = try self.plan(source)
        guard plan.lost.isEmpty || force else {
            throw HomeRefusal(
                code: .failed,
                message:
                    "the restored file would lack \(plan.lost.count) trade(s) this home knows of (the newest: \(plan.lost.suffix(3).joined(separator: "; "))); nothing was changed. Pick a newer copy, restore `--from-db`, or pass --force to accept the loss (everything replaced is kept)."
            )
        }
        var kept: [String] = []
        var wrote = false
        do {
            let suffix = ".before-restore-\(stamp)-\(ProcessIdentity.pid)"
            if FileIO.exists(home.positions) {
                try FileIO.copy(home.positions, to: home.positions + suffix, mode: 0o600)
                kept.append(home.positions + suffix)
            }
            if FileIO.exists(home.database) {
                kept.append(try setMirrorAside(suffix))
            }
            FileIO.removeStaleTemps(of: home.positions)
            try FileIO.writeAtomically(home.positions, plan.bytes, mode: 0o600)
            wrote = true
            // The mirror follows the file it mirrors.
            let file = try PositionsStore(home: home).decode().file
            try AnalyticsDatabase(path: home.database).rebuild(from: file)
            FileIO.giveToFolderOwner([home.database, home.database + "-wal", home.database + "-shm"])
            return (plan, kept)
        } catch {
            let keptText = kept.isEmpty ? "" : " Kept: \(kept.joined(separator: ", "))."
            throw HomeRefusal(
                code: .failed,
                message: wrote
                    ? "PARTLY RESTORED: \(home.positions) was restored, but the mirror was not rebuilt: \(error). Run `tradingbot reconcile --rebuild`.\(keptText)"
                    : "\(error); the positions file was not changed.\(keptText)")
        }
    }

    /// Keeps the mirror beside itself (SQLite's online backup), or, when it cannot be opened,
    /// moves the damaged files aside so a fresh one is built. Returns the kept path.
    private func setMirrorAside(_ suffix: String) throws -> String {
        let aside = home.database + suffix
        do {
            try AnalyticsDatabase(path: home.database).backup(to: aside)
            FileIO.giveToFolderOwner([aside])
        } catch {
            for ext in ["", "-wal", "-shm"] where FileIO.exists(home.database + ext) {
                guard rename(home.database + ext, aside + ext) == 0 else {
                    throw StoreError(path: home.database + ext, message: "cannot move the unreadable mirror aside")
                }
            }
        }
        return aside
    }
}
