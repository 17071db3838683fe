import Foundation
import TradingCore
import TradingStore

extension DecisionsCheck.Report {
    /// The report as the operator reads it on a terminal.
    public func text(home: Home) -> [String] {
        var out: [String] = []
        switch verdict {
        case .pass:
            out.append(
                wouldBlock
                    ? "Decision diff: PASS, but it WOULD BLOCK (\(strategyChange != nil ? "a declared strategy change" : "report mode"))"
                    : "Decision diff: PASS")
        case .block: out.append("Decision diff: BLOCKED")
        case .inconclusive: out.append("Decision diff: inconclusive (does not block)")
        case .noRecording: out.append("Decision diff: no recording (passes)")
        }
        if let candidate { out.append("  candidate: \(candidate.label)") }
        if let strategyChange { out.append("  strategy change: \(strategyChange)") }
        for reason in reasons { out.append("  \(verdict == .block ? "blocks" : "would block"): \(reason)") }
        if let ab {
            let c = ab.comparison
            out.append(
                "  \(c.changed) of \(c.compared) lines changed, \(c.changedEntries) of them entry decisions")
            if !c.transitions.isEmpty { out.append("  transitions (live build -> candidate):") }
            for t in c.transitions.prefix(20) { out.append("    \(t.count)x  \(t.from) -> \(t.to)") }
            if c.transitions.count > 20 { out.append("    ... \(c.transitions.count - 20) more in --json") }
            func row(_ name: String, _ a: String, _ b: String) -> String {
                "    " + name.padding(toLength: max(34, name.count + 1), withPad: " ", startingAt: 0)
                    + a.padding(toLength: 14, withPad: " ", startingAt: 0) + b
            }
            out.append("  totals over the window:")
            out.append(row("", "live build", "candidate"))
            func m(_ v: Double) -> String { String(format: "%.2f", v) }
            out.append(row("entries", "\(ab.current.entries)", "\(ab.candidate.entries)"))
            for reason in Set(ab.current.exits.keys).union(ab.candidate.exits.keys).sorted() {
                out.append(
                    row("exits \(reason)", "\(ab.current.exits[reason] ?? 0)", "\(ab.candidate.exits[reason] ?? 0)"))
            }
            out.append(row("fees", m(ab.current.fees), m(ab.candidate.fees)))
            out.append(row("net P&L", m(ab.current.netPnl), m(ab.candidate.netPnl)))
            out.append(
                row(
                    "max drawdown", String(format: "%.2f %%", ab.current.maxDrawdown * 100),
                    String(format: "%.2f %%", ab.candidate.maxDrawdown * 100)))
            out.append(row("exposure peak", m(ab.current.exposurePeak), m(ab.candidate.exposurePeak)))
            for line in c.first.prefix(5).compactMap(\.objectValue) {
                out.append(
                    "  \(line["ts"]?.stringValue ?? "?") \(line["symbol"]?.stringValue ?? ""): \(line["from"]?.stringValue ?? "") -> \(line["to"]?.stringValue ?? "")"
                )
            }
            if let first = c.first.first?.objectValue?["ts"]?.stringValue {
                out.append("  the first 20 differing lines, whole, are in --json (ab.first); from \(first)")
            }
        }
        out.append("  " + aa.summary)
        for s in aa.segments where !s.checked { out.append("    \(s.name) (\(s.release)): \(s.note)") }
        for note in notes + aa.notes { out.append("  note: \(note)") }
        if let m = aa.firstMismatch?.objectValue {
            out.append("  first differing line, cycle at \(m["ts"]?.stringValue ?? "?"):")
            out.append("    live   \(m["live"]?.serialized() ?? "none")")
            out.append("    replay \(m["replay"]?.serialized() ?? "none")")
            out.append(
                "  reproduce: tradingbot replay --recorded --home \(home.root) --from \(m["ts"]?.stringValue ?? "") --keep"
            )
        }
        return out
    }
}
