import Foundation
import TradingCore
import TradingStore

/// `deployctl check decisions`, the A/A: the live slot's binary replays what the live release
/// recorded (the flight recorder), and its signal lines must be the live engine's own, line for
/// line. It proves the recording holds everything the engine read before anyone trusts a replay
/// of it to judge a candidate.
public struct DecisionsCheck {
    public enum Verdict: String, Sendable {
        case identical, partial, mismatch, incomplete
        case noRecording = "no_recording"
    }

    /// The hours the live release must have recorded in the window for `identical`.
    public static let minAAHours = 1.0
    /// The replay's limit; past it the replay's process group is ended and the check says why.
    public static let timeoutSeconds = 1800.0

    public struct SegmentNote: Sendable {
        public var name: String
        public var release: String
        public var checked: Bool
        public var note: String
        public var json: JSONValue {
            ["name": .string(name), "release": .string(release), "checked": .bool(checked), "note": .string(note)]
        }
    }

    public struct Report: Sendable {
        public var verdict: Verdict
        public var release: String?
        public var hours: Double
        public var checkedHours = 0.0
        public var comparedLines = 0
        public var segments: [SegmentNote] = []
        public var firstMismatch: JSONValue?
        public var notes: [String] = []

        public var json: JSONValue {
            [
                "ok": true,
                "aa": [
                    "verdict": .string(verdict.rawValue), "identical": .bool(verdict == .identical),
                    "release": release.map { .string($0) } ?? .null, "hours": .double(hours),
                    "checked_hours": .double((checkedHours * 100).rounded() / 100),
                    "compared_lines": .int(comparedLines), "segments": .array(segments.map(\.json)),
                    "first_mismatch": firstMismatch ?? .null, "notes": .array(notes.map { .string($0) }),
                ],
            ]
        }

        public var summary: String {
            switch verdict {
            case .identical:
                "A/A identical: the live release's replay wrote the live engine's \(comparedLines) signal lines over \(String(format: "%.1f", checkedHours)) h"
            case .partial:
                "A/A partial: identical over \(comparedLines) lines, but only \(String(format: "%.1f", checkedHours)) h recorded by the live release (\(DecisionsCheck.minAAHours) h needed)"
            case .mismatch: "A/A MISMATCH: the replay of the recording decided differently from the live engine"
            case .incomplete: "A/A incomplete: the recording has gaps, or the replay could not finish"
            case .noRecording: "A/A: no recording to check"
            }
        }
    }

    let home: Home
    let config: DeployConfig

    public init(home: Home, config: DeployConfig) {
        self.home = home
        self.config = config
    }

    /// Replays the last `hours` of the live release's recording with the live binary and
    /// compares. `progress` gets a line per step.
    public func run(hours: Double, now: Instant, progress: (String) -> Void = { _ in }) -> Report {
        var report = Report(verdict: .noRecording, hours: hours)
        let slots = Slots(home: home)
        guard let live = slots.active(), let release = slots.releaseID(live) else {
            report.notes.append("no live release yet")
            return report
        }
        report.release = release
        let from = now.adding(seconds: -hours * 3600)
        let heads = RecordingSegments.list(home.recordingDir).compactMap(RecordingSegments.head)
        // A segment holds up to an hour: one that started an hour before the window reaches into it.
        let inWindow = heads.filter { ($0.started ?? .init(microseconds: 0)) >= from.adding(seconds: -3600) }
        guard inWindow.contains(where: { $0.release == release }) else {
            report.notes.append(
                inWindow.isEmpty
                    ? "nothing recorded in the last \(String(format: "%g", hours)) h in \(home.recordingDir)"
                    : "nothing recorded by the live release \(release) in the last \(String(format: "%g", hours)) h")
            report.segments = inWindow.map {
                SegmentNote(
                    name: $0.name, release: $0.release, checked: false,
                    note: "not A/A-checked (recorded by \($0.release))")
            }
            return report
        }
        let binary = slots.path(live) + "/" + config.binary
        let into = NSTemporaryDirectory() + "deployctl-aa-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: into) }
        progress("replaying the live release's recording since \(from.iso8601) with \(binary)")
        let outcome: ProcessRunner.Outcome
        do {
            outcome = try ProcessRunner.run(
                binary,
                ["replay", "--recorded", "--home", home.root, "--from", from.iso8601, "--into", into, "--json"],
                timeout: Self.timeoutSeconds, tracking: DeployLock.childrenFile(home))
        } catch {
            report.verdict = .incomplete
            report.notes.append("the replay could not start: \(error)")
            return report
        }
        guard outcome.status == 0, !outcome.timedOut, let replay = Self.json(in: outcome.output) else {
            if outcome.output.contains("--recorded") && outcome.output.contains("nknown option") {
                report.notes.append("the live release \(release) predates the flight recorder: it cannot replay")
                return report
            }
            report.verdict = .incomplete
            report.notes.append(
                outcome.timedOut
                    ? "the replay passed \(Int(Self.timeoutSeconds)) s and was ended"
                    : "the replay failed (exit \(outcome.status)): \(ProcessRunner.lastLines(outcome.output, 5))")
            return report
        }
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
        } else if report.checkedHours < Self.minAAHours {
            report.verdict = .partial
        } else {
            report.verdict = .identical
        }
        return report
    }

    /// The JSON object a command printed after its progress lines.
    static func json(in output: String) -> JSONObject? {
        guard let start = output.range(of: "\n{")?.lowerBound ?? (output.hasPrefix("{") ? output.startIndex : nil)
        else { return nil }
        return (try? JSONValue.parse(Array(output[start...].utf8)))?.objectValue
    }

    /// The time of the oldest signal line still on disk (the oldest rotated file's first line).
    static func oldestLine(_ path: String) -> Instant? {
        let files = (1...9).reversed().map { "\(path).\($0)" }.filter(FileIO.exists) + [path]
        for file in files {
            if let ts = JSONLTail.firstLine(file)?.objectValue?["ts"]?.instantValue { return ts }
        }
        return nil
    }

    /// The signal lines of `path` (and its rotated files, oldest first) whose time falls in one
    /// of `windows`, grouped by time in file order.
    static func signalLines(_ path: String, rotated: Bool, in windows: [(Instant, Instant)]) -> [Int64: [JSONObject]] {
        var files = [path]
        if rotated { files = (1...9).reversed().map { "\(path).\($0)" }.filter(FileIO.exists) + files }
        var out: [Int64: [JSONObject]] = [:]
        let prefix = Array(#"{"ts":""#.utf8)
        func inWindow(_ ts: Instant) -> Bool { windows.contains { ts >= $0.0 && ts <= $0.1 } }
        for file in files {
            guard let bytes = try? FileIO.read(file) else { continue }
            var start = 0
            while start < bytes.count {
                let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
                defer { start = end + 1 }
                guard end > start else { continue }
                // A line's time is read from its start (the engine writes `ts` first), so lines
                // outside the windows are never parsed: a day at 400 symbols is 100 MB of them.
                if end - start > prefix.count + 1, Array(bytes[start..<(start + prefix.count)]) == prefix,
                    let close = bytes[(start + prefix.count)..<end].firstIndex(of: 0x22),
                    case .success(let ts) = TimestampParser.parse(
                        String(decoding: bytes[(start + prefix.count)..<close], as: UTF8.self)),
                    !inWindow(ts)
                {
                    continue
                }
                guard let o = (try? JSONValue.parse(Array(bytes[start..<end])))?.objectValue,
                    let ts = o["ts"]?.instantValue, inWindow(ts)
                else { continue }
                out[ts.microseconds, default: []].append(o)
            }
        }
        return out
    }

    /// What a decision is, in the log's own words: free-text reasons embed the config and are
    /// not compared, except a close's exit reason.
    static func key(_ o: JSONObject) -> [String] {
        func text(_ k: String) -> String { o[k]?.stringValue ?? "" }
        func centsOf(_ k: String) -> String { o[k]?.doubleValue.map { String(format: "%.2f", $0) } ?? "" }
        var key = [text("symbol"), text("action"), text("direction"), text("rule"), centsOf("notional")]
        if text("action") == "closed" {
            key += [text("reason"), centsOf("net_pnl"), o["price"]?.doubleValue.map { "\($0)" } ?? ""]
        }
        return key
    }

    /// The same decision. A skipped line written before skips named their rule has none: its
    /// rule is not compared then.
    static func same(_ l: JSONObject, _ r: JSONObject) -> Bool {
        var a = key(l)
        var b = key(r)
        if l["action"]?.stringValue == "skipped" && (l["rule"] == nil || r["rule"] == nil) {
            a[3] = ""
            b[3] = ""
        }
        return a == b
    }

    /// Lines compared, and the first that differs (both sides, the cycle's time and place).
    static func compare(live: [Int64: [JSONObject]], replay: [Int64: [JSONObject]]) -> (Int, JSONValue?) {
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
                        "cycle": (l ?? r)?["cycle"] ?? .null, "live": l.map { .object($0) } ?? .null,
                        "replay": r.map { .object($0) } ?? .null,
                    ]
                )
            }
        }
        return (compared, nil)
    }
}
