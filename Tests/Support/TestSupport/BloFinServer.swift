import Foundation

/// A local server speaking BloFin's documented REST format (Tests/Support/scripts/blofin-server.py):
/// it checks each signed request's signature with Python's own hmac, its timestamp window and its
/// nonce, keeps a demo account's orders and positions, and injects the faults a test asks for.
public final class BloFinServer: @unchecked Sendable {
    public static let key = "test-key-0001"
    public static let secret = "test-secret-not-real"
    public static let passphrase = "test-passphrase"

    public let directory: String
    let server: ScriptServer
    public var port: Int { server.port }
    public var baseURL: String { "http://127.0.0.1:\(server.port)" }

    public struct Request: Sendable {
        public var method: String
        public var path: String
        public var body: String
        public var signed: Bool
        /// The server's verdict on the signature checks: "0" passed, else BloFin's code.
        public var code: String
        public var nonce: String?
        public var signLength: Int
    }

    public init(symbols: Int = 3, clockSkewMs: Int = 0) throws {
        directory = try Fixtures.temporaryDirectory("blofin")
        let config: [String: Any] = [
            "key": Self.key, "secret": Self.secret, "passphrase": Self.passphrase, "symbols": symbols,
            "clock_skew_ms": clockSkewMs,
        ]
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: directory + "/config.json"))
        server = try ScriptServer(script: "blofin-server.py", directory: directory)
    }

    deinit { server.stop() }

    /// Stops answering (the port then refuses connections).
    public func stop() { server.stop() }

    /// Faults the next matching requests meet (each rule: path, kind, times, ...).
    public func inject(_ rules: [[String: Any]]) throws {
        let data = try JSONSerialization.data(withJSONObject: rules)
        try data.write(to: URL(fileURLWithPath: directory + "/faults.json.tmp"))
        rename(directory + "/faults.json.tmp", directory + "/faults.json")
    }

    public func requests() -> [Request] {
        ScriptServer.jsonLines(directory + "/requests.jsonl").map { o in
            Request(
                method: o["method"] as? String ?? "", path: o["path"] as? String ?? "",
                body: o["body"] as? String ?? "",
                signed: o["signed"] as? Bool ?? false, code: o["code"] as? String ?? "", nonce: o["nonce"] as? String,
                signLength: o["sign_length"] as? Int ?? 0)
        }
    }

    /// A test control (unsigned): /test/trigger-stop, /test/open-position, /test/state.
    @discardableResult
    public func control(_ path: String, _ body: [String: Any] = [:]) throws -> [String: Any] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        let script = """
            import json, sys, urllib.request
            req = urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(), method="POST")
            try:
                print(urllib.request.urlopen(req, timeout=20).read().decode())
            except urllib.error.HTTPError as e:
                print(json.dumps({"http_error": e.code}))
            """
        let payload = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
        process.arguments = ["-c", script, baseURL + path, payload]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (try JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }

    /// The orders the account took, oldest first.
    public func orders() throws -> [[String: Any]] {
        try control("/test/state")["orders"] as? [[String: Any]] ?? []
    }

    public func positions() throws -> [String: [String: Any]] {
        try control("/test/state")["positions"] as? [String: [String: Any]] ?? [:]
    }
}
