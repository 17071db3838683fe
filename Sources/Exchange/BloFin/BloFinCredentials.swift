import Foundation
import OpenSSLKit

/// The API key, secret and passphrase. They come from the environment or the home's 0600
/// config/secrets.env (the command line resolves them); printing this value never shows them.
public struct BloFinCredentials: Sendable, CustomStringConvertible {
    /// The names of the key, the secret and the passphrase, in that order.
    public static let variables = ["BLOFIN_API_KEY", "BLOFIN_API_SECRET", "BLOFIN_PASSPHRASE"]
    /// Points the client at another host (a local test server, the demo host).
    public static let baseURLVariable = "BLOFIN_BASE_URL"

    let key: String
    let secret: String
    let passphrase: String

    public init(key: String, secret: String, passphrase: String) {
        self.key = key
        self.secret = secret
        self.passphrase = passphrase
    }

    /// The credentials from `lookup` (environment, then secrets file), or the names missing.
    public static func resolve(_ lookup: (String) -> String?) -> Result<BloFinCredentials, MissingCredentials> {
        let values = variables.map { lookup($0) ?? "" }
        let missing = zip(variables, values).filter { $0.1.isEmpty }.map(\.0)
        guard missing.isEmpty else { return .failure(MissingCredentials(names: missing)) }
        return .success(BloFinCredentials(key: values[0], secret: values[1], passphrase: values[2]))
    }

    public var description: String { "BloFin credentials (hidden)" }

    /// The request headers of a signed call.
    func headers(path: String, method: String, timestampMs: Int64, nonce: String, body: String) -> [String] {
        let timestamp = String(timestampMs)
        let sign = BloFinSigner.sign(
            secret: secret,
            prehash: BloFinSigner.prehash(
                path: path, method: method, timestamp: timestamp, nonce: nonce, body: body))
        return [
            "ACCESS-KEY: \(key)", "ACCESS-SIGN: \(sign)", "ACCESS-TIMESTAMP: \(timestamp)", "ACCESS-NONCE: \(nonce)",
            "ACCESS-PASSPHRASE: \(passphrase)",
        ]
    }
}

/// Keys the environment and the secrets file both lack.
public struct MissingCredentials: Error, CustomStringConvertible {
    public var names: [String]
    public var description: String {
        "no BloFin API keys: set \(names.joined(separator: ", ")) in the environment or in HOME/config/secrets.env (mode 0600)"
    }
}

/// BloFin's request signature: base64 of the lowercase hex text of HMAC-SHA256(secret, prehash),
/// where prehash = path (with the query for a GET) + METHOD + timestamp (ms) + nonce + body.
public enum BloFinSigner {
    public static func prehash(path: String, method: String, timestamp: String, nonce: String, body: String)
        -> String
    {
        path + method.uppercased() + timestamp + nonce + body
    }

    /// 88 characters: base64 of 64 hex characters.
    public static func sign(secret: String, prehash: String) -> String {
        let hex = HMACSHA256.hex(key: Array(secret.utf8), message: Array(prehash.utf8))
        return Data(hex.utf8).base64EncodedString()
    }
}
