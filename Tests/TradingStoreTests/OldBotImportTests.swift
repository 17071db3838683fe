import Foundation
import Testing
import TestSupport
import TradingCore
import TradingStore

struct OldBotImportTests {
    /// The survey is read before the engine lock is taken; trades an engine wrote in between are
    /// seen under the lock, and the import refuses to replace them without `--force`.
    @Test func tradesWrittenAfterTheSurveyAreNotReplaced() throws {
        let dir = try Fixtures.temporaryDirectory("import")
        let old = dir + "/oldbot"
        try FileManager.default.createDirectory(atPath: old, withIntermediateDirectories: true)
        try FileIO.copy(Fixtures.samplePositions, to: old + "/positions_futures.json")
        let home = Home(root: dir + "/home")
        try home.createDirectories()
        let importer = OldBotImport(home: home)
        let reset = WalletReset(at: Instant(year: 2025, month: 12, day: 18)!, startingCapital: 10_000)
        let survey = try importer.survey(
            try OldBotImport.locate(old), reset: reset, now: Instant(year: 2026, month: 1, day: 1)!)
        #expect(!survey.homeHasData)

        // Between the survey and the lock, the home's engine closed a trade.
        let mine =
            #"{"open_positions": [], "closed_positions": [{"symbol": "BTCUSDT", "direction": "LONG", "entry_price": 1, "exit_price": 2, "size": 1, "net_pnl": 1, "opened_at": "2026-01-01T00:00:00Z", "closed_at": "2026-01-01T01:00:00Z"}]}"#
        try Fixtures.write(mine, to: home.positions)
        #expect(throws: OldBotImport.Failure.self) { try importer.apply(survey, force: false, stamp: "1") }
        #expect(try String(contentsOfFile: home.positions, encoding: .utf8) == mine, "the home's trade is kept")

        let kept = try importer.apply(survey, force: true, stamp: "2")
        #expect(kept.contains(home.positions + ".before-import-2"))
        #expect(try FileIO.read(home.positions) == FileIO.read(Fixtures.samplePositions))
    }

    /// A secrets file written on Windows (CRLF): every name is read, and setting one keeps the others.
    @Test func aCRLFSecretsFileIsReadAndRewrittenLineByLine() throws {
        let dir = try Fixtures.temporaryDirectory("secrets-crlf")
        let path = dir + "/secrets.env"
        try Fixtures.write("BLOFIN_API_KEY=k1\r\nBLOFIN_API_SECRET=s1\r\n# note\r\nBLOFIN_PASSPHRASE=p1\r\n", to: path)
        #expect(
            try SecretsFile.read(path) == [
                "BLOFIN_API_KEY": "k1", "BLOFIN_API_SECRET": "s1", "BLOFIN_PASSPHRASE": "p1",
            ])
        try SecretsFile.update("BLOFIN_API_KEY", to: "k2", path: path, lock: dir + "/secrets.lock")
        #expect(
            try SecretsFile.read(path) == [
                "BLOFIN_API_KEY": "k2", "BLOFIN_API_SECRET": "s1", "BLOFIN_PASSPHRASE": "p1",
            ])
        #expect(try String(contentsOfFile: path, encoding: .utf8).contains("# note"))
    }
}
