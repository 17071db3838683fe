import Foundation

/// StepProgress lines for a person at a terminal: one per step, with what it does and how long it took.
public protocol StepProgress {
    func begin(_ step: String, _ what: String)
    func end(_ step: String, ok: Bool, seconds: Double, detail: String)
}

/// Prints to standard error (stdout stays clean for --json).
public struct TerminalProgress: StepProgress {
    public init() {}

    public func begin(_ step: String, _ what: String) {
        FileHandle.standardError.write(Data("[\(step)] \(what)...\n".utf8))
    }

    public func end(_ step: String, ok: Bool, seconds: Double, detail: String) {
        let line =
            "[\(step)] \(ok ? "ok" : "FAILED") in \(String(format: "%.2f", seconds)) s"
            + (detail.isEmpty ? "" : ": \(detail)")
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// Prints nothing (for --json without a terminal, and tests).
public struct SilentProgress: StepProgress {
    public init() {}
    public func begin(_ step: String, _ what: String) {}
    public func end(_ step: String, ok: Bool, seconds: Double, detail: String) {}
}
