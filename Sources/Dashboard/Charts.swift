import TradingCore

/// Charts drawn by the server as SVG: no script or third-party library is needed to see them.
enum Charts {
    static let width = 720.0
    static let height = 200.0
    static let pad = 36.0

    /// The balance at each UTC day's end since the reset: the starting capital plus the net
    /// P&L of every day up to it.
    static func equity(_ report: PerformanceReport) -> String {
        let days = report.netByDayStart.sorted { $0.key < $1.key }
        guard !days.isEmpty else { return HTML.empty("No closed trades since the wallet reset: no equity curve yet.") }
        var balance = report.reset.startingCapital
        var points = [(label: report.reset.at.iso8601.prefix(10), value: balance)]
        for (day, net) in days {
            balance += net
            points.append((day.iso8601.prefix(10), balance))
        }
        let values = points.map(\.value)
        let low = values.min()!
        let high = max(values.max()!, low + 1)
        func y(_ v: Double) -> Double { height - pad / 2 - (v - low) / (high - low) * (height - pad) }
        func x(_ i: Int) -> Double { pad + Double(i) / Double(max(1, points.count - 1)) * (width - 2 * pad) }
        let path = points.indices.map { "\($0 == 0 ? "M" : "L")\(r(x($0))),\(r(y(points[$0].value)))" }.joined()
        return """
            <svg id="equity-chart" viewBox="0 0 \(Int(width)) \(Int(height))" width="\(Int(width))" height="\(Int(height))" role="img" aria-label="Balance at each day's end">
            <path d="\(path)" fill="none" stroke="#4aa3ff" stroke-width="2"/>
            <text x="4" y="\(r(y(high)) + 4)">\(HTML.escape(money(high)))</text><text x="4" y="\(r(y(low)))">\(HTML.escape(money(low)))</text>
            <text x="\(pad)" y="\(height - 2)">\(points.first!.label)</text><text x="\(width - pad - 70)" y="\(height - 2)">\(points.last!.label)</text>
            </svg>
            """
    }

    /// Net P&L per UTC day, the last `days` days with trades.
    static func dailyPnl(_ report: PerformanceReport, days: Int = 30) -> String {
        let rows = PerformanceReport.sorted(report.byDay, byKey: true).suffix(days)
        guard !rows.isEmpty else { return "" }
        let extreme = max(rows.map { abs($0.totals.netPnl) }.max() ?? 1, 0.01)
        let zero = height / 2
        let step = (width - 2 * pad) / Double(rows.count)
        var bars = ""
        for (i, row) in rows.enumerated() {
            let h = abs(row.totals.netPnl) / extreme * (height / 2 - pad / 2)
            let top = row.totals.netPnl >= 0 ? zero - h : zero
            bars +=
                "<rect x=\"\(r(pad + Double(i) * step + 1))\" y=\"\(r(top))\" width=\"\(r(max(1, step - 2)))\" height=\"\(r(max(h, 0.5)))\" fill=\"\(row.totals.netPnl >= 0 ? "#3fb950" : "#f85149")\"><title>\(row.key): \(HTML.escape(money(row.totals.netPnl)))</title></rect>"
        }
        return """
            <svg id="daily-chart" viewBox="0 0 \(Int(width)) \(Int(height))" width="\(Int(width))" height="\(Int(height))" role="img" aria-label="Net P&amp;L per day">
            <line x1="\(pad)" x2="\(width - pad)" y1="\(zero)" y2="\(zero)" stroke="#3a4656"/>\(bars)
            <text x="4" y="\(pad / 2 + 4)">\(HTML.escape(money(extreme)))</text><text x="4" y="\(height - pad / 2)">\(HTML.escape(money(-extreme)))</text>
            </svg>
            """
    }

    static func r(_ v: Double) -> Double { (v * 10).rounded() / 10 }
}
