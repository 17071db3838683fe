import TradingCore

/// Everything a scan of a positions file gives, as lines to compare: each record with its list,
/// index and issues, then the top-level extra fields, or the error it ended with. Two ways of
/// reading the same file must give the same lines.
public enum ScanOutcome {
    public typealias Scan = ((PositionList, Int, Position, [RecordIssue]) -> Void) throws -> JSONObject

    public static func of(_ scan: Scan) -> [String] {
        var seen: [String] = []
        do {
            let extra = try scan { list, index, position, issues in
                seen.append("\(list) \(index) \(position) \(issues)")
            }
            seen.append("extra \(extra)")
        } catch {
            seen.append("error \(type(of: error)): \(error)")
        }
        return seen
    }

    /// The first line where `seen` differs from `expected`, said for a test's failure; nil when
    /// they are the same.
    public static func difference(_ seen: [String], from expected: [String]) -> String? {
        guard seen != expected else { return nil }
        let at =
            zip(seen, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            ?? min(seen.count, expected.count)
        return "line \(at) of \(expected.count) differs:\n"
            + "read:     \(at < seen.count ? seen[at] : "nothing")\n"
            + "expected: \(at < expected.count ? expected[at] : "nothing")"
    }
}
