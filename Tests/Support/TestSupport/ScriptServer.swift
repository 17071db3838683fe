import Foundation

/// A Python server from Tests/Support/scripts, started on a free port it writes to DIR/port.
public struct ScriptServer: @unchecked Sendable {
    public let process: Process
    public let port: Int

    init(process: Process, port: Int) {
        self.process = process
        self.port = port
    }

    public init(script: String, directory: String) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [Fixtures.repoRoot + "/Tests/Support/scripts/" + script, directory]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        var found: Int?
        while Date() < deadline, process.isRunning {
            if let text = try? String(contentsOfFile: directory + "/port", encoding: .utf8), let p = Int(text) {
                found = p
                break
            }
            usleep(50_000)
        }
        guard let found else {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            throw FixtureError("\(script) did not start in 30 s")
        }
        port = found
    }

    /// SIGKILL: a runner that ignores SIGTERM passes that on to its children.
    public func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// The JSON objects of a JSON-lines file the server writes (empty when absent).
    public static func jsonLines(_ path: String) -> [[String: Any]] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
    }
}
