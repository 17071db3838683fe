import Foundation
import TestSupport
import Testing
import TradingCore

@testable import TradingStore

/// Closed trades read ahead on other cores reach the caller as one reading in order gives them:
/// the same records, numbers, issues and errors, in file order, whatever the file's layout, and
/// whatever bytes look like a trade's start inside a string.
@Suite struct ParallelRecordsTests {
    /// A positions file of `count` closed trades in several shapes.
    static func file(_ count: Int, indent: Bool = true, crlf: Bool = false) -> [UInt8] {
        var records: [String] = []
        for i in 0..<count {
            var fields = [
                #""symbol": "\#(["BTCUSDT", "ETHUSDT", "SOLUSDT"][i % 3])""#,
                #""direction": "\#(i % 2 == 0 ? "LONG" : "SHORT")""#,
                #""entry_price": \#(100 + Double(i) / 7)"#, #""exit_price": \#(101 + Double(i) / 9)"#,
                #""size": \#(i % 5 + 1)"#, #""leverage": 5"#, #""pnl": \#(Double(i % 17) - 8.25)"#,
                #""net_pnl": \#(Double(i % 17) - 8.5)"#, #""opened_at": "2025-11-\#(10 + i % 9)T09:30:00Z""#,
                #""closed_at": "2025-11-\#(10 + i % 9)T10:\#(10 + i % 50):00+00:00""#, #""strategy": "Alpha""#,
            ]
            if i % 4 == 0 { fields.append(#""signal_ctx": {"ofi": 0.5, "note": "x\"}, {\"y"}"#) }
            // Bytes that look like the start of a trade, inside a string.
            if i % 7 == 0 { fields.append(#""comment": "}, {\"symbol\": \"FAKE\"}, {\"a\": 1""#) }
            if i % 9 == 0 { fields.insert(#""tag": "x}, {""#, at: 2) }
            if i % 11 == 0 { fields.swapAt(0, 3) }  // a record in another key order
            if i % 13 == 0 { fields[6] = #""pnl": "n/a""# }  // an unusable value: an issue
            if i % 29 == 0 { fields.append(#""fees": 0.25"#); fields.remove(at: 7) }  // no net_pnl
            let separator = indent ? ",\n   " : ","
            records.append((indent ? "{\n   " : "{") + fields.joined(separator: separator) + (indent ? "\n  }" : "}"))
        }
        let open =
            #"{"symbol": "XRPUSDT", "direction": "LONG", "entry_price": 0.6, "size": 10, "opened_at": "2025-12-01T00:00:00Z"}"#
        var text =
            "{\n \"open_positions\": [\n  \(open)\n ],\n \"closed_positions\": [\n  "
            + records.joined(separator: indent ? ",\n  " : ", ") + "\n ],\n \"saved_at\": \"2025-12-01\"\n}\n"
        if crlf { text = text.replacingOccurrences(of: "\n", with: "\r\n") }
        return Array(text.utf8)
    }

    static func expectSame(_ bytes: [UInt8], _ name: String, stretch: Int) throws {
        let whole = ScanOutcome.of { try PositionsCodec.scan(bytes, record: $0) }
        var taken = 0
        let ahead = bytes.withUnsafeBufferPointer { buffer in
            ScanOutcome.of { record in
                try ParallelRecords.withWorkers(.memory(buffer), stretch: stretch, margin: 2048, cores: 2) { prepared in
                    try PositionsCodec.scan(
                        JSONStream(buffer),
                        prepared: { offset in
                            let batch = prepared?(offset)
                            if batch != nil { taken += 1 }
                            return batch
                        }, record: record)
                }
            }
        }
        let path = try Fixtures.temporaryDirectory("parallel") + "/positions_futures.json"
        try FileIO.writeAtomically(path, bytes)
        let fromFile = ScanOutcome.of {
            try PositionsCodec.scan(file: path, window: 4096, stretch: stretch, record: $0)
        }
        // A window longer than what a skip reads at first: it reads on when a trade needs more.
        let wideWindow = ScanOutcome.of {
            try PositionsCodec.scan(file: path, window: 1 << 20, stretch: stretch, record: $0)
        }
        for (how, seen) in [("mapped", ahead), ("from the file", fromFile), ("through a wide window", wideWindow)] {
            if let difference = ScanOutcome.difference(seen, from: whole) {
                Issue.record(Comment(rawValue: "\(name), \(how): \(difference)"))
            }
        }
        if bytes.count > 4 * stretch && whole.last?.hasPrefix("extra") == true {
            #expect(taken > 0, "\(name): no stretch was read ahead")
        }
    }

    @Test func readingAheadGivesWhatReadingInOrderGives() throws {
        try Self.expectSame(Self.file(3000), "indented", stretch: 4096)
        try Self.expectSame(Self.file(3000, indent: false), "on one line", stretch: 4096)
        try Self.expectSame(Self.file(3000, crlf: true), "with CRLF", stretch: 8192)
        try Self.expectSame(Self.file(3000), "stretches shorter than a trade", stretch: 100)
        try Self.expectSame(try Fixtures.sampleBytes(), "the sample", stretch: 4096)
    }

    /// A torn byte, a cut-off end: the error the reading in order gives, at the same place.
    @Test func aBrokenFileGivesTheSameErrorReadAhead() throws {
        var torn = Self.file(3000)
        torn[torn.count / 2] = UInt8(ascii: "]")
        try Self.expectSame(torn, "torn in the middle", stretch: 4096)
        let full = Self.file(3000)
        try Self.expectSame(Array(full.prefix(full.count * 3 / 4)), "cut off", stretch: 4096)
        try Self.expectSame(full + Array("  x".utf8), "something after the end", stretch: 4096)
    }

    /// A trade with an extra field nested as deep as the reader allows is read on a worker's
    /// thread as on the calling one (its stack is as deep), and one level more is refused alike.
    @Test func aDeeplyNestedTradeReadsAlikeAhead() throws {
        for depth in [509, 510] {
            let text = String(decoding: Self.file(3000), as: UTF8.self)
            let nested = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
            let deep = text.replacingOccurrences(
                of: #""strategy": "Alpha""#, with: #""strategy": "Alpha", "deep": "# + nested)
            try Self.expectSame(Array(deep.utf8), "nested \(depth) deep", stretch: 4096)
        }
    }
}
