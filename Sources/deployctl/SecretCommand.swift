import ArgumentParser
import CLISupport
import Deploy
import Foundation
import TradingCore
import TradingStore

/// `deployctl secret`: the home's config/secrets.env, edited without an editor that could leave
/// it world-readable and without the value on the command line (where `ps` and the shell's
/// history would keep it).
struct SecretCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secret", abstract: "Set, remove or list the names in HOME/config/secrets.env (mode 0600).",
        subcommands: [SecretSetCommand.self, SecretUnsetCommand.self, SecretListCommand.self])
}

struct SecretSetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Set NAME in HOME/config/secrets.env to a value read from stdin (typed without echo on a terminal).",
        discussion: """
            The value is never printed. The line that held NAME is replaced where it was; every other line \
            and comment stays; the file is written atomically with mode 0600. Says what must be restarted \
            to use it. Exit 2 for a bad name or an empty value.
            """)

    @OptionGroup var homeOptions: HomeOptions

    @Argument(help: "The variable, e.g. BLOFIN_API_KEY or TRADINGBOT_DASHBOARD_PASSWORD_HASH.")
    var name: String

    func run() throws {
        let home = homeOptions.resolved
        if let problem = SecretsFile.nameProblem(name) { throw CommandFailure.usage(problem) }
        let value: String
        if isatty(0) == 1 {
            guard let typed = getpass("\(name): ").map({ String(cString: $0) }) else {
                throw CommandFailure.usage("no value typed")
            }
            value = typed
        } else {
            value = (readLine(strippingNewline: true) ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
        }
        guard !value.isEmpty else { throw CommandFailure.usage("an empty value for \(name); nothing was written") }
        if name == "TRADINGBOT_DASHBOARD_PASSWORD_HASH" && !(value.hasPrefix("$2") && value.count == 60) {
            throw CommandFailure.usage(
                "TRADINGBOT_DASHBOARD_PASSWORD_HASH takes the bcrypt hash, not the password: tradingbot hash-password | deployctl secret set TRADINGBOT_DASHBOARD_PASSWORD_HASH --home \(shellWord(home.root))"
            )
        }
        let (path, replaced) = try writeSecret(name, value, home: home)
        print("\(name) \(replaced ? "replaced" : "set") in \(path) (mode 600).")
        print("Next: \(nextStep(home: home))")
    }

    /// What reads the secret, and so what must start again to use it.
    func nextStep(home: Home) -> String {
        let config = (try? ConfigFiles.deploy(home.deployConfig)) ?? DeployConfig()
        func restart(_ program: String) -> String { home.restartCommand(program) }
        let h = shellWord(home.root)
        switch name {
        case _ where name.hasPrefix("BLOFIN_"):
            return
                "check the keys with `tradingbot exchange ping --private --home \(h)`, then restart the engine (it reads them when it starts): `\(restart("tradingbot"))`"
        case "TRADINGBOT_DASHBOARD_PASSWORD_HASH":
            return "restart the dashboard (every session ends): `\(restart("tradingbot-dashboard"))`"
        case config.gitTokenEnv:
            return "the next `deployctl release --home \(h)` uses it"
        case config.watchdog.alertWebhookEnv, config.watchdog.telegramChatEnv, config.watchdog.heartbeatURLEnv:
            return "the watchdog reads it at each run; try it: `deployctl alert test --home \(h)`"
        default:
            return "restart whatever reads \(name)"
        }
    }
}

struct SecretUnsetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unset", abstract: "Remove NAME from HOME/config/secrets.env.")

    @OptionGroup var homeOptions: HomeOptions

    @Argument(help: "The variable to remove.")
    var name: String

    func run() throws {
        let (path, removed) = try writeSecret(name, nil, home: homeOptions.resolved)
        print(removed ? "\(name) removed from \(path)." : "\(name) was not in \(path); nothing changed.")
    }
}

struct SecretListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "The names set in HOME/config/secrets.env (never their values).")

    @OptionGroup var homeOptions: HomeOptions

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let home = homeOptions.resolved
        let path = home.configDir + "/secrets.env"
        let names = try SecretsFile.read(path).keys.sorted()
        if json {
            printJSON(["file": .string(path), "names": .array(names.map { .string($0) })])
        } else if names.isEmpty {
            print("\(path): no secrets set")
        } else {
            print("\(path):")
            for name in names { print("  \(name)") }
        }
    }
}

/// Sets (or, given nil, removes) `name` in the home's secrets file.
/// - Returns: the file and whether the name was in it before.
private func writeSecret(_ name: String, _ value: String?, home: Home) throws -> (path: String, existed: Bool) {
    if let problem = SecretsFile.nameProblem(name) { throw CommandFailure.usage(problem) }
    let path = home.configDir + "/secrets.env"
    // A typo in --home must not grow a new home: the config folder must be there already.
    var folder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: home.configDir, isDirectory: &folder), folder.boolValue else {
        throw CommandFailure.usage(
            "\(home.configDir) does not exist: is --home right? (`deployctl init --home DIR` makes a home)")
    }
    do {
        try FileManager.default.createDirectory(atPath: home.stateDir, withIntermediateDirectories: true)
        return (path, try SecretsFile.update(name, to: value, path: path, lock: home.stateDir + "/secrets.lock"))
    } catch {
        throw CommandFailure.failed("\(error)")
    }
}
