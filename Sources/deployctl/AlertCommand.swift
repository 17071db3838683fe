import ArgumentParser
import CLISupport
import Deploy
import Foundation
import TradingCore
import TradingStore

struct AlertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alert", abstract: "Check the alert webhook.", subcommands: [AlertTestCommand.self])
}

/// `deployctl alert test`: one real alert through the configured webhook, so the operator
/// knows the hook works before the night it is needed.
struct AlertTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Send one test alert through the webhook deploy.json names.",
        discussion: """
            The URL comes from the variable watchdog.alert_webhook_env names (TRADINGBOT_ALERT_WEBHOOK by default), \
            in the environment or HOME/config/secrets.env. Exit 0 sent; 1 not delivered; 2 no webhook configured.
            """)

    @OptionGroup var options: DeployOptions

    func run() throws {
        let home = options.home
        let config = FileIO.exists(home.deployConfig) ? try options.config() : DeployConfig()
        let sender = AlertSender(home: home, config: config, environment: ProcessInfo.processInfo.environment)
        let slots = Slots(home: home)
        let alert = Alert(
            kind: .test, key: "test", headline: "TEST ALERT", what: "deployctl alert test: the webhook works",
            home: home.root, release: slots.active().flatMap { slots.releaseID($0) }, action: "nothing",
            next: "nothing; alerts from the watchdog will look like this", at: WallClock.now)
        let result = sender.send(alert)
        let (ok, text, code): (Bool, String, Int32) =
            switch result {
            case .success(let text): (true, text, 0)
            case .failure(let failure):
                if case .notConfigured = failure { (false, "\(failure)", 2) } else { (false, "\(failure)", 1) }
            }
        if options.json {
            printJSON(["ok": .bool(ok), "result": .string(text)])
        } else {
            print(ok ? "alert test: \(text)" : "alert test FAILED: \(text)")
        }
        if code != 0 { throw ExitCode(code) }
    }
}
