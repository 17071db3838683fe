/// `config/deploy.json`: where releases come from, how they are built and checked, and the
/// thresholds of probation and the watchdog. Sections default when absent, like bot.json.
public struct DeployConfig: Sendable, Equatable {
    /// Git URL or path of the bot's repository; empty until `deployctl init` sets it.
    public var repo = ""
    public var defaultRef = "main"
    /// Name of the environment variable holding an https token for a private repository (the
    /// token itself never goes in a file of the repository).
    public var gitTokenEnv = "TRADINGBOT_GIT_TOKEN"
    /// User name for the token or ssh (empty: from the URL, else a sensible default).
    public var gitUsername = ""
    /// ssh private key for ssh:// or user@host: remotes (empty: the ssh agent).
    public var gitSSHKey = ""
    /// known_hosts file holding the ssh server's host key (empty: ~/.ssh/known_hosts).
    public var gitKnownHosts = ""
    /// Offer the token over plain http:// (a private network only); off, the token is sent only
    /// over https.
    public var allowTokenOverHTTP = false
    /// Environment variables that hold secrets: removed from every child deployctl starts (build,
    /// smoke commands, supervisord and so the engine), besides git_token_env and the webhook's.
    /// Names given in deploy.json are added to these defaults.
    public var secretEnv = [
        "BLOFIN_API_KEY", "BLOFIN_API_SECRET", "BLOFIN_PASSPHRASE", "BLOFIN_API_PASSPHRASE",
        "TRADINGBOT_DASHBOARD_PASSWORD_HASH",
    ]
    /// The built `tradingbot`, relative to a slot.
    public var binary = ".build/release/tradingbot"
    public var serviceManager = "supervisor"
    public var build = Build()
    public var checks = Checks()
    public var probation = Probation()
    public var watchdog = Watchdog()
    public var dashboard = Dashboard()
    public var decisionDiff = DecisionDiff()

    /// The decision diff's policy: when a candidate's replay of the live engine's recorded day
    /// decides differently from the live build's, whether the release stops. The defaults let a
    /// change that moves no decision through (a cosmetic one changes nothing: both replays read
    /// the same inputs) and always stop a doubling or a halving of entries (ratio 2 or 0.5, and
    /// then at least half the live entries changed).
    public struct DecisionDiff: Sendable, Equatable {
        /// `block`: a difference past a threshold stops the release; `report`: it is reported
        /// (`would_block`). A limit the candidate breaks stops it in either mode.
        public var mode = "block"
        /// The recorded window replayed, ending now.
        public var hours = 24.0
        /// The candidate's executed entries divided by the live build's must stay within these
        /// (none against none is 1; some against none is past any maximum).
        public var entryRatioMin = 0.67
        public var entryRatioMax = 1.5
        /// The same for the exits of each reason.
        public var exitRatioMin = 0.67
        public var exitRatioMax = 1.5
        /// Entry decisions that changed (executed on one side only, or another direction or
        /// notional), as a share of the live build's entries: not of all lines, since at 400
        /// symbols nearly every line is a skip.
        public var maxChangedEntryShare = 0.2
        /// Hours the live release must have recorded for an `identical` A/A.
        public var minAAHours = 1.0
        /// Past this both replays' process groups are ended and the step is inconclusive.
        public var timeoutSeconds = 1800
    }

    /// How the dashboard runs beside the engine. It never decides anything about trading: a
    /// dashboard that is down is reported, never a reason to restart or roll back the engine.
    public struct Dashboard: Sendable, Equatable {
        /// Under supervisord, run `tradingbot dashboard` as a program beside the engine (systemd
        /// gets the tradingbot-dashboard.service unit from install-units).
        public var supervised = true
        /// The watchdog probes /healthz on bot.json's dashboard port (when the dashboard runs
        /// here: supervised, or its systemd unit written) and alerts when it does not answer.
        public var probe = true
    }

    public struct Build: Sendable, Equatable {
        public var command = "swift build -c release"
        public var timeoutSeconds = 1800
    }

    public struct Checks: Sendable, Equatable {
        /// Clock skew allowed for "not in the future" (seconds).
        public var skewSeconds = 300
        /// How far the candidate's balance and P&L may differ from the current slot's (USDT).
        public var reportTolerance = 0.01
        /// Extra shell commands run in the candidate slot; each must exit 0.
        public var smokeCommands: [String] = []
    }

    public struct Probation: Sendable, Equatable {
        public var healthyCycles = 3
        public var timeoutSeconds = 600
        /// A restarted engine that has written no heartbeat this long after its restart hangs or
        /// dies before its first beat: every wait for a first beat (probation, going back,
        /// rollback, boot) gives up then instead of at the timeout. One 60 s cycle by default.
        public var startGraceSeconds = 60
    }

    public struct Watchdog: Sendable, Equatable {
        /// A heartbeat older than this many cycles is a stall.
        public var stallCycles = 3
        public var maxRestartsPerHour = 5
        public var maxRollbacksPerHour = 2
        /// Error events in bot.jsonl within one check that count as a burst.
        public var errorBurst = 10
        /// Name of the environment variable that holds the alert webhook URL (never the URL itself).
        public var alertWebhookEnv = "TRADINGBOT_ALERT_WEBHOOK"
        /// Under supervisord, run `deployctl watchdog --daemon` as a program beside the engine
        /// (systemd uses its timer instead).
        public var supervised = true
        /// Seconds between the daemon's runs.
        public var intervalSeconds = 30
        /// An engine that cycles but evaluates no signals, or whose prices stop changing, for this
        /// many cycles is in a trading stall.
        public var tradingStallCycles = 10
        /// The message shape: generic JSON, telegram, discord, slack, or auto (from the URL's host).
        public var alertFormat = "auto"
        /// Name of the variable that holds the Telegram chat id (Telegram webhooks only).
        public var telegramChatEnv = "TRADINGBOT_TELEGRAM_CHAT_ID"
        /// The same fault is alerted again only after this many seconds.
        public var alertCooldownSeconds = 1800
        /// "Healthy again" is announced after this many seconds of health, so a flapping engine
        /// does not alert on every swing.
        public var recoverySeconds = 300
        /// Name of the variable with a dead-man's-switch URL, pinged on every healthy run.
        public var heartbeatURLEnv = "TRADINGBOT_DEADMAN_URL"
        /// Less free space than this in the home is `disk_low`.
        public var minFreeDiskMB = 1000
    }

    public init() {}

    /// The keys of deploy.json's top level.
    public static let keys = [
        "repo", "default_ref", "binary", "git_token_env", "git_username", "git_ssh_key", "git_known_hosts",
        "allow_token_over_http",
        "secret_env", "service_manager", "build", "checks", "probation", "watchdog", "dashboard",
        "decision_diff",
    ]

    /// Every variable name a child of deployctl must not inherit: the configured ones added to
    /// the defaults, never replacing them (naming one more secret must not let the keys through).
    public var secretNames: [String] {
        Array(
            Set(
                [
                    gitTokenEnv, watchdog.alertWebhookEnv, watchdog.heartbeatURLEnv, "TRADINGBOT_GIT_TOKEN",
                    "TRADINGBOT_ALERT_WEBHOOK", "TRADINGBOT_DEADMAN_URL", "TRADINGBOT_DASHBOARD_PASSWORD_HASH",
                ] + DeployConfig().secretEnv + secretEnv)
        )
        .sorted()
    }

    /// Validates a parsed `deploy.json`: every key has a default; unknown keys and values out of
    /// range fail with the file, the key and what is allowed.
    public static func parse(_ value: JSONValue, file: String) throws(ConfigError) -> DeployConfig {
        let root = try ConfigSection(file: file, path: "", value: value)
        try root.allowOnly(keys)
        var c = DeployConfig()
        c.repo = try root.string("repo", allowEmpty: true, default: c.repo)
        c.defaultRef = try root.string("default_ref", default: c.defaultRef)
        c.binary = try root.string("binary", default: c.binary)
        if c.binary.hasPrefix("/") || c.binary.split(separator: "/").contains("..") {
            throw ConfigError(
                file: file, field: "binary",
                message:
                    "\(c.binary) must be a path inside the slot (relative, no \"..\"), e.g. .build/release/tradingbot")
        }
        c.gitTokenEnv = try root.string("git_token_env", default: c.gitTokenEnv)
        c.gitUsername = try root.string("git_username", allowEmpty: true, default: c.gitUsername)
        c.gitSSHKey = try root.string("git_ssh_key", allowEmpty: true, default: c.gitSSHKey)
        c.gitKnownHosts = try root.string("git_known_hosts", allowEmpty: true, default: c.gitKnownHosts)
        c.allowTokenOverHTTP = try root.bool("allow_token_over_http", default: c.allowTokenOverHTTP)
        c.secretEnv = try root.strings("secret_env", default: c.secretEnv)
        c.serviceManager = try root.choice("service_manager", ["systemd", "supervisor"], default: c.serviceManager)
        if let build = try root.section("build") {
            try build.allowOnly(["command", "timeout_seconds"])
            c.build.command = try build.string("command", default: c.build.command)
            c.build.timeoutSeconds = try build.int("timeout_seconds", in: 10...86_400, default: c.build.timeoutSeconds)
        }
        if let checks = try root.section("checks") {
            try checks.allowOnly(["skew_seconds", "report_tolerance", "smoke_commands"])
            c.checks.skewSeconds = try checks.int("skew_seconds", in: 0...3600, default: c.checks.skewSeconds)
            c.checks.reportTolerance = try checks.number(
                "report_tolerance", in: 0...1_000_000, default: c.checks.reportTolerance)
            c.checks.smokeCommands = try checks.strings("smoke_commands", default: c.checks.smokeCommands)
        }
        if let probation = try root.section("probation") {
            try probation.allowOnly(["healthy_cycles", "timeout_seconds", "start_grace_seconds"])
            c.probation.healthyCycles = try probation.int(
                "healthy_cycles", in: 1...1000, default: c.probation.healthyCycles)
            c.probation.timeoutSeconds = try probation.int(
                "timeout_seconds", in: 5...86_400, default: c.probation.timeoutSeconds)
            c.probation.startGraceSeconds = try probation.int(
                "start_grace_seconds", in: 2...3600, default: c.probation.startGraceSeconds)
        }
        if let watchdog = try root.section("watchdog") {
            try watchdog.allowOnly([
                "stall_cycles", "max_restarts_per_hour", "max_rollbacks_per_hour", "error_burst", "alert_webhook_env",
                "supervised", "interval_seconds", "trading_stall_cycles", "alert_format", "telegram_chat_id_env",
                "alert_cooldown_seconds", "recovery_seconds", "heartbeat_url_env", "min_free_disk_mb",
            ])
            var w = c.watchdog
            w.stallCycles = try watchdog.int("stall_cycles", in: 1...100, default: w.stallCycles)
            w.maxRestartsPerHour = try watchdog.int("max_restarts_per_hour", in: 0...100, default: w.maxRestartsPerHour)
            w.maxRollbacksPerHour = try watchdog.int(
                "max_rollbacks_per_hour", in: 0...100, default: w.maxRollbacksPerHour)
            w.errorBurst = try watchdog.int("error_burst", in: 1...100_000, default: w.errorBurst)
            w.alertWebhookEnv = try watchdog.string("alert_webhook_env", default: w.alertWebhookEnv)
            w.supervised = try watchdog.bool("supervised", default: w.supervised)
            w.intervalSeconds = try watchdog.int("interval_seconds", in: 5...3600, default: w.intervalSeconds)
            w.tradingStallCycles = try watchdog.int(
                "trading_stall_cycles", in: 2...10_000, default: w.tradingStallCycles)
            w.alertFormat = try watchdog.choice(
                "alert_format", ["auto", "generic", "telegram", "discord", "slack"], default: w.alertFormat)
            w.telegramChatEnv = try watchdog.string("telegram_chat_id_env", default: w.telegramChatEnv)
            w.alertCooldownSeconds = try watchdog.int(
                "alert_cooldown_seconds", in: 0...604_800, default: w.alertCooldownSeconds)
            w.recoverySeconds = try watchdog.int("recovery_seconds", in: 0...86_400, default: w.recoverySeconds)
            w.heartbeatURLEnv = try watchdog.string("heartbeat_url_env", default: w.heartbeatURLEnv)
            w.minFreeDiskMB = try watchdog.int("min_free_disk_mb", in: 0...1_000_000, default: w.minFreeDiskMB)
            c.watchdog = w
        }
        if let dashboard = try root.section("dashboard") {
            try dashboard.allowOnly(["supervised", "probe"])
            c.dashboard.supervised = try dashboard.bool("supervised", default: c.dashboard.supervised)
            c.dashboard.probe = try dashboard.bool("probe", default: c.dashboard.probe)
        }
        if let diff = try root.section("decision_diff") {
            try diff.allowOnly([
                "mode", "hours", "entry_ratio_min", "entry_ratio_max", "exit_ratio_min", "exit_ratio_max",
                "max_changed_entry_share", "min_aa_hours", "timeout_seconds",
            ])
            var d = c.decisionDiff
            d.mode = try diff.choice("mode", ["block", "report"], default: d.mode)
            d.hours = try diff.number("hours", in: 0.1...720, default: d.hours)
            d.entryRatioMin = try diff.number("entry_ratio_min", in: 0...1, default: d.entryRatioMin)
            d.entryRatioMax = try diff.number("entry_ratio_max", in: 1...1000, default: d.entryRatioMax)
            d.exitRatioMin = try diff.number("exit_ratio_min", in: 0...1, default: d.exitRatioMin)
            d.exitRatioMax = try diff.number("exit_ratio_max", in: 1...1000, default: d.exitRatioMax)
            d.maxChangedEntryShare = try diff.number(
                "max_changed_entry_share", in: 0...1000, default: d.maxChangedEntryShare)
            d.minAAHours = try diff.number("min_aa_hours", in: 0...720, default: d.minAAHours)
            d.timeoutSeconds = try diff.int("timeout_seconds", in: 10...86_400, default: d.timeoutSeconds)
            c.decisionDiff = d
        }
        return c
    }
}
