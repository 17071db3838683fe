import ArgumentParser
import CLISupport
import Deploy
import TradingCore
import TradingStore

struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor", abstract: "Check a home: config, libgit2, service manager, slots, heartbeat, data, disk."
    )

    @OptionGroup var options: DeployOptions

    func run() throws {
        let manager = (try? options.config()).map { options.manager($0) }
        let results = Doctor.run(home: options.home, now: WallClock.now, manager: manager)
        let ok = results.allSatisfy(\.ok)
        if options.json {
            printJSON(["ok": .bool(ok), "home": .string(options.home.root), "checks": .array(results.map(\.json))])
        } else {
            for r in results { print(r.line) }
            print(ok ? "Healthy." : "Problems found.")
        }
        if !ok { throw ExitCode(ExitStatus.failed) }
    }
}
