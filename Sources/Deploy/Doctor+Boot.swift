import Foundation
import TradingCore
import TradingStore

/// What brings a home back after a reboot, and whether every binary that may run it reads the
/// live config.
extension Doctor {
    /// `boot`: systemd starts the engine's units (systemd homes) or the boot unit that runs
    /// `deployctl boot` (supervisord homes); where nothing starts anything at boot (PID 1 is no
    /// init, as in a container), a warning with the one line to put in its start.
    static func bootCheck(home: Home, config: DeployConfig, systemdDir: String, systemdRunning: Bool) throws -> String {
        let q = shellWord(home.root)
        let wants = systemdDir + "/multi-user.target.wants/"
        if config.serviceManager == "systemd" {
            guard FileIO.exists(wants + "tradingbot.service") else {
                throw ServiceError(
                    message:
                        "tradingbot.service is not enabled: nothing starts the engine after a reboot; sudo systemctl enable tradingbot.service tradingbot-watchdog.timer tradingbot-dashboard.service"
                )
            }
            return "systemd starts tradingbot.service at boot"
        }
        let line = "\(shellWord(GuardCopy.path(home))) boot --home \(q)"
        guard systemdRunning else {
            throw CheckList.Warning(
                "nothing starts this home at boot here (PID 1 is \(Self.pidOne()), not systemd): put `\(line)` (as the service user) in the container's start command or the host's restart policy"
            )
        }
        let installed = systemdDir + "/" + Units.bootUnitName
        let fix =
            "deployctl install-units --supervisor --home \(q), then sudo cp \(shellWord(home.root + "/deploy/" + Units.bootUnitName)) \(systemdDir)/ && sudo systemctl daemon-reload && sudo systemctl enable \(Units.bootUnitName)"
        guard let text = try? String(contentsOfFile: installed, encoding: .utf8) else {
            throw ServiceError(
                message: "no \(Units.bootUnitName) in \(systemdDir): nothing starts this home after a reboot; \(fix)")
        }
        guard text.contains(Units.systemdWord(home.root)) else {
            throw ServiceError(message: "\(installed) starts another home, not this one; \(fix)")
        }
        guard FileIO.exists(wants + Units.bootUnitName) else {
            throw ServiceError(
                message:
                    "\(Units.bootUnitName) is installed but not enabled; sudo systemctl enable \(Units.bootUnitName)")
        }
        return "systemd runs \(Units.bootUnitName) (deployctl boot) at start-up"
    }

    static func pidOne() -> String {
        ((try? String(contentsOfFile: "/proc/1/comm", encoding: .utf8)) ?? "unknown")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `config_compat`: the live slot's binary, the other slot's and the guard copy each read the
    /// live config, or which one refuses which key (a key set before every release that may run
    /// reads it: a rollback sets it aside, the guard copy stops).
    static func configCompatCheck(home: Home, config: DeployConfig) throws -> String {
        let slots = Slots(home: home)
        let compat = ConfigCompat(home: home, config: config)
        var read: [String] = []
        var refusals: [String] = []
        for slot in Slots.names {
            guard let release = slots.releaseID(slot) else { continue }
            let who = "slot \(slot) (\(release)\(slots.active() == slot ? ", live" : ""))"
            switch compat.ask(binary: slots.path(slot) + "/" + config.binary) {
            case .accepts: read.append(who)
            case .unknownKey(_, let field, let detail):
                refusals.append("\(who) does not know \(field): \(detail)")
            case .refuses(let detail): refusals.append("\(who) refuses the config: \(detail)")
            case .noAnswer(let why): refusals.append("\(who) gave no answer: \(why)")
            }
        }
        let guardCopy = GuardCopy.path(home)
        if FileManager.default.isExecutableFile(atPath: guardCopy) {
            let outcome = try ProcessRunner.run(
                guardCopy, ["status", "--home", home.root, "--json"], timeout: 60, without: config.secretNames)
            if outcome.status == 2 {
                refusals.append(
                    "the guard copy \(guardCopy) refuses: \(ProcessRunner.lastLines(outcome.output, 2).trimmingCharacters(in: .whitespacesAndNewlines)); it is replaced when a release is marked good"
                )
            } else {
                read.append("the guard copy")
            }
        }
        guard refusals.isEmpty else {
            throw ServiceError(
                message:
                    refusals.joined(separator: "; ")
                    + ". A rollback to a release that does not know a key sets that key aside; set new keys only once every release that may run reads them (RUNBOOK 'A rollback could not read the config')"
            )
        }
        return read.isEmpty ? "no release yet" : "read by \(read.joined(separator: ", "))"
    }
}
