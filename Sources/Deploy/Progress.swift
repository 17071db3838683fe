import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// StepProgress lines for a person at a terminal: one per step, with what it does and how long it took.
public protocol StepProgress {
    func begin(_ step: String, _ what: String)
    func end(_ step: String, ok: Bool, seconds: Double, detail: String)
    /// What a long step is doing now (a build's current step); nil: this progress says nothing
    /// between begin and end.
    var workingEvery: Double? { get }
    func working(_ step: String, seconds: Double, _ what: String)
}

extension StepProgress {
    public var workingEvery: Double? { nil }
    public func working(_ step: String, seconds: Double, _ what: String) {}
}

/// Prints to standard error (stdout stays clean for --json).
public struct TerminalProgress: StepProgress {
    public init() {}

    public func begin(_ step: String, _ what: String) {
        Self.say("[\(step)] \(what)...\n")
    }

    /// Straight to descriptor 2, errors ignored: a terminal that went away (a dropped ssh session)
    /// must not stop a release that is past its flip.
    static func say(_ text: String) {
        _ = Array(text.utf8).withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    /// Every 5 s on a terminal; every 30 s into a log or a pipe, which keeps it short but
    /// still shows the build is alive.
    public var workingEvery: Double? { isatty(2) == 1 ? 5 : 30 }

    public func working(_ step: String, seconds: Double, _ what: String) {
        let total = Int(seconds)
        let elapsed = total >= 60 ? "\(total / 60)m\(total % 60 < 10 ? "0" : "")\(total % 60)s" : "\(total)s"
        Self.say("[\(step)] \(elapsed)\(what.isEmpty ? "" : ": " + what)\n")
    }

    public func end(_ step: String, ok: Bool, seconds: Double, detail: String) {
        // A failed step starts with ERROR, so `grep ERROR` on deployctl's output (or its unit's
        // journal) finds it, as it finds the engine's and the watchdog's.
        let line =
            "\(ok ? "" : "ERROR ")[\(step)] \(ok ? "ok" : "FAILED") in \(String(format: "%.2f", seconds)) s"
            + (detail.isEmpty ? "" : ": \(detail)")
        Self.say(line + "\n")
    }
}

/// Prints nothing (for --json without a terminal, and tests).
public struct SilentProgress: StepProgress {
    public init() {}
    public func begin(_ step: String, _ what: String) {}
    public func end(_ step: String, ok: Bool, seconds: Double, detail: String) {}
}
