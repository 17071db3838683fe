import Foundation
import TradingCore
import TradingStore

extension ReleasePipeline {
    /// The `decisions` step: the candidate replays the live engine's recorded window beside the
    /// live build (`DecisionsCheck`), after the checks and before the flip. Its report is kept
    /// in `state/decisions/RELEASE.json` and summed up in the ledger; a blocking verdict fails
    /// the step, so nothing live changes.
    func decide(_ machine: ReleaseMachine, slot: String, options: Options) throws {
        let id = machine.id
        let policy = config.decisionDiff
        let declared =
            options.strategyChange ?? (declaredChanges.isEmpty ? nil : declaredChanges.joined(separator: "; "))
        try step(
            id, "decisions",
            "replay the last \(String(format: "%g", policy.hours)) h recorded with the live build and slot \(slot)"
        ) {
            let bot: BotConfig
            do {
                bot = try ConfigFiles.bot(home.botConfig)
            } catch {
                throw StepFailure(step: "decisions", detail: "\(error)")
            }
            let candidate = DecisionsCheck.Candidate(
                binary: slots.path(slot) + "/" + config.binary, slot: slot, release: id, config: bot)
            let report = DecisionsCheck(home: home, config: config).run(
                hours: policy.hours, now: now(), candidate: candidate, strategyChange: declared)
            decisions = report
            let file = home.decisionsDir + "/\(id).json"
            try? FileIO.makePrivateDirectory(home.decisionsDir)
            try? FileIO.writeAtomically(file, Array((report.json.serialized(indent: 2) + "\n").utf8), mode: 0o600)
            Self.pruneReports(home.decisionsDir)
            var fields = [
                JSONField("verdict", .string(report.verdict.rawValue)), JSONField("mode", .string(report.mode)),
                JSONField("would_block", .bool(report.wouldBlock)),
                JSONField("reasons", .array(report.reasons.map { .string($0) })),
                JSONField("strategy_change", declared.map { .string($0) } ?? .null),
                JSONField("aa", .string(report.aa.verdict.rawValue)), JSONField("report", .string(file)),
            ]
            if let ab = report.ab {
                fields += [
                    JSONField("changed", .int(ab.comparison.changed)),
                    JSONField("changed_entries", .int(ab.comparison.changedEntries)),
                    JSONField("transitions", .array(ab.comparison.transitions.prefix(10).map(\.json))),
                    JSONField(
                        "entries", ["current": .int(ab.current.entries), "candidate": .int(ab.candidate.entries)]),
                ]
            }
            if let note = (report.notes + report.aa.notes).first { fields.append(JSONField("note", .string(note))) }
            try ledger.append(id, "decisions", fields, at: now())
            if report.blocks {
                throw StepFailure(step: "decisions", detail: "\(report.summary); report \(file)")
            }
            return ((), "\(report.summary); report \(file)")
        }
    }

    /// The reports of the newest 100 releases are kept (release ids sort by time); the ledger
    /// keeps every release's summary.
    static func pruneReports(_ dir: String, keep: Int = 100) {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
            .filter { $0.hasPrefix("r") && $0.hasSuffix(".json") }.sorted()
        for name in names.dropLast(keep) { try? FileManager.default.removeItem(atPath: dir + "/" + name) }
    }

    /// The reasons a commit message's trailer block gives as `Strategy-Change: why`.
    static func strategyChangeTrailers(_ message: String) -> [String] {
        let paragraphs = message.trimmingCharacters(in: .whitespacesAndNewlines).components(separatedBy: "\n\n")
        guard let last = paragraphs.last, paragraphs.count > 1 else { return [] }
        return last.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces).lowercased() == "strategy-change"
            else { return nil }
            let why = parts[1].trimmingCharacters(in: .whitespaces)
            return why.isEmpty ? nil : why
        }
    }
}
