import Foundation
import TestSupport
import Testing

@testable import Deploy
@testable import TradingCore
@testable import TradingStore

/// The A/A's comparison on its own: lines from rotated files, only inside the recorded windows,
/// matched by time and order; an older skipped line without its rule still matches.
@Suite struct DecisionsCheckPartsTests {
    func line(_ ts: String, _ symbol: String, _ action: String, rule: String? = nil, notional: Double? = nil) -> String
    {
        var o: JSONObject = ["ts": .string(ts), "cycle": 1, "symbol": .string(symbol), "action": .string(action)]
        o["direction"] = "LONG"
        if let rule { o["rule"] = .string(rule) }
        if let notional { o["notional"] = .double(notional) }
        return JSONValue.object(o).serialized()
    }

    @Test func rotatedLinesCountAndOnlyTheWindowsAreCompared() throws {
        let dir = try Fixtures.temporaryDirectory("aa-parts")
        let path = dir + "/signals.jsonl"
        try Fixtures.write(
            [
                line("2026-12-07T10:00:00Z", "A", "skipped"),
                line("2026-12-07T10:01:00Z", "A", "executed", rule: "conviction", notional: 250.004),
            ]
            .joined(separator: "\n") + "\n", to: path + ".1")
        try Fixtures.write(
            [
                line("2026-12-07T10:02:00Z", "A", "skipped", rule: "entry_threshold"),
                line("2026-12-07T11:00:00Z", "B", "skipped"),
            ]
            .joined(separator: "\n") + "\n", to: path)
        let from = try #require(Instant(year: 2026, month: 12, day: 7, hour: 10))
        let to = try #require(Instant(year: 2026, month: 12, day: 7, hour: 10, minute: 30))
        #expect(DecisionsCheck.oldestLine(path) == from, "the oldest line still on disk is the rotated file's first")
        let live = DecisionsCheck.signalLines(path, rotated: true, in: [(from, to)])
        #expect(live.values.reduce(0) { $0 + $1.count } == 3, "both files, nothing outside the window")
        #expect(DecisionsCheck.signalLines(path, rotated: false, in: [(from, to)]).count == 1)

        // The replay: the same decisions, a rule on the skip the older line lacks, notional to the cent.
        let replayPath = dir + "/replay.jsonl"
        try Fixtures.write(
            [
                line("2026-12-07T10:00:00Z", "A", "skipped", rule: "entry_threshold"),
                line("2026-12-07T10:01:00Z", "A", "executed", rule: "conviction", notional: 250.0),
                line("2026-12-07T10:02:00Z", "A", "skipped", rule: "entry_threshold"),
            ].joined(separator: "\n") + "\n", to: replayPath)
        let replay = DecisionsCheck.signalLines(replayPath, rotated: true, in: [(from, to)])
        let (compared, mismatch) = DecisionsCheck.compare(live: live, replay: replay)
        #expect(compared == 3 && mismatch == nil, "\(String(describing: mismatch))")

        // A different rule on lines that both name one is a mismatch, named with both sides.
        try Fixtures.write(
            line("2026-12-07T10:02:00Z", "A", "skipped", rule: "min_agreeing") + "\n", to: replayPath)
        let other = DecisionsCheck.signalLines(replayPath, rotated: false, in: [(from, to)])
        let (_, found) = DecisionsCheck.compare(live: live, replay: other)
        let m = try #require(found?.objectValue)
        #expect(m["ts"]?.stringValue == "2026-12-07T10:00:00Z", "the first differing cycle: replay has none there")
    }
}
