import Foundation
import TestSupport
import Testing

@testable import Deploy
@testable import TradingCore
@testable import TradingStore

/// The decision diff's parts on their own: the comparison's words, the policy's defaults on a
/// cosmetic change, a doubling and a halving, the limits judged only on the candidate's own
/// entries, the strategy-change trailer, and deploy.json's section.
@Suite struct DecisionDiffPartsTests {
    func line(
        _ ts: String, _ symbol: String, _ action: String, rule: String? = nil, direction: String = "LONG",
        notional: Double? = nil, reason: String? = nil
    ) -> String {
        var o: JSONObject = ["ts": .string(ts), "symbol": .string(symbol), "action": .string(action)]
        o["direction"] = .string(direction)
        if let rule { o["rule"] = .string(rule) }
        if let notional { o["notional"] = .double(notional) }
        if let reason { o["reason"] = .string(reason) }
        return JSONValue.object(o).serialized()
    }

    /// The lines as `DecisionDiff` reads them back from a signals file.
    func read(_ lines: [String]) throws -> [DecisionDiff.Line] {
        let path = try Fixtures.temporaryDirectory("diff-parts") + "/signals.jsonl"
        try Fixtures.write(lines.joined(separator: "\n") + "\n", to: path)
        return DecisionDiff.lines(path)
    }

    @Test func transitionsUseTheLogsOwnWords() throws {
        let t1 = "2026-12-07T10:00:00Z"
        let t2 = "2026-12-07T10:01:00Z"
        let current = try read([
            line(t1, "A", "executed", rule: "conviction", notional: 500),
            line(t1, "B", "skipped", rule: "entry_threshold"),
            line(t1, "C", "executed", rule: "conviction", notional: 400),
            line(t2, "A", "closed", reason: "max_hold"), line(t2, "B", "executed", rule: "conviction", notional: 300),
        ])
        let candidate = try read([
            line(t1, "A", "skipped", rule: "entry_threshold"), line(t1, "B", "skipped", rule: "entry_threshold"),
            line(t1, "C", "executed", rule: "conviction", notional: 399.99),
            line(t2, "B", "executed", rule: "conviction", notional: 300.001),
        ])
        let c = DecisionDiff.compare(current: current, candidate: candidate)
        #expect(c.compared == 5)
        #expect(c.changed == 3, "notional to the cent: 300.001 is 300.00")
        #expect(c.changedEntries == 2)
        let names = c.transitions.map { "\($0.from) -> \($0.to) x\($0.count)" }
        #expect(names.contains("executed -> skipped:entry_threshold x1"))
        #expect(names.contains("executed -> executed (another notional) x1"))
        #expect(names.contains("closed:max_hold -> none x1"), "\(names)")
        #expect(c.first.count == 3)
        #expect(c.first[0].objectValue?["current"]?.objectValue?["notional"]?.doubleValue == 500)
        #expect(DecisionDiff.compare(current: current, candidate: current).changed == 0)
    }

    func totals(_ entries: Int, exits: [String: Int] = [:]) -> DecisionDiff.Totals {
        var t = DecisionDiff.Totals()
        t.entries = entries
        t.exits = exits
        return t
    }

    @Test func theDefaultsLetACosmeticChangeThroughAndStopADoublingOrAHalving() {
        let policy = DeployConfig.DecisionDiff()
        func reasons(_ live: Int, _ candidate: Int, changed: Int) -> [String] {
            var c = DecisionDiff.Comparison()
            c.changedEntries = changed
            return DecisionDiff.thresholdReasons(
                c, current: totals(live, exits: ["max_hold": live]),
                candidate: totals(candidate, exits: ["max_hold": candidate]), policy: policy)
        }
        for n in [0, 1, 3, 18, 400] {
            #expect(reasons(n, n, changed: 0).isEmpty, "a cosmetic change at \(n) entries")
        }
        for n in [1, 3, 18, 400] {
            // A doubling changes at least as many entry decisions as the live build made.
            #expect(reasons(n, 2 * n, changed: n).count == 3, "doubling \(n): \(reasons(n, 2 * n, changed: n))")
        }
        for n in [2, 4, 18, 400] {
            #expect(reasons(n, n / 2, changed: n / 2).count == 3, "halving \(n)")
        }
        #expect(reasons(0, 1, changed: 1).first?.contains("some against none") == true)
        #expect(reasons(10, 11, changed: 1).isEmpty, "one more entry in ten is within the defaults")
        #expect(reasons(10, 10, changed: 3).count == 1, "three of ten entries moved: past 20 %")
    }

    func position(
        _ symbol: String, opened: String, closed: String? = nil, notional: Double = 500, reason: String? = nil
    )
        -> JSONValue
    {
        var o: JSONObject = [
            "symbol": .string(symbol), "direction": "LONG", "entry_price": 1.0, "size": .double(notional),
            "leverage": 5, "margin_collateral": .double(notional / 5), "opened_at": .string(opened),
        ]
        if let closed {
            o["closed_at"] = .string(closed)
            o["exit_price"] = 1.0
            o["pnl"] = 0
            o["net_pnl"] = 0
            o["exit_reason"] = .string(reason ?? "max_hold")
        }
        return .object(o)
    }

    @Test func limitsAreJudgedOnTheCandidatesOwnEntriesOnly() throws {
        let root = try Fixtures.temporaryDirectory("limits")
        let home = Home(root: root)
        try home.createDirectories()
        var config = BotConfig(
            walletReset: WalletReset(at: Instant(year: 2025, month: 12, day: 18)!, startingCapital: 10000))
        config.risk.maxPositions = 3
        let checkpoint = Instant(year: 2026, month: 12, day: 7, hour: 10)!
        let universe = AssetUniverse(sectors: [
            "DOGEUSDT": .meme, "BTCUSDT": .mega, "ETHUSDT": .mega, "SOLUSDT": .l1, "PEPEUSDT": .meme,
        ])
        func write(open: [JSONValue], closed: [JSONValue]) throws {
            try Fixtures.write(
                JSONValue.object(["open_positions": .array(open), "closed_positions": .array(closed)]).serialized(),
                to: home.positions)
        }
        // The checkpoint already held two DOGEUSDT positions: not the candidate's doing.
        let held = [
            position("DOGEUSDT", opened: "2026-12-07T09:00:00Z"), position("DOGEUSDT", opened: "2026-12-07T09:30:00Z"),
        ]
        try write(open: held + [position("BTCUSDT", opened: "2026-12-07T10:05:00Z")], closed: [])
        #expect(DecisionDiff.limitBreaks(home: home, config: config, universe: universe, since: checkpoint).isEmpty)

        // Two entries of its own past max_positions 3, one of them closed in its entry's cycle.
        try write(
            open: held + [position("BTCUSDT", opened: "2026-12-07T10:05:00Z")],
            closed: [
                position("ETHUSDT", opened: "2026-12-07T10:06:00Z", closed: "2026-12-07T10:06:00Z"),
                position(
                    "SOLUSDT", opened: "2026-12-07T10:07:00Z", closed: "2026-12-07T10:07:00Z",
                    reason: "emergency_position_loss"),
            ])
        let breaks = DecisionDiff.limitBreaks(home: home, config: config, universe: universe, since: checkpoint)
        #expect(breaks.contains { $0.hasPrefix("ETHUSDT") && $0.contains("max_positions 3") }, "\(breaks)")
        #expect(breaks.contains { $0.hasPrefix("ETHUSDT") && $0.contains("same cycle by max_hold") }, "\(breaks)")
        #expect(!breaks.contains { $0.hasPrefix("SOLUSDT") && $0.contains("same cycle") }, "the emergency exit may")
        #expect(!breaks.contains { $0.hasPrefix("BTCUSDT") }, "BTCUSDT made the third: within the limit")

        // A notional over max_notional.
        try write(open: [position("BTCUSDT", opened: "2026-12-07T10:05:00Z", notional: 2500)], closed: [])
        let big = DecisionDiff.limitBreaks(home: home, config: config, universe: universe, since: checkpoint)
        #expect(big.contains { $0.contains("max_notional") }, "\(big)")

        // A cycle enters before it exits: a position its exits closed at the entry's time was
        // still open then; one the exchange closed (reconciled first) was not.
        let earlier = "2026-12-07T09:10:00Z"
        let at = "2026-12-07T10:05:00Z"
        try write(
            open: held + [position("BTCUSDT", opened: at)],
            closed: [position("SOLUSDT", opened: earlier, closed: at, reason: "max_hold")])
        let exited = DecisionDiff.limitBreaks(home: home, config: config, universe: universe, since: checkpoint)
        #expect(exited.contains { $0.hasPrefix("BTCUSDT") && $0.contains("4 positions open") }, "\(exited)")
        try write(
            open: held + [position("BTCUSDT", opened: at)],
            closed: [position("SOLUSDT", opened: earlier, closed: at, reason: "exchange_stop_loss")])
        #expect(DecisionDiff.limitBreaks(home: home, config: config, universe: universe, since: checkpoint).isEmpty)

        // A partial close on the exchange leaves two records of one position: not a second one.
        try write(
            open: [position("ETHUSDT", opened: "2026-12-07T10:06:00Z", notional: 250)],
            closed: [
                position(
                    "ETHUSDT", opened: "2026-12-07T10:06:00Z", closed: "2026-12-07T10:30:00Z", notional: 250,
                    reason: "closed_on_exchange")
            ])
        #expect(DecisionDiff.limitBreaks(home: home, config: config, universe: universe, since: checkpoint).isEmpty)

        // A third meme position beside the two the checkpoint held: its entry adds to the breach.
        try write(open: held + [position("PEPEUSDT", opened: "2026-12-07T10:05:00Z")], closed: [])
        let sector = DecisionDiff.limitBreaks(home: home, config: config, universe: universe, since: checkpoint)
        #expect(sector.contains { $0.hasPrefix("PEPEUSDT") && $0.contains("max_per_sector 2") }, "\(sector)")
    }

    @Test func totalsCountEntriesExitsAndTheExchangesOwnCloses() throws {
        let home = Home(root: try Fixtures.temporaryDirectory("totals"))
        try home.createDirectories()
        try Fixtures.write(
            [
                #"{"ts": "2026-12-07T10:00:00Z", "level": "info", "event": "engine_started"}"#,
                #"{"ts": "2026-12-07T10:05:00Z", "level": "warning", "event": "closed_on_exchange", "symbol": "BTCUSDT"}"#,
            ].joined(separator: "\n") + "\n", to: home.botLog)
        try Fixtures.write(
            #"{"ts": "2026-12-07T10:05:00Z", "cycle": 5, "balance": 10010, "equity": 10025.5}"# + "\n",
            to: home.decisionsLog)
        let lines = try read([
            line("2026-12-07T10:00:00Z", "A", "executed", rule: "conviction", notional: 500),
            line("2026-12-07T10:04:00Z", "A", "closed", reason: "take_profit"),
        ])
        let t = DecisionDiff.totals(
            lines: lines, home: home, summary: ["net_pnl": 10, "total_fees": 0.6, "max_drawdown": 0.01])
        #expect(t.entries == 1 && t.exits == ["take_profit": 1])
        #expect(t.exchangeCloses == 1)
        #expect(abs(t.netPnl - 25.5) < 1e-9, "realized 10 and 15.5 open at the last prices")

        // The exposure peak counts as the limits do: a position the cycle's exits closed at an
        // entry's time was open beside it.
        let at = "2026-12-07T10:05:00Z"
        try Fixtures.write(
            JSONValue.object([
                "open_positions": [position("BTCUSDT", opened: at, notional: 500)],
                "closed_positions": [position("SOLUSDT", opened: "2026-12-07T09:10:00Z", closed: at, notional: 300)],
            ]).serialized(), to: home.positions)
        let peak = DecisionDiff.totals(lines: lines, home: home, summary: [:])
        #expect(abs(peak.exposurePeak - 800) < 1e-9, "\(peak.exposurePeak)")
    }

    /// The policy on each kind of finding, in each mode.
    @Test func thePolicyBlocksByKind() throws {
        let home = Home(root: try Fixtures.temporaryDirectory("policy"))
        func verdict(_ mode: String, strategy: String? = nil, _ change: (inout DecisionsCheck.ABReport) -> Void)
            -> (String, Bool)
        {
            var config = DeployConfig()
            config.decisionDiff.mode = mode
            var ab = DecisionsCheck.ABReport()
            change(&ab)
            let start = DecisionsCheck.Report(
                aa: .init(verdict: .partial, hours: 24, minHours: 1), mode: mode, strategyChange: strategy)
            let r = DecisionsCheck(home: home, config: config).judge(start, ab: ab)
            return (r.verdict.rawValue, r.wouldBlock)
        }
        #expect(verdict("block") { _ in } == ("pass", false))
        #expect(verdict("block") { $0.thresholds = ["entries"] } == ("block", false))
        #expect(verdict("report") { $0.thresholds = ["entries"] } == ("pass", true))
        #expect(verdict("block", strategy: "why") { $0.thresholds = ["entries"] } == ("pass", true))
        #expect(verdict("report") { $0.limits = ["max_positions"] }.0 == "block")
        #expect(verdict("block", strategy: "why") { $0.limits = ["max_positions"] }.0 == "block")
        #expect(verdict("block") { $0.failure = "hung" } == ("block", false))
        #expect(verdict("report") { $0.failure = "hung" } == ("pass", true), "the hang's flip by the policy")
        #expect(verdict("block", strategy: "why") { $0.failure = "hung" }.0 == "block", "no excuse for a hang")
    }

    @Test func theNewestReportsAreKept() throws {
        let dir = try Fixtures.temporaryDirectory("reports")
        for day in 10...14 { try Fixtures.write("{}", to: dir + "/r202612\(day)-090000-ab12.json") }
        try Fixtures.write("x", to: dir + "/notes.txt")
        ReleasePipeline.pruneReports(dir, keep: 3)
        let left = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(
            left == [
                "notes.txt", "r20261212-090000-ab12.json", "r20261213-090000-ab12.json", "r20261214-090000-ab12.json",
            ])
    }

    @Test func aStrategyChangeIsATrailer() {
        #expect(
            ReleasePipeline.strategyChangeTrailers(
                "raise it\n\nwhy we do\n\nStrategy-Change: threshold 0.3\nSigned-off-by: x")
                == ["threshold 0.3"])
        #expect(ReleasePipeline.strategyChangeTrailers("strategy-change: in the subject only").isEmpty)
        #expect(ReleasePipeline.strategyChangeTrailers("fix\n\nSTRATEGY-CHANGE:   sizing  \n") == ["sizing"])
        #expect(ReleasePipeline.strategyChangeTrailers("fix\n\nStrategy-Change:\n").isEmpty, "a reason is needed")
    }

    @Test func theSectionDefaultsAndRefusesWhatItDoesNotKnow() throws {
        let defaults = try DeployConfig.parse(["decision_diff": [:]], file: "deploy.json")
        #expect(defaults.decisionDiff == DeployConfig.DecisionDiff())
        #expect(defaults.decisionDiff.mode == "block" && defaults.decisionDiff.timeoutSeconds == 1800)
        let report = try DeployConfig.parse(["decision_diff": ["mode": "report", "hours": 6]], file: "deploy.json")
        #expect(report.decisionDiff.mode == "report" && report.decisionDiff.hours == 6)
        #expect(throws: ConfigError.self) {
            try DeployConfig.parse(["decision_diff": ["mode": "warn"]], file: "d.json")
        }
        do {
            _ = try DeployConfig.parse(["decision_diff": ["entry_ratio": 2]], file: "d.json")
            Issue.record("an unknown key is refused")
        } catch {
            #expect("\(error)".contains("decision_diff.entry_ratio"), "\(error)")
        }
    }
}
