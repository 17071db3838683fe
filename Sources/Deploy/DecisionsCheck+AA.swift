import Foundation
import TradingCore
import TradingStore

extension DecisionsCheck {
    /// The A/A: the live build's replay (`replay`, its `--json`, written into `into`) against the
    /// live engine's own signal lines, over the cycles the live release recorded.
    func judgeAA(_ replay: JSONObject, into: String, release: String, report: inout AAReport) {
        var windows: [(Instant, Instant)] = []
        var gaps = 0
        var divergence: String?
        for s in replay["segments"]?.arrayValue ?? [] {
            guard let o = s.objectValue else { continue }
            let name = o["name"]?.stringValue ?? "?"
            let by = o["release"]?.stringValue ?? "?"
            let status = o["status"]?.stringValue ?? ""
            guard by == release else {
                report.segments.append(
                    SegmentNote(name: name, release: by, checked: false, note: "not A/A-checked (recorded by \(by))"))
                continue
            }
            // Cycles of the live release are missing before a gap's segment, an hour's segment
            // that had to be restored, a segment that could not be replayed, and after a damaged line.
            let reason = o["reason"]?.stringValue ?? ""
            if reason == "gap" || (reason == "hour" && status.hasPrefix("restored")) || status.hasPrefix("not replayed")
                || status.contains("cannot be read")
            {
                gaps += 1
            }
            if divergence == nil, let first = o["first_divergence"]?.stringValue { divergence = "\(name): \(first)" }
            guard let first = o["first"]?.instantValue, let last = o["last"]?.instantValue,
                !status.hasPrefix("not replayed")
            else {
                report.segments.append(
                    SegmentNote(
                        name: name, release: by, checked: false,
                        note: status.hasPrefix("not replayed") ? status : "no cycles recorded"))
                continue
            }
            windows.append((first, last))
            report.checkedHours += first.seconds(until: last) / 3600
            report.segments.append(SegmentNote(name: name, release: by, checked: true, note: status))
        }
        // The live engine's older lines may be rotated away: only what both sides still hold is
        // compared, and the rest is said.
        var clipped = false
        if let oldest = Self.oldestLine(home.signalsLog), windows.contains(where: { $0.0 < oldest }) {
            windows = windows.compactMap { w in w.1 < oldest ? nil : (max(w.0, oldest), w.1) }
            clipped = true
            report.notes.append(
                "the live signal lines before \(oldest.iso8601) are rotated away (logs/signals.jsonl.N): cycles before it were not checked"
            )
        }
        let liveLines = Self.signalLines(home.signalsLog, rotated: true, in: windows)
        let replayLines = Self.signalLines(into + "/logs/signals.jsonl", rotated: true, in: windows)
        let (compared, mismatch) = Self.compare(live: liveLines, replay: replayLines)
        report.comparedLines = compared
        if let mismatch {
            report.verdict = .mismatch
            report.firstMismatch = mismatch
        } else if let divergence {
            // A call the recording holds no answer for was filled on paper: the replay did not
            // do what the live engine did, even where the lines still agree.
            report.verdict = .mismatch
            report.notes.append("the replay made a call the recording holds no answer for: \(divergence)")
        } else if gaps > 0 || clipped || (compared == 0 && !windows.isEmpty) {
            report.verdict = .incomplete
            if gaps > 0 {
                report.notes.append("\(gaps) gap(s) in the live release's recording: cycles there were not checked")
            }
            if compared == 0 && !windows.isEmpty {
                report.notes.append("no signal lines to compare in the recorded cycles")
            }
        } else if report.checkedHours < config.decisionDiff.minAAHours {
            report.verdict = .partial
        } else {
            report.verdict = .identical
        }
    }

    /// The JSON object a command printed after its progress lines.
    static func json(in output: String) -> JSONObject? {
        guard let start = output.range(of: "\n{")?.lowerBound ?? (output.hasPrefix("{") ? output.startIndex : nil)
        else { return nil }
        return (try? JSONValue.parse(Array(output[start...].utf8)))?.objectValue
    }

    /// The time of the oldest signal line still on disk (the oldest rotated file's first line).
    static func oldestLine(_ path: String) -> Instant? {
        for file in JSONLAppender.Rotation.oldestFirst(path) {
            if let ts = JSONLTail.firstLine(file)?.objectValue?["ts"]?.instantValue { return ts }
        }
        return nil
    }

    /// The signal lines of `path` (and its rotated files, oldest first) whose time falls in one
    /// of `windows`, grouped by time in file order.
    static func signalLines(_ path: String, rotated: Bool, in windows: [(Instant, Instant)]) -> [Int64: [DecisionDiff
        .Line]]
    {
        Dictionary(grouping: DecisionDiff.lines(path, rotated: rotated, in: windows), by: \.ts)
    }

    /// The same decision, in the log's own words: outcome (action with its rule, a close's
    /// reason), direction, notional to the cent, an entry's sizing rule, a close's net P&L and
    /// price. Free-text reasons embed the config and are not compared. A skipped line written
    /// before skips named their rule has none: its rule is not compared then.
    static func same(_ l: DecisionDiff.Line, _ r: DecisionDiff.Line) -> Bool {
        guard l.symbol == r.symbol, l.direction == r.direction, l.notional == r.notional, l.detail == r.detail
        else { return false }
        if l.outcome == r.outcome { return true }
        func ruleless(_ a: String, _ b: String) -> Bool { a == "skipped" && b.hasPrefix("skipped:") }
        return ruleless(l.outcome, r.outcome) || ruleless(r.outcome, l.outcome)
    }

    /// Lines compared, and the first that differs (both sides, the cycle's time and place).
    static func compare(live: [Int64: [DecisionDiff.Line]], replay: [Int64: [DecisionDiff.Line]]) -> (Int, JSONValue?) {
        var compared = 0
        for ts in Set(live.keys).union(replay.keys).sorted() {
            let a = live[ts] ?? []
            let b = replay[ts] ?? []
            for index in 0..<max(a.count, b.count) {
                let l = index < a.count ? a[index] : nil
                let r = index < b.count ? b[index] : nil
                if let l, let r, same(l, r) {
                    compared += 1
                    continue
                }
                return (
                    compared,
                    [
                        "ts": .string(Instant(microseconds: ts).iso8601), "index_in_cycle": .int(index),
                        "cycle": (l ?? r)?.cycle ?? .null, "live": l?.json ?? .null, "replay": r?.json ?? .null,
                    ]
                )
            }
        }
        return (compared, nil)
    }
}
