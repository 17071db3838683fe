#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import TradingCore

/// The engine's words for a person reading `journalctl -u tradingbot` or `supervisorctl tail`:
/// one short line per cycle on stdout, and each event of bot.jsonl on stdout (info) or stderr
/// (warnings and errors) with the same event name and fields. Written unbuffered, one whole
/// line per write(2), so the journal shows a line when it happens, not when a buffer fills.
public struct ConsoleEcho: Sendable {
    public init() {}

    /// The level as a person greps for it: an error and a critical both contain ERROR.
    static func word(_ level: String) -> String {
        switch level {
        case "critical": "CRITICAL ERROR"
        default: level.uppercased()
        }
    }

    /// `TS LEVEL event cycle=N key=value ...`: strings quoted when they hold a space, lists and
    /// objects as compact JSON.
    public static func line(level: String, event: String, cycle: Int, at: Instant, fields: [JSONField]) -> String {
        var parts = [at.iso8601, word(level), event, "cycle=\(cycle)"]
        for field in fields {
            let text: String
            switch field.value {
            case .string(let s): text = s.contains(" ") || s.isEmpty ? "\"\(s)\"" : s
            case .number(let n): text = n
            case .bool(let b): text = b ? "true" : "false"
            case .null: text = "null"
            default:
                var writer = JSONWriter()
                writer.write(field.value)
                text = String(decoding: writer.bytes, as: UTF8.self)
            }
            parts.append("\(field.key)=\(text)")
        }
        return parts.joined(separator: " ")
    }

    /// One event: info to stdout, anything worse to stderr.
    public func event(level: String, event: String, cycle: Int, at: Instant, fields: [JSONField]) {
        Self.emit(
            Self.line(level: level, event: event, cycle: cycle, at: at, fields: fields),
            toStandardError: level != "info")
    }

    /// The cycle's summary line on stdout.
    public func cycle(_ r: CycleResult, milliseconds: Int, open: Int, reducing: Bool) {
        func count(_ n: Int, _ one: String, _ many: String) -> String { "\(n) \(n == 1 ? one : many)" }
        let text =
            "\(r.time.iso8601) cycle \(r.cycle): \(count(r.symbols, "symbol", "symbols")), "
            + "\(count(r.signalsEvaluated, "signal", "signals")), \(count(r.executed, "entry", "entries")), "
            + "\(count(r.closed, "exit", "exits")), \(open) open, "
            + "balance \(Self.money(r.balance)), equity \(Self.money(r.equity)), \(milliseconds) ms"
            + (reducing ? ", REDUCING (no new entries)" : "")
        Self.emit(text, toStandardError: false)
    }

    static func money(_ v: Double) -> String {
        let cents = Int64((v * 100).rounded())
        let sign = cents < 0 ? "-" : ""
        let a = abs(cents)
        let fraction = a % 100
        return "\(sign)\(a / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    static func emit(_ line: String, toStandardError: Bool) {
        var bytes = Array(line.utf8)
        bytes.append(10)
        let fd: Int32 = toStandardError ? 2 : 1
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                offset += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                return  // A closed stream never stops the engine.
            }
        }
    }
}
