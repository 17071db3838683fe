import Foundation
import TradingCore
import TradingStore

/// `reports/YYYY-MM-DD.json` and `.txt`: the day's numbers, written by the engine when the UTC
/// day ends (and on start for yesterday, when a restart skipped the moment), by the code behind
/// `tradingbot report`, so the history does not depend on the dashboard running.
enum DailyReport {
    static func paths(_ home: Home, day: Instant) -> (json: String, text: String) {
        let name = home.reportsDir + "/" + String(day.iso8601.prefix(10))
        return (name + ".json", name + ".txt")
    }

    /// The report of `day` (a UTC midnight): every trade closed before its end, and its own line.
    static func write(
        _ file: PositionsFile, reset: WalletReset, day: Instant, home: Home, release: String, now: Instant
    )
        throws
    {
        let end = day.adding(seconds: 86_400)
        var upToEnd = file
        upToEnd.closed = file.closed.filter { ($0.closedAt?.instant).map { $0 < end } ?? false }
        upToEnd.open = []
        let report = PerformanceReport(file: upToEnd, reset: reset)
        let key = String(day.iso8601.prefix(10))
        let today = report.byDay[key] ?? TradeTotals()
        var o = JSONObject()
        o["day"] = .string(key)
        o["generated_at"] = .string(now.iso8601)
        o["release"] = .string(release)
        o["day_trades"] = .int(today.trades)
        o["day_wins"] = .int(today.wins)
        o["day_losses"] = .int(today.losses)
        o["day_net_pnl"] = .double(cents(today.netPnl))
        o["balance_at_end"] = .double(cents(report.balance))
        o["report"] = report.json
        let (json, text) = paths(home, day: day)
        try FileIO.writeJSON(json, .object(o))
        let body =
            "Daily report \(key) (UTC), written \(now.iso8601) by release \(release)\n"
            + "The day          \(today.trades) trade(s), \(today.wins) won, \(today.losses) lost, net \(money(today.netPnl))\n"
            + "Balance at end   \(money(report.balance))\n\n" + report.text + "\n"
        try FileIO.writeAtomically(text, Array(body.utf8))
    }
}

extension TradingEngine {
    /// Writes the report of the day that just ended; on a restart, yesterday's when it is
    /// missing. A failure is logged, never fatal: trading goes on.
    func writeDailyReports(previousDay: Instant?, today: Instant, now: Instant) {
        let yesterday = today.adding(seconds: -86_400)
        let day: Instant
        if let previousDay, previousDay < today {
            day = previousDay
        } else if previousDay == nil, !FileIO.exists(DailyReport.paths(stores.home, day: yesterday).json),
            file.closed.contains(where: { ($0.closedAt?.instant).map { $0 >= yesterday && $0 < today } ?? false })
        {
            day = yesterday
        } else {
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: stores.home.reportsDir, withIntermediateDirectories: true)
            try DailyReport.write(
                file, reset: config.walletReset, day: day, home: stores.home, release: settings.release, now: now)
        } catch {
            stores.log(
                "error", "daily_report_failed", cycle: cycle, at: now,
                [JSONField("day", .string(String(day.iso8601.prefix(10)))), JSONField("error", .string("\(error)"))])
        }
    }
}

extension TradingEngine {
    /// A copy of the positions file as the UTC day `ended` closed, to restore from should the
    /// file be damaged later (`tradingbot restore`). A failure is logged, never fatal.
    func takeDaySnapshot(ended: Instant, now: Instant) {
        guard settings.daySnapshots else { return }
        do {
            try persist(now: now)
            try PositionSnapshots(home: stores.home).take("day-\(ended.iso8601.prefix(10)).positions.json")
        } catch {
            stores.log(
                "error", "snapshot_failed", cycle: cycle, at: now,
                [JSONField("day", .string(String(ended.iso8601.prefix(10)))), JSONField("error", .string("\(error)"))])
        }
    }
}
