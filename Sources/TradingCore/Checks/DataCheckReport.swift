/// The verdicts of a data check and the numbers it saw.
public struct DataCheckReport: Sendable, Equatable {
    public var checks: [CheckResult]
    public var summary: Summary?

    public struct Summary: Sendable, Equatable {
        public var openPositions: Int
        public var closedTrades: Int
        public var countedTrades: Int
        public var balance: Double
        public var resetAt: Instant
        public var now: Instant
        /// The earliest and latest timestamp of any record (nil when there are none).
        public var firstTimestamp: Instant? = nil
        public var lastTimestamp: Instant? = nil
    }

    public init(checks: [CheckResult], summary: Summary?) {
        self.checks = checks
        self.summary = summary
    }

    public var ok: Bool { checks.allSatisfy(\.ok) }
    public var warnings: [CheckResult] { checks.filter(\.warning) }

    /// A report for a file that could not be read at all: the first check says why, the
    /// others are marked not run (they cannot vouch for anything).
    public static func unreadable(_ reason: String) -> DataCheckReport {
        var checks = [CheckResult(name: DataCheck.names[0], ok: false, detail: reason)]
        for name in DataCheck.names.dropFirst() {
            checks.append(CheckResult(name: name, ok: false, detail: "not run: the positions file could not be read"))
        }
        return DataCheckReport(checks: checks, summary: nil)
    }

    /// `{"ok", "checks": [{name, ok, detail}], "warnings", "summary"}` as the CLI contract says.
    public func json(extra: [JSONField] = []) -> JSONValue {
        var object = JSONObject([
            JSONField("ok", .bool(ok)),
            JSONField("checks", .array(checks.map(\.json))),
            JSONField("warnings", .array(warnings.map { .string($0.detail) })),
        ])
        if let summary {
            object["summary"] = [
                "open_positions": .int(summary.openPositions),
                "closed_trades_total": .int(summary.closedTrades),
                "closed_trades": .int(summary.countedTrades),
                "balance": .double((summary.balance * 100).rounded() / 100),
                "reset_at": .string(summary.resetAt.iso8601),
                "now": .string(summary.now.iso8601),
                "first_timestamp": summary.firstTimestamp.map { .string($0.iso8601) } ?? .null,
                "last_timestamp": summary.lastTimestamp.map { .string($0.iso8601) } ?? .null,
            ]
        }
        object.fields.append(contentsOf: extra)
        return .object(object)
    }
}
