import CurlKit
import Foundation
import TradingCore
import TradingStore

/// One message to the operator: what happened, where, what the watchdog did, and the one
/// command to run next.
public struct Alert: Sendable, Equatable {
    public enum Kind: String, Sendable { case fault, recovery, event, test }

    public var kind: Kind
    /// What the cooldown counts by: a verdict, an event, a release.
    public var key: String
    public var headline: String
    public var what: String
    public var home: String
    public var release: String?
    public var action: String
    public var next: String
    public var at: Instant
    /// Who acted: the watchdog, or the release or rollback that went back.
    public var by = "watchdog"

    public init(
        kind: Kind, key: String, headline: String, what: String, home: String, release: String?, action: String,
        next: String, at: Instant
    ) {
        self.kind = kind
        self.key = key
        self.headline = headline
        self.what = what
        self.home = home
        self.release = release
        self.action = action
        self.next = next
        self.at = at
    }

    public var text: String {
        """
        [tradingbot] \(headline) on \(Alert.hostname):\(home)
        What happened: \(what)
        Release: \(release ?? "none (no live slot)")
        The \(by) did: \(action)
        Next: \(next)
        At: \(at.iso8601)
        """
    }

    static let hostname: String = ProcessInfo.processInfo.hostName

    public var json: JSONValue {
        [
            "kind": .string(kind.rawValue), "key": .string(key), "headline": .string(headline), "what": .string(what),
            "home": .string(home), "host": .string(Alert.hostname), "release": release.map { .string($0) } ?? .null,
            "action": .string(action), "next": .string(next), "at": .string(at.iso8601), "text": .string(text),
            "by": .string(by),
        ]
    }

    /// Its line in logs/watchdog.jsonl: what was sent, never the URL.
    func logFields(sent: Bool, result: String) -> [JSONField] {
        [
            JSONField("alert", .string(key)), JSONField("kind", .string(kind.rawValue)),
            JSONField("headline", .string(headline)), JSONField("sent", .bool(sent)),
            JSONField("result", .string(result)), JSONField("by", .string(by)),
        ]
    }

    /// An alert kept in state/watchdog.json to be retried.
    static func parse(_ value: JSONValue) -> Alert? {
        guard let o = value.objectValue, let kind = o["kind"]?.stringValue.flatMap(Kind.init(rawValue:)),
            let instant = o["at"]?.instantValue
        else { return nil }
        func text(_ key: String) -> String { o[key]?.stringValue ?? "" }
        var alert = Alert(
            kind: kind, key: text("key"), headline: text("headline"), what: text("what"), home: text("home"),
            release: o["release"]?.stringValue, action: text("action"), next: text("next"), at: instant)
        alert.by = o["by"]?.stringValue ?? "watchdog"
        return alert
    }
}

/// The webhook's message shapes.
public enum AlertFormat: String, Sendable {
    case generic, telegram, discord, slack

    /// `auto` picks the shape from the URL's host; anything unknown gets the generic JSON.
    public static func resolve(_ configured: String, url: String) -> AlertFormat {
        if let format = AlertFormat(rawValue: configured) { return format }
        let host = URLComponents(string: url)?.host?.lowercased() ?? ""
        if host == "api.telegram.org" { return .telegram }
        if host.hasSuffix("discord.com") || host.hasSuffix("discordapp.com") { return .discord }
        if host.hasSuffix("hooks.slack.com") { return .slack }
        return .generic
    }

    /// The request body for `alert`; `chatID` is Telegram's.
    public func body(_ alert: Alert, chatID: String?) -> JSONValue {
        switch self {
        case .generic: return alert.json
        case .slack: return ["text": .string(alert.text)]
        // Discord refuses content over 2000 characters, Telegram over 4096.
        case .discord: return ["content": .string(String(alert.text.prefix(1990)))]
        case .telegram:
            var o = JSONObject([JSONField("text", .string(String(alert.text.prefix(4000))))])
            if let chatID { o["chat_id"] = .string(chatID) }
            return .object(o)
        }
    }
}

/// Why an alert was not delivered, worded for the operator; never holds the URL (it carries
/// the hook's token).
public enum AlertFailure: Error, CustomStringConvertible, Sendable {
    case notConfigured(variable: String, secrets: String)
    case unreadableSecrets(String)
    case noChatID(variable: String)
    case http(HTTPError)
    case rejected(target: String, status: Int, answer: String)

    public var description: String {
        switch self {
        case .notConfigured(let variable, let secrets):
            "no alert webhook: set \(variable) in the environment or in \(secrets) (mode 0600)"
        case .unreadableSecrets(let why): why
        case .noChatID(let variable):
            "a Telegram webhook needs the chat id: set \(variable) (or put chat_id=… in the URL's query)"
        case .http(let error): "\(error)"
        case .rejected(let target, let status, let answer):
            "\(target) answered HTTP \(status)" + (answer.isEmpty ? "" : ": \(answer)")
        }
    }

    /// The hook refuses for good (deleted, wrong token or chat id): retrying cannot help.
    /// Timeouts (408) and rate limits (429) pass.
    public var isPermanent: Bool {
        if case .rejected(_, let status, _) = self {
            return (400..<500).contains(status) && status != 408 && status != 429
        }
        return false
    }
}

/// What a hook answered, fit for a log: at most 200 characters, and without any part of the URL
/// (a server may echo the path, which holds the token).
func scrubbed(_ answer: String, url: String) -> String {
    var text = String(answer.prefix(400))
    var secrets: [String] = []
    if let parts = URLComponents(string: url) {
        secrets += parts.path.split(separator: "/").map(String.init)
        secrets += (parts.queryItems ?? []).compactMap(\.value)
        // The host's labels before its last two (a host that is itself a secret).
        secrets += (parts.host ?? "").split(separator: ".").dropLast(2).map(String.init)
        if let user = parts.user { secrets.append(user) }
        if let password = parts.password { secrets.append(password) }
    }
    for secret in secrets.filter({ $0.count >= 4 }).sorted(by: { $0.count > $1.count }) {
        text = text.replacingOccurrences(of: secret, with: "…")
    }
    return String(text.prefix(200)).replacingOccurrences(of: "\n", with: " ")
}

/// Sends alerts and dead-man's-switch pings. The URLs come from the variables deploy.json
/// names, in the environment or the home's secrets.env, and are read at each send.
public struct AlertSender: Sendable {
    let home: Home
    let config: DeployConfig
    let environment: [String: String]

    public init(home: Home, config: DeployConfig, environment: [String: String]) {
        self.home = home
        self.config = config
        self.environment = environment
    }

    var secretsPath: String { home.root + "/config/secrets.env" }
    func value(_ name: String) -> String? { SecretsFile.value(name, home: home, environment: environment) }

    /// Where the webhook stands: set, absent, or in a secrets.env this process cannot read (then
    /// alerts wait rather than being dropped as "not configured").
    public enum WebhookState: Equatable { case configured, absent, unreadable(String) }

    public var webhookState: WebhookState {
        let name = config.watchdog.alertWebhookEnv
        if let value = environment[name], !value.isEmpty { return .configured }
        guard FileIO.exists(secretsPath) else { return .absent }
        do {
            return try SecretsFile.read(secretsPath)[name].map { $0.isEmpty ? .absent : .configured } ?? .absent
        } catch {
            return .unreadable(
                "\(secretsPath) cannot be read (\(error)); it must belong to the service user, mode 0600")
        }
    }

    /// Delivers `alert`; returns what was done ("sent to the discord webhook https://discord.com/…: HTTP 204").
    public func send(_ alert: Alert) -> Result<String, AlertFailure> {
        if case .unreadable(let why) = webhookState { return .failure(.unreadableSecrets(why)) }
        guard let url = value(config.watchdog.alertWebhookEnv) else {
            return .failure(.notConfigured(variable: config.watchdog.alertWebhookEnv, secrets: secretsPath))
        }
        let format = AlertFormat.resolve(config.watchdog.alertFormat, url: url)
        let chatID = value(config.watchdog.telegramChatEnv)
        if format == .telegram, chatID == nil, !url.contains("chat_id=") {
            return .failure(.noChatID(variable: config.watchdog.telegramChatEnv))
        }
        let body = format.body(alert, chatID: chatID).serialized()
        let request = HTTPRequest.postJSON(url, Array(body.utf8), timeoutSeconds: 10)
        return exchange(request).map { "sent to the \(format.rawValue) webhook \(request.redactedURL): HTTP \($0)" }
    }

    /// Pings the dead-man's-switch URL, when one is set; nil when none is.
    public func ping() -> Result<String, AlertFailure>? {
        guard let url = value(config.watchdog.heartbeatURLEnv) else { return nil }
        let request = HTTPRequest(url: url, timeoutSeconds: 5, maxResponseBytes: 64 << 10)
        return exchange(request).map { "pinged \(request.redactedURL): HTTP \($0)" }
    }

    /// Sends `request`; a 2xx status is success, anything else a failure naming only the host.
    func exchange(_ request: HTTPRequest) -> Result<Int, AlertFailure> {
        do {
            let response = try HTTPClient.send(request)
            guard response.isSuccess else {
                return .failure(
                    .rejected(
                        target: request.redactedURL, status: response.status,
                        answer: scrubbed(response.text, url: request.url)))
            }
            return .success(response.status)
        } catch {
            return .failure(.http(error))
        }
    }
}
