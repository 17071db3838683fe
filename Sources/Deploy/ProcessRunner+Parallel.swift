import Foundation
import TradingCore
import TradingStore

#if canImport(Glibc)
    import Glibc
#endif

/// Several commands run side by side to completion under one deadline (the decision diff's two
/// replays), each in its own process group and without secrets, as `ProcessRunner.run` runs
/// one. All are written down in `tracking` before any starts, so a killed deployctl's next lock
/// holder (or the watchdog) ends every one of them; past the deadline every group still running
/// is ended, and a Ctrl-C or stop of deployctl ends them too.
enum ParallelRuns {
    struct Ended {
        var status: Int32 = -1
        var timedOut = false
        var output = ""
        var seconds = 0.0
        var failedToStart: String?
        var finished: Bool { failedToStart == nil && !timedOut && status == 0 }
    }

    static func run(
        _ commands: [(String, [String])], timeout: Double, tracking: String?, without secrets: [String]
    ) -> [Ended] {
        let started = Date()
        let env = ProcessRunner.childEnvironment(without: secrets)
        let marks = commands.map { _ in UUID().uuidString }
        if let tracking {
            let lines = zip(marks, commands).map { "run \($0) \($1.0) pid=\(getpid())\n" }.joined()
            try? FileIO.writeAtomically(tracking, Array(lines.utf8))
        }
        defer { if let tracking { unlink(tracking) } }
        var results = commands.map { _ in Ended() }
        var pids: [pid_t?] = []
        var files: [String] = []
        for (index, command) in commands.enumerated() {
            let file = NSTemporaryDirectory() + "deployctl-\(UUID().uuidString).out"
            files.append(file)
            guard let fd = try? ProcessRunner.openOutput(file) else {
                results[index].failedToStart = "cannot open \(file)"
                pids.append(nil)
                continue
            }
            var childEnv = env
            childEnv[ProcessRunner.runMark] = marks[index]
            do {
                let pid = try ProcessRunner.spawn(
                    command.0, command.1, directory: nil, environment: childEnv, output: fd)
                pids.append(pid)
                setRunningGroups(pids.compactMap { $0 })
                // Beside the live engine on a small machine: its cycles come first, whatever the
                // child does about its own priority.
                setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(pid), 10)
            } catch {
                results[index].failedToStart = "\(error)"
                pids.append(nil)
            }
            close(fd)
        }
        defer { setRunningGroups([]) }
        let deadline = started.addingTimeInterval(timeout)
        var raw = [Int32](repeating: 0, count: commands.count)
        var done = pids.map { $0 == nil }
        while done.contains(false) {
            for index in pids.indices where !done[index] {
                let pid = pids[index]!
                // An end that cannot be learned (waitpid failed) is a failure, never a success.
                var unknown = false
                let ended: Bool
                do {
                    ended = try ProcessRunner.reap(pid, &raw[index], commands[index].0)
                } catch {
                    ended = true
                    unknown = true
                }
                if ended {
                    done[index] = true
                    results[index].seconds = Date().timeIntervalSince(started)
                    let status = raw[index]
                    results[index].status = unknown ? -1 : ProcessRunner.exitCode(status)
                    // Whatever it started ends with it.
                    ProcessRunner.signalGroup(pid, SIGKILL)
                }
            }
            if done.contains(false) && Date() >= deadline {
                for index in pids.indices where !done[index] {
                    results[index].timedOut = true
                    results[index].seconds = Date().timeIntervalSince(started)
                    ProcessRunner.signalGroup(pids[index]!, SIGTERM)
                }
                let grace = Date().addingTimeInterval(5)
                while done.contains(false) {
                    for index in pids.indices where !done[index] {
                        if (try? ProcessRunner.reap(pids[index]!, &raw[index], commands[index].0)) ?? true {
                            done[index] = true
                        } else if Date() >= grace {
                            ProcessRunner.signalGroup(pids[index]!, SIGKILL)
                        }
                    }
                    usleep(20_000)
                }
                for pid in pids.compactMap({ $0 }) { ProcessRunner.signalGroup(pid, SIGKILL) }
                break
            }
            usleep(20_000)
        }
        for (index, file) in files.enumerated() {
            results[index].output = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(atPath: file)
        }
        return results
    }

    /// The groups a Ctrl-C or stop of deployctl ends (the first through `runningGroup`).
    static func setRunningGroups(_ groups: [pid_t]) {
        runningGroup = groups.first ?? 0
        secondRunningGroup = groups.count > 1 ? groups[1] : 0
    }
}
