import Foundation
import TestSupport
import Testing

@testable import TradingCore

/// A positions file read through a sliding window gives what the whole file in memory gives:
/// the same records, fields and issues, or the same error at the same line and column. Windows
/// and reads down to one byte put the window's end at every place a value, key or record can
/// be cut, and every JSONTestSuite case and real-shaped file goes through them.
@Suite struct JSONStreamTests {
    /// A stream over `bytes` through a window of `window` bytes, `chunk` bytes a read at most.
    static func stream(_ bytes: [UInt8], window: Int, chunk: Int) throws -> JSONStream {
        try JSONStream(
            window: window,
            read: { buffer, offset in
                let n = min(buffer.count, chunk, bytes.count - offset)
                for i in 0..<n { buffer[i] = bytes[offset + i] }
                return n
            },
            locate: { at in
                var locator = TextLocator()
                bytes.withUnsafeBufferPointer { locator.advance(through: UnsafeBufferPointer(rebasing: $0[0..<at])) }
                return (locator.line, locator.column)
            })
    }

    static func expectSameThroughWindows(_ bytes: [UInt8], _ name: String, windows: [(Int, Int)]) throws {
        let whole = ScanOutcome.of { try PositionsCodec.scan(bytes, record: $0) }
        for (window, chunk) in windows {
            let streamed = ScanOutcome.of {
                try PositionsCodec.scan(try stream(bytes, window: window, chunk: chunk), record: $0)
            }
            if let difference = ScanOutcome.difference(streamed, from: whole) {
                Issue.record(
                    Comment(rawValue: "\(name) through a \(window)-byte window read \(chunk) at a time: \(difference)"))
                return
            }
        }
    }

    @Test func everyJSONTestSuiteCaseReadsAlikeThroughAnyWindow() throws {
        let names = try JSONTestSuiteTests.cases("y_") + JSONTestSuiteTests.cases("n_")
        #expect(names.count == 95 + 188)
        for name in names {
            try Self.expectSameThroughWindows(
                try JSONTestSuiteTests.wrapped(name), name,
                windows: [(1, 1), (2, 1), (3, 2), (7, 3), (16, 16), (64, 5)])
            // And as the whole document: what follows its end, and the top level, through windows.
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: JSONTestSuiteTests.folder + "/" + name)))
            try Self.expectSameThroughWindows(bytes, name + " unwrapped", windows: [(1, 1), (4, 4), (7, 3)])
        }
    }

    @Test func realShapedFilesReadAlikeThroughAnyWindow() throws {
        let sample = try Fixtures.sampleBytes()
        let text = String(decoding: sample, as: UTF8.self)
        let variants: [(String, [UInt8])] = [
            ("the sample", sample),
            ("with a byte order mark", [0xEF, 0xBB, 0xBF] + sample),
            ("with CRLF line ends", Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8)),
            ("cut off", Array(sample.prefix(sample.count * 2 / 3))),
            (
                "one byte torn",
                {
                    var b = sample; b[b.count / 2] = UInt8(ascii: "}"); return b
                }()
            ),
            ("something after the end", sample + Array("\n   \n  x".utf8)),
            ("a long blank after the end", sample + [UInt8](repeating: 0x20, count: 9000) + Array("]".utf8)),
            (
                "one record unusable",
                Array(text.replacingOccurrences(of: "\"leverage\": 5", with: "\"leverage\": \"x\"").utf8)
            ),
        ]
        for (name, bytes) in variants {
            try Self.expectSameThroughWindows(
                bytes, name, windows: [(1, 1), (13, 7), (100, 100), (4096, 4096), (1 << 20, 1 << 20)])
        }
    }

    /// A number cut by the window's end is not read as ended there (`12|3` is 123, not 12).
    @Test func aNumberAtTheWindowsEndIsReadWhole() throws {
        let text = Array(#"{"open_positions": [], "closed_positions": [], "n": 12345}"#.utf8)
        for window in 1...text.count {
            let extra = try PositionsCodec.scan(try Self.stream(text, window: window, chunk: window)) { _, _, _, _ in }
            #expect(extra["n"] == .number("12345"), "window \(window)")
        }
    }
}
