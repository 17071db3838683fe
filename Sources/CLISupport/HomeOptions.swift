import ArgumentParser
import TradingCore
import TradingStore

/// `--home`, shared by every command that works on a deployment root.
public struct HomeOptions: ParsableArguments {
    @Option(name: .long, help: "The deployment root (default: $TRADINGBOT_HOME, else the current directory).")
    public var home: String?

    public init() {}

    public var resolved: Home { Home.resolve(option: home) }
}

/// Loads bot.json from `--config` or the home, as `report` and `check data` do.
public func loadBotConfig(explicit: String?, home: Home) throws -> (config: BotConfig, path: String) {
    let path = explicit ?? home.botConfig
    if explicit == nil && !FileIO.exists(path) {
        throw CommandFailure.usage(
            "\(path): not found. Pass --config FILE (a bot.json with at least {\"wallet_reset\": {\"at\": ..., \"starting_capital\": ...}}) or --home DIR of an initialised home."
        )
    }
    return (try ConfigFiles.bot(path), path)
}
