import GRDB
import TradingCore

/// `data/candles.db`: the last candle the engine saw for each symbol at each cycle, kept for a
/// week, so the dashboard can tell what the market did after a blocked signal. Derived data in
/// a file of its own: a release that rolls back to an older one never meets an unknown schema,
/// and losing the file loses nothing the positions file holds.
public final class CandleStore: Sendable {
    public static let retentionSeconds = 7 * 86_400.0
    public let path: String
    private let pool: DatabasePool

    public init(path: String, readOnly: Bool = false) throws {
        self.path = path
        var configuration = Configuration()
        configuration.readonly = readOnly
        // Derived data: WAL without an fsync per commit; a crash loses at most the last cycles.
        if !readOnly { configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") } }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            if !readOnly {
                var migrator = DatabaseMigrator()
                migrator.registerMigration("v1 candles") { db in
                    try db.execute(
                        sql: """
                            CREATE TABLE candles (symbol TEXT NOT NULL, ts_us INTEGER NOT NULL, open REAL NOT NULL,
                            high REAL NOT NULL, low REAL NOT NULL, close REAL NOT NULL, PRIMARY KEY (symbol, ts_us))
                            WITHOUT ROWID
                            """)
                }
                try migrator.migrate(pool)
            }
        } catch {
            throw StoreError(path: path, message: "cannot open the candle store: \(error)")
        }
    }

    /// Upserts one candle per symbol (the newest the engine saw).
    public func record(_ candles: [(symbol: String, candle: Candle)]) throws {
        try pool.write { db in
            for (symbol, c) in candles {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO candles VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [symbol, c.ts.microseconds, c.open, c.high, c.low, c.close])
            }
        }
    }

    /// Drops candles older than `before`.
    public func prune(before: Instant) throws {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM candles WHERE ts_us < ?", arguments: [before.microseconds])
        }
    }

    /// The newest candle of `symbol`, if any.
    public func latest(_ symbol: String) throws -> Candle? {
        try candles(symbol, from: Instant(microseconds: 0), to: Instant(microseconds: Int64.max), newestOnly: true)
            .first
    }

    /// The candles of `symbol` opened in [from, to], oldest first.
    public func candles(_ symbol: String, from: Instant, to: Instant, newestOnly: Bool = false) throws -> [Candle] {
        let order = newestOnly ? "ts_us DESC LIMIT 1" : "ts_us"
        return try pool.read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT ts_us, open, high, low, close FROM candles WHERE symbol = ? AND ts_us BETWEEN ? AND ? ORDER BY \(order)",
                arguments: [symbol, from.microseconds, to.microseconds]
            ).map {
                Candle(
                    ts: Instant(microseconds: $0["ts_us"]), open: $0["open"], high: $0["high"], low: $0["low"],
                    close: $0["close"], volume: 0)
            }
        }
    }
}
