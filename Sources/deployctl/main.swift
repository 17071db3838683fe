import ArgumentParser
import CLISupport
import Deploy

/// `deployctl`: releases, checks and guards the trading bot.
struct DeployCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deployctl",
        abstract: "Release, check, roll back and guard the trading bot.",
        subcommands: [
            InitCommand.self, ReleaseCommand.self, RollbackCommand.self, StatusCommand.self, HistoryCommand.self,
            CheckCommand.self, InstallUnitsCommand.self, DoctorCommand.self, WatchdogCommand.self,
            AlertCommand.self, SecretCommand.self, BootCommand.self,
        ]
    )
}

ProcessRunner.resetSignals()
ProcessRunner.endChildrenOnSignals()
runMain(DeployCtl.self)
