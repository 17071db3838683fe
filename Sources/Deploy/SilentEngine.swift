import Foundation
import TradingCore
import TradingStore

#if canImport(Glibc)
    import Glibc
#endif

/// An engine whose heartbeat stopped while its process lives (hung, frozen, stopped) cannot stop
/// on SIGTERM: asking it to adds the service manager's whole stop timeout (supervisord's
/// `stopwaitsecs`, systemd's `TimeoutStopSec`) to the time nothing trades. It is ended at once
/// instead; everything the engine writes is replaced atomically, so a kill loses nothing.
enum SilentEngine {
    /// Ends the engine the heartbeat names when its process lives but its last beat is older
    /// than `stallSeconds`. Nil when the engine is not silent (or there is none).
    static func endIfSilent(home: Home, stallSeconds: Double, now: Instant) -> String? {
        guard let beat = try? HeartbeatStore(home: home).read(), Probation.alive(beat.pid),
            beat.writtenAt.seconds(until: now) > stallSeconds
        else { return nil }
        return end(pid: beat.pid, home: home)
    }

    /// SIGKILLs `pid` when it is this home's engine (`run --home HOME` on its command line, so a
    /// reused pid is never hit) and waits briefly for it to go. Nil when there was nothing to end.
    static func end(pid: Int, home: Home) -> String? {
        guard pid > 0, isEngine(pid: pid, home: home) else { return nil }
        guard kill(pid_t(pid), SIGKILL) == 0 else { return nil }
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline && isEngine(pid: pid, home: home) { usleep(50_000) }
        return "ended the silent engine pid \(pid) with SIGKILL (a hung or frozen process cannot stop on SIGTERM)"
    }

    /// A living (not zombie) process running `run --home HOME`.
    static func isEngine(pid: Int, home: Home) -> Bool {
        guard let stat = try? FileIO.read("/proc/\(pid)/stat"),
            let cmdline = try? FileIO.read("/proc/\(pid)/cmdline")
        else { return false }
        let text = String(decoding: stat, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return false }
        let state = text[text.index(after: close)...].drop { $0 == " " }.first
        if state == "Z" || state == "X" { return false }
        let args = cmdline.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        return args.contains("run") && args.contains(home.root)
    }
}
