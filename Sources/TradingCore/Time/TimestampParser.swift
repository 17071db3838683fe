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

    /// Reads fixed-width digits and separators; a struct so the hot loop has no captured state.
    private struct Cursor {
        let b: UnsafeBufferPointer<UInt8>
        var i = 0

        var atEnd: Bool { i >= b.count }

        mutating func digits(_ count: Int) -> Int? {
            guard i + count <= b.count else { return nil }
            var v = 0
            for j in 0..<count {
                let d = b[i + j] &- UInt8(ascii: "0")
                guard d < 10 else { return nil }
                v = v * 10 + Int(d)
            }
            i += count
            return v
        }

        mutating func take(_ c: UInt8) -> Bool {
            guard i < b.count, b[i] == c else { return false }
            i += 1
            return true
        }

        mutating func takeSign() -> Int? {
            guard i < b.count else { return nil }
            if b[i] == UInt8(ascii: "+") {
                i += 1
                return 1
            }
            if b[i] == UInt8(ascii: "-") {
                i += 1
                return -1
            }
            return nil
        }
    }

    private static func fail(_ b: UnsafeBufferPointer<UInt8>, _ why: String) -> Result<Instant, Failure> {
        let text = String(decoding: b, as: UTF8.self)
        return .failure(Failure(message: "cannot read \"\(text)\" as a timestamp (\(why)); \(expected)"))
    }

    private static func parseISO(_ b: UnsafeBufferPointer<UInt8>) -> Result<Instant, Failure> {
        var c = Cursor(b: b)
        guard let year = c.digits(4), c.take(UInt8(ascii: "-")), let month = c.digits(2), c.take(UInt8(ascii: "-")),
            let day = c.digits(2)
        else { return fail(b, "no YYYY-MM-DD date") }
        var hour = 0
        var minute = 0
        var second = 0
        var micro = 0
        var offsetSeconds = 0
        if !c.atEnd {
            guard c.take(UInt8(ascii: "T")) || c.take(UInt8(ascii: "t")) || c.take(UInt8(ascii: " ")) else {
                return fail(b, "expected 'T' or a space after the date")
            }
            guard let h = c.digits(2), c.take(UInt8(ascii: ":")), let m = c.digits(2) else {
                return fail(b, "expected HH:MM after the date")
            }
            hour = h
            minute = m
            if c.take(UInt8(ascii: ":")) {
                guard let s = c.digits(2) else { return fail(b, "expected two-digit seconds") }
                second = s
                if c.take(UInt8(ascii: ".")) || c.take(UInt8(ascii: ",")) {
                    var scale = 100_000
                    var count = 0
                    while !c.atEnd, isDigit(b[c.i]) {
                        if scale > 0 {
                            micro += Int(b[c.i] &- UInt8(ascii: "0")) * scale
                            scale /= 10
                        }
                        count += 1
                        c.i += 1
                    }
                    if count == 0 { return fail(b, "expected digits after the decimal point") }
                }
            }
            if c.take(UInt8(ascii: "Z")) || c.take(UInt8(ascii: "z")) {
                // UTC
            } else if let sign = c.takeSign() {
                guard let oh = c.digits(2) else { return fail(b, "expected an offset like +00:00") }
                var om = 0
                if c.take(UInt8(ascii: ":")) || !c.atEnd {
                    guard let m2 = c.digits(2) else { return fail(b, "expected an offset like +00:00") }
                    om = m2
                }
                guard oh <= 23, om <= 59 else { return fail(b, "offset out of range") }
                offsetSeconds = sign * (oh * 3600 + om * 60)
            }
            if !c.atEnd { return fail(b, "unexpected text after the time") }
        }
        guard (1...12).contains(month) else { return fail(b, "month \(month) is not 1-12") }
        guard day >= 1, day <= CivilDate.daysIn(month: month, year: year) else {
            return fail(b, "day \(day) does not exist in \(year)-\(month < 10 ? "0" : "")\(month)")
        }
        guard hour <= 23, minute <= 59, second <= 60 else { return fail(b, "time of day out of range") }
        guard
            let local = Instant(
                year: year, month: month, day: day, hour: hour, minute: minute, second: second, microsecond: micro)
        else { return fail(b, "out of range") }
        return .success(Instant(microseconds: local.microseconds - Int64(offsetSeconds) * 1_000_000))
    }
}

extension JSONValue {
    /// A string holding a timestamp in any spelling `TimestampParser` reads, else nil: for the
    /// small state files whose unreadable values are simply ignored.
    public var instantValue: Instant? {
        stringValue.flatMap { if case .success(let i) = TimestampParser.parse($0) { i } else { nil } }
    }
}
