import Foundation
import TestSupport

/// Runs the built executables as the operator would and captures what they print.
struct CommandRunner {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String

        /// stdout parsed as one JSON object.
        func json() throws -> [String: Any] {
            guard let object = try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any] else {
                throw FixtureError("stdout is not a JSON object: \(stdout)")
            }
            return object
        }
    }

    /// The folder holding the built products (the test bundle's own folder).
    static let productsDir: String = {
        let exe =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().path
    }()

    static func path(_ product: String) -> String { productsDir + "/" + product }

    static func run(
        _ product: String, _ arguments: [String], environment: [String: String] = [:], cwd: String? = nil,
        stdin: String? = nil
    ) throws -> Output {
        try execute(path(product), arguments, environment: environment, cwd: cwd, stdin: stdin)
    }

    /// The test helper `Tests/Support/python_bot_files.py`, run by the system's python3.
    static func python(_ arguments: [String]) throws -> Output {
        try execute("/usr/bin/env", ["python3", Fixtures.repoRoot + "/Tests/Support/python_bot_files.py"] + arguments)
    }

    static func execute(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], cwd: String? = nil,
        stdin: String? = nil
    ) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "TRADINGBOT_HOME")
        for (k, v) in environment { env[k] = v }
        process.environment = env
        if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let input = Pipe()
        if stdin != nil { process.standardInput = input }
        try process.run()
        if let stdin {
            input.fileHandleForWriting.write(Data(stdin.utf8))
            try input.fileHandleForWriting.close()
        }
        // Drain stderr on another thread so a chatty child cannot block on a full pipe.
        let errBox = DataBox()
        let reader = Thread {
            errBox.data = err.fileHandleForReading.readDataToEndOfFile(); errBox.done.signal()
        }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        errBox.done.wait()
        let errText = errBox.data
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errText, as: UTF8.self))
    }

    /// A home with the committed config and the positions sample (Tests/Fixtures).
    static func makeHome(botConfig: String? = nil) throws -> String {
        let root = try Fixtures.temporaryDirectory("home")
        for dir in ["config", "logs", "state", "data"] {
            try FileManager.default.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true)
        }
        for name in ["bot.json", "asset_universe.json", "deploy.json"] {
            try FileManager.default.copyItem(
                atPath: Fixtures.repoRoot + "/config/" + name, toPath: root + "/config/" + name)
        }
        if let botConfig {
            try FileManager.default.removeItem(atPath: root + "/config/bot.json")
            try Fixtures.write(botConfig, to: root + "/config/bot.json")
        }
        try FileManager.default.copyItem(
            atPath: Fixtures.samplePositions, toPath: root + "/logs/positions_futures.json")
        return root
    }

    /// `tradingbot run --home HOME EXTRA` in the background. Its stdout and stderr go to
    /// `JOURNAL/engine.out` and `.err` (files, as under supervisord), or nowhere when nil.
    static func startEngine(home: String, _ extra: [String] = [], journal: String? = nil) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path("tradingbot"))
        process.arguments = ["run", "--home", home] + extra
        if let journal {
            for name in ["engine.out", "engine.err"] {
                FileManager.default.createFile(atPath: journal + "/" + name, contents: nil)
            }
            process.standardOutput = FileHandle(forWritingAtPath: journal + "/engine.out")
            process.standardError = FileHandle(forWritingAtPath: journal + "/engine.err")
        } else {
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        return process
    }

    static func botConfig(resetAt: String) -> String {
        "{\"wallet_reset\": {\"at\": \"\(resetAt)\", \"starting_capital\": 10000}}"
    }
}

final class DataBox: @unchecked Sendable {
    // Written by the reader thread before `done` is signalled, read after the wait.
    var data = Data()
    let done = DispatchSemaphore(value: 0)
}
