import Foundation
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// `tradingbot dashboard --port 0` started as the operator does; its port is the one it prints.
final class DashboardProcess {
    let process = Process()
    let firstLine: String
    let port: Int

    init(home: String, _ extra: [String] = []) throws {
        process.executableURL = URL(fileURLWithPath: CommandRunner.path("tradingbot"))
        process.arguments = ["dashboard", "--home", home, "--port", "0"] + extra
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "TRADINGBOT_DASHBOARD_PASSWORD_HASH")
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        // The first line says where it listens (generous: a busy machine starts slowly).
        var line = ""
        let deadline = Date().addingTimeInterval(120)
        while !line.contains("\n") && Date() < deadline {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line += String(decoding: chunk, as: UTF8.self)
        }
        firstLine = line.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let port = firstLine.split(separator: ":").last.flatMap({ Int($0) }) else {
            process.terminate()
            throw FixtureError("the dashboard did not say where it listens: \(line)")
        }
        self.port = port
    }

    deinit { if process.isRunning { process.terminate() } }

    /// SIGTERM, then waits (generously) for it to end; whether it ended and its exit status.
    func stop() -> (ended: Bool, status: Int32) {
        process.terminate()
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        return process.isRunning ? (false, -1) : (process.terminationReason == .exit, process.terminationStatus)
    }
}
