import ArgumentParser
import CLISupport
import TradingCore
import TradingStore

/// `tradingbot roundtrip`: reads a positions file through this release's store and writes it
/// back to another path. Deploy checks compare the two, so a release that would drop records or
/// unknown fields never goes live.
struct RoundTripCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roundtrip",
        abstract: "Read a positions file through the store and write it to --out (a deploy check)."
    )

    @Option(help: "Positions file to read (never modified).")
    var positions: String

    @Option(help: "Where to write the rewrite.")
    var out: String

    func run() throws {
        let source = PositionsStore(path: positions, lockPath: out + ".lock")
        let file: PositionsFile
        do {
            file = try source.decode().file
        } catch {
            throw CommandFailure.failed("\(error)")
        }
        try PositionsStore(path: out, lockPath: out + ".lock").save(file)
        try? FileIO.remove(out + ".lock")
    }
}
