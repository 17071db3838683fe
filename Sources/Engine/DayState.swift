import TradingCore
import TradingStore

/// state/day.json: what the trading day has decided and a restart must keep: the daily-loss
/// trip (a restart must never clear it), the day's loss baseline and its equity peak (the
/// drawdown's reference). Written atomically; unknown or unreadable content is ignored (the
/// day is then derived from the positions file, as before the file existed).
struct DayState: Equatable, Sendable {
    var day: Instant
    var peakEquity: Double
    var dayStartBalance: Double
    var tripReason: String?
    var tripUntil: Instant?

    static func load(_ path: String) -> DayState? {
        guard FileIO.exists(path), let o = (try? ConfigFiles.json(path))?.objectValue else { return nil }
        func instant(_ key: String) -> Instant? { o[key]?.instantValue }
        guard let day = instant("day"), let peak = o["peak_equity"]?.doubleValue,
            let start = o["day_start_balance"]?.doubleValue, peak.isFinite, start.isFinite
        else { return nil }
        return DayState(
            day: day, peakEquity: peak, dayStartBalance: start, tripReason: o["trip_reason"]?.stringValue,
            tripUntil: instant("trip_until"))
    }

    func save(_ path: String) throws {
        try FileIO.writeJSON(
            path,
            [
                "day": .string(day.iso8601), "peak_equity": .double(peakEquity),
                "day_start_balance": .double(dayStartBalance),
                "trip_reason": tripReason.map { .string($0) } ?? .null,
                "trip_until": tripUntil.map { .string($0.iso8601) } ?? .null,
            ])
    }
}
