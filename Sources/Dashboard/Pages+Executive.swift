import TradingCore
import TradingStore

extension Pages {
    /// What worked and what did not: by strategy, symbol, exit reason and signal, and what the
    /// engine learned. All from the report's code; the per-signal view is over the newest
    /// closed trades the snapshot keeps.
    static func executive(
        _ s: PositionsSnapshot, weights: Result<SignalWeights?, any Error>, missed: MissedOpportunities,
        autonomy view: Result<JSONObject?, any Error> = .success(nil)
    ) -> String {
        // Shown on every path: it matters most when the record is thin or unreadable.
        let autonomySection = autonomy(view)
        guard let report = s.report else {
            return "<div class=\"error\"><b>The positions cannot be shown.</b> \(HTML.escape(s.problem ?? ""))</div>"
                + autonomySection
        }
        guard report.totals.trades > 0 else {
            let why =
                report.leftOutCount > 0
                ? "\(grouped(report.leftOutCount)) record(s) cannot be used (run `deployctl check data`): nothing to summarise."
                : report.closedTradesTotal > 0
                    ? "The wallet reset at \(report.reset.at.iso8601) excludes all \(grouped(report.closedTradesTotal)) closed trades: nothing to summarise."
                    : "No closed trades yet: nothing to summarise."
            return HTML.empty(why) + autonomySection
        }
        let st = report.statistics
        var out = "<div class=\"cards\">"
        out += card(
            "Profit factor", st.profitFactor.map { "\((($0 * 100).rounded() / 100))" } ?? "n/a",
            "gross wins / gross losses", id: "profit-factor")
        out += card("Expectancy", st.expectancy.map(signedMoney) ?? "n/a", "net per trade", id: "expectancy")
        out += card("Fees paid", money(st.totalFees), "funding \(signedMoney(st.funding))", id: "fees")
        out += card("Average hold", st.averageHoldSeconds.map { duration($0) } ?? "n/a", "", id: "avg-hold")
        out += "</div>"
        // Near the top: what the controller allows now is the first question when it trades smaller.
        out += autonomySection
        func groups(_ title: String, _ column: String, _ g: [String: TradeTotals]) -> String {
            let rows = PerformanceReport.sorted(g, byKey: false).map { e in
                [
                    e.key, grouped(e.totals.trades), "\((e.totals.winRate * 1000).rounded() / 10) %",
                    signedMoney(e.totals.netPnl),
                ]
            }
            return "<h2>\(HTML.escape(title))</h2>"
                + HTML.table(
                    [column, "Trades", "Win rate", "Net P&L"], rows,
                    numeric: [1, 2, 3])
        }
        out += groups("By strategy", "Strategy", report.byStrategy)
        out += groups("By symbol", "Symbol", report.bySymbol)
        out += "<h2>By exit reason</h2>"
        out += HTML.table(
            ["Exit reason", "Trades"],
            st.exitReasons.sorted { $0.value > $1.value }.map { [$0.key, grouped($0.value)] },
            numeric: [1])

        // A signal "agreed" with a trade when its score pointed the trade's way.
        var bySignal: [String: TradeTotals] = [:]
        for p in s.recentClosed {
            guard let ctx = p.extra["signal_ctx"]?.objectValue, let net = p.effectiveNetPnl, let side = p.side else {
                continue
            }
            for field in ctx.fields {
                guard let score = field.value.doubleValue, score != 0 else { continue }
                if (score > 0) == (side == .long) { bySignal[field.key, default: TradeTotals()].add(net) }
            }
        }
        out += "<h2>By signal (trades it agreed with, newest \(s.recentClosed.count))</h2>"
        out +=
            bySignal.isEmpty
            ? HTML.empty("No closed trade carries its signal scores (signal_ctx): nothing to attribute.")
            : HTML.table(
                ["Signal", "Trades", "Win rate", "Net P&L"],
                PerformanceReport.sorted(bySignal, byKey: false).map {
                    [
                        $0.key, grouped($0.totals.trades), "\(($0.totals.winRate * 1000).rounded() / 10) %",
                        signedMoney($0.totals.netPnl),
                    ]
                }, numeric: [1, 2, 3])

        out += "<h2>Learning (signal weights)</h2>"
        switch weights {
        case .failure(let error):
            out += "<div class=\"error\">The weights file cannot be read: \(HTML.escape("\(error)"))</div>"
        case .success(nil):
            out += HTML.empty("No learned weights yet: every signal weighs 1 until trades close.")
        case .success(let w?):
            out += "<p>Learned from \(grouped(w.tradesLearned)) closed trades; 1 is where every signal starts.</p>"
            out += HTML.table(
                ["Signal", "Weight", "Change"],
                w.weights.sorted { abs($0.value - 1) > abs($1.value - 1) }.map {
                    [
                        $0.key, "\(($0.value * 1000).rounded() / 1000)",
                        (($0.value - 1) >= 0 ? "+" : "") + "\((($0.value - 1) * 1000).rounded() / 1000)",
                    ]
                }, numeric: [1, 2])
        }
        return out + missedSection(missed)
    }

    static func percent(_ v: Double) -> String { (v >= 0 ? "+" : "") + "\((v * 10_000).rounded() / 100) %" }

    /// Blocked signals the market then followed, by rule, and the largest moves missed.
    static func missedSection(_ m: MissedOpportunities) -> String {
        var out = "<h2>Missed opportunities (blocked signals, the hour after)</h2>"
        guard !m.cases.isEmpty else { return out + HTML.empty(m.problem ?? "nothing to measure") }
        let followed = m.cases.filter(\.followed)
        let average = m.cases.map(\.moveAfter).reduce(0, +) / Double(m.cases.count)
        out +=
            "<p id=\"missed-summary\">\(m.cases.count) blocked signal(s) with an hour of prices after them: \(followed.count) went the signal's way; the average move was \(percent(average)).</p>"
        let byRule = Dictionary(grouping: m.cases, by: \.rule).sorted { $0.value.count > $1.value.count }
        out += HTML.table(
            ["Rule that blocked", "Blocked", "Followed", "Average move after 1 h"],
            byRule.map { rule, cases in
                [
                    rule, "\(cases.count)", "\(cases.filter(\.followed).count)",
                    percent(cases.map(\.moveAfter).reduce(0, +) / Double(cases.count)),
                ]
            }, numeric: [1, 2, 3])
        out += HTML.table(
            ["Blocked at", "Symbol", "Direction", "Rule", "Move after 1 h", "Best within 1 h"],
            m.cases.sorted { $0.moveAfter > $1.moveAfter }.prefix(10).map {
                [$0.at.iso8601, $0.symbol, $0.direction, $0.rule, percent($0.moveAfter), percent($0.bestMove)]
            }, numeric: [4, 5])
        return out
    }

    /// A release's decision diff: verdict, counts, the declared change, why it blocked, and its
    /// commonest transitions (the whole report is in state/decisions/RELEASE.json).
    static func decisionDiff(_ d: JSONObject) -> String {
        func int(_ v: JSONValue?) -> String { v?.doubleValue.map { String(Int($0)) } ?? "-" }
        var out = "<h3>Decision diff: \(HTML.escape(d["verdict"]?.stringValue ?? "?"))"
        if d["would_block"] == .bool(true) { out += " (would block)" }
        out += "</h3><p>"
        if d["changed"] != nil {
            let entries = d["entries"]?.objectValue
            out +=
                "\(int(d["changed"])) lines changed, \(int(d["changed_entries"])) of them entry decisions; entries \(int(entries?["current"])) (live build) against \(int(entries?["candidate"])) (candidate). "
        }
        if let why = d["strategy_change"]?.stringValue { out += "Declared strategy change: \(HTML.escape(why)). " }
        if let note = d["note"]?.stringValue { out += HTML.escape(note) }
        out += "</p>"
        let reasons = (d["reasons"]?.arrayValue ?? []).compactMap(\.stringValue)
        if !reasons.isEmpty {
            out += "<ul>" + reasons.map { "<li>\(HTML.escape($0))</li>" }.joined() + "</ul>"
        }
        let rows: [[String]] = (d["transitions"]?.arrayValue ?? []).compactMap(\.objectValue).map {
            [int($0["count"]), $0["from"]?.stringValue ?? "", $0["to"]?.stringValue ?? ""]
        }
        if !rows.isEmpty { out += HTML.table(["Count", "Live build", "Candidate"], rows, numeric: [0]) }
        return out
    }

    /// The release history from the ledger, newest first, with each step and the bad shas.
    static func deploys(_ releases: Result<[ReleaseRecord], any Error>, unreadable: [Int], limit: Int = 50) -> String {
        var out = ""
        if !unreadable.isEmpty {
            out +=
                "<p class=\"notice\">Unreadable ledger line(s) \(unreadable.prefix(10).map(String.init).joined(separator: ", ")) were skipped (a torn write).</p>"
        }
        let records: [ReleaseRecord]
        switch releases {
        case .failure(let error):
            return out + "<div class=\"error\">The release ledger cannot be read: \(HTML.escape("\(error)"))</div>"
        case .success(let r): records = r
        }
        guard !records.isEmpty else {
            return out + HTML.empty("No release yet: deployctl release --home HOME puts one live.")
        }
        let bad = records.filter { $0.state == "bad" }.map(\.sha).filter { !$0.isEmpty }
        out += "<h2>Refused shas (marked bad)</h2>"
        out +=
            bad.isEmpty
            ? HTML.empty("None.")
            : "<ul>" + Set(bad).sorted().map { "<li><code>\(HTML.escape($0))</code></li>" }.joined() + "</ul>"
        out += "<h2>Releases (newest first)</h2>"
        for r in records.reversed().prefix(limit) {
            let level =
                r.state == "good" ? "green" : (["bad", "failed", "rolled_back"].contains(r.state) ? "red" : "amber")
            out +=
                "<details class=\"release \(level)\"><summary><span class=\"dot\"></span><b>\(HTML.escape(r.id))</b> "
            out +=
                "\(HTML.escape(r.state)) · \(HTML.escape(r.ref)) \(HTML.escape(String(r.sha.prefix(12)))) · \(HTML.escape(r.startedAt))"
            if let step = r.failedStep { out += " · failed at \(HTML.escape(step))" }
            if let d = r.decisions { out += " · decisions \(HTML.escape(d["verdict"]?.stringValue ?? "?"))" }
            out += "</summary>"
            if !r.subject.isEmpty { out += "<p>\(HTML.escape(r.subject))</p>" }
            if let d = r.decisions { out += decisionDiff(d) }
            let steps: [[String]] = r.steps.compactMap { $0.objectValue }.map { o in
                [
                    o["name"]?.stringValue ?? "?", o["ok"] == .bool(false) ? "failed" : "ok",
                    o["seconds"]?.doubleValue.map { "\(($0 * 10).rounded() / 10) s" } ?? "",
                    o["ts"]?.stringValue ?? "", String((o["detail"]?.stringValue ?? "").prefix(300)),
                ]
            }
            out += HTML.table(["Step", "Outcome", "Took", "At", "Detail"], steps, numeric: [2])
            if let error = r.error { out += "<p class=\"error\">\(HTML.escape(String(error.prefix(1000))))</p>" }
            out += "</details>"
        }
        if records.count > limit {
            out += "<p>\(records.count - limit) older release(s) not shown; deployctl history lists all.</p>"
        }
        return out
    }
}
