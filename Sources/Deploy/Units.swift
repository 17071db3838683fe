import Foundation
import TradingCore
import TradingStore

/// The service definitions for a home: systemd units (production) or a supervisord config.
public enum Units {
    /// A path as one word of a command line (ExecStart=): quoted, with what systemd would
    /// expand there escaped (specifiers `%`, variables `$`, and the quote and backslash).
    static func systemdWord(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "%": out += "%%"
            case "$": out += "$$"
            default: out.append(c)
            }
        }
        return "\"" + out + "\""
    }

    /// A path as the whole value of a path setting (WorkingDirectory=): taken as is up to the
    /// end of the line, spaces included, quotes not removed; only specifiers are expanded.
    static func systemdPath(_ text: String) -> String { text.replacingOccurrences(of: "%", with: "%%") }

    /// A path in a list setting (ReadWritePaths=): quoted, specifiers escaped, no variables.
    static func systemdListPath(_ text: String) -> String { "\"" + systemdPath(text) + "\"" }

    /// Whether systemd can take `path` at all (it cannot hold a quote, a backslash or a newline in
    /// every setting the units need); install-units refuses such a home with this message.
    static func unsupported(_ path: String) -> String? {
        path.contains(where: { $0 == "\"" || $0 == "\\" || $0 == "\n" })
            ? "\(path): systemd units cannot name a home with a double quote, a backslash or a newline; choose another folder"
            : nil
    }

    /// systemd kills an engine that has not pinged it for WatchdogSec; the engine pings once a
    /// cycle, so the limit follows the cycle (three cycles, at least three minutes).
    public static func watchdogSeconds(cycleSeconds: Int) -> Int { max(180, 3 * cycleSeconds) }

    public static func systemd(
        home: Home, config: DeployConfig, user: String, cycleSeconds: Int = 60
    ) -> [(name: String, text: String)] {
        let h = home.root
        let quotedHome = systemdWord(h)
        let hardening = """
            NoNewPrivileges=yes
            PrivateTmp=yes
            ProtectSystem=strict
            ProtectHome=read-only
            ReadWritePaths=\(systemdListPath(h))
            ProtectKernelTunables=yes
            ProtectKernelModules=yes
            ProtectControlGroups=yes
            RestrictSUIDSGID=yes
            LockPersonality=yes
            """
        let engine = """
            [Unit]
            Description=tradingbot engine (\(systemdPath(h)))
            After=network-online.target
            Wants=network-online.target

            [Service]
            Type=notify
            User=\(user)
            WorkingDirectory=\(systemdPath(h))
            # The engine reads its release id from slots/current/.release, so a flip + restart
            # names the new release. It reads the secrets it needs from config/secrets.env itself.
            ExecStart=\(systemdWord(h + "/slots/current/" + config.binary)) run --home \(quotedHome)
            NotifyAccess=all
            # Three cycles of bot.json's cycle_seconds (\(cycleSeconds) s); run install-units again after changing it.
            WatchdogSec=\(watchdogSeconds(cycleSeconds: cycleSeconds))
            Restart=on-failure
            RestartSec=5
            TimeoutStopSec=15
            KillSignal=SIGTERM
            \(hardening)

            [Install]
            WantedBy=multi-user.target

            """
        let watchdog = """
            [Unit]
            Description=tradingbot watchdog (\(systemdPath(h)))

            [Service]
            Type=oneshot
            User=\(user)
            # The guard copy outside the slots: a bad release cannot bring its own broken watchdog.
            ExecStart=\(systemdWord(GuardCopy.path(home))) watchdog --once --home \(quotedHome)
            \(hardening)

            """
        let timer = """
            [Unit]
            Description=Run the tradingbot watchdog every 30 s

            [Timer]
            OnBootSec=60
            OnUnitActiveSec=30
            AccuracySec=1

            [Install]
            WantedBy=timers.target

            """
        let dashboard = """
            [Unit]
            Description=tradingbot dashboard (\(systemdPath(h)))
            After=network-online.target

            [Service]
            Type=simple
            User=\(user)
            WorkingDirectory=\(systemdPath(h))
            # Its own process: a dashboard problem never stops trading. It reads its password hash
            # from config/secrets.env itself and listens where bot.json's dashboard section says.
            ExecStart=\(systemdWord(h + "/slots/current/" + config.binary)) dashboard --home \(quotedHome)
            Restart=on-failure
            RestartSec=5
            # Exit 2 is a refusal (a config error, no password off loopback): restarting cannot help.
            RestartPreventExitStatus=2
            TimeoutStopSec=10
            # Bounded: it is the dashboard that runs out of memory, never the engine.
            MemoryMax=512M
            \(hardening)

            [Install]
            WantedBy=multi-user.target

            """
        return [
            ("tradingbot.service", engine), ("tradingbot-watchdog.service", watchdog),
            ("tradingbot-watchdog.timer", timer), ("tradingbot-dashboard.service", dashboard),
        ]
    }

    /// The name of the unit that runs `deployctl boot` for a home under its own supervisord.
    public static let bootUnitName = "tradingbot-boot.service"

    /// One oneshot unit, as the service user, that brings a supervisord home up at boot: the
    /// supervisord it starts stays in the unit (RemainAfterExit), so stopping the unit at
    /// shutdown stops the engine cleanly.
    public static func bootUnit(home: Home, user: String) -> String {
        let h = home.root
        return """
            [Unit]
            Description=Start the tradingbot home \(systemdPath(h)) after a boot (its own supervisord)
            After=network-online.target
            Wants=network-online.target

            [Service]
            Type=oneshot
            RemainAfterExit=yes
            User=\(user)
            WorkingDirectory=\(systemdPath(h))
            # Starts supervisord and the live slot's engine, dashboard and watchdog when they are
            # not running; never releases. The guard copy, outside the slots.
            ExecStart=\(systemdWord(GuardCopy.path(home))) boot --home \(systemdWord(h))
            # Exit 1 (something came up late) and 3 (lock held) must not fail the unit: a failed
            # unit's processes are killed, supervisord and the engine with them.
            SuccessExitStatus=1 3
            TimeoutStartSec=600

            [Install]
            WantedBy=multi-user.target

            """
    }

    /// The polkit rule that lets the service user start, stop and restart exactly the engine's
    /// unit (what the watchdog's restart and rollback do), and nothing else. Its file name.
    public static func polkitRuleName(user: String) -> String { "50-tradingbot-\(user).rules" }

    public static func polkitRule(user: String) -> String {
        // A JavaScript string literal: the user name was checked by getpwnam; quoted anyway.
        let quoted = user.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return """
            // Written by deployctl install-units. Lets \(user) start, stop and restart
            // tradingbot.service (so its watchdog can heal and roll back), the dashboard's unit
            // (so a release restarts it on the new binary) and the watchdog's timer (so
            // deployctl boot can start what is not running); nothing else.
            polkit.addRule(function(action, subject) {
                if (action.id == "org.freedesktop.systemd1.manage-units" &&
                    subject.user == "\(quoted)" &&
                    ["tradingbot.service", "tradingbot-dashboard.service", "tradingbot-watchdog.timer"]
                        .indexOf(action.lookup("unit")) >= 0 &&
                    ["start", "stop", "restart"].indexOf(action.lookup("verb")) >= 0) {
                    return polkit.Result.YES;
                }
            });

            """
    }

    /// Where polkit reads local rules.
    public static let polkitRulesDir = "/etc/polkit-1/rules.d"

    /// Nil when a polkit rule there lets `user` manage tradingbot.service (root needs none),
    /// else what is missing.
    public static func restartPermission(user: String, rulesDir: String = polkitRulesDir) throws -> String? {
        if user == "root" { return nil }
        // Debian keeps the rules folder readable by polkitd alone: say so rather than report a
        // rule missing that may well be there.
        guard access(rulesDir, R_OK | X_OK) == 0 || !FileManager.default.fileExists(atPath: rulesDir) else {
            throw CheckList.Warning(
                "\(rulesDir) cannot be read as this user; run `sudo deployctl doctor` to check the polkit rule for \(user)"
            )
        }
        let files = (try? FileManager.default.contentsOfDirectory(atPath: rulesDir)) ?? []
        for file in files where file.hasSuffix(".rules") {
            let text = (try? String(contentsOfFile: rulesDir + "/" + file, encoding: .utf8)) ?? ""
            if text.contains("subject.user == \"\(user)\"") && text.contains("tradingbot.service") { return nil }
        }
        return
            "no polkit rule in \(rulesDir) lets \(user) restart tradingbot.service, so the watchdog cannot heal or roll back"
    }

    /// The user a written watchdog unit runs as, when there is one.
    public static func unitUser(home: Home) -> String? {
        let path = home.root + "/deploy/tradingbot-watchdog.service"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first { $0.hasPrefix("User=") }.map { String($0.dropFirst(5)) }
    }

    /// Writes the units into HOME/deploy and returns the paths and the next commands.
    public static func install(home: Home, config: DeployConfig, systemd: Bool, user: String) throws -> (
        files: [String], next: [String]
    ) {
        let dir = home.root + "/deploy"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // The units and the supervisord program call the guard copy: make sure it is there.
        try GuardCopy.installIfMissing(home: home)
        if systemd {
            if let problem = unsupported(home.root) {
                throw ConfigError(file: home.root, field: "home", message: problem)
            }
            guard getpwnam(user) != nil else {
                throw ConfigError(
                    file: home.root, field: "--user",
                    message:
                        "user \(user) does not exist; create it (sudo useradd --system --home-dir \(shellWord(home.root)) --shell /usr/sbin/nologin \(user)) or pass --user with an existing one"
                )
            }
            var files: [String] = []
            let cycle = ConfigFiles.cycleSeconds(home.botConfig)
            for unit in Self.systemd(home: home, config: config, user: user, cycleSeconds: cycle) {
                let path = dir + "/" + unit.name
                try FileIO.writeAtomically(path, Array(unit.text.utf8))
                files.append(path)
            }
            var permission: [String] = []
            var written = files
            if user != "root" {
                let path = dir + "/" + polkitRuleName(user: user)
                try FileIO.writeAtomically(path, Array(polkitRule(user: user).utf8))
                written.append(path)
                permission = ["sudo install -m 0644 \(shellWord(path)) \(polkitRulesDir)/"]
            }
            return (
                written,
                ["sudo cp \(files.map(shellWord).joined(separator: " ")) /etc/systemd/system/"] + permission + [
                    "sudo systemctl daemon-reload",
                    "sudo systemctl enable --now tradingbot.service tradingbot-watchdog.timer tradingbot-dashboard.service",
                    "systemctl status tradingbot.service",
                ]
            )
        }
        let manager = SupervisorManager(home: home, config: config)
        try manager.writeConfig()
        // What starts this supervisord after a reboot, where systemd runs the machine.
        let boot = dir + "/" + bootUnitName
        try FileIO.writeAtomically(boot, Array(bootUnit(home: home, user: user).utf8))
        return (
            [manager.configPath, boot],
            [
                // A clean environment: supervisord, and so the engine, inherit nothing of this shell's.
                "env -i PATH=/usr/bin:/bin supervisord -c \(shellWord(manager.configPath))",
                "supervisorctl -c \(shellWord(manager.configPath)) status",
                "deployctl release --home \(shellWord(home.root))",
                "where systemd runs the machine, to start it at boot: sudo cp \(shellWord(boot)) /etc/systemd/system/ && sudo systemctl daemon-reload && sudo systemctl enable \(bootUnitName)",
            ]
        )
    }
}
