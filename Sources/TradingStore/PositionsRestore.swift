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
        /// Trades the home knows of (the mirror, or the readable current file) that the restored
        /// file lacks, newest last.
        public var lost: [String]
        public var notes: [String]
    }

    public let home: Home

    public init(home: Home) { self.home = home }

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
        var plan = describe(decoded, source: path, bytes: bytes)
        if FileIO.exists(home.database) {
            let db = try AnalyticsDatabase(path: home.database)
            let check = try db.reconcile(with: decoded.file)
            plan.databaseTrades = check.databaseTrades
            plan.lost = Self.inWords(check.notInFile)
            if !check.notInFile.isEmpty {
                plan.notes.append(
                    "the mirror holds \(check.notInFile.count) trade(s) this copy lacks (closed after it was taken?): `--from-db` keeps them"
                )
            }
        }
        return plan
    }

    private func planDatabase() throws -> Plan {
        guard FileIO.exists(home.database) else {
            throw HomeRefusal(
                code: .usage,
                message: "\(home.database): no analytics database in this home; restore from a copy instead")
        }
        let db = try AnalyticsDatabase(path: home.database)
        let records = try db.closedRecords()
        let text = #"{"open_positions": [], "closed_positions": ["# + records.map(\.json).joined(separator: ",") + "]}"
        var file = try PositionsCodec.decode(Array(text.utf8)).file
        var notes: [String] = []
        // Open positions are not mirrored: they come from the current file when it can be read,
        // else from the newest snapshot that can, less those the mirror shows closed since.
        var lost: [String] = []
        if let current = try? PositionsCodec.decode(try FileIO.read(home.positions)) {
            file.open = current.file.open
            file.extra = current.file.extra
            lost = try db.reconcile(with: current.file).missingFromDatabase
            notes.append("open positions: the \(current.file.open.count) of the current file")
        } else if let (snapshot, older) = newestReadableSnapshot() {
            let closedSince = Set(file.closed.map(Self.positionKey))
            file.open = older.open.filter { !closedSince.contains(Self.positionKey($0)) }
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
            PositionsCodec.Decoded(file: file, issues: []), source: home.database, bytes: bytes)
        plan.databaseTrades = records.count
        plan.lost = Self.inWords(lost)
        plan.notes += notes
        if !lost.isEmpty {
            plan.notes.append("the current file holds \(lost.count) trade(s) the mirror lacks")
        }
        return plan
    }

    /// Mirror keys (`SYMBOL|SIDE|opened µs|closed µs`) as a person reads them, oldest close first.
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

    private func describe(_ decoded: PositionsCodec.Decoded, source: String, bytes: [UInt8]) -> Plan {
        let closes = decoded.file.closed.compactMap { $0.closedAt?.instant }
        return Plan(
            source: source, bytes: bytes, open: decoded.file.open.count, closed: decoded.file.closed.count,
            firstClose: closes.min(), lastClose: closes.max(), unusableFields: decoded.issues.count,
            current: currentInWords(), databaseTrades: nil, lost: [], notes: [])
    }

    private func currentInWords() -> String {
        guard FileIO.exists(home.positions) else { return "absent" }
        do {
            let decoded = try PositionsCodec.decode(try FileIO.read(home.positions))
            return "\(decoded.file.open.count) open, \(grouped(decoded.file.closed.count)) closed"
        } catch {
            return "cannot be read: \(error)"
        }
    }

    /// Writes the plan under the engine lock. Returns what was kept aside.
    public func apply(_ plan: Plan, force: Bool, stamp: String) throws(HomeRefusal) -> [String] {
        do {
            try home.createDirectories()
        } catch {
            throw HomeRefusal(code: .failed, message: "\(error)")
        }
        let lock = try HomeRefusal.engineLock(home, doing: "restoring", then: "restore. Nothing was changed.")
        defer { lock.release() }
        guard plan.lost.isEmpty || force else {
            throw HomeRefusal(
                code: .failed,
                message:
                    "the restored file would lack \(plan.lost.count) trade(s) this home knows of (the newest: \(plan.lost.suffix(3).joined(separator: ", "))); nothing was changed. Pick a newer copy, restore `--from-db`, or pass --force to accept the loss (everything replaced is kept)."
            )
        }
        do {
            var kept: [String] = []
            if FileIO.exists(home.positions) {
                let aside = home.positions + ".before-restore-" + stamp
                try FileIO.copy(home.positions, to: aside, mode: 0o600)
                kept.append(aside)
            }
            if FileIO.exists(home.database) {
                let aside = home.database + ".before-restore-" + stamp
                try AnalyticsDatabase(path: home.database).backup(to: aside)
                kept.append(aside)
            }
            FileIO.removeStaleTemps(of: home.positions)
            try FileIO.writeAtomically(home.positions, plan.bytes, mode: 0o600)
            // The mirror follows the file it mirrors.
            let file = try PositionsStore(home: home).decode().file
            try AnalyticsDatabase(path: home.database).rebuild(from: file)
            return kept
        } catch {
            throw HomeRefusal(code: .failed, message: "\(error)")
        }
    }
}
