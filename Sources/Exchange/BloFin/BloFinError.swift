import CurlKit

/// What went wrong talking to BloFin, in the operator's words. Never holds a secret: messages
/// name the endpoint path, not the URL's host or any header.
public enum BloFinError: Error, CustomStringConvertible, Sendable {
    /// BloFin answered with a non-zero code (HTTP 200 or not).
    case api(endpoint: String, code: String, message: String)
    /// HTTP 429: BloFin's rate limit.
    case rateLimited(endpoint: String)
    /// HTTP 403: BloFin's firewall banned this address for a while.
    case banned(endpoint: String)
    /// Any other HTTP failure status.
    case http(endpoint: String, status: Int)
    /// No answer: connection refused, DNS, timeout.
    case transport(endpoint: String, message: String, timedOut: Bool)
    /// The answer is not what BloFin documents.
    case malformed(endpoint: String, why: String)
    /// One order of a request was refused (its item carries a non-zero code).
    case orderRejected(symbol: String, code: String, message: String)
    /// An order was sent and neither its answer nor a lookup by its client order id says what
    /// happened: nothing is resent; the next reconciliation finds it.
    case orderUnknown(symbol: String, clientOrderId: String, why: String)
    /// The client's own limiter would pass BloFin's limit.
    case locallyThrottled(endpoint: String, waitSeconds: Double)

    /// Worth another attempt for a request that changes nothing (a GET).
    public var isTransient: Bool {
        switch self {
        case .rateLimited, .transport, .malformed: true
        case .http(_, let status): status >= 500
        default: false
        }
    }

    /// What a code means and what to do, for the codes an operator can fix.
    public static func explain(code: String) -> String? {
        switch code {
        case "152405":
            "the request's timestamp is more than 60 s off BloFin's clock: set this server's clock (timedatectl set-ntp true)"
        case "152406":
            "this server's IP address is not on the API key's whitelist: add it to the key at blofin.com (API management)"
        case "152407": "a request nonce was reused: BloFin refused it as a replay"
        case "152408": "the passphrase is wrong: check BLOFIN_PASSPHRASE against the one set when the key was made"
        case "152409":
            "the signature is wrong: check BLOFIN_API_SECRET (and that BLOFIN_API_KEY is the key it belongs to)"
        case "152401", "152402", "152403", "152404":
            "the API key is not accepted: check BLOFIN_API_KEY (it may have expired or been deleted)"
        default: nil
        }
    }

    public var description: String {
        switch self {
        case .api(let endpoint, let code, let message):
            if let why = Self.explain(code: code) { return "\(endpoint): \(why) (BloFin code \(code))" }
            return "\(endpoint): BloFin refused the request: \(message.isEmpty ? "no message" : message) (code \(code))"
        case .rateLimited(let endpoint):
            return "\(endpoint): rate limited by BloFin (HTTP 429): too many requests from this address; wait a minute"
        case .banned(let endpoint):
            return
                "\(endpoint): banned by BloFin's firewall (HTTP 403), usually for too many requests: wait five minutes before trying again"
        case .http(let endpoint, let status): return "\(endpoint): BloFin answered HTTP \(status)"
        case .transport(let endpoint, let message, _): return "\(endpoint): no answer from BloFin: \(message)"
        case .malformed(let endpoint, let why):
            return "\(endpoint): BloFin's answer is not in its documented format: \(why)"
        case .orderRejected(let symbol, let code, let message):
            return "order for \(symbol) refused by BloFin: \(Self.explain(code: code) ?? message) (code \(code))"
        case .orderUnknown(let symbol, let id, let why):
            return
                "order for \(symbol) (client order id \(id)) has an unknown outcome: \(why); it is not resent, and the next reconciliation with the exchange books what happened"
        case .locallyThrottled(let endpoint, let wait):
            return "\(endpoint): held back by the client's own rate limit (next slot in \(Int(wait.rounded(.up))) s)"
        }
    }
}
