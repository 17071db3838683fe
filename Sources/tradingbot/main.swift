import ArgumentParser
import CLISupport

/// `tradingbot`: the trading service and its read-only tools.
struct TradingBot: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tradingbot",
        abstract: "The BloFin futures trading bot: service, reports and checks.",
        subcommands: [ReportCommand.self, ReconcileCommand.self]
    )
}

runMain(TradingBot.self)
