import Foundation
import TradingCore
import TradingStore

/// Watches the heartbeat after a flip: the release is healthy once the engine has written N
/// error-free cycles under its release id; it fails when that does not happen within T seconds,
/// when its cycles keep failing, or when the service manager gives up on it (crash loop).
public struct Probation {
    public let home: Home
    public let manager: ServiceManager

    public init(home: Home, manager: ServiceManager) {
        self.home = home
        self.manager = manager
    }

    public enum Verdict: Equatable {
        case healthy(cycles: Int, seconds: Double)
        case failed(String)
    }

    public func watch(release: String, cycles needed: Int, timeout: Double) -> Verdict {
        let start = Date()
        var healthy: Set<Int> = []
        var lastSeen = "no heartbeat from it"
        let store = HeartbeatStore(home: home)
        var nextServiceCheck = Date()
        while Date().timeIntervalSince(start) < timeout {
            if let beat = try? store.read(), beat.release == release {
                lastSeen =
                    "last heartbeat: cycle \(beat.cycle), phase \(beat.phase), \(beat.consecutiveErrors) consecutive errors"
                if beat.consecutiveErrors >= 3 {
                    return .failed(
                        "its cycles fail: \(beat.consecutiveErrors) in a row, last error: \(beat.lastError ?? "?")")
                }
                if beat.consecutiveErrors == 0 && beat.phase == "idle" && beat.cycle > 0 { healthy.insert(beat.cycle) }
                if healthy.count >= needed {
                    return .healthy(cycles: healthy.count, seconds: Date().timeIntervalSince(start))
                }
            }
            // Asking the service manager spawns processes (supervisorctl): once a second is enough
            // to see a crash loop, while the heartbeat file is read every 100 ms.
            if Date() >= nextServiceCheck {
                nextServiceCheck = Date().addingTimeInterval(1)
                let state = manager.engineState()
                if state.contains("FATAL") {
                    return .failed("the service manager gave up on it (crash loop): \(state)")
                }
            }
            usleep(100_000)
        }
        return .failed(
            "\(healthy.count) of \(needed) healthy cycles within \(Int(timeout)) s; \(lastSeen) (see \(home.logsDir)/tradingbot.err.log)"
        )
    }
}
