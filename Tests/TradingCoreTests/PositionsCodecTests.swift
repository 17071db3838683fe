import TestSupport
import Testing

@testable import TradingCore

@Suite struct PositionsCodecTests {
    @Test func readsTheSharedSampleWithoutIssues() throws {
        let decoded = try PositionsCodec.decode(try Fixtures.sampleBytes())
        #expect(decoded.issues.isEmpty, "\(decoded.issues.prefix(3))")
        #expect(decoded.file.open.count == 4)
        #expect(decoded.file.closed.count == 1100)
        let first = decoded.file.closed[0]
        #expect(first.symbol == "BNBUSDT")
        #expect(first.side == .short)
        #expect(first.leverage == 20)
        #expect(first.netPnl == -6.9643)
        #expect(first.extra.keys == ["exit_reason", "fees", "signal_ctx"])
        #expect(first.openedAt?.original == .string("2025-10-20T00:15:29+00:00"))
        #expect(first.closedAt?.instant.iso8601 == "2025-10-20T00:50:02Z")
    }

    @Test func rewriteOfTheSampleKeepsEveryRecordAndUnknownField() throws {
        let bytes = try Fixtures.sampleBytes()
        let decoded = try PositionsCodec.decode(bytes)
        let rewritten = PositionsCodec.encode(decoded.file)
        #expect(try PositionsCodec.decode(rewritten).file == decoded.file)
        // Independently of our reader: the generic tree of both files is the same, field for field.
        let before = try JSONValue.parse(bytes)
        let after = try JSONValue.parse(rewritten)
        let beforeClosed = try #require(before.objectValue?["closed_positions"]?.arrayValue)
        let afterClosed = try #require(after.objectValue?["closed_positions"]?.arrayValue)
        #expect(beforeClosed.count == afterClosed.count)
        for (b, a) in zip(beforeClosed, afterClosed) {
            let bo = try #require(b.objectValue)
            let ao = try #require(a.objectValue)
            #expect(Set(bo.keys) == Set(ao.keys))
            for key in bo.keys {
                let bv = bo[key]
                let av = ao[key]
                if let bd = bv?.doubleValue {
                    #expect(av?.doubleValue == bd, "\(key)")
                } else {
                    #expect(av == bv, "\(key)")
                }
            }
        }
    }

    @Test func unknownTopLevelFieldsAndNullsSurvive() throws {
        let text = """
            {"version": 3, "open_positions": [{"symbol": "BTCUSDT", "direction": "LONG", "entry_price": 1, "size": 1,
             "opened_at": "2025-12-18T00:00:00Z", "exit_price": null,
             "custom": {"deep": [1, {"x": "y"}]}}], "closed_positions": [], "meta": {"writer": "python"}}
            """
        let decoded = try PositionsCodec.decode(Array(text.utf8))
        #expect(decoded.issues.isEmpty)
        let again = try PositionsCodec.decode(PositionsCodec.encode(decoded.file))
        #expect(again.file.extra.keys == ["version", "meta"])
        #expect(again.file.open[0].extra["exit_price"] == .null)
        #expect(again.file.open[0].extra["custom"] == ["deep": [1, ["x": "y"]]])
    }

    @Test func issuesNameTheRecordAndTheField() throws {
        let text = """
            {"open_positions": [{"symbol": "ETHUSDT", "direction": "SHORT", "entry_price": 1, "size": 1}],
             "closed_positions": [
              {"symbol": "BTCUSDT", "closed_at": "2025-13-01T00:00:00Z", "net_pnl": 1, "exit_price": 1},
              {"symbol": "SOLUSDT", "closed_at": "2025-12-01T00:00:00Z", "net_pnl": "abc", "leverage": 500, "exit_price": 1},
              {"closed_at": "2025-12-01T00:00:00Z", "pnl": 2, "direction": "UP", "exit_price": 1},
              {"symbol": "XRPUSDT", "closed_at": null, "net_pnl": 1, "exit_price": NaN}
             ]}
            """
        let decoded = try PositionsCodec.decode(Array(text.utf8))
        let messages = decoded.issues.map(\.description)
        #expect(messages.contains { $0.hasPrefix("open_positions[0] (ETHUSDT) field \"opened_at\": missing") })
        #expect(
            messages.contains {
                $0.hasPrefix("closed_positions[0] (BTCUSDT) field \"closed_at\": cannot read \"2025-13-01T00:00:00Z\"")
            })
        #expect(
            messages.contains {
                $0.hasPrefix("closed_positions[1] (SOLUSDT) field \"net_pnl\": \"abc\" is not a number")
            })
        #expect(
            messages.contains {
                $0.hasPrefix("closed_positions[1] (SOLUSDT) field \"leverage\": leverage 500 is outside 1-100")
            })
        #expect(messages.contains { $0.hasPrefix("closed_positions[2] field \"symbol\": missing") })
        #expect(
            messages.contains { $0.hasPrefix("closed_positions[2] field \"direction\": \"UP\" is not LONG or SHORT") })
        #expect(
            messages.contains { $0.hasPrefix("closed_positions[3] (XRPUSDT) field \"closed_at\": missing or null") })
        #expect(
            messages.contains {
                $0.hasPrefix(
                    "closed_positions[3] (XRPUSDT) field \"exit_price\": is NaN, not a number that can be used")
            })
        #expect(decoded.issues.count == 8, "\(messages)")
        // Every message says what to do, not only what is wrong.
        #expect(messages.allSatisfy { $0.contains("write ") }, "\(messages)")
        // The unreadable value is kept as written, so a rewrite does not destroy the evidence.
        let rewritten = try PositionsCodec.decode(PositionsCodec.encode(decoded.file))
        #expect(rewritten.file.closed[0].extra["closed_at"] == .string("2025-13-01T00:00:00Z"))
        #expect(rewritten.file.closed[1].extra["net_pnl"] == .string("abc"))
        #expect(rewritten.file.closed[3].extra["exit_price"] == .number("NaN"))
    }

    @Test func brokenStructureIsAnErrorNotAnEmptyFile() {
        for text in ["[]", "{\"closed_positions\": {}}", "{\"closed_positions\": [1]}", "{\"open_positions\": ["] {
            #expect(throws: (any Error).self, "\(text)") { _ = try PositionsCodec.decode(Array(text.utf8)) }
        }
    }

    @Test func generatedMixedFormatsReadBack() throws {
        let generated = GeneratedPositions(closed: 500)
        let decoded = try PositionsCodec.decode(Array(generated.text().utf8))
        #expect(decoded.issues.isEmpty, "\(decoded.issues.prefix(3))")
        #expect(decoded.file.closed.count == 500)
        for (i, p) in decoded.file.closed.enumerated() {
            let fraction = (i + 1) % 5 == 2 ? Int64((i + 1) * 37 % 1_000_000) : 0
            #expect(p.closedAt?.instant == Instant(microseconds: Int64(generated.closeEpoch(i)) * 1_000_000 + fraction))
            #expect(p.netPnl == GeneratedPositions.netPnl(i))
        }
    }

    /// String fields read as written when they nearly repeat from record to record: a text that
    /// differs only in its length, its last byte or a byte past the eighth or sixteenth (what a
    /// reader that reuses the last record's texts, or compares words, would get wrong).
    @Test func stringFieldsReadAsWrittenWhenTheyNearlyRepeat() throws {
        let symbols = [
            "BTCUSDT", "BTCUSDT", "BTCUSD", "BTCUSDT2", "BTCUSDT", "BTCUSDTPERP12345", "BTCUSDTPERP12346",
            "BTCUSDTPERP123456", "", "X", "XY", "ABCDEFGHIJKLMNOP", "ABCDEFGHIJKLMNOQ", "ABCDEFGH", "ABCDEFGHI",
            "ÉTHUSDT", "ÉTHUSDT", "BTC\\u00e9", "BTC\\u00e9",
        ]
        let strategies = ["Alpha", "Alpha", "Alpha-OFI", "Alpha", "Beta-MeanRev", "Beta-MeanRevX", "Beta-MeanRev"]
        var records: [String] = []
        for (i, symbol) in symbols.enumerated() {
            let direction = ["LONG", "LONG", "SHORT", "LONGER", "SHORT"][i % 5]
            records.append(
                #"{"symbol": "\#(symbol)", "direction": "\#(direction)", "strategy": "\#(strategies[i % strategies.count])", "#
                    + #""bot_type": "\#(i % 3 == 0 ? "alpha" : "beta")", "exit_price": 1, "net_pnl": 1, "closed_at": "2025-12-01T00:00:00Z"}"#
            )
        }
        let text = #"{"open_positions": [], "closed_positions": ["# + records.joined(separator: ", ") + "]}"
        var read: [Position] = []
        try PositionsCodec.scan(Array(text.utf8)) { _, _, position, _ in read.append(position) }
        let decoded = symbols.map { $0.replacingOccurrences(of: "\\u00e9", with: "é") }
        #expect(read.map(\.symbol) == decoded)
        #expect(
            read.map { $0.direction ?? "-" }
                == symbols.indices.map { ["LONG", "LONG", "SHORT", "LONGER", "SHORT"][$0 % 5] })
        #expect(read.map { $0.strategy ?? "-" } == symbols.indices.map { strategies[$0 % strategies.count] })
        #expect(read.map { $0.botType ?? "-" } == symbols.indices.map { $0 % 3 == 0 ? "alpha" : "beta" })
    }
}
