import ArgumentParser
import CLISupport

/// `tradingbot`: the trading service and its read-only tools.
struct TradingBot: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tradingbot",
        abstract: "The BloFin futures trading bot: service, reports and checks.",
        subcommands: [
            RunCommand.self, SelfCheckCommand.self, ReportCommand.self, ReplayCommand.self, ReconcileCommand.self,
            RoundTripCommand.self, ImportCommand.self, RestoreCommand.self,
            KillSwitchCommand.self, ScalingCommand.self, DashboardCommand.self, HashPasswordCommand.self,
            ExchangeCommand.self,
        ]
    )
}

runMain(TradingBot.self)
