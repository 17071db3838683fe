import Foundation
import TradingCore
import TradingStore

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
