import Foundation
import TradingCore
import TradingStore

/// The flight recorder's folder: one file per segment, named so that names sort as time does.
public enum RecordingSegments {
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var path: String
        public var bytes: Int64
    }

    /// `seg-20261207T101500Z-p4242-1.jsonl`: the UTC second it started, the recording process, and
    /// the process's own count (an hour's segment and a gap's segment may start in one second).
    static func fileName(started: Instant, pid: some BinaryInteger, n: Int) -> String {
        let stamp = String(started.iso8601.prefix(19)).filter { $0 != "-" && $0 != ":" }
        return "seg-\(stamp)Z-p\(pid)-\(String(format: "%06d", n)).jsonl"
    }

    /// The segments in `dir`, oldest first.
    public static func list(_ dir: String) -> [Entry] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.filter { $0.hasPrefix("seg-") && $0.hasSuffix(".jsonl") }.sorted().map { name in
            let path = dir + "/" + name
            return Entry(name: name, path: path, bytes: FileIO.size(path) ?? 0)
        }
    }
}

/// The parts of a segment's first line that say how to replay it.
enum RecordingHeader {
    static func settingsJSON(_ s: EngineSettings) -> JSONValue {
        [
            "release": .string(s.release), "persist_every": .int(s.persistEvery), "slippage": .double(s.slippage),
            "fill_at_next_open": .bool(s.fillAtNextOpen), "stops_within_candle": .bool(s.stopsWithinCandle),
            "record_candles": .bool(s.recordCandles), "day_snapshots": .bool(s.daySnapshots),
        ]
    }

    static func settings(_ v: JSONValue?) throws(RecordingError) -> EngineSettings {
        guard let o = v?.objectValue, let release = o["release"]?.stringValue,
            let persistEvery = o["persist_every"]?.doubleValue.map({ Int($0) }),
            let slippage = o["slippage"]?.doubleValue
        else { throw RecordingError("the segment's settings are unreadable") }
        var s = EngineSettings()
        s.release = release
        s.persistEvery = max(1, persistEvery)
        s.slippage = slippage
        s.fillAtNextOpen = o["fill_at_next_open"]?.boolValue ?? false
        s.stopsWithinCandle = o["stops_within_candle"]?.boolValue ?? false
        s.recordCandles = o["record_candles"]?.boolValue ?? true
        s.daySnapshots = o["day_snapshots"]?.boolValue ?? true
        return s
    }
}
