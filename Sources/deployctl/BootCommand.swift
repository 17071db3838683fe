import ArgumentParser
import CLISupport
import Deploy
import Foundation
import TradingStore

/// `deployctl boot`: what a machine runs at start-up (the boot unit, a container's start) to
/// bring the home up again; safe to run at any time.
struct BootCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "boot",
        abstract: "Start the home's service manager, engine, dashboard and watchdog when they are not running.",
        discussion:
            "Never releases or flips. Exit 0 when the live release's engine beats within the start grace (or nothing is deployed); 1 when something did not come up; 2 config; 3 the watchdog lock stayed held."
    )

    @OptionGroup var options: DeployOptions

    func run() throws {
        // Root would start supervisord, and so the engine, as root in the service user's home.
        var info = stat()
        if geteuid() == 0, stat(options.home.root, &info) == 0, info.st_uid != 0 {
            let owner = getpwuid(info.st_uid).map { String(cString: $0.pointee.pw_name) } ?? "\(info.st_uid)"
            throw CommandFailure.usage(
                "\(options.home.root) belongs to \(owner): run it as that user, e.g. runuser -u \(owner) -- \(CommandLine.arguments.joined(separator: " "))"
            )
        }
        let config = try options.guardConfig()
        let report = Boot(home: options.home, config: config, manager: options.manager(config), now: { WallClock.now })
            .run()
        if options.json {
            printJSON(report.json)
        } else if report.exitCode == 0 {
            print(report.message)
        } else {
            printError(report.message)
        }
        if report.exitCode != 0 { throw ExitCode(report.exitCode) }
    }
}
