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
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [Fixtures.repoRoot + "/Tests/Support/scripts/webhook-server.py", directory]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        var found: Int?
        while Date() < deadline {
            if let text = try? String(contentsOfFile: directory + "/port", encoding: .utf8), let p = Int(text) {
                found = p
                break
            }
            usleep(50_000)
        }
        guard let found else {
            kill(process.processIdentifier, SIGKILL)
            throw FixtureError("the webhook server did not start in 30 s")
        }
        port = found
    }

    deinit { stop() }

    public func stop() {
        // SIGKILL: a runner that ignores SIGTERM passes that on to its children.
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// `http://127.0.0.1:PORT` + `path`.
    public func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// The status the next requests are answered with.
    public func answer(_ status: Int) throws { try Fixtures.write("\(status)", to: directory + "/status") }

    public func requests() -> [Request] {
        let text = (try? String(contentsOfFile: directory + "/requests.jsonl", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard let o = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
                return nil
            }
            return Request(
                method: o["method"] as? String ?? "", path: o["path"] as? String ?? "", body: o["body"] as? String ?? ""
            )
        }
    }
}
