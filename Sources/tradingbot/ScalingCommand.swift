import ArgumentParser
import CLISupport
import Engine
import Foundation
import TradingCore
import TradingStore

/// `tradingbot scaling reset`: puts capital scaling at a step the operator chooses (the `start`
/// step by default), applied when the engine next starts, as a change of bot.json is.
struct ScalingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scaling",
        abstract: "Reset capital scaling's step (applied at the engine's next start).",
        subcommands: [Reset.self]
    )

    struct Reset: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put capital scaling at a step; the engine applies it when it next starts.",
            discussion: """
                Writes HOME/state/scaling-reset.json. At its next start the engine puts the step at \
                --level (default: risk.scaling.start), within risk.scaling's floor and ceiling, starts \
                the step-up evidence and the drawdown reference again, logs capital_scaled (reason \
                operator) and removes the file. Restart the engine for it to take effect (the command \
                is printed). To turn scaling off instead, set risk.scaling.enabled to false in bot.json.
                """
        )

        @OptionGroup var homeOptions: HomeOptions
        @Option(help: "The step, as a share of max_exposure_fraction (default: risk.scaling.start).")
        var level: Double?
        @Flag(help: "Print one JSON object.")
        var json = false

        func run() throws {
            let home = homeOptions.resolved
            let (bot, _) = try loadBotConfig(explicit: nil, home: home)
            let s = bot.risk.scaling
            guard s.enabled else {
                throw CommandFailure.failed(
                    "capital scaling is off in \(home.botConfig) (risk.scaling.enabled is false): there is no step to reset"
                )
            }
            if let level, !(s.floor...s.ceiling).contains(level) {
                throw CommandFailure.usage(
                    "--level \(level) is outside risk.scaling's floor \(s.floor) and ceiling \(s.ceiling) in \(home.botConfig)"
                )
            }
            try home.createDirectories()
            try ScalingReset.request(home, level: level, at: WallClock.now)
            let target = level ?? s.start
            let restart = home.restartCommand("tradingbot")
            if json {
                printJSON([
                    "ok": true, "request": .string(ScalingReset.path(home)), "level": .double(target),
                    "restart": .string(restart),
                ])
            } else {
                print(
                    "Capital scaling goes to \(Int((target * 100).rounded())) % of max_exposure_fraction when the engine next starts (\(ScalingReset.path(home)))."
                )
                print("Next: restart the engine: \(restart)")
            }
        }
    }
}
