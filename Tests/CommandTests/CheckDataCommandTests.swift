import Foundation
import TestSupport
import Testing

@testable import TradingCore
@testable import TradingStore

@Suite struct CheckDataCommandTests {
    func check(_ home: String, _ extra: [String] = [], positions: String? = nil) throws -> CommandRunner.Output {
        try CommandRunner.run(
            "deployctl",
            [
                "check", "data", "--home", home, "--positions", positions ?? home + "/logs/positions_futures.json",
                "--json",
            ] + extra)
    }

    func failing(_ out: CommandRunner.Output) throws -> [String: String] {
        let checks = try out.json()["checks"] as? [[String: Any]] ?? []
        var failed: [String: String] = [:]
        for check in checks where check["ok"] as? Bool == false {
            failed[check["name"] as? String ?? ""] = check["detail"] as? String
        }
        return failed
    }

    @Test func sampleWithTheCommittedConfigPasses() throws {
        let out = try check(try CommandRunner.makeHome())
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        let json = try out.json()
        #expect(json["ok"] as? Bool == true)
        #expect((json["checks"] as? [Any])?.count == 6)
        #expect((json["summary"] as? [String: Any])?["closed_trades"] as? Int == 25)
    }

    /// A file that already breaks a limit (the old bot, a hand edit): a warning naming the
    /// positions, in `check data` and in `selfcheck`; nothing fails.
    @Test func openPositionsBreakingALimitAreNamed() throws {
        let home = try CommandRunner.makeHome()
        let path = home + "/logs/positions_futures.json"
        var file = try JSONValue.parse(try FileIO.read(path)).objectValue ?? JSONObject()
        var open = file["open_positions"]?.arrayValue ?? []
        let first = try #require(open.first)
        let symbol = try #require(first.objectValue?["symbol"]?.stringValue)
        open.append(first)
        file["open_positions"] = .array(open)
        try Fixtures.write(JSONValue.object(file).serialized(indent: 1), to: path)
        let out = try check(home)
        #expect(out.status == 0, "\(out.stdout)")
        let warnings = try out.json()["warnings"] as? [String] ?? []
        let named = "2 open positions on \(symbol) (open_positions[0], open_positions[\(open.count - 1)])"
        #expect(warnings.contains { $0.contains(named) }, "\(warnings)")
        let selfcheck = try CommandRunner.run("tradingbot", ["selfcheck", "--home", home])
        #expect(selfcheck.stdout.contains("WARN positions") && selfcheck.stdout.contains(named), "\(selfcheck.stdout)")
    }

    @Test func wrongYearResetIsCaught() throws {
        let home = try CommandRunner.makeHome(botConfig: CommandRunner.botConfig(resetAt: "2026-12-18T00:00:00Z"))
        let out = try check(home, ["--now", "2026-12-20T00:00:00Z"])
        #expect(out.status == 1)
        let failed = try failing(out)
        #expect(Set(failed.keys) == ["wallet_reset_window"])
        #expect(failed["wallet_reset_window"]?.contains("25 trade(s) would count") == true)
    }

    @Test func futureResetIsCaught() throws {
        let home = try CommandRunner.makeHome(botConfig: CommandRunner.botConfig(resetAt: "2099-01-01T00:00:00Z"))
        let out = try check(home)
        #expect(out.status == 1)
        #expect(try failing(out).keys.contains("wallet_reset_not_in_future"))
    }

    @Test func resetBeforeEveryTradeWarnsAndExitsZero() throws {
        let home = try CommandRunner.makeHome(botConfig: CommandRunner.botConfig(resetAt: "2024-12-18T00:00:00Z"))
        let out = try check(home)
        #expect(out.status == 0)
        let warnings = try out.json()["warnings"] as? [String] ?? []
        #expect(warnings.filter { $0.contains("precedes every trade") }.count == 1, "\(warnings)")
        // The real-shaped sample holds two open DOGEUSDT positions: the old bot broke its own limit.
        #expect(
            warnings.contains { $0.contains("2 open positions on DOGEUSDT (open_positions[1], open_positions[3])") })
        #expect(warnings.count == 2, "\(warnings)")
        let text = try CommandRunner.run(
            "deployctl", ["check", "data", "--home", home, "--positions", home + "/logs/positions_futures.json"])
        #expect(text.stdout.contains("WARN wallet_reset_window"))
        #expect(text.stdout.contains("Passed with warnings."))
    }

    @Test func badFilesOfEveryKindExitOne() throws {
        let home = try CommandRunner.makeHome()
        let sample = try String(contentsOfFile: Fixtures.samplePositions, encoding: .utf8)
        let cases: [(String, String, String)] = [
            ("not json", String(sample.dropLast(40)), "invalid JSON at line"),
            (
                "bad timestamp",
                sample.replacingOccurrences(of: "\"2025-10-20T05:07:37Z\"", with: "\"2025-10-20T05:07:37 CET\""),
                "closed_positions[1] (BTCUSDT) field \"closed_at\""
            ),
            (
                "before 2009",
                sample.replacingOccurrences(of: "\"2025-10-20T04:08:50Z\"", with: "\"2008-10-20T04:08:50Z\""),
                "before 2009"
            ),
            (
                "future", sample.replacingOccurrences(of: "\"2025-10-20T05:07:37Z\"", with: "\"2027-10-20T05:07:37Z\""),
                "after now + 300 s"
            ),
            (
                "reversed",
                sample.replacingOccurrences(of: "\"2025-10-20T05:07:37Z\"", with: "\"2025-10-20T04:00:00Z\""),
                "closed before they opened"
            ),
            (
                "epoch ms in the wrong field type",
                sample.replacingOccurrences(of: "\"2025-10-20T05:07:37Z\"", with: "true"),
                "expected a timestamp string or epoch number"
            ),
        ]
        for (name, text, expected) in cases {
            let path = home + "/logs/\(name.replacingOccurrences(of: " ", with: "-")).json"
            try Fixtures.write(text, to: path)
            let out = try check(home, positions: path)
            #expect(out.status == 1, "\(name)")
            let details = try failing(out).values.joined(separator: " | ")
            #expect(details.contains(expected), "\(name): \(details)")
        }
    }

    @Test func missingPositionsFileFailsNamingIt() throws {
        let home = try CommandRunner.makeHome()
        let out = try check(home, positions: home + "/logs/nope.json")
        #expect(out.status == 1)
        #expect(try failing(out)["records_readable"]?.contains("nope.json") == true)
    }

    @Test func usageAndConfigErrorsExitTwo() throws {
        let home = try CommandRunner.makeHome()
        let badNow = try check(home, ["--now", "next tuesday"])
        #expect(badNow.status == 2)
        #expect(badNow.stderr.contains("--now"))
        let badConfig = try CommandRunner.makeHome(botConfig: #"{"wallet_reset": {"at": "2025-12-18T00:00:00Z"}}"#)
        let out = try check(badConfig)
        #expect(out.status == 2)
        #expect(out.stderr.contains("field \"wallet_reset.starting_capital\": is missing"))
        let noPositions = try CommandRunner.run("deployctl", ["check", "data", "--home", home])
        #expect(noPositions.status == 2)
    }
}
