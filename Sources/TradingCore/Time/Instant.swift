/// A point in time as whole microseconds since 1970-01-01T00:00:00Z. Integer so comparisons
/// against the wallet reset are exact: a trade closed at the reset instant counts.
public struct Instant: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var microseconds: Int64

    public init(microseconds: Int64) { self.microseconds = microseconds }

    public init(seconds: Double) { self.microseconds = Int64((seconds * 1_000_000).rounded()) }

    public static func < (a: Instant, b: Instant) -> Bool { a.microseconds < b.microseconds }

    public var secondsSinceEpoch: Double { Double(microseconds) / 1_000_000 }

    public func adding(seconds: Double) -> Instant {
        Instant(microseconds: microseconds + Int64((seconds * 1_000_000).rounded()))
    }

    /// Seconds from `self` to `later` (negative when `later` is earlier).
    public func seconds(until later: Instant) -> Double {
        Double(later.microseconds - microseconds) / 1_000_000
    }

    /// The instant of a UTC calendar date and time; nil when a field is out of range.
    public init?(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0, microsecond: Int = 0)
    {
        guard (1...12).contains(month), day >= 1, day <= CivilDate.daysIn(month: month, year: year),
            (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second),
            (0..<1_000_000).contains(microsecond)
        else { return nil }
        let days = Int64(CivilDate.daysFromCivil(year: year, month: month, day: day))
        let secs = days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        self.microseconds = secs * 1_000_000 + Int64(microsecond)
    }

    /// The UTC calendar fields of this instant.
    public var civil: CivilDate {
        let secs = microseconds >= 0 ? microseconds / 1_000_000 : (microseconds - 999_999) / 1_000_000
        let micros = Int(microseconds - secs * 1_000_000)
        let days = secs >= 0 ? secs / 86_400 : (secs - 86_399) / 86_400
        let secOfDay = Int(secs - days * 86_400)
        var date = CivilDate.fromDays(Int(days))
        date.hour = secOfDay / 3600
        date.minute = secOfDay % 3600 / 60
        date.second = secOfDay % 60
        date.microsecond = micros
        return date
    }

    /// ISO-8601 in UTC with a `Z`, with microseconds only when there are any.
    public var iso8601: String {
        let c = civil
        var text =
            "\(pad(c.year, 4))-\(pad(c.month, 2))-\(pad(c.day, 2))T\(pad(c.hour, 2)):\(pad(c.minute, 2)):\(pad(c.second, 2))"
        if c.microsecond != 0 { text += "." + pad(c.microsecond, 6) }
        return text + "Z"
    }

    /// `2025-12-18T09:30:00Z` as `2025-12-18T09-30-00Z`, for a file name (what import, restore
    /// and a rollback's kept config add to the files they keep).
    public var fileStamp: String { String(iso8601.map { $0 == ":" ? "-" : $0 }) }

    /// The UTC day, `YYYY-MM-DD`: the key of the daily P&L.
    public var utcDay: String {
        let c = civil
        return "\(pad(c.year, 4))-\(pad(c.month, 2))-\(pad(c.day, 2))"
    }

    /// Midnight UTC of the day this instant falls on.
    public var startOfUTCDay: Instant {
        let day: Int64 = 86_400_000_000
        let floored = microseconds >= 0 ? microseconds / day : (microseconds - day + 1) / day
        return Instant(microseconds: floored * day)
    }

    public var description: String { iso8601 }
}

private func pad(_ value: Int, _ width: Int) -> String {
    let s = String(value)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}

/// Calendar fields of a UTC instant (proleptic Gregorian).
public struct CivilDate: Sendable, Equatable {
    public var year: Int
    public var month: Int
    public var day: Int
    public var hour = 0
    public var minute = 0
    public var second = 0
    public var microsecond = 0

    static func isLeap(_ y: Int) -> Bool { y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func fromDays(_ z0: Int) -> CivilDate {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return CivilDate(year: yoe + era * 400 + (m <= 2 ? 1 : 0), month: m, day: d)
    }
}
