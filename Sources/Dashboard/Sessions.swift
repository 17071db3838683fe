import Synchronization
import TradingCore

/// A logged-in browser: its cookie token, its CSRF token (in every form it posts) and when it
/// expires. Kept in memory only: a dashboard restart logs everyone out, which is safe.
public struct Session: Sendable {
    public var token: String
    public var csrf: String
    public var expires: Instant
}

/// Sessions and the login rate limit, shared by all requests.
public final class SessionStore: Sendable {
    let lifetimeSeconds: Double
    /// Failed logins allowed per address in `windowSeconds`; then it must wait.
    let maxFailures: Int
    let windowSeconds: Double
    private let state = Mutex<(sessions: [String: Session], failures: [String: [Instant]])>(([:], [:]))

    public init(lifetimeSeconds: Double, maxFailures: Int = 5, windowSeconds: Double = 300) {
        self.lifetimeSeconds = lifetimeSeconds
        self.maxFailures = maxFailures
        self.windowSeconds = windowSeconds
    }

    public func create(now: Instant) -> Session {
        let session = Session(token: randomToken(), csrf: randomToken(), expires: now.adding(seconds: lifetimeSeconds))
        state.withLock { s in
            s.sessions = s.sessions.filter { $0.value.expires > now }
            s.sessions[session.token] = session
        }
        return session
    }

    /// The live session of `token`, or nil (an expired one is forgotten).
    public func session(_ token: String?, now: Instant) -> Session? {
        guard let token else { return nil }
        return state.withLock { s in
            guard let found = s.sessions[token] else { return nil }
            guard found.expires > now else {
                s.sessions[token] = nil
                return nil
            }
            return found
        }
    }

    public func end(_ token: String) { state.withLock { $0.sessions[token] = nil } }

    /// Admits one login attempt from `address` and counts it as failed until `clearFailures`:
    /// checked and counted under one lock, so parallel attempts cannot all slip past the limit.
    /// - Returns: nil when it may try now, else the seconds it must wait.
    public func attempt(_ address: String, now: Instant) -> Int? {
        state.withLock { s in
            if s.failures.count > 10_000 {
                s.failures = s.failures.filter { ($0.value.last?.seconds(until: now) ?? .infinity) < windowSeconds }
            }
            let recent = (s.failures[address] ?? []).filter { $0.seconds(until: now) < windowSeconds }
            if recent.count >= maxFailures, let oldest = recent.first {
                s.failures[address] = recent
                return max(1, Int((windowSeconds - oldest.seconds(until: now)).rounded(.up)))
            }
            s.failures[address] = recent + [now]
            return nil
        }
    }

    public func clearFailures(_ address: String) { state.withLock { $0.failures[address] = nil } }
}

/// 32 random bytes from the system's generator (getrandom on Linux), as hex.
func randomToken() -> String {
    var generator = SystemRandomNumberGenerator()
    return (0..<4).map { _ in
        let v = generator.next() as UInt64
        let hex = String(v, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }.joined()
}

/// Compares two secrets in time that does not depend on where they differ.
func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8)
    let y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var difference: UInt8 = 0
    for i in 0..<x.count { difference |= x[i] ^ y[i] }
    return difference == 0
}
