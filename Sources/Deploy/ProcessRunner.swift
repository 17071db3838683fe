import Foundation
import TradingStore

#if canImport(Glibc)
    import Glibc
#endif

/// Runs a command to completion with a timeout, its output going to a log file (or captured).
public enum ProcessRunner {
    public struct Outcome: Sendable {
        public var status: Int32
        public var timedOut: Bool
        public var output: String
        public var seconds: Double
    }

    /// Runs `/bin/sh -c command` in `directory`. Output goes to `log` when given (appended) and is
    /// returned only as its last lines; otherwise it is captured whole.
    public static func shell(
        _ command: String, in directory: String, environment: [String: String] = [:], timeout: Double,
        log: String? = nil
    ) throws -> Outcome {
        try run("/bin/sh", ["-c", command], in: directory, environment: environment, timeout: timeout, log: log)
    }

    public static func run(
        _ executable: String, _ arguments: [String], in directory: String? = nil, environment: [String: String] = [:],
        timeout: Double, log: String? = nil
    ) throws -> Outcome {
        let started = Date()
        let outputFile = log ?? (NSTemporaryDirectory() + "deployctl-\(UUID().uuidString).out")
        let fd = open(outputFile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError(path: outputFile, message: "cannot open the output log") }
        defer { close(fd) }
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        let pid = try spawn(executable, arguments, directory: directory, environment: env, output: fd)
        // waitpid, not Foundation's Process: a daemonizing child (supervisord) hands its
        // descriptors to a grandchild, and Process would wait for that grandchild for ever.
        var status: Int32 = 0
        var timedOut = false
        let deadline = Date().addingTimeInterval(timeout)
        while waitpid(pid, &status, WNOHANG) == 0 {
            if Date() >= deadline {
                timedOut = true
                kill(pid, SIGTERM)
                let grace = Date().addingTimeInterval(5)
                while waitpid(pid, &status, WNOHANG) == 0 {
                    if Date() >= grace {
                        kill(pid, SIGKILL)
                        waitpid(pid, &status, 0)
                        break
                    }
                    usleep(20_000)
                }
                break
            }
            usleep(5_000)
        }
        let exitCode: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let text = (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? ""
        if log == nil { try? FileManager.default.removeItem(atPath: outputFile) }
        return Outcome(
            status: timedOut ? -1 : exitCode, timedOut: timedOut, output: log == nil ? text : lastLines(text, 20),
            seconds: Date().timeIntervalSince(started))
    }

    /// posix_spawn with stdout and stderr on `output`, stdin from /dev/null, in `directory`.
    static func spawn(
        _ executable: String, _ arguments: [String], directory: String?, environment: [String: String], output: Int32
    ) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, output, 1)
        posix_spawn_file_actions_adddup2(&actions, output, 2)
        // Change directory through the shell (posix_spawn_file_actions_addchdir_np is not exposed here).
        var program = executable
        var words = [executable] + arguments
        if let directory {
            program = "/bin/sh"
            words = ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", directory, executable] + arguments
        }
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        markDescriptorsCloseOnExec()
        var pid: pid_t = 0
        let code = posix_spawn(&pid, program, &actions, nil, argv, envp)
        guard code == 0 else {
            throw StoreError(path: executable, message: "cannot start: \(String(cString: strerror(code)))")
        }
        return pid
    }

    /// Marks every descriptor above stderr close-on-exec, so a daemon we start (supervisord)
    /// cannot keep our caller's pipes open and make it wait for ever.
    static func markDescriptorsCloseOnExec() {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return }
        for entry in entries {
            guard let fd = Int32(entry), fd > 2 else { continue }
            let flags = fcntl(fd, F_GETFD)
            if flags >= 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
        }
    }

    public static func lastLines(_ text: String, _ n: Int) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).suffix(n).joined(separator: "\n")
    }
}
