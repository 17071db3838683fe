import GRDB
import TradingCore

/// `data/trading_system.db`: SQLite in WAL mode for history queries. It mirrors the closed
/// trades of the positions file, which stays authoritative: `rebuild` recreates the mirror
/// from the file at any time, and `reconcile` says whether the two agree.
public final class AnalyticsDatabase: Sendable {
    public let path: String
    private let pool: DatabasePool

    /// One closed trade as stored; `tradeKey` identifies it across rebuilds.
    struct ClosedTradeRecord: Codable, FetchableRecord, PersistableRecord {
        static let databaseTableName = "closed_trades"
        var tradeKey: String
        var symbol: String
        var direction: String?
        var strategy: String?
        var botType: String?
        var entryPrice: Double?
        var exitPrice: Double?
        var size: Double?
        var leverage: Double?
        var marginCollateral: Double?
        var pnl: Double?
        var netPnl: Double
        var openedAtUs: Int64?
        var closedAtUs: Int64
        var closedDay: String
        var exitReason: String?
        var recordJson: String

        enum CodingKeys: String, CodingKey {
            case tradeKey = "trade_key", symbol, direction, strategy, botType = "bot_type"
            case entryPrice = "entry_price", exitPrice = "exit_price", size, leverage
            case marginCollateral = "margin_collateral", pnl, netPnl = "net_pnl", openedAtUs = "opened_at_us"
            case closedAtUs = "closed_at_us", closedDay = "closed_day", exitReason = "exit_reason"
            case recordJson = "record_json"
        }
    }

    public init(path: String) throws {
        self.path = path
        do {
            pool = try DatabasePool(path: path)
            try Self.migrator.migrate(pool)
        } catch {
            throw StoreError(path: path, message: "cannot open the analytics database: \(error)")
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1 closed trades") { db in
            try db.create(table: "closed_trades") { t in
                t.primaryKey("trade_key", .text)
                t.column("symbol", .text).notNull()
                t.column("direction", .text)
                t.column("strategy", .text)
                t.column("bot_type", .text)
                t.column("entry_price", .double)
                t.column("exit_price", .double)
                t.column("size", .double)
                t.column("leverage", .double)
                t.column("margin_collateral", .double)
                t.column("pnl", .double)
                t.column("net_pnl", .double).notNull()
                t.column("opened_at_us", .integer)
                t.column("closed_at_us", .integer).notNull().indexed()
                t.column("closed_day", .text).notNull().indexed()
                t.column("exit_reason", .text)
                t.column("record_json", .text).notNull()
            }
        }
        return migrator
    }

    /// Looks at an existing database without writing to it (no migration): a candidate release's
    /// selfcheck must not change the live database before it is live.
    /// - Returns: the journal mode and the number of mirrored trades, or nil when there is no file yet.
    public static func inspect(path: String) throws -> (journalMode: String, trades: Int)? {
        guard FileIO.exists(path) else { return nil }
        var configuration = Configuration()
        configuration.readonly = true
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            return try queue.read { db in
                let mode = try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? ""
                let hasTable = try db.tableExists("closed_trades")
                let trades = hasTable ? try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM closed_trades") ?? 0 : 0
                return (mode, trades)
            }
        } catch {
            throw StoreError(path: path, message: "cannot read the analytics database: \(error)")
        }
    }

    /// The journal mode SQLite reports (expected "wal").
    public func journalMode() throws -> String {
        try pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }

    /// Replaces the mirror with the closed trades of `file`, in one transaction.
    @discardableResult
    public func rebuild(from file: PositionsFile) throws -> Int {
        let records = Self.records(for: file.closed)
        try pool.write { db in
            try ClosedTradeRecord.deleteAll(db)
            for record in records { try record.insert(db) }
        }
        return records.count
    }

    /// Adds or updates closed trades (the engine calls this as trades close).
    public func upsert(_ closed: [Position]) throws {
        let records = Self.records(for: closed)
        try pool.write { db in
            for record in records { try record.upsert(db) }
        }
    }

    /// Every mirrored trade as the positions file held it (its record, every field kept), oldest
    /// close first: what `tradingbot restore --from-db` writes back.
    public func closedRecords() throws -> [(key: String, json: String)] {
        try pool.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT trade_key, record_json FROM closed_trades ORDER BY closed_at_us, opened_at_us, trade_key"
            ).map { row in (row[0], row[1]) }
        }
    }

    /// A consistent copy of the whole database at `path` (SQLite's online backup: the WAL's
    /// content included), kept before a restore rebuilds the mirror.
    public func backup(to path: String) throws {
        do {
            let copy = try DatabaseQueue(path: path)
            try pool.backup(to: copy)
        } catch {
            throw StoreError(path: path, message: "cannot back up the analytics database: \(error)")
        }
    }

    /// Count and net P&L of the mirrored trades closed at or after `since` (all when nil).
    public func totals(since: Instant? = nil) throws -> (trades: Int, netPnl: Double) {
        try pool.read { db in
            let row = try Row.fetchOne(
                db, sql: "SELECT COUNT(*), COALESCE(SUM(net_pnl), 0) FROM closed_trades WHERE closed_at_us >= ?",
                arguments: [since?.microseconds ?? Int64.min])
            return (row?[0] ?? 0, row?[1] ?? 0)
        }
    }

    /// Whether the mirror holds exactly the file's closed trades.
    public struct Reconciliation: Sendable, Equatable {
        public var fileTrades: Int
        public var databaseTrades: Int
        public var missingFromDatabase: [String]
        public var notInFile: [String]
        public var netPnlDifference: Double
        public var agrees: Bool { missingFromDatabase.isEmpty && notInFile.isEmpty && abs(netPnlDifference) < 0.005 }
    }

    public func reconcile(with file: PositionsFile) throws -> Reconciliation {
        let expected = Dictionary(
            Self.records(for: file.closed).map { ($0.tradeKey, $0.netPnl) },
            uniquingKeysWith: { (a: Double, _: Double) in a })
        let stored: [(String, Double)] = try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT trade_key, net_pnl FROM closed_trades").map { row in
                let key: String = row[0]
                let net: Double = row[1]
                return (key, net)
            }
        }
        let storedMap = Dictionary(stored, uniquingKeysWith: { (a: Double, _: Double) in a })
        return Reconciliation(
            fileTrades: expected.count, databaseTrades: storedMap.count,
            missingFromDatabase: expected.keys.filter { storedMap[$0] == nil }.sorted(),
            notInFile: storedMap.keys.filter { expected[$0] == nil }.sorted(),
            netPnlDifference: expected.values.reduce(0, +) - storedMap.values.reduce(0, +))
    }

    /// Records for closed trades; identical trades get `#2`, `#3`... so none collapse.
    /// A closed trade the mirror can hold: one with a usable close time and net P&L.
    static func canMirror(_ p: Position) -> Bool { p.closedAt?.instant != nil && p.effectiveNetPnl != nil }

    static func records(for closed: [Position]) -> [ClosedTradeRecord] {
        var seen: [String: Int] = [:]
        var records: [ClosedTradeRecord] = []
        records.reserveCapacity(closed.count)
        for p in closed {
            guard let closedAt = p.closedAt?.instant, let net = p.effectiveNetPnl else { continue }
            var key =
                "\(p.symbol)|\(p.direction ?? "")|\(p.openedAt?.instant.microseconds ?? 0)|\(closedAt.microseconds)"
            let n = seen[key, default: 0] + 1
            seen[key] = n
            if n > 1 { key += "#\(n)" }
            records.append(
                ClosedTradeRecord(
                    tradeKey: key, symbol: p.symbol, direction: p.direction, strategy: p.strategy, botType: p.botType,
                    entryPrice: p.entryPrice, exitPrice: p.exitPrice, size: p.size, leverage: p.leverage,
                    marginCollateral: p.marginCollateral, pnl: p.pnl, netPnl: net,
                    openedAtUs: p.openedAt?.instant.microseconds, closedAtUs: closedAt.microseconds,
                    closedDay: closedAt.utcDay, exitReason: p.extra["exit_reason"]?.stringValue,
                    recordJson: JSONValue.object(PositionsCodec.object(for: p)).serialized()))
        }
        return records
    }
}
