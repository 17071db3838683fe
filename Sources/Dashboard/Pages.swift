import TradingCore

/// The pages' bodies. Every number comes from `PerformanceReport`, the code behind `tradingbot
/// report`, so the two can never disagree.
enum Pages {
    static let pageSize = 50

    static func signedMoney(_ v: Double) -> String { (v >= 0 ? "+" : "") + money(v) }

    static func card(_ label: String, _ value: String, _ sub: String = "", id: String) -> String {
        "<div class=\"card\" id=\"\(id)\"><div class=\"label\">\(HTML.escape(label))</div><div class=\"value\">\(HTML.escape(value))</div><div class=\"sub\">\(HTML.escape(sub))</div></div>"
    }

    static func summary(
        _ s: PositionsSnapshot, lastCycle: JSONObject?, now: Instant, page: Int,
        prices: [String: (price: Double, at: Instant)] = [:], takerFee: Double = BotConfig.Fees().taker
    ) -> String {
        guard let report = s.report else {
            return
                "<div class=\"error\" id=\"data-problem\"><b>The positions cannot be shown.</b> \(HTML.escape(s.problem ?? "unknown problem"))</div>"
        }
        var out = ""
        if let problem = s.problem {
            out += "<div class=\"error\">\(HTML.escape(problem))</div>"
        }
        let today = report.byDay[String(now.startOfUTCDay.iso8601.prefix(10))] ?? TradeTotals()
        let equity = lastCycle?["equity"]?.doubleValue
        out += "<div class=\"cards\">"
        out += card(
            "Wallet balance", money(report.balance),
            "since the reset \(report.reset.at.iso8601) (\(money(report.reset.startingCapital)))", id: "balance")
        out += card(
            "Net P&L since the reset", signedMoney(report.totals.netPnl), "gross \(signedMoney(report.grossPnl))",
            id: "net")
        out += card("Today (UTC)", signedMoney(today.netPnl), "\(today.trades) trade(s) closed", id: "today")
        out += card(
            "Closed trades", grouped(report.totals.trades),
            "\(grouped(s.excludedByReset)) in the file before the reset are not counted", id: "closed-trades")
        out += card(
            "Win rate", "\((report.totals.winRate * 1000).rounded() / 10) %",
            "\(report.totals.wins) won, \(report.totals.losses) lost",
            id: "win-rate")
        out += card(
            "Open positions", "\(report.openPositions)",
            "margin \(money(report.openMargin))"
                + (equity.map { ", unrealised \(signedMoney($0 - report.balance))" } ?? ""), id: "open-count")
        out += "</div>"
        for warning in report.warnings { out += "<p class=\"notice\">\(HTML.escape(warning))</p>" }

        out += "<h2>Equity (balance at each day's end)</h2>"
        if report.totals.trades == 0 && report.closedTradesTotal > 0 && report.leftOutCount == 0 {
            out += HTML.empty(
                "The wallet reset at \(report.reset.at.iso8601) excludes all \(grouped(report.closedTradesTotal)) closed trades in the file"
                    + (report.lastClose.map { " (the newest closed \($0.iso8601))" } ?? "")
                    + ". If the reset is wrong (a wrong year?), fix wallet_reset.at in config/bot.json; `deployctl check data` checks it."
            )
        } else {
            out += Charts.equity(report)
            out += "<h2>Net P&amp;L per day</h2>" + Charts.dailyPnl(report)
        }

        out += "<h2>Open positions</h2>"
        if s.open.isEmpty {
            out += HTML.empty("No open positions.")
        } else {
            // Valued at the newest price the engine kept (data/candles.db), by the engine's formula.
            out += HTML.table(
                ["Symbol", "Side", "Entry", "Size", "Margin", "Last price", "Unrealised P&L", "Opened", "Held"],
                s.open.map { p in
                    let last = prices[p.symbol]
                    let unrealised = last.flatMap { p.unrealizedPnl(at: $0.price, takerFee: takerFee) }
                    return [
                        p.symbol, p.direction ?? "?", p.entryPrice.map { "\($0)" } ?? "?",
                        p.size.map { "\($0)" } ?? "?",
                        p.marginCollateral.map(money) ?? "?",
                        last.map { "\($0.price) (\(duration(max(0, $0.at.seconds(until: now)))) ago)" }
                            ?? "no price yet",
                        unrealised.map(signedMoney) ?? "n/a",
                        p.openedAt?.instant.iso8601 ?? "?",
                        p.openedAt.map { duration(max(0, $0.instant.seconds(until: now))) } ?? "?",
                    ]
                }, numeric: [2, 3, 4, 5, 6])
        }

        out += "<h2>Recent closed positions</h2>"
        if s.recentClosed.isEmpty {
            out += HTML.empty(
                report.closedTradesTotal == 0
                    ? "No closed trades yet." : "No trade closed since the wallet reset \(report.reset.at.iso8601).")
        } else {
            let pages = (s.recentClosed.count + pageSize - 1) / pageSize
            let current = min(max(1, page), pages)
            let rows = s.recentClosed.dropFirst((current - 1) * pageSize).prefix(pageSize)
            out += HTML.table(
                ["Closed", "Symbol", "Side", "Entry", "Exit", "Net P&L", "Reason"],
                rows.map { p in
                    [
                        p.closedAt?.instant.iso8601 ?? "?", p.symbol, p.direction ?? "?",
                        p.entryPrice.map { "\($0)" } ?? "?", p.exitPrice.map { "\($0)" } ?? "?",
                        p.effectiveNetPnl.map(signedMoney) ?? "?", p.extra["exit_reason"]?.stringValue ?? "",
                    ]
                }, numeric: [3, 4, 5])
            let first = (current - 1) * pageSize + 1
            out += "<div class=\"pager\"><span>\(first)–\(first + rows.count - 1) of the newest \(s.recentClosed.count)"
            out += " (\(grouped(report.totals.trades)) since the reset)</span>"
            if current > 1 { out += "<a href=\"/?page=\(current - 1)\">Newer</a>" }
            if current < pages { out += "<a href=\"/?page=\(current + 1)\">Older</a>" }
            out += "</div>"
        }
        return out
    }

    static func login(csrf: String, passwordSet: Bool, message: String?) -> String {
        var out = "<form class=\"login\" method=\"post\" action=\"/login\"><h2>Log in</h2>"
        if let message { out += "<p class=\"error\" id=\"login-message\">\(HTML.escape(message))</p>" }
        out += "<input type=\"hidden\" name=\"csrf\" value=\"\(HTML.escape(csrf))\">"
        if passwordSet {
            out +=
                "<input type=\"password\" name=\"password\" placeholder=\"Password\" autofocus required autocomplete=\"current-password\">"
        } else {
            out +=
                "<p class=\"notice\">No password is set, so only this machine can reach the dashboard. Set one: run `tradingbot hash-password` and put TRADINGBOT_DASHBOARD_PASSWORD_HASH=… in HOME/config/secrets.env (mode 0600).</p>"
        }
        return out + "<button type=\"submit\">Log in</button></form>"
    }

    static func killSwitch(on: Bool, csrf: String) -> String {
        let state =
            on
            ? "<p class=\"error\" id=\"kill-state\">The kill switch is ON: the engine opens no new position. Exits of open positions go on.</p>"
            : "<p id=\"kill-state\">The kill switch is off: the engine trades normally.</p>"
        let action = on ? "off" : "on"
        let question =
            on
            ? "Turn the kill switch off and let the engine open new positions again?"
            : "Turn the kill switch on? The engine stops opening positions (open ones are still exited)."
        return state + """
            <form method="post" action="/kill-switch"><p>\(HTML.escape(question))</p>
            <input type="hidden" name="csrf" value="\(HTML.escape(csrf))"><input type="hidden" name="set" value="\(action)">
            <label><input type="checkbox" name="confirm" value="yes" required> I confirm</label>
            <button class="\(on ? "" : "danger")" type="submit">Turn it \(action)</button></form>
            """
    }
}
