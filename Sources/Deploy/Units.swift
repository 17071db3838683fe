import Foundation
import TradingCore
import TradingStore

/// The service definitions for a home: systemd units (production) or a supervisord config.
public enum Units {
    public static func systemd(home: Home, config: DeployConfig, user: String) -> [(name: String, text: String)] {
        let h = home.root
        let hardening = """
            NoNewPrivileges=yes
            PrivateTmp=yes
            ProtectSystem=strict
            ProtectHome=read-only
            ReadWritePaths=\(h)
            ProtectKernelTunables=yes
            ProtectKernelModules=yes
            ProtectControlGroups=yes
            RestrictSUIDSGID=yes
            LockPersonality=yes
            """
        let engine = """
            [Unit]
            Description=tradingbot engine (\(h))
            After=network-online.target
            Wants=network-online.target

            [Service]
            Type=notify
            User=\(user)
            WorkingDirectory=\(h)
            # The release id comes from the live slot, so a flip + restart names the new release.
            ExecStart=/bin/sh -c 'TRADINGBOT_RELEASE="$(cat \(h)/slots/current/.release 2>/dev/null || echo unknown)" exec \(h)/slots/current/\(config.binary) run --home \(h)'
            NotifyAccess=all
            WatchdogSec=\(max(30, 3 * 60))
            Restart=on-failure
            RestartSec=5
            TimeoutStopSec=15
            KillSignal=SIGTERM
            EnvironmentFile=-\(h)/config/secrets.env
            \(hardening)

            [Install]
            WantedBy=multi-user.target

            """
        let watchdog = """
            [Unit]
            Description=tradingbot watchdog (\(h))

            [Service]
            Type=oneshot
            User=\(user)
            ExecStart=\(h)/slots/current/\((config.binary as NSString).deletingLastPathComponent)/deployctl watchdog --once --home \(h)
            EnvironmentFile=-\(h)/config/secrets.env
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
        return [
            ("tradingbot.service", engine), ("tradingbot-watchdog.service", watchdog),
            ("tradingbot-watchdog.timer", timer),
        ]
    }

    /// Writes the units into HOME/deploy and returns the paths and the next commands.
    public static func install(home: Home, config: DeployConfig, systemd: Bool, user: String) throws -> (
        files: [String], next: [String]
    ) {
        let dir = home.root + "/deploy"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        if systemd {
            var files: [String] = []
            for unit in Self.systemd(home: home, config: config, user: user) {
                let path = dir + "/" + unit.name
                try FileIO.writeAtomically(path, Array(unit.text.utf8))
                files.append(path)
            }
            return (
                files,
                [
                    "sudo cp \(files.joined(separator: " ")) /etc/systemd/system/",
                    "sudo systemctl daemon-reload",
                    "sudo systemctl enable --now tradingbot.service tradingbot-watchdog.timer",
                    "systemctl status tradingbot.service",
                ]
            )
        }
        let manager = SupervisorManager(home: home, binary: config.binary)
        try manager.writeConfig()
        return (
            [manager.configPath],
            [
                "supervisord -c \(manager.configPath)", "supervisorctl -c \(manager.configPath) status",
                "deployctl release --home \(home.root)",
            ]
        )
    }
}
