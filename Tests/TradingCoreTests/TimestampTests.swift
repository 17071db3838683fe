import Testing

@testable import TradingCore

@Suite struct TimestampTests {
    static let reference = Instant(year: 2025, month: 12, day: 18, hour: 4, minute: 51, second: 5)!

    @Test(arguments: [
        "2025-12-18T04:51:05Z", "2025-12-18T04:51:05+00:00", "2025-12-18T04:51:05", "2025-12-18 04:51:05",
        "2025-12-18T04:51:05.000000", "2025-12-18T06:51:05+02:00", "2025-12-17T23:51:05-05:00", "2025-12-18T04:51:05z",
        "2025-12-18T10:21:05+0530", "1766033465", "1766033465000", "1766033465000000", "1766033465.0",
    ])
    func everySpellingDenotesTheSameInstant(text: String) throws {
        #expect(try TimestampParser.parse(text).get() == Self.reference)
    }

    @Test func keepsFractionalSeconds() throws {
        let instant = try TimestampParser.parse("2025-12-19T10:26:01.186933").get()
        #expect(instant.microseconds % 1_000_000 == 186_933)
        #expect(instant.iso8601 == "2025-12-19T10:26:01.186933Z")
        #expect(try TimestampParser.parse("2025-12-19T10:26:01.5Z").get().microseconds % 1_000_000 == 500_000)
    }

    @Test func bareDateIsMidnightUTC() throws {
        #expect(try TimestampParser.parse("2025-12-18").get() == Instant(year: 2025, month: 12, day: 18))
    }

    @Test(arguments: [
        ("2025-13-01T00:00:00Z", "month 13"), ("2025-02-30T00:00:00Z", "day 30 does not exist"),
        ("2025-12-18T25:00:00Z", "time of day"), ("yesterday", "no YYYY-MM-DD"), ("", "empty"),
        ("2025-12-18T04:51:05 UTC", "unexpected text"), ("2025-12-18T04", "HH:MM"),
    ])
    func rejectsWhatItCannotRead(text: String, reason: String) {
        guard case .failure(let failure) = TimestampParser.parse(text) else {
            Issue.record("\(text) parsed")
            return
        }
        #expect(failure.message.contains(reason), "\(failure.message)")
        #expect(failure.message.contains("2025-12-18T00:00:00Z"), "the message shows the expected form")
    }

    @Test func iso8601RoundTripsAcrossCenturies() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5000 {
            let micros = Int64.random(in: -2_000_000_000_000_000...4_000_000_000_000_000, using: &generator)
            let instant = Instant(microseconds: micros)
            #expect(try TimestampParser.parse(instant.iso8601).get() == instant, "\(instant.iso8601)")
        }
    }

    @Test func leapDaysAndDayKeys() throws {
        #expect(Instant(year: 2024, month: 2, day: 29) != nil)
        #expect(Instant(year: 2025, month: 2, day: 29) == nil)
        let instant = try TimestampParser.parse("2024-02-29T23:59:59.999999Z").get()
        #expect(instant.utcDay == "2024-02-29")
        #expect(instant.adding(seconds: 0.000001).utcDay == "2024-03-01")
        #expect(instant.startOfUTCDay == Instant(year: 2024, month: 2, day: 29))
    }
}
