import Foundation
import TestSupport
import Testing

/// Files the operator's Python bot wrote, generated here by Python's own `json` module (NaN,
/// Infinity, lone surrogates, raw UTF-8, a byte order mark, CRLF, numbers as strings, integers as
/// floats, directions in other cases), read by the built binaries and checked against Python's
/// own numbers.
@Suite struct PythonFilesTests {
    struct Generated {
        let dir: String
        let config: String
        let expected: [String: Any]

        func file(_ name: String) -> String { dir + "/" + name }
        func numbers(_ key: String) -> [String: Any] { expected[key] as? [String: Any] ?? [:] }
        func index(_ key: String) -> Int { expected[key] as? Int ?? -1 }
        func symbol(_ index: Int) -> String { (expected["symbols"] as? [String: String])?["\(index)"] ?? "?" }
    }

    static func generate() throws -> Generated {
        let dir = try Fixtures.temporaryDirectory("python")
        let out = try CommandRunner.python(["write", Fixtures.samplePositions, dir, "2025-12-18T00:00:00Z"])
        guard out.status == 0 else { throw FixtureError("python_bot_files.py failed: \(out.stderr)") }
        let config = dir + "/bot.json"
        try Fixtures.write(CommandRunner.botConfig(resetAt: "2025-12-18T00:00:00Z"), to: config)
        return Generated(dir: dir, config: config, expected: try out.json())
    }

    static let readable = ["python-default.json", "python-raw-utf8.json", "bom-crlf.json", "compact.json"]

    @Test func reportAgreesWithPythonOnEveryVariant() throws {
        let g = try Self.generate()
        let python = g.numbers("numbers")
        #expect(python["closed_trades"] as? Int == 25)
        for name in Self.readable {
            let out = try CommandRunner.run(
                "tradingbot", ["report", "--positions", g.file(name), "--config", g.config, "--json"])
            #expect(out.status == 0, "\(name): \(out.stderr)")
            let report = try out.json()
            #expect(report["balance"] as? Double == python["balance"] as? Double, "\(name)")
            #expect(report["closed_trades"] as? Int == python["closed_trades"] as? Int, "\(name)")
            #expect(report["closed_trades_total"] as? Int == 1100, "\(name)")
            #expect((report["left_out"] as? [String: Any])?["count"] as? Int == 0, "\(name)")
        }
    }

    /// Unusable values in trades closed before the reset are warnings (nothing blocked), each
    /// named with its list, index, symbol, field and what to do.
    @Test func oldBadRecordsWarnAndNameTheField() throws {
        let g = try Self.generate()
        for name in Self.readable {
            let out = try CommandRunner.run(
                "deployctl",
                ["check", "data", "--positions", g.file(name), "--config", g.config, "--now", "2026-01-01T00:00:00Z"])
            #expect(out.status == 0, "\(name): \(out.stdout) \(out.stderr)")
            #expect(out.stdout.contains("WARN records_readable"), "\(name)")
            let nan = g.index("nan_old_index")
            #expect(
                out.stdout.contains(
                    "closed_positions[\(nan)] (\(g.symbol(nan))) field \"net_pnl\": is NaN, not a number that can be used; write the trade's P&L"
                ), "\(name): \(out.stdout)")
            let inf = g.index("inf_old_index")
            #expect(
                out.stdout.contains("closed_positions[\(inf)] (\(g.symbol(inf))) field \"exit_price\": is Infinity"))
            let missing = g.index("missing_old_index")
            #expect(
                out.stdout.contains(
                    "closed_positions[\(missing)] (\(g.symbol(missing))) field \"exit_price\": missing or null"))
            #expect(out.stdout.contains("Passed with warnings."))
        }
    }

    /// A counted trade whose P&L cannot be used fails the check (a release would be refused),
    /// while the report still shows everything else and names what it left out.
    @Test func aCountedBadRecordFailsTheCheckAndIsLeftOutOfTheReport() throws {
        let g = try Self.generate()
        let file = g.file("counted-nan.json")
        let bad = g.index("counted_nan_index")
        let check = try CommandRunner.run(
            "deployctl", ["check", "data", "--positions", file, "--config", g.config, "--json"])
        #expect(check.status == 1)
        #expect(check.stdout.contains("closed_positions[\(bad)] (\(g.symbol(bad))) field \\\"net_pnl\\\": is NaN"))
        // An open position that cannot be valued fails the check whatever the reset.
        let open = try CommandRunner.run(
            "deployctl", ["check", "data", "--positions", g.file("open-nan.json"), "--config", g.config])
        #expect(open.status == 1)
        #expect(
            open.stdout.contains("FAIL records_readable") && open.stdout.contains("open_positions[1] (")
                && open.stdout.contains("field \"entry_price\": is NaN"), "\(open.stdout)")
        let out = try CommandRunner.run("tradingbot", ["report", "--positions", file, "--config", g.config, "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        let report = try out.json()
        let python = g.numbers("counted_nan")
        #expect(report["balance"] as? Double == python["balance"] as? Double)
        #expect(report["closed_trades"] as? Int == python["closed_trades"] as? Int)
        let leftOut = try #require(report["left_out"] as? [String: Any])
        #expect(leftOut["count"] as? Int == 1)
        #expect(
            (leftOut["records"] as? [String])?.first?.hasPrefix("closed_positions[\(bad)] (\(g.symbol(bad))): net_pnl")
                == true)
    }

    /// A rewrite keeps every value as Python wrote it: a price stored as a string stays a string,
    /// 5.0 stays a float, NaN and Infinity stay, lone surrogates and raw UTF-8 survive. Python
    /// itself compares the two files.
    @Test func rewriteKeepsWhatPythonWrote() throws {
        let g = try Self.generate()
        for name in Self.readable {
            let out = g.file(name + ".rewritten")
            let run = try CommandRunner.run("tradingbot", ["roundtrip", "--positions", g.file(name), "--out", out])
            #expect(run.status == 0, "\(name): \(run.stderr)")
            let compare = try CommandRunner.python(["compare", g.file(name), out])
            #expect(compare.status == 0, "\(name): \(compare.stdout) \(compare.stderr)")
        }
        let text = try String(contentsOfFile: g.file("python-default.json.rewritten"), encoding: .utf8)
        #expect(text.contains(#""strategy": "Alpha-\udc80""#))
        #expect(text.contains(#""ofi": NaN"#) && text.contains(#""vol": -Infinity"#))
        #expect(text.contains(#""leverage": 5.0"#) || text.contains(#""leverage": 10.0"#))
    }

    /// A syntax error names the line and column (as Python counts them) and the record it is in.
    @Test func syntaxErrorNamesLineColumnAndRecord() throws {
        let g = try Self.generate()
        var text = try String(contentsOfFile: g.file("python-default.json"), encoding: .utf8)
        // Drop the comma after the symbol of closed_positions[6].
        let closed = try #require(text.range(of: "\"closed_positions\""))
        var at = closed.upperBound
        for _ in 0..<7 { at = try #require(text.range(of: "\"symbol\": \"", range: at..<text.endIndex)).upperBound }
        let comma = try #require(text.range(of: ",", range: at..<text.endIndex))
        text.removeSubrange(comma)
        let stderr = try Self.reportsSyntaxErrorAsPython(text, named: "broken.json", g)
        #expect(stderr.contains("in closed_positions[6] (\(g.symbol(6)))"), "\(stderr)")
    }

    /// Writes `text`, has `report` read it, and expects its error at the line and column Python's
    /// own parser names. Returns report's stderr.
    static func reportsSyntaxErrorAsPython(_ text: String, named name: String, _ g: Generated) throws -> String {
        let path = g.file(name)
        try Fixtures.write(text, to: path)
        let python = try CommandRunner.python(["syntax", path]).json()
        let line = try #require(python["line"] as? Int)
        let column = try #require(python["column"] as? Int)
        let out = try CommandRunner.run("tradingbot", ["report", "--positions", path, "--config", g.config])
        #expect(out.status == 1)
        #expect(out.stderr.contains("invalid JSON at line \(line), column \(column)"), "\(name): \(out.stderr)")
        return out.stderr
    }

    /// Columns count characters, not bytes, as Python does: after raw non-ASCII on the same line,
    /// and on line 1 of a file with a byte order mark.
    @Test func syntaxErrorColumnsCountCharacters() throws {
        let g = try Self.generate()
        let raw = try String(contentsOfFile: g.file("python-raw-utf8.json"), encoding: .utf8)
        // A stray letter after the first string value that holds raw non-ASCII.
        let lines = raw.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let n = try #require(lines.firstIndex { $0.unicodeScalars.contains { $0.value > 0x7F } && $0.hasSuffix("\",") })
        var broken = lines
        broken[n] = String(lines[n].dropLast()) + "x,"
        let bom = "\u{FEFF}{\"open_positions\": [], \"closed_positions\": [{\"symbol\": \"é\" x}]}"
        for (name, text) in [("broken-utf8.json", broken.joined(separator: "\n")), ("broken-bom.json", bom)] {
            _ = try Self.reportsSyntaxErrorAsPython(text, named: name, g)
        }
    }
}
