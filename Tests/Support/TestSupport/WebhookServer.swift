import Foundation

/// A real HTTP server for the alert tests (Tests/Support/scripts/webhook-server.py): it records
/// each request and answers with the status the test sets.
public final class WebhookServer: @unchecked Sendable {
    public let directory: String
    public let port: Int
    let process: Process

    public struct Request: Sendable {
        public var method: String
        public var path: String
        public var body: String
        /// The body parsed as a JSON object ([:] when it is not one).
        public var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
        }
    }

    public init() throws {
        directory = try Fixtures.temporaryDirectory("webhook")
        let server = try ScriptServer(script: "webhook-server.py", directory: directory)
        process = server.process
        port = server.port
    }

    deinit { stop() }

    public func stop() { ScriptServer(process: process, port: port).stop() }

    /// `http://127.0.0.1:PORT` + `path`.
    public func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// The status the next requests are answered with.
    public func answer(_ status: Int) throws { try Fixtures.write("\(status)", to: directory + "/status") }

    public func requests() -> [Request] {
        ScriptServer.jsonLines(directory + "/requests.jsonl").map { o in
            Request(
                method: o["method"] as? String ?? "", path: o["path"] as? String ?? "", body: o["body"] as? String ?? ""
            )
        }
    }
}
