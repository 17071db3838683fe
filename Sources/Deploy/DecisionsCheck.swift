import Foundation
import TradingCore
import TradingStore

/// `deployctl check decisions` and the release's `decisions` step. The live slot's binary
/// replays what was recorded over the window (the flight recorder) and, in parallel, so does the
/// candidate (another slot's build, or the live binary with a proposed bot.json).
///
/// - The A/A: the live build's replay must write the live engine's own signal lines, line for
///   line; it proves the recording holds everything the engine read. It never blocks.
/// - The A/B: the candidate's replay against the live build's, both from the same checkpoint
///   over the same inputs (`DecisionDiff`); deploy.json's `decision_diff` decides whether a
///   difference stops the release.
public struct DecisionsCheck {
    public enum Verdict: String, Sendable {
        case identical, partial, mismatch, incomplete
        case noRecording = "no_recording"
    }

    public struct SegmentNote: Sendable {
        public var name: String
        public var release: String
        public var checked: Bool
        public var note: String
        public var json: JSONValue {
            ["name": .string(name), "release": .string(release), "checked": .bool(checked), "note": .string(note)]
        }
    }

    /// The A/A's findings.
    public struct AAReport: Sendable {
        public var verdict: Verdict
        public var release: String?
        public var hours: Double
        public var minHours: Double
        public var checkedHours = 0.0
        public var comparedLines = 0
        public var segments: [SegmentNote] = []
        public var firstMismatch: JSONValue?
        public var notes: [String] = []

        public var json: JSONValue {
            [
                "verdict": .string(verdict.rawValue), "identical": .bool(verdict == .identical),
                "release": release.map { .string($0) } ?? .null, "hours": .double(hours),
                "checked_hours": .double((checkedHours * 100).rounded() / 100),
                "compared_lines": .int(comparedLines), "segments": .array(segments.map(\.json)),
                "first_mismatch": firstMismatch ?? .null, "notes": .array(notes.map { .string($0) }),
            ]
        }

        public var summary: String {
            switch verdict {
            case .identical:
                "A/A identical: the live release's replay wrote the live engine's \(comparedLines) signal lines over \(String(format: "%.1f", checkedHours)) h"
            case .partial:
                "A/A partial: identical over \(comparedLines) lines, but only \(String(format: "%.1f", checkedHours)) h recorded by the live release (\(String(format: "%g", minHours)) h needed)"
            case .mismatch: "A/A MISMATCH: the replay of the recording decided differently from the live engine"
            case .incomplete: "A/A incomplete: the recording has gaps, or the replay could not finish"
            case .noRecording: "A/A: no recording to check"
            }
        }
    }

    /// What is tried against the live build: a slot's build, or the live binary with a proposed
    /// bot.json. `config` is the bot.json it would trade with: its limits are the ones judged.
    public struct Candidate: Sendable {
        public var binary: String
        public var slot: String?
        public var release: String?
        public var configFile: String?
        public var config: BotConfig

        public init(
            binary: String, slot: String? = nil, release: String? = nil,
            configFile: String? = nil, config: BotConfig
        ) {
            self.binary = binary
            self.slot = slot
            self.release = release
            self.configFile = configFile
            self.config = config
        }

        /// What the replay is given besides the window: the proposed bot.json.
        var arguments: [String] { configFile.map { ["--config", $0] } ?? [] }

        var label: String {
            if let configFile { return "the live binary with \(configFile)" }
            return "slot \(slot ?? "?") (\(release ?? "unreleased"))"
        }

        var json: JSONValue {
            [
                "slot": slot.map { .string($0) } ?? .null, "release": release.map { .string($0) } ?? .null,
                "binary": .string(binary), "config": configFile.map { .string($0) } ?? .null,
            ]
        }
    }

    /// The A/B's findings.
    public struct ABReport: Sendable {
        public var comparison = DecisionDiff.Comparison()
        public var current = DecisionDiff.Totals()
        public var candidate = DecisionDiff.Totals()
        /// Limits the candidate broke with its own entries: these block in either mode.
        public var limits: [String] = []
        /// Thresholds of the policy the differences passed.
        public var thresholds: [String] = []
        /// Why the candidate's replay gave nothing to compare, when it is the candidate's doing.
        public var failure: String?
        public var seconds: (current: Double, candidate: Double) = (0, 0)

        public var json: JSONValue {
            [
                "changed": .int(comparison.changed), "changed_entries": .int(comparison.changedEntries),
                "compared_lines": .int(comparison.compared),
                "transitions": .array(comparison.transitions.map(\.json)), "first": .array(comparison.first),
                "totals": ["current": current.json, "candidate": candidate.json],
                "limits": .array(limits.map { .string($0) }), "thresholds": .array(thresholds.map { .string($0) }),
                "failure": failure.map { .string($0) } ?? .null,
                "seconds": [
                    "current": .double((seconds.current * 10).rounded() / 10),
                    "candidate": .double((seconds.candidate * 10).rounded() / 10),
                ],
            ]
        }
    }

    /// The whole check: the A/A, the A/B when there is a candidate, and the policy's verdict.
    public struct Report: Sendable {
        public enum Outcome: String, Sendable {
            case pass, block, inconclusive
            case noRecording = "no_recording"
        }
        public var verdict: Outcome = .noRecording
        public var aa: AAReport
        public var ab: ABReport?
        public var candidate: Candidate?
        public var mode: String
        public var strategyChange: String?
        /// In `report` mode, or under a declared strategy change: what would have stopped it.
        public var wouldBlock = false
        public var reasons: [String] = []
        public var notes: [String] = []
        public var from: Instant?
        /// The live binary's refusal of a `--config` file (a usage error of the preview).
        public var refusal: String?

        public var blocks: Bool { verdict == .block }

        public var json: JSONValue {
            [
                "ok": .bool(!blocks), "verdict": .string(verdict.rawValue), "mode": .string(mode),
                "would_block": .bool(wouldBlock), "reasons": .array(reasons.map { .string($0) }),
                "strategy_change": strategyChange.map { .string($0) } ?? .null,
                "from": from.map { .string($0.iso8601) } ?? .null, "candidate": candidate?.json ?? .null,
                "notes": .array(notes.map { .string($0) }), "aa": aa.json, "ab": ab?.json ?? .null,
            ]
        }

        /// One line for the release step and the ledger.
        public var summary: String {
            var parts = ["decision diff \(verdict.rawValue)"]
            if let ab {
                parts.append(
                    "\(ab.comparison.changed) changed (\(ab.comparison.changedEntries) entries), entries \(ab.current.entries) -> \(ab.candidate.entries)"
                )
                if let top = ab.comparison.transitions.first {
                    parts.append("most: \(top.from) -> \(top.to) x\(top.count)")
                }
            }
            if wouldBlock { parts.append("would block: \(reasons.joined(separator: "; "))") }
            if verdict == .block { parts.append(reasons.joined(separator: "; ")) }
            if verdict != .pass && verdict != .block, let note = (notes + aa.notes).first { parts.append(note) }
            parts.append(aa.summary)
            return parts.joined(separator: "; ")
        }
    }

    let home: Home
    let config: DeployConfig

    public init(home: Home, config: DeployConfig) {
        self.home = home
        self.config = config
    }

    /// Replays the last `hours` of the recording with the live binary and, when given, the
    /// candidate, in parallel and at low priority, and judges. `progress` gets a line per step.
    public func run(
        hours: Double, now: Instant, candidate: Candidate? = nil, strategyChange: String? = nil,
        progress: (String) -> Void = { _ in }
    ) -> Report {
        let policy = config.decisionDiff
        var report = Report(
            aa: AAReport(verdict: .noRecording, hours: hours, minHours: policy.minAAHours), candidate: candidate,
            mode: policy.mode, strategyChange: strategyChange)
        let slots = Slots(home: home)
        guard let live = slots.active(), let release = slots.releaseID(live) else {
            report.notes.append("no live release yet: nothing was recorded to compare on")
            return report
        }
        report.aa.release = release
        let from = now.adding(seconds: -hours * 3600)
        report.from = from
        let heads = RecordingSegments.list(home.recordingDir).compactMap(RecordingSegments.head)
        // A segment holds up to an hour: one that started an hour before the window reaches into it.
        let inWindow = heads.filter { ($0.started ?? .init(microseconds: 0)) >= from.adding(seconds: -3600) }
        let window = String(format: "%g", hours)
        guard !inWindow.isEmpty else {
            report.notes.append("nothing recorded in the last \(window) h in \(home.recordingDir)")
            return report
        }
        let aaChecks = inWindow.contains { $0.release == release }
        if !aaChecks {
            report.aa.notes.append("nothing recorded by the live release \(release) in the last \(window) h")
            report.aa.segments = inWindow.map {
                SegmentNote(
                    name: $0.name, release: $0.release, checked: false,
                    note: "not A/A-checked (recorded by \($0.release))")
            }
            if candidate == nil { return report }
        }
        let liveBinary = slots.path(live) + "/" + config.binary
        // In the home, not /tmp (a tmpfs would hold a 400-symbol day's replays in memory). The
        // caller holds the deploy lock: what is there was left by a killed run.
        let scratch = home.decisionsScratch
        try? FileManager.default.removeItem(atPath: scratch)
        try? FileIO.makePrivateDirectory(scratch)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        // Both replays end at the same cycle: the live engine records on while they run, and a
        // replay that started later would read cycles the other never saw (a race CI lost once).
        let arguments = [
            "replay", "--recorded", "--home", home.root, "--from", from.iso8601, "--to", now.iso8601, "--json",
        ]
        var runs = [(liveBinary, arguments + ["--into", scratch + "/current"])]
        if let candidate {
            runs.append((candidate.binary, arguments + ["--into", scratch + "/candidate"] + candidate.arguments))
            progress("replaying the recording since \(from.iso8601) with the live build and \(candidate.label)")
        } else {
            progress("replaying the live release's recording since \(from.iso8601) with \(liveBinary)")
        }
        let ended = ParallelRuns.run(
            runs, timeout: Double(policy.timeoutSeconds), tracking: DeployLock.childrenFile(home),
            without: config.secretNames)
        let current = ended[0]
        let currentReplay = current.finished ? Self.json(in: current.output) : nil
        if current.failedToStart != nil || currentReplay == nil {
            report.aa.verdict = aaChecks ? .incomplete : .noRecording
            if Self.predatesRecorder(current) {
                report.aa.verdict = .noRecording
                report.aa.notes.append("the live release \(release) predates the flight recorder: it cannot replay")
            } else {
                report.aa.notes.append("the live build's replay \(Self.why(current, timeout: policy.timeoutSeconds))")
            }
        } else if let currentReplay, aaChecks {
            judgeAA(currentReplay, into: scratch + "/current", release: release, report: &report.aa)
        }
        guard let candidate else {
            report.verdict = report.aa.verdict == .noRecording ? .noRecording : .inconclusive
            report.notes.append(
                "no candidate: slot \(slots.inactive()) holds no built release (--slot or --config names one)")
            return report
        }
        var ab = ABReport()
        ab.seconds = (current.seconds, ended[1].seconds)
        guard let currentReplay else {
            report.verdict = .inconclusive
            report.notes.append("the live build's replay \(Self.why(current, timeout: policy.timeoutSeconds)): no A/B")
            report.ab = ab
            return report
        }
        let other = ended[1]
        guard other.finished, let candidateReplay = Self.json(in: other.output) else {
            let why = Self.why(other, timeout: policy.timeoutSeconds)
            if Self.predatesRecorder(other) {
                report.verdict = .inconclusive
                report.notes.append("the candidate \(why): no A/B")
            } else if candidate.configFile != nil && other.status == 2 {
                // The live binary refused the proposed file (nothing a recording can show
                // changed): a usage error of the preview, not a candidate that failed.
                report.verdict = .inconclusive
                report.refusal = ProcessRunner.lastLines(
                    other.output.trimmingCharacters(in: .whitespacesAndNewlines), 1)
                report.notes.append("the proposed bot.json was refused: \(report.refusal ?? "")")
                return report
            } else {
                // The live build replayed the same window within the limit: the candidate's hang
                // or crash is its own, and would be live after a flip.
                ab.failure = "the candidate's replay \(why) (the live build's took \(Int(current.seconds)) s)"
            }
            report.ab = ab
            return judge(report, ab: ab)
        }
        let currentHome = Home(root: scratch + "/current")
        let candidateHome = Home(root: scratch + "/candidate")
        let currentLines = DecisionDiff.lines(currentHome.signalsLog)
        let candidateLines = DecisionDiff.lines(candidateHome.signalsLog)
        ab.comparison = DecisionDiff.compare(current: currentLines, candidate: candidateLines)
        ab.current = DecisionDiff.totals(lines: currentLines, home: currentHome, summary: currentReplay)
        ab.candidate = DecisionDiff.totals(lines: candidateLines, home: candidateHome, summary: candidateReplay)
        let since = candidateReplay["checkpoint"]?.objectValue?["time"]?.instantValue
        // Judged on both replays with the same rules: what the live build's replay breaks as
        // well (positions a restart's checkpoint brought back from the live engine, or the live
        // build's own doing) is not the candidate's.
        let universe = recordedUniverse(candidateReplay) ?? (try? ConfigFiles.assetUniverse(home.assetUniverse))
        let both = Set(
            DecisionDiff.limitBreaks(home: currentHome, config: candidate.config, universe: universe, since: since))
        let candidateBreaks = DecisionDiff.limitBreaks(
            home: candidateHome, config: candidate.config, universe: universe, since: since)
        ab.limits = candidateBreaks.filter { !both.contains($0) }
        if candidateBreaks.count > ab.limits.count {
            report.notes.append(
                "\(candidateBreaks.count - ab.limits.count) limit break(s) the live build's replay makes too: not the candidate's (e.g. \(candidateBreaks.first { both.contains($0) } ?? ""))"
            )
        }
        // Cycles the candidate could not run, or segments it could not replay, where the live
        // build could: it would fail so live.
        func count(_ replay: JSONObject, _ key: String) -> Int { Int(replay[key]?.doubleValue ?? 0) }
        func notReplayed(_ replay: JSONObject) -> Int {
            (replay["segments"]?.arrayValue ?? []).filter {
                $0.objectValue?["status"]?.stringValue?.hasPrefix("not replayed") == true
            }.count
        }
        if count(candidateReplay, "failed_cycles") > count(currentReplay, "failed_cycles") {
            ab.failure =
                "the candidate failed \(count(candidateReplay, "failed_cycles")) recorded cycle(s), the live build \(count(currentReplay, "failed_cycles"))"
        } else if notReplayed(candidateReplay) > notReplayed(currentReplay) {
            ab.failure =
                "the candidate could not replay \(notReplayed(candidateReplay)) segment(s) the live build replayed"
        }
        ab.thresholds = DecisionDiff.thresholdReasons(
            ab.comparison, current: ab.current, candidate: ab.candidate, policy: policy)
        if (currentReplay["cycles"]?.doubleValue ?? 0) == 0 {
            report.notes.append("the recording's window held no cycle to replay")
        }
        if ab.candidate.exchangeCloses > 0 {
            report.notes.append(
                "\(ab.candidate.exchangeCloses) close(s) the exchange made were applied as recorded: approximate for the candidate's own positions"
            )
        }
        if ab.candidate.paperFills > 0 {
            report.notes.append(
                "\(ab.candidate.paperFills) order(s) or close(s) only the candidate made were filled by the paper broker"
            )
        }
        return judge(report, ab: ab)
    }

    /// The policy: a broken limit blocks always; a failed replay or a threshold blocks in
    /// `block` mode unless the release declares a strategy change; `report` mode only reports.
    func judge(_ report: Report, ab: ABReport) -> Report {
        var report = report
        report.ab = ab
        report.reasons = ab.limits.map { "limit broken: \($0)" }
        if !ab.limits.isEmpty {
            report.verdict = .block
            report.reasons += ab.thresholds
            return report
        }
        var soft = ab.thresholds
        if let failure = ab.failure { soft.insert(failure, at: 0) }
        report.reasons = soft
        if soft.isEmpty {
            report.verdict = .pass
        } else if ab.failure == nil && report.strategyChange != nil {
            report.verdict = .pass
            report.wouldBlock = true
            report.notes.append("a declared strategy change: the differences are reported, not blocked")
        } else if config.decisionDiff.mode == "report" {
            report.verdict = .pass
            report.wouldBlock = true
        } else {
            report.verdict = .block
        }
        return report
    }

    /// The universe the replay traded with (the checkpoint's segment header holds it): its
    /// sectors are the ones the candidate's entries met, whatever asset_universe.json says now.
    func recordedUniverse(_ replay: JSONObject) -> AssetUniverse? {
        guard let segment = replay["checkpoint"]?.objectValue?["segment"]?.stringValue,
            let header = JSONLTail.firstLine(home.recordingDir + "/" + segment)?.objectValue,
            let universe = header["universe"]
        else { return nil }
        return try? AssetUniverse.parse(universe, file: segment)
    }

    /// A binary older than the flight recorder refuses `replay --recorded` itself.
    static func predatesRecorder(_ run: ParallelRuns.Ended) -> Bool {
        run.output.contains("nknown option '--recorded'")
    }

    /// Why a replay gave no JSON, in words.
    static func why(_ run: ParallelRuns.Ended, timeout: Int) -> String {
        if let error = run.failedToStart { return "could not start: \(error)" }
        if run.timedOut { return "passed the \(timeout) s limit and was ended" }
        if predatesRecorder(run) {
            return "predates the flight recorder: it cannot replay a recording"
        }
        return "failed (exit \(run.status)): \(ProcessRunner.lastLines(run.output, 5))"
    }
}
