import ArgumentParser
import CLISupport
import TradingCore
import TradingStore

/// `tradingbot reconcile`: does the SQLite mirror hold exactly the closed trades of the
/// positions file? `--rebuild` recreates it from the file (the file is authoritative).
struct ReconcileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Compare data/trading_system.db with the positions file; --rebuild recreates it.",
        discussion: "Exit 1 when they disagree (and --rebuild was not given)."
    )

    @OptionGroup var homeOptions: HomeOptions

    @Flag(help: "Rebuild the database from the positions file, then compare again.")
    var rebuild = false

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let home = homeOptions.resolved
        try home.createDirectories()
        let file: PositionsFile
        let db: AnalyticsDatabase
        do {
            file = try PositionsStore(home: home).decode(missingIsEmpty: true).file
            db = try AnalyticsDatabase(path: home.database)
            if rebuild { try db.rebuild(from: file) }
        } catch {
            throw CommandFailure.failed("\(error)")
        }
        let result = try db.reconcile(with: file)
        if json {
            printJSON([
                "ok": .bool(result.agrees), "rebuilt": .bool(rebuild), "database": .string(home.database),
                "file_trades": .int(result.fileTrades), "database_trades": .int(result.databaseTrades),
                "missing_from_database": .array(result.missingFromDatabase.prefix(20).map { .string($0) }),
                "not_in_file": .array(result.notInFile.prefix(20).map { .string($0) }),
                "net_pnl_difference": .double(result.netPnlDifference),
            ])
        } else {
            print(
                "\(home.database): \(grouped(result.databaseTrades)) trades; positions file: \(grouped(result.fileTrades))"
            )
            if result.agrees {
                print(rebuild ? "Rebuilt; the database agrees with the positions file." : "They agree.")
            } else {
                print(
                    "They disagree: \(result.missingFromDatabase.count) trade(s) missing from the database, \(result.notInFile.count) not in the file, net P&L differs by \(money(result.netPnlDifference))."
                )
                print("Fix: tradingbot reconcile --rebuild (the positions file is authoritative).")
            }
        }
        if !result.agrees { throw ExitCode(ExitStatus.failed) }
    }
}
