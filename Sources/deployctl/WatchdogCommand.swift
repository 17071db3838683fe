import ArgumentParser
import CLISupport
import Deploy
import Foundation
import TradingCore
import TradingStore

struct WatchdogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watchdog",
        abstract: "Judge the live engine and heal it: commit, roll back or restart (the systemd timer runs it).",
        discussion: """
            Verdicts: healthy, not_deployed (nothing released or started yet), starting, stopped, not_running, crash_loop, stalled, erroring, trading_stall, disk_low. A \
            release on probation that met its bar is marked good; an unproven release that fails is rolled back by the \
            rollback rule and marked bad; a release marked good is restarted with backoff, never rolled back. Faults, \
            rollbacks, recoveries and the engine's critical events are sent to the alert webhook (see `deployctl alert \
            test`); a healthy run pings the dead-man's-switch URL when one is set. \
            Exit 0 healthy; 1 a fault (acted on or not); 2 configuration.
            """)

    @OptionGroup var options: DeployOptions

    @Flag(help: "Run once and exit (the default; what the systemd timer does).")
    var once = false

    @Flag(help: "Run for ever, once every --interval seconds (supervisord, a container).")
    var daemon = false

    @Option(help: "Seconds between runs with --daemon.")
    var interval: Double = 30

    @Flag(help: "Judge and report what would be done; change nothing.")
    var dryRun = false

    func run() throws {
        guard !(once && daemon) else { throw CommandFailure.usage("pass --once or --daemon, not both") }
        guard interval >= 1 else { throw CommandFailure.usage("--interval must be at least 1 second") }
        let home = options.home
        // A home without deploy.json is judged with the defaults (an engine started by hand).
        // A daemon never exits on a bad deploy.json (supervisord would give up on it for good):
        // it says so and runs on the defaults until the file is fixed.
        var config = DeployConfig()
        if FileIO.exists(home.deployConfig) {
            do {
                config = try options.guardConfig()
            } catch {
                guard daemon else { throw error }
                FileHandle.standardError.write(Data("deploy.json unreadable, using the defaults: \(error)\n".utf8))
            }
        }
        var last = ""
        let memory = WatchdogMemory()
        while true {
            // A daemon reads deploy.json again each run, so a changed threshold counts at once;
            // a file that stops parsing keeps the last good settings and says so.
            if daemon && FileIO.exists(home.deployConfig) {
                do {
                    config = try options.guardConfig(quietly: true)
                } catch {
                    FileHandle.standardError.write(
                        Data("deploy.json unreadable, keeping the last settings: \(error)\n".utf8))
                }
            }
            let watchdog = Watchdog(
                home: home, config: config, manager: options.manager(config), now: { WallClock.now },
                memory: memory)
            let report = watchdog.runOnce(dryRun: dryRun)
            // As a daemon, a line only when the verdict or the action changes (its log would
            // otherwise grow by a line every run for ever).
            let key = report.verdict + "|" + report.action
            if !daemon || key != last {
                if options.json {
                    printJSON(report.json)
                } else {
                    // A fault goes to stderr with ERROR in it (`journalctl -u tradingbot-watchdog |
                    // grep ERROR`); a healthy verdict to stdout. Flushed: a daemon's stdout is a pipe.
                    let fault = report.exitCode != 0
                    let line =
                        "\(WallClock.now.iso8601) \(fault ? "ERROR " : "")\(report.verdict): \(report.detail); action: \(report.action); dashboard: \(report.dashboard)\n"
                    if fault {
                        FileHandle.standardError.write(Data(line.utf8))
                    } else {
                        FileHandle.standardOutput.write(Data(line.utf8))
                    }
                }
            }
            last = key
            guard daemon else {
                if report.exitCode != 0 { throw ExitCode(report.exitCode) }
                return
            }
            Thread.sleep(forTimeInterval: interval)
        }
    }
}
