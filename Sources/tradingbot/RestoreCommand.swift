import ArgumentParser
import CLISupport
import Foundation
import TradingCore
import TradingStore

/// `tradingbot restore`: the positions file back from a snapshot, a backup or the SQLite mirror.
struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Put the positions file back from a snapshot, a backup, or the SQLite mirror (--from-db).",
        discussion: """
            --list shows what there is to restore from: state/snapshots/ (one per UTC day and one per \
            release), the files import and restore kept in logs/, and the mirror. --from FILE restores a copy \
            byte for byte; --from-db writes every closed trade the mirror holds, with the open positions of \
            the current file (or, when it cannot be read, of the newest readable snapshot). Takes \
            state/engine.lock: stop the engine (and the watchdog) first (exit 3 otherwise). The replaced file \
            and the mirror are kept as FILE.before-restore-TIME, and the mirror is rebuilt from the restored \
            file. A restore that would drop trades the home knows of needs --force (exit 1 without it).
            """
    )

    @OptionGroup var homeOptions: HomeOptions

    @Option(name: .customLong("from"), help: "A positions file to restore (a snapshot or a backup).")
    var from: String?

    @Flag(name: .customLong("from-db"), help: "Rebuild the file from data/trading_system.db.")
    var fromDatabase = false

    @Flag(help: "List what there is to restore from.")
    var list = false

    @Flag(help: "Show what would be restored; write nothing.")
    var dryRun = false

    @Flag(help: "Restore even when the restored file lacks trades the home knows of.")
    var force = false

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        let chosen = [from != nil, fromDatabase, list].filter { $0 }.count
        guard chosen == 1 else {
            throw ValidationError("give one of --from FILE, --from-db or --list")
        }
    }

    func run() throws {
        let home = homeOptions.resolved
        if list { return try printList(home) }
        let restore = PositionsRestore(home: home)
        let source: PositionsRestore.Source = from.map { .file($0) } ?? .database
        var plan: PositionsRestore.Plan
        do {
            plan = try restore.plan(source)
        } catch {
            throw CommandFailure(code: error.code.exitStatus, error.message)
        }
        var kept: [String] = []
        var failure: HomeRefusal?
        if !dryRun {
            do {
                // Planned again under the engine lock; what was carried out is what is shown.
                (plan, kept) = try restore.run(source, force: force, stamp: WallClock.now.fileStamp)
            } catch {
                failure = error
            }
        }
        if json {
            var o = plan.json
            o["dry_run"] = .bool(dryRun)
            o["restored"] = .bool(!dryRun && failure == nil)
            o["kept"] = .array(kept.map { .string($0) })
            if let failure { o["error"] = .string(failure.message) }
            printJSON(.object(o))
        } else {
            print(plan.text)
            if let failure {
                print("NOT RESTORED: \(failure.message)")
            } else if dryRun {
                print("Dry run: nothing was written.")
            } else {
                print("Restored \(home.positions); the SQLite mirror was rebuilt from it.")
                for path in kept { print("Kept what it replaced: \(path)") }
                print(
                    "Next: deployctl check data --positions \(home.positions), then start the engine (and the watchdog)."
                )
            }
        }
        if let failure { throw ExitCode(failure.code.exitStatus) }
    }

    func printList(_ home: Home) throws {
        var rows: [(path: String, modified: Instant?, holds: String)] = []
        func holds(_ path: String) -> String {
            guard let bytes = try? FileIO.read(path) else { return "cannot be read" }
            do {
                let file = try PositionsCodec.decode(bytes).file
                let last = file.closed.compactMap { $0.closedAt?.instant }.max()
                return "\(file.open.count) open, \(grouped(file.closed.count)) closed"
                    + (last.map { ", newest close \($0.iso8601)" } ?? "")
            } catch {
                return "cannot be read: \(error)"
            }
        }
        for entry in PositionSnapshots(home: home).list() {
            rows.append((entry.path, entry.modified, holds(entry.path)))
        }
        let logs = (try? FileManager.default.contentsOfDirectory(atPath: home.logsDir)) ?? []
        for name in logs.sorted().reversed()
        where name.hasPrefix("positions_futures.json.before-") || name.hasPrefix("positions_futures.json.bak") {
            rows.append((home.logsDir + "/" + name, nil, holds(home.logsDir + "/" + name)))
        }
        var mirror = "absent"
        if FileIO.exists(home.database) {
            let records = (try? AnalyticsDatabase(path: home.database).closedRecords()) ?? []
            mirror = "\(grouped(records.count)) closed trades (no open positions)"
        }
        if json {
            printJSON([
                "copies": .array(
                    rows.map {
                        [
                            "path": .string($0.path), "modified": $0.modified.map { .string($0.iso8601) } ?? .null,
                            "holds": .string($0.holds),
                        ]
                    }),
                "database": .string(home.database), "database_holds": .string(mirror),
            ])
            return
        }
        print("Now       \(home.positions): \(FileIO.exists(home.positions) ? holds(home.positions) : "absent")")
        print("Mirror    \(home.database): \(mirror)  (tradingbot restore --from-db)")
        if rows.isEmpty { print("Copies    none") }
        for row in rows {
            print("Copy      \(row.path)\(row.modified.map { " (\($0.iso8601))" } ?? ""): \(row.holds)")
        }
    }
}

extension PositionsRestore.Plan {
    var json: JSONObject {
        [
            "source": .string(source), "open_positions": .int(open), "closed_trades": .int(closed),
            "first_close": firstClose.map { .string($0.iso8601) } ?? .null,
            "last_close": lastClose.map { .string($0.iso8601) } ?? .null,
            "unusable_fields": .int(unusableFields), "current": .string(current),
            "database_trades": databaseTrades.map { .int($0) } ?? .null, "lost_trades": .int(lost.count),
            "lost": .array(lost.suffix(20).map { .string($0) }), "notes": .array(notes.map { .string($0) }),
        ]
    }

    var text: String {
        var lines = [
            "Restore from  \(source)",
            "It holds      \(open) open, \(grouped(closed)) closed"
                + (firstClose.map { ", closes \($0.iso8601) .. \(lastClose?.iso8601 ?? "-")" } ?? ""),
            "Now           \(current)",
        ]
        if let databaseTrades { lines.append("Mirror        \(grouped(databaseTrades)) closed trades") }
        if unusableFields > 0 {
            lines.append(
                "Unusable      \(unusableFields) field(s) kept as written; `deployctl check data` names them")
        }
        if !lost.isEmpty {
            lines.append("LOST          \(lost.count) trade(s): \(lost.suffix(3).joined(separator: ", "))")
        }
        for note in notes { lines.append("Note          \(note)") }
        return lines.joined(separator: "\n")
    }
}
