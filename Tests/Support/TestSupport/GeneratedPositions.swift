/// Writes positions files as text, independently of the code under test, in the spellings a
/// Python bot produces: `Z`, `+00:00`, naive with microseconds, epoch seconds and milliseconds.
public struct GeneratedPositions {
    /// First trade opens at 2025-10-20T00:00:00Z; one trade every `spacingSeconds`.
    public static let firstOpenEpoch = 1_760_918_400

    public var closedCount: Int
    public var openCount = 2
    public var spacingSeconds = 600
    public var holdSeconds = 300
    /// Include epoch timestamps among the spellings.
    public var epochFormats = true

    public init(closed: Int, open: Int = 2) {
        closedCount = closed
        openCount = open
    }

    static let symbols = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT", "BNBUSDT", "ARBUSDT", "AAVEUSDT"]

    /// The net P&L of closed trade `i` (deterministic, cents).
    public static func netPnl(_ i: Int) -> Double { Double((i * 7919) % 2001 - 1000) / 100 }

    /// Epoch seconds at which closed trade `i` closes.
    public func closeEpoch(_ i: Int) -> Int { Self.firstOpenEpoch + i * spacingSeconds + holdSeconds }

    public func stamp(_ epoch: Int, style: Int) -> String {
        let styles = epochFormats ? 5 : 3
        switch style % styles {
        case 0: return "\"\(iso(epoch))Z\""
        case 1: return "\"\(iso(epoch))+00:00\""
        case 2: return "\"\(iso(epoch)).\(String(format6(style * 37 % 1_000_000)))\""
        case 3: return String(epoch)
        default: return String(epoch * 1000)
        }
    }

    public func text() -> String {
        var out = "{\n \"open_positions\": ["
        for i in 0..<openCount {
            let opened = closeEpoch(closedCount) + i * 60
            out += (i == 0 ? "\n" : ",\n")
            out += """
                  {"symbol": "\(Self.symbols[i % Self.symbols.count])", "direction": "LONG", "entry_price": 100.5, \
                "size": 2.0, "leverage": 5, "margin_collateral": 40.2, "opened_at": \(stamp(opened, style: i)), \
                "strategy": "Alpha", "bot_type": "alpha"}
                """
        }
        out += "\n ],\n \"closed_positions\": ["
        out.reserveCapacity(closedCount * 460)
        for i in 0..<closedCount {
            let opened = Self.firstOpenEpoch + i * spacingSeconds
            let net = Self.netPnl(i)
            out += (i == 0 ? "\n" : ",\n")
            out += """
                  {"symbol": "\(Self.symbols[i % Self.symbols.count])", "direction": "\(i % 2 == 0 ? "LONG" : "SHORT")", \
                "entry_price": \(100 + i % 50).25, "exit_price": \(101 + i % 50).75, "size": 1.5, "leverage": \(1 + i % 20), \
                "margin_collateral": 75.5, "pnl": \(net + 0.5), "net_pnl": \(net), "opened_at": \(stamp(opened, style: i)), \
                "closed_at": \(stamp(opened + holdSeconds, style: i + 1)), "strategy": "\(i % 3 == 0 ? "Alpha" : "Beta-MeanRev")", \
                "bot_type": "alpha"
                """
            if i % 3 == 0 {
                out +=
                    ", \"exit_reason\": \"trailing_stop\", \"fees\": 0.5, \"signal_ctx\": {\"ofi\": 0.5, \"hurst\": 0.4}"
            }
            out += "}"
        }
        out += "\n ]\n}\n"
        return out
    }

    /// `YYYY-MM-DDTHH:MM:SS` of epoch seconds (UTC), computed without the code under test.
    public func iso(_ epoch: Int) -> String {
        let days = epoch / 86_400
        let secs = epoch % 86_400
        // Civil from days (Hinnant), duplicated here on purpose so the fixture is independent.
        let z = days + 719_468
        let era = z / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        return "\(y)-\(two(m))-\(two(d))T\(two(secs / 3600)):\(two(secs % 3600 / 60)):\(two(secs % 60))"
    }

    private func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
    private func format6(_ n: Int) -> String {
        let s = String(n)
        return String(repeating: "0", count: 6 - s.count) + s
    }
}
