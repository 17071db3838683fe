/// Reads the timestamp spellings real position files contain: ISO-8601 with `Z`, `+00:00` or
/// other offsets, naive (taken as UTC), with or without fractional seconds, `T` or a space,
/// a bare date, and epoch seconds, milliseconds or microseconds (as numbers or digit strings).
public enum TimestampParser {
    /// Why a timestamp could not be read; the message says what was expected.
    public struct Failure: Error, Sendable, Equatable {
        public var message: String
    }

    public static func parse(_ text: String) -> Result<Instant, Failure> {
        var copy = text
        return copy.withUTF8 { parse(bytes: $0) }
    }

    /// Epoch seconds, milliseconds or microseconds, told apart by magnitude (seconds stay below
    /// 1e11 until the year 5138; milliseconds below 1e14 until then).
    public static func fromEpoch(_ value: Double) -> Result<Instant, Failure> {
        guard value.isFinite else { return .failure(Failure(message: "epoch value is not finite")) }
        let magnitude = abs(value)
        if magnitude < 1e11 { return .success(Instant(seconds: value)) }
        if magnitude < 1e14 { return .success(Instant(microseconds: Int64((value * 1000).rounded()))) }
        if magnitude < 1e17 { return .success(Instant(microseconds: Int64(value.rounded()))) }
        return .failure(Failure(message: "epoch value \(value) is too large for seconds, milliseconds or microseconds"))
    }

    public static func parse(bytes raw: UnsafeBufferPointer<UInt8>) -> Result<Instant, Failure> {
        var start = 0
        var end = raw.count
        while start < end, raw[start] == 0x20 { start += 1 }
        while end > start, raw[end - 1] == 0x20 { end -= 1 }
        let b = UnsafeBufferPointer(rebasing: raw[start..<end])
        guard !b.isEmpty else { return .failure(Failure(message: "empty timestamp; \(expected)")) }
        if isEpochText(b) {
            return fromEpoch(NumberParsing.parseDouble(b))
        }
        return parseISO(b)
    }

    private static func isEpochText(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        if b[0] == UInt8(ascii: "-") { i = 1 }
        var digits = 0
        var dots = 0
        while i < b.count {
            if isDigit(b[i]) {
                digits += 1
            } else if b[i] == UInt8(ascii: ".") {
                dots += 1
            } else {
                return false
            }
            i += 1
        }
        return digits > 0 && dots <= 1 && b[b.count - 1] != UInt8(ascii: ".")
    }

    private static let expected = "expected ISO-8601 like 2025-12-18T00:00:00Z or epoch seconds"

    private static func parseISO(_ b: UnsafeBufferPointer<UInt8>) -> Result<Instant, Failure> {
        var i = 0
        func digits(_ count: Int) -> Int? {
            guard i + count <= b.count else { return nil }
            var v = 0
            for j in 0..<count {
                guard isDigit(b[i + j]) else { return nil }
                v = v * 10 + Int(b[i + j] &- UInt8(ascii: "0"))
            }
            i += count
            return v
        }
        func take(_ c: Character) -> Bool {
            guard i < b.count, b[i] == c.asciiValue else { return false }
            i += 1
            return true
        }
        func fail(_ why: String) -> Result<Instant, Failure> {
            let text = String(decoding: b, as: UTF8.self)
            return .failure(Failure(message: "cannot read \"\(text)\" as a timestamp (\(why)); \(expected)"))
        }
        guard let year = digits(4), take("-"), let month = digits(2), take("-"), let day = digits(2) else {
            return fail("no YYYY-MM-DD date")
        }
        var hour = 0
        var minute = 0
        var second = 0
        var micro = 0
        var offsetSeconds = 0
        if i < b.count {
            guard take("T") || take("t") || take(" ") else { return fail("expected 'T' or a space after the date") }
            guard let h = digits(2), take(":"), let m = digits(2) else { return fail("expected HH:MM after the date") }
            hour = h
            minute = m
            if take(":") {
                guard let s = digits(2) else { return fail("expected two-digit seconds") }
                second = s
                if take(".") || take(",") {
                    var scale = 100_000
                    var count = 0
                    while i < b.count, isDigit(b[i]) {
                        if scale > 0 {
                            micro += Int(b[i] &- UInt8(ascii: "0")) * scale
                            scale /= 10
                        }
                        count += 1
                        i += 1
                    }
                    if count == 0 { return fail("expected digits after the decimal point") }
                }
            }
            if take("Z") || take("z") {
                // UTC
            } else if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
                let sign = b[i] == UInt8(ascii: "-") ? -1 : 1
                i += 1
                guard let oh = digits(2) else { return fail("expected an offset like +00:00") }
                var om = 0
                if take(":") {
                    guard let m2 = digits(2) else { return fail("expected an offset like +00:00") }
                    om = m2
                } else if i < b.count {
                    guard let m2 = digits(2) else { return fail("expected an offset like +00:00") }
                    om = m2
                }
                guard oh <= 23, om <= 59 else { return fail("offset out of range") }
                offsetSeconds = sign * (oh * 3600 + om * 60)
            }
            if i != b.count { return fail("unexpected text after the time") }
        }
        guard (1...12).contains(month) else { return fail("month \(month) is not 1-12") }
        guard day >= 1, day <= CivilDate.daysIn(month: month, year: year) else {
            return fail("day \(day) does not exist in \(year)-\(month < 10 ? "0" : "")\(month)")
        }
        guard hour <= 23, minute <= 59, second <= 60 else { return fail("time of day out of range") }
        guard let local = Instant(year: year, month: month, day: day, hour: hour, minute: minute, second: second, microsecond: micro)
        else { return fail("out of range") }
        return .success(local.adding(seconds: Double(-offsetSeconds)))
    }
}
