extension PerformanceReport {
    /// Money rounded to cents, as the dashboard shows it.
    static func cents(_ value: Double) -> JSONValue { .double((value * 100).rounded() / 100) }

    private static func groups(_ groups: [String: TradeTotals], byKey: Bool, keyName: String) -> JSONValue {
        .array(
            sorted(groups, byKey: byKey).map { entry in
                [
                    keyName: .string(entry.key), "trades": .int(entry.totals.trades), "wins": .int(entry.totals.wins),
                    "losses": .int(entry.totals.losses), "net_pnl": cents(entry.totals.netPnl),
                ]
            })
    }

    /// The `report --json` object (keys are a contract: deploy checks compare them).
    public var json: JSONValue {
        var o = JSONObject([
            JSONField("balance", Self.cents(balance)),
            JSONField("starting_capital", .double(reset.startingCapital)),
            JSONField("reset_at", .string(reset.at.iso8601)),
            JSONField("closed_trades", .int(totals.trades)),
            JSONField("closed_trades_total", .int(closedTradesTotal)),
            JSONField("net_pnl", Self.cents(totals.netPnl)),
            JSONField("gross_pnl", Self.cents(grossPnl)),
            JSONField("wins", .int(totals.wins)),
            JSONField("losses", .int(totals.losses)),
            JSONField("win_rate", .double((totals.winRate * 10_000).rounded() / 10_000)),
            JSONField("open_positions", .int(openPositions)),
            JSONField("open_margin", Self.cents(openMargin)),
        ])
        // Daily resolution from the realised balance: `report` sees the file, not the prices.
        let dayEnds = balanceAtDayEnds
        o.fields.append(
            contentsOf: statistics.json(
                start: reset.startingCapital, dayEnds: dayEnds,
                maxDrawdown: TradeStatistics.maxDrawdown([reset.startingCapital] + dayEnds)))
        o["first_counted_close"] = firstCountedClose.map { .string($0.iso8601) } ?? .null
        o["last_counted_close"] = lastCountedClose.map { .string($0.iso8601) } ?? .null
        o["by_day"] = Self.groups(byDay, byKey: true, keyName: "day")
        o["by_strategy"] = Self.groups(byStrategy, byKey: false, keyName: "strategy")
        o["by_symbol"] = Self.groups(bySymbol, byKey: false, keyName: "symbol")
        o["left_out"] = [
            "count": .int(leftOutCount), "records": .array(leftOut.map { .string($0) }),
        ]
        o["warnings"] = .array(warnings.map { .string($0) })
        return .object(o)
    }

    /// Things a person should look at before trusting the numbers.
    public var warnings: [String] {
        var out: [String] = []
        if closedTradesTotal > 0 && totals.trades == 0 && leftOutCount < closedTradesTotal {
            out.append(
                "the wallet reset \(reset.at.iso8601) excludes all \(grouped(closedTradesTotal)) closed trades (last closed \(lastClose?.iso8601 ?? "-")); check the year of wallet_reset.at"
            )
        }
        if leftOutCount > 0 {
            let more = leftOutCount > leftOut.count ? "; and \(grouped(leftOutCount - leftOut.count)) more" : ""
            out.append(
                "\(grouped(leftOutCount)) record(s) left out because a field they need cannot be used, so the balance may be incomplete: "
                    + leftOut.joined(separator: "; ") + more
                    + ". Run `deployctl check data` for the full list and what to fix.")
        }
        return out
    }

    /// A plain-text summary for a terminal.
    public var text: String {
        func signed(_ v: Double) -> String { (v >= 0 ? "+" : "") + money(v) }
        var lines = [
            "Wallet reset    \(reset.at.iso8601), starting capital \(money(reset.startingCapital))",
            "Balance         \(money(balance))  (net P&L \(signed(totals.netPnl)), gross \(signed(grossPnl)))",
            "Closed trades   \(grouped(totals.trades)) since the reset, \(grouped(closedTradesTotal)) in the file",
            "Wins / losses   \(totals.wins) / \(totals.losses)  (win rate \(String(format1(totals.winRate * 100))) %)",
            "Open positions  \(openPositions)  (margin \(money(openMargin)))",
            "Fees paid       \(money(statistics.totalFees)), funding \(signed(statistics.funding))",
            "Per trade       expectancy \(statistics.expectancy.map(signed) ?? "n/a"), profit factor "
                + (statistics.profitFactor.map { format2($0) } ?? "n/a (no losses)"),
        ]
        if !byDay.isEmpty {
            lines.append("")
            lines.append("By day (UTC)")
            for entry in Self.sorted(byDay, byKey: true) {
                lines.append("  \(entry.key)  \(pad(entry.totals.trades, 5)) trades  \(signed(entry.totals.netPnl))")
            }
            lines.append("By strategy")
            // As wide as the longest name, so the columns line up whatever the names are.
            let width = max(18, (byStrategy.keys.map(\.count).max() ?? 0) + 1)
            for entry in Self.sorted(byStrategy, byKey: false) {
                lines.append(
                    "  \(entry.key.padding(width))\(pad(entry.totals.trades, 5)) trades  \(signed(entry.totals.netPnl))"
                )
            }
        }
        for warning in warnings { lines.append("WARNING: \(warning)") }
        return lines.joined(separator: "\n")
    }
}

func format2(_ v: Double) -> String {
    let hundredths = Int((v * 100).rounded())
    let fraction = abs(hundredths % 100)
    return "\(hundredths < 0 && hundredths > -100 ? "-" : "")\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
}

func format1(_ v: Double) -> String {
    let tenths = Int((v * 10).rounded())
    return "\(tenths / 10).\(abs(tenths % 10))"
}

private func pad(_ n: Int, _ width: Int) -> String {
    let s = grouped(n)
    return String(repeating: " ", count: max(0, width - s.count)) + s
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
