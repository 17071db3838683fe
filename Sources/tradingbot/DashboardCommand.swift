import ArgumentParser
import CLISupport
import Dashboard
import Foundation
import HummingbirdBcrypt
import TradingCore
import TradingStore

#if canImport(Glibc)
    import Glibc
#endif

/// `tradingbot dashboard`: the operator's web dashboard, in its own process.
struct DashboardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "Serve the web dashboard (default 127.0.0.1:8050) until stopped.",
        discussion: """
            Bind, port and session lifetime come from bot.json's `dashboard` section; the options override \
            them. Prints `listening on ADDR:PORT` once it listens (`--port 0` takes a free port). The login \
            password's bcrypt hash comes from TRADINGBOT_DASHBOARD_PASSWORD_HASH, in the environment or \
            HOME/config/secrets.env (mode 0600); make one with `tradingbot hash-password`. Without one it \
            listens on loopback only. Exit 2 on a config error or a refused address, 1 when it cannot listen.
            """
    )

    @OptionGroup var homeOptions: HomeOptions

    @Option(help: "Address to listen on (default: bot.json's dashboard.bind, else 127.0.0.1).")
    var bind: String?

    @Option(help: "Port (default: bot.json's dashboard.port, else 8050; 0 takes a free port).")
    var port: Int?

    func run() throws {
        let home = homeOptions.resolved
        let (config, _) = try loadBotConfig(explicit: nil, home: home)
        let address = bind ?? config.dashboard.bind
        let chosen = port ?? config.dashboard.port
        guard (0...65_535).contains(chosen) else { throw CommandFailure.usage("--port \(chosen): must be 0 to 65535") }
        let hash = SecretsFile.value(
            DashboardServer.hashVariableName, home: home, environment: ProcessInfo.processInfo.environment)
        do {
            try DashboardServer.check(passwordHash: hash, bind: address)
        } catch {
            throw CommandFailure.usage("\(error)")
        }
        do {
            try DashboardService.run(
                home: home, bind: address, port: chosen, settings: config.dashboard, passwordHash: hash,
                announce: { line in
                    // Straight to the descriptor: a test or smoke check reading the pipe sees it at once.
                    let bytes = Array((line + "\n").utf8)
                    _ = bytes.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
                })
        } catch {
            throw CommandFailure.failed("\(error)")
        }
    }
}

/// `tradingbot hash-password`: the bcrypt hash for the dashboard's login.
struct HashPasswordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash-password",
        abstract: "Print the bcrypt hash of a dashboard password (read without echo, or one line from stdin).",
        discussion: """
            Put the printed hash in HOME/config/secrets.env as TRADINGBOT_DASHBOARD_PASSWORD_HASH=<hash> \
            (mode 0600). The password is never printed or stored. Exit 2 when it is shorter than 12 characters.
            """
    )

    func run() throws {
        let password: String
        if isatty(STDIN_FILENO) == 1 {
            guard let typed = getpass("Dashboard password: ").map({ String(cString: $0) }) else {
                throw CommandFailure.usage("no password read")
            }
            guard let again = getpass("Again: ").map({ String(cString: $0) }), again == typed else {
                throw CommandFailure.usage("the two passwords differ; nothing printed")
            }
            password = typed
        } else {
            password = readLine(strippingNewline: true) ?? ""
        }
        guard password.count >= 12 else {
            throw CommandFailure.usage("the password must have at least 12 characters (it guards a trading account)")
        }
        print(Bcrypt.hash(password, cost: 12))
    }
}
