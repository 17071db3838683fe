import CLISupport
import Engine
import Foundation
import TradingCore
import TradingStore

extension ReplayCommand {
    /// `replay --recorded`: the live engine's recording, replayed as it ran.
    func runRecorded() throws {
        let source = Home.resolve(option: home)
        let fromTime = try from.map { try parseInstant($0, option: "--from") }
        let toTime = try to.map { try parseInstant($0, option: "--to") }
        if let fromTime, let toTime, toTime < fromTime {
            throw CommandFailure.usage("--to \(to ?? "") is before --from \(from ?? "")")
        }
        var proposed: JSONValue?
        var change: ConfigChange?
        if let config {
            let value = try ConfigFiles.json(config)
            _ = try BotConfig.parse(value, file: config)
            guard let c = ConfigChange.against(recording: source.recordingDir, from: fromTime, proposed: value) else {
                throw CommandFailure.failed("cannot replay the recording: nothing readable in \(source.recordingDir)")
            }
            if c.changed.isEmpty {
                throw CommandFailure.usage(
                    "--config \(config) is the bot.json the recording was made with: nothing to try")
            }
            if c.onlyUncomparable {
                throw CommandFailure.usage(
                    "--config \(config) changes only what a recording cannot show: \(c.notCompared.joined(separator: "; "))"
                )
            }
            proposed = value
            change = c
        }
        // Beside the live engine on a small machine: the engine's cycles come first.
        _ = nice(10)
        let temporary = into == nil
        let target = Home(root: into ?? (NSTemporaryDirectory() + "tradingbot-replay-\(UUID().uuidString.prefix(8))"))
        defer { if temporary && !keep { try? FileManager.default.removeItem(atPath: target.root) } }
        let summary: RecordedReplay.Summary
        do {
            summary = try RecordedReplay.run(
                recording: source.recordingDir, into: target,
                options: .init(from: fromTime, to: toTime, config: proposed),
                progress: { line in
                    var bytes = Array("replay: \(line)\n".utf8)
                    _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
                })
        } catch {
            throw CommandFailure.failed("cannot replay the recording: \(error)")
        }
        let removed = temporary && !keep
        if json {
            var out = summary.json.objectValue ?? JSONObject()
            if removed { out["home"] = .null }
            if let change { out["config_change"] = change.json }
            printJSON(.object(out))
            return
        }
        if let change {
            print("With \(config ?? ""): changed \(change.changed.joined(separator: ", "))")
            for note in change.notCompared { print("  not compared: \(note)") }
        }
        if let c = summary.checkpoint {
            print("From the checkpoint of \(c.segment) (cycle \(c.cycle), \(c.time.iso8601))")
        }
        print(
            "Replayed \(summary.cycles) recorded cycles"
                + (summary.failedCycles > 0 ? ", \(summary.failedCycles) of them failed as they failed live" : "")
                + (removed ? " (the temporary home is removed; --keep keeps it)" : " into \(summary.home)"))
        for s in summary.segments {
            let span = s.first.map { "\($0.iso8601) to \(s.last?.iso8601 ?? "?")" } ?? "no cycles"
            print("  \(s.name): release \(s.release), \(s.reason), \(s.cycles) cycles, \(span): \(s.status)")
        }
        if summary.gaps > 0 { print("Gaps: \(summary.gaps) (cycles the recording is missing)") }
        if !summary.divergences.isEmpty {
            print(
                "Orders and closes the live engine did not make, filled on paper: \(summary.divergences.count) (first: \(summary.divergences[0]))"
            )
        }
        let stats = summary.statistics
        print(
            "Trades \(stats.trades), win rate \(Int((summary.winRate * 100).rounded())) %, net P&L \(money(stats.netPnl)), fees \(money(stats.totalFees)), max drawdown \((summary.maxDrawdown * 1000).rounded() / 10) %"
        )
        if !stats.exitReasons.isEmpty {
            print(
                "Exits: "
                    + stats.exitReasons.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(
                        separator: ", "))
        }
        print("Balance \(money(summary.balance)), decisions hash \(summary.decisionsHash)")
    }
}
