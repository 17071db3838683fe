import Foundation
import TradingStore
import TradingCore

#if canImport(Glibc)
    import Glibc
#endif

/// Runs a command to completion with a timeout, its output going to a log file (or captured).
///
/// Each child leads its own process group, so a timeout or failure ends the whole tree (a build's
/// compilers included), and its environment never holds the secrets deployctl may have been
/// given: the build does not need the exchange keys, nor the engine the git token.
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
        log: String? = nil, without secrets: [String] = SecretNames.standard, tracking: String? = nil,
        tick: Tick? = nil, stableEnvironment: String? = nil
    ) throws -> Outcome {
        try run(
            "/bin/sh", ["-c", command], in: directory, environment: environment, timeout: timeout, log: log,
            without: secrets, tracking: tracking, tick: tick, stableEnvironment: stableEnvironment)
    }

    /// Called every `every` seconds while a child runs, with the seconds since it started: a
    /// build of minutes says what it is doing.
    public struct Tick {
        public var every: Double
        public var body: (Double) -> Void
        public init(every: Double, _ body: @escaping (Double) -> Void) {
            self.every = every
            self.body = body
        }
    }

    /// Variables that differ from one login to the next. SwiftPM plans a build again (about 9 s
    /// here) whenever its environment changed, so a build is started without them.
    static let volatileNames = [
        "SSH_CLIENT", "SSH_CONNECTION", "SSH_TTY", "OLDPWD", "SHLVL", "_", "XDG_SESSION_ID", "TERM_SESSION_ID",
        "WINDOWID",
    ]

    /// The last non-empty line of a log (its last 4 KB are read), for a progress line.
    static func lastLine(of path: String) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        let end = lseek(fd, 0, SEEK_END)
        lseek(fd, max(0, end - 4096), SEEK_SET)
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return "" }
        let text = String(decoding: buffer[0..<n], as: UTF8.self)
        let line = text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).last { !$0.allSatisfy(\.isWhitespace) }
        return line.map { String($0.trimmingCharacters(in: .whitespaces).prefix(120)) } ?? ""
    }

    /// Ends what a killed deployctl's build or check left running (listed in `file`), so it
    /// cannot go on writing into a slot the next holder of the deploy lock uses. Called right after
    /// the lock is taken. Only processes carrying the run's own mark in their environment are
    /// ended: a process group number may since have been reused by someone else (the engine).
    /// - Returns: the processes ended.
    @discardableResult
    public static func endLeftovers(_ file: String) -> [Int32] {
        guard let bytes = try? FileIO.read(file) else { return [] }
        defer { unlink(file) }
        let marks = String(decoding: bytes, as: UTF8.self).split(separator: "\n").compactMap {
            $0.split(separator: " ").dropFirst().first.map { Array("\(runMark)=\($0)".utf8) }
        }
        guard !marks.isEmpty, let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else {
            return []
        }
        var ended: [Int32] = []
        for entry in entries {
            guard let pid = Int32(entry), pid != getpid(),
                let environ = try? FileIO.read("/proc/\(entry)/environ")
            else { continue }
            let variables = environ.split(separator: 0)
            if variables.contains(where: { variable in marks.contains { Array(variable) == $0 } }),
                kill(pid, SIGKILL) == 0
            {
                ended.append(pid)
            }
        }
        return ended
    }

    /// Whether the deployctl that wrote the tracked run in `file` is alive (a `deployctl check`
    /// holds no lock): then its processes are no leftovers. False for a line without a pid (an
    /// older deployctl wrote it).
    public static func trackedRunIsOwned(_ file: String) -> Bool {
        guard let bytes = try? FileIO.read(file) else { return false }
        let words = String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard let owner = words.last(where: { $0.hasPrefix("pid=") }), let pid = Int(owner.dropFirst(4)) else {
            return false
        }
        return Probation.alive(pid)
    }

    /// The environment variable that marks every process of one tracked run.
    static let runMark = "DEPLOYCTL_RUN"

    /// Ends the running child's group when deployctl is interrupted, terminated or hung up on
    /// (Ctrl-C, a stop, an ssh disconnect): its children sit in their own group, so the signal
    /// would not reach them. Only SIGKILL is left to `endLeftovers` at the next lock.
    public static func endChildrenOnSignals() {
        for sig in [SIGINT, SIGTERM, SIGHUP] { signal(sig, endRunningGroupAndDie) }
    }

    /// From the flip on, a hang-up (the operator's ssh session dropped) no longer ends deployctl:
    /// the release goes on to its verdict or its rollback instead of leaving an unproven
    /// candidate live. Ctrl-C and a stop still end it.
    public static func ignoreHangups() {
        signal(SIGHUP, SIG_IGN)
    }

    /// Puts SIGCHLD back to its default: started with it ignored (a parent's `trap '' CHLD`,
    /// some process supervisors), the kernel reaps our children itself and waitpid fails, which
    /// must never read as "the build passed". Called once at start by deployctl.
    /// Also unblocks the signals deployctl acts on: a parent that started it from a thread that
    /// blocks them (a thread pool, some supervisors) would leave Ctrl-C and a stop pending for
    /// ever, and a release killed that way would wait on a hung child instead of ending it.
    public static func resetSignals() {
        signal(SIGCHLD, SIG_DFL)
        var set = sigset_t()
        sigemptyset(&set)
        for sig in [SIGINT, SIGTERM, SIGHUP, SIGCHLD] { sigaddset(&set, sig) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// Runs a child in its own process group, its output in `log`, ended after `timeout`.
    /// `tracking`: written down in that file so a killed deployctl's child is ended later, found
    /// by a mark in its environment. `stableEnvironment`: that mark, the same for every run
    /// (a build), with session variables left out, so the child sees the same environment each time.
    public static func run(
        _ executable: String, _ arguments: [String], in directory: String? = nil, environment: [String: String] = [:],
        timeout: Double, log: String? = nil, without secrets: [String] = SecretNames.standard,
        tracking: String? = nil, tick: Tick? = nil, stableEnvironment: String? = nil
    ) throws -> Outcome {
        let started = Date()
        let outputFile = log ?? (NSTemporaryDirectory() + "deployctl-\(UUID().uuidString).out")
        let fd = try openOutput(outputFile)
        defer { close(fd) }
        var env = childEnvironment(without: secrets, adding: environment)
        if stableEnvironment != nil {
            for name in volatileNames { env.removeValue(forKey: name) }
        }
        // Only a tracked run carries a mark: an inherited one would make the next lock holder
        // end supervisord or the engine as a leftover. A run that wants the same environment
        // every time (a build) gets the same mark every time.
        let mark = tracking == nil ? nil : (stableEnvironment ?? UUID().uuidString)
        if let mark { env[runMark] = mark }
        // The run is written down before it starts: if deployctl is killed, the next one ends it.
        if let tracking, let mark {
            // The mark second (what every version reads), this deployctl's pid last: the watchdog
            // leaves a run whose deployctl still lives (a `deployctl check` holds no lock).
            try? FileIO.writeAtomically(tracking, Array("run \(mark) \(executable) pid=\(getpid())\n".utf8))
        }
        defer { if let tracking { unlink(tracking) } }
        let pid = try spawn(executable, arguments, directory: directory, environment: env, output: fd)
        runningGroup = pid
        defer { runningGroup = 0 }
        // waitpid, not Foundation's Process: a daemonizing child (supervisord) hands its
        // descriptors to a grandchild, and Process would wait for that grandchild for ever.
        var status: Int32 = 0
        var timedOut = false
        let deadline = Date().addingTimeInterval(timeout)
        var nextTick = tick.map { started.addingTimeInterval($0.every) }
        while try reap(pid, &status, executable) == false {
            if let tick, let due = nextTick, Date() >= due {
                tick.body(Date().timeIntervalSince(started))
                nextTick = Date().addingTimeInterval(tick.every)
            }
            if Date() >= deadline {
                timedOut = true
                signalGroup(pid, SIGTERM)
                let grace = Date().addingTimeInterval(5)
                while try reap(pid, &status, executable) == false {
                    if Date() >= grace {
                        signalGroup(pid, SIGKILL)
                        while try reap(pid, &status, executable) == false { usleep(20_000) }
                        break
                    }
                    usleep(20_000)
                }
                break
            }
            usleep(5_000)
        }
        let exitCode = Self.exitCode(status)
        if exitCode != 0 || timedOut {
            // A failed or timed-out command leaves nothing of its own behind (a compiler writing
            // into a slot after the lock is free). A daemon we start moves to its own session.
            signalGroup(pid, SIGKILL)
        }
        let text = (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? ""
        if log == nil { try? FileManager.default.removeItem(atPath: outputFile) }
        return Outcome(
            status: timedOut ? -1 : exitCode, timedOut: timedOut, output: log == nil ? text : lastLines(text, 20),
            seconds: Date().timeIntervalSince(started))
    }

    /// The output file of a child, appended to. Readable by the operator only: build logs and
    /// replays can quote configuration and paths.
    static func openOutput(_ path: String) throws -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StoreError(path: path, message: "cannot open the output log") }
        return fd
    }

    /// deployctl's environment for a child: without the secrets it does not need nor an
    /// inherited run mark, with `extra` added.
    static func childEnvironment(without secrets: [String], adding extra: [String: String] = [:]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        for name in secrets + [runMark] { env.removeValue(forKey: name) }
        for (k, v) in extra { env[k] = v }
        return env
    }

    /// The exit code a wait status stands for: 128 + the signal for a killed child.
    static func exitCode(_ status: Int32) -> Int32 {
        (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    /// Signals the process group `pid` leads. Never for pid 0 or 1: kill(-1) would signal
    /// every process we may signal, kill(0) our own group.
    static func signalGroup(_ pid: pid_t, _ signal: Int32) {
        guard pid > 1 else { return }
        kill(-pid, signal)
    }

    /// Whether `pid` has ended (its status in `status`). EINTR is retried; any other error
    /// (ECHILD when SIGCHLD is ignored) is a failure, never a success.
    static func reap(_ pid: pid_t, _ status: inout Int32, _ executable: String) throws -> Bool {
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { return true }
            if result == 0 { return false }
            if errno == EINTR { continue }
            let text = String(cString: strerror(errno))
            signalGroup(pid, SIGKILL)
            throw StoreError(
                path: executable, message: "cannot learn how it ended (waitpid: \(text)); treated as failed")
        }
    }

    /// posix_spawn with stdout and stderr on `output`, stdin from /dev/null, in `directory`,
    /// in a new process group, with default signal dispositions.
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
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGCHLD, SIGPIPE, SIGINT, SIGTERM, SIGHUP] { sigaddset(&defaults, signal) }
        var noneBlocked = sigset_t()
        sigemptyset(&noneBlocked)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &noneBlocked)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        var pid: pid_t = 0
        let code = posix_spawn(&pid, program, &actions, &attributes, argv, envp)
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

/// The process group of the child being waited for (0: none), for the signal handler. A plain
/// word written by one thread and read by a handler: no locking is possible there.
nonisolated(unsafe) var runningGroup: pid_t = 0
/// A second child run beside the first (the decision diff's two replays).
nonisolated(unsafe) var secondRunningGroup: pid_t = 0

private func endRunningGroupAndDie(_ sig: Int32) {
    let group = runningGroup
    if group > 1 { kill(-group, SIGKILL) }
    let second = secondRunningGroup
    if second > 1 { kill(-second, SIGKILL) }
    signal(sig, SIG_DFL)
    raise(sig)
}

/// Environment variables that hold secrets and never reach a child that does not need them.
public enum SecretNames {
    /// What a default deploy.json names (one list, kept in `DeployConfig.secretNames`).
    public static let standard = DeployConfig().secretNames
}
