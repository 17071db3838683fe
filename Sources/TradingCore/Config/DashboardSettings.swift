/// bot.json's `dashboard` section: where the dashboard listens and how long a login lasts. The
/// command line's `--bind` and `--port` override it.
public struct DashboardSettings: Sendable, Equatable {
    /// Loopback by default: the dashboard shows account data, and without a password hash it
    /// refuses any other address.
    public var bind = "127.0.0.1"
    public var port = 8050
    public var sessionHours = 12.0
    /// Mark the session cookie `Secure`: set when a TLS proxy sits in front.
    public var secureCookies = false
    /// Host names the dashboard answers to besides loopback and its bind address (the name a
    /// proxy or the operator's browser uses): any other Host header is refused, so a web page
    /// that rebinds its own name to 127.0.0.1 cannot reach it.
    public var allowedHosts: [String] = []

    public init() {}

    static let keys = ["bind", "port", "session_hours", "secure_cookies", "allowed_hosts"]

    static func parse(_ section: ConfigSection) throws(ConfigError) -> DashboardSettings {
        try section.allowOnly(keys)
        var d = DashboardSettings()
        d.bind = try section.string("bind", default: d.bind)
        d.port = try section.int("port", in: 0...65_535, default: d.port)
        d.sessionHours = try section.number("session_hours", in: 0.01...720, default: d.sessionHours)
        d.secureCookies = try section.bool("secure_cookies", default: d.secureCookies)
        d.allowedHosts = try section.strings("allowed_hosts", default: d.allowedHosts)
        return d
    }
}
