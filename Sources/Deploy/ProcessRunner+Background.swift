import Foundation
import TradingCore
import TradingStore

#if canImport(Glibc)
    import Glibc
#endif

extension ProcessRunner {
    /// A child left running while deployctl probes it (a candidate's dashboard), with the same
    /// guarantees as `run`: its own process group, no secrets in its environment, output in a
    /// private file, and written down for `endLeftovers` should deployctl be killed meanwhile.
    public final class Background {
        public let pid: pid_t
        let executable: String
        let outputFile: String
        let tracking: String?
        private var status: Int32?
        private var stoppedOutput: String?

        init(pid: pid_t, executable: String, outputFile: String, tracking: String?) {
            self.pid = pid
            self.executable = executable
            self.outputFile = outputFile
            self.tracking = tracking
        }

        public var output: String { (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? "" }

        /// The exit code once it has ended (128 + signal when killed), else nil. A process whose
        /// end cannot be learned (waitpid failed) reads as ended with -1, never as a success.
        public func exitCode() -> Int32? {
            if status == nil {
                var raw: Int32 = 0
                do {
                    if try ProcessRunner.reap(pid, &raw, executable) { status = raw }
                } catch {
                    status = -1
                }
            }
            guard let status else { return nil }
            if status == -1 { return -1 }
            return ProcessRunner.exitCode(status)
        }

        /// SIGTERM to its group, SIGKILL after `grace` seconds; returns its output. Safe to call twice.
        @discardableResult
        public func stop(grace: Double = 5) -> String {
            if let stoppedOutput { return stoppedOutput }
            if exitCode() == nil {
                ProcessRunner.signalGroup(pid, SIGTERM)
                let deadline = Date().addingTimeInterval(grace)
                while exitCode() == nil && Date() < deadline { usleep(20_000) }
                if exitCode() == nil {
                    // Its whole group, while the leader still holds the group's number.
                    ProcessRunner.signalGroup(pid, SIGKILL)
                    while exitCode() == nil { usleep(20_000) }
                }
            }
            if runningGroup == pid { runningGroup = 0 }
            let text = output
            stoppedOutput = text
            try? FileManager.default.removeItem(atPath: outputFile)
            if let tracking { unlink(tracking) }
            return text
        }
    }

    /// Starts `executable` and returns at once; the caller must `stop()` it.
    public static func start(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:],
        without secrets: [String] = SecretNames.standard, tracking: String? = nil
    ) throws -> Background {
        let outputFile = NSTemporaryDirectory() + "deployctl-\(UUID().uuidString).out"
        let fd = try openOutput(outputFile)
        defer { close(fd) }
        var env = childEnvironment(without: secrets, adding: environment)
        let mark = UUID().uuidString
        if tracking != nil { env[runMark] = mark }
        if let tracking { try? FileIO.writeAtomically(tracking, Array("run \(mark) \(executable)\n".utf8)) }
        let pid = try spawn(executable, arguments, directory: nil, environment: env, output: fd)
        // Ctrl-C or a stop of deployctl ends this child's group too, as it does a `run`'s.
        runningGroup = pid
        return Background(pid: pid, executable: executable, outputFile: outputFile, tracking: tracking)
    }
}
