import Foundation
import TradingCore

/// Loads recorded market data: CSV files `ts,open,high,low,close,volume` (ts in ms, one file per
/// symbol), `ts,funding_rate` and `ts,side,price,amount` files, from one file or a directory.
public enum MarketDataFiles {
    public struct Loaded: Sendable {
        public var series: [MarketSeries]
        /// What was skipped and why (a coarser interval of a symbol already loaded, say).
        public var notes: [String]
    }

    public static func load(_ path: String) throws -> Loaded {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw StoreError(path: path, message: "no such file or directory; pass a CSV file or a folder of them")
        }
        let files: [String]
        if isDirectory.boolValue {
            files = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".csv") }.sorted()
                .map { path + "/" + $0 }
        } else {
            files = [path]
        }
        var candles: [String: (interval: Int, candles: [Candle], file: String)] = [:]
        var funding: [String: [(ts: Instant, rate: Double)]] = [:]
        var trades: [String: [PublicTrade]] = [:]
        var notes: [String] = []
        for file in files {
            let stem = String(file.split(separator: "/").last ?? "").replacingOccurrences(of: ".csv", with: "")
            let name = MarketSeries.symbol(fromFileStem: stem)
            guard !name.symbol.isEmpty else {
                notes.append("\(file): no symbol in the file name; skipped")
                continue
            }
            let rows = try csvRows(file)
            switch name.kind {
            case "funding":
                funding[name.symbol] = try rows.enumerated().map { i, r in
                    (try instant(r, 0, file, i), try number(r, 1, file, i))
                }
            case "trades":
                trades[name.symbol] = try rows.enumerated().map { i, r in
                    guard r.count >= 4 else { throw rowError(file, i, "expected ts,side,price,amount") }
                    return PublicTrade(
                        ts: try instant(r, 0, file, i), price: try number(r, 2, file, i),
                        amount: try number(r, 3, file, i),
                        side: AggressorSide(rawValue: r[1].lowercased()))
                }
            default:
                let list = try rows.enumerated().map { i, r in
                    guard r.count >= 6 else { throw rowError(file, i, "expected ts,open,high,low,close,volume") }
                    return Candle(
                        ts: try instant(r, 0, file, i), open: try number(r, 1, file, i),
                        high: try number(r, 2, file, i),
                        low: try number(r, 3, file, i), close: try number(r, 4, file, i),
                        volume: try number(r, 5, file, i))
                }
                guard list.count >= 2 else {
                    notes.append("\(file): fewer than 2 candles; skipped")
                    continue
                }
                let interval =
                    name.interval ?? Int((list[1].ts.microseconds - list[0].ts.microseconds) / 1_000_000)
                if let existing = candles[name.symbol] {
                    if existing.interval <= interval {
                        notes.append(
                            "\(file): \(name.symbol) already loaded at a finer interval from \(existing.file); skipped")
                        continue
                    }
                    notes.append("\(existing.file): \(name.symbol) replaced by the finer interval of \(file)")
                }
                candles[name.symbol] = (interval, list, file)
            }
        }
        if candles.isEmpty {
            throw StoreError(path: path, message: "no candle files (ts,open,high,low,close,volume) found")
        }
        let series = candles.keys.sorted().map { symbol in
            MarketSeries(
                symbol: symbol, intervalSeconds: candles[symbol]?.interval ?? 60,
                candles: candles[symbol]?.candles ?? [],
                funding: funding[symbol] ?? [], trades: trades[symbol] ?? [])
        }
        for symbol in Set(funding.keys).union(trades.keys) where candles[symbol] == nil {
            notes.append("funding or trades for \(symbol) have no candles; not used")
        }
        return Loaded(series: series, notes: notes)
    }

    /// Data rows (header skipped), split on commas.
    static func csvRows(_ file: String) throws -> [[String]] {
        let text = String(decoding: try FileIO.read(file), as: UTF8.self)
        var rows: [[String]] = []
        for (index, line) in text.split(whereSeparator: \.isNewline).enumerated() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map {
                String($0).trimmingCharacters(in: .whitespaces)
            }
            if index == 0 && fields.first.map({ Double($0) == nil }) == true { continue }
            rows.append(fields)
        }
        return rows
    }

    static func rowError(_ file: String, _ row: Int, _ message: String) -> StoreError {
        StoreError(path: file, message: "data row \(row + 1): \(message)")
    }

    static func number(_ r: [String], _ i: Int, _ file: String, _ row: Int) throws -> Double {
        guard i < r.count, let v = NumberParsing.parseDouble(r[i]), v.isFinite else {
            throw rowError(file, row, "column \(i + 1) \"\(i < r.count ? r[i] : "")\" is not a number")
        }
        return v
    }

    static func instant(_ r: [String], _ i: Int, _ file: String, _ row: Int) throws -> Instant {
        guard i < r.count else { throw rowError(file, row, "missing ts") }
        switch TimestampParser.parse(r[i]) {
        case .success(let instant): return instant
        case .failure(let failure): throw rowError(file, row, failure.message)
        }
    }
}
