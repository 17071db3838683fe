/// The data-date sanity checks (docs/formats.md) over a positions file. They exist because a deploy
/// once imported fine and showed nothing: a wallet reset with the wrong year hid every trade.
/// Records stream through an accumulator, so a million trades need no more memory than one.
public struct DataCheck: Sendable {
    public static let names = [
        "records_readable", "timestamps_in_range", "closed_after_opened", "wallet_reset_not_in_future",
        "wallet_reset_window",
    ]
    /// Nothing real predates Bitcoin's genesis block.
    public static let earliestPlausible = Instant(year: 2009, month: 1, day: 1) ?? Instant(microseconds: 0)
    /// How many offending records a detail names before it says "and N more".
    static let listLimit = 10

    public let reset: WalletReset
    public let now: Instant
    public let skewSeconds: Double
    /// Names the config file in advice ("fix wallet_reset.at in ...").
    public let configName: String

    var openCount = 0
    var closedCount = 0
    /// Unusable fields of records that count (open, or closed at or after the reset): failures.
    var issues: [String] = []
    var issueCount = 0
    /// Unusable fields of records closed before the reset: warnings, so one old bad record does
    /// not block every release for ever.
    var oldIssues: [String] = []
    var oldIssueCount = 0
    var timestampCount = 0
    var outOfRange: [String] = []
    var outOfRangeCount = 0
    var reversed: [String] = []
    var reversedCount = 0
    var earliest: Instant?
    var latest: Instant?
    var latestClose: Instant?
    var counted = 0
    var countedIfYearEarlier = 0
    var countedNet = 0.0

    /// The risk limits and sectors the open positions are checked against (`open_within_limits`),
    /// when the caller has them.
    public var limits: BotConfig.RiskLimits?
    public var universe = AssetUniverse(sectors: [:])
    var openSymbols: [(label: String, symbol: String)] = []

    /// The reset a year earlier: how many trades it would count hints at a wrong year.
    let resetYearEarlier: Instant?
    let latestAllowed: Instant

    public init(reset: WalletReset, now: Instant, skewSeconds: Double = 300, configName: String = "config/bot.json") {
        self.reset = reset
        self.now = now
        self.skewSeconds = skewSeconds
        self.configName = configName
        resetYearEarlier = shiftedYear(reset.at, by: -1)
        latestAllowed = now.adding(seconds: skewSeconds)
    }

    /// One record of the file with the fields the reader could not use. Runs once per record of
    /// files with a million trades: no allocation unless the record is reported.
    public mutating func add(_ p: Position, list: PositionList, index: Int, issues found: [RecordIssue] = []) {
        if list == .open && limits != nil { openSymbols.append(("open_positions[\(index)]", p.symbol)) }
        if !found.isEmpty {
            // A record whose close time is unreadable might count: treat it as counting.
            if list == .closed, let closed = p.closedAt?.instant, closed < reset.at {
                oldIssueCount += found.count
                for issue in found where oldIssues.count < Self.listLimit { oldIssues.append(issue.description) }
            } else {
                issueCount += found.count
                for issue in found where issues.count < Self.listLimit { issues.append(issue.description) }
            }
        }
        if list == .open { openCount += 1 } else { closedCount += 1 }
        if let opened = p.openedAt?.instant { checkRange(opened, "opened_at", p, list, index) }
        if let closed = p.closedAt?.instant { checkRange(closed, "closed_at", p, list, index) }
        if let opened = p.openedAt?.instant, let closed = p.closedAt?.instant, closed < opened {
            reversedCount += 1
            if reversed.count < Self.listLimit {
                reversed.append(
                    "\(location(p, list, index)) closed \(closed.iso8601) before it opened \(opened.iso8601)")
            }
        }
        guard list == .closed, let closed = p.closedAt?.instant else { return }
        if latestClose.map({ closed > $0 }) ?? true { latestClose = closed }
        if closed >= reset.at {
            counted += 1
            countedNet += p.effectiveNetPnl ?? 0
        }
        if let earlier = resetYearEarlier, closed >= earlier { countedIfYearEarlier += 1 }
    }

    private mutating func checkRange(
        _ instant: Instant, _ field: String, _ p: Position, _ list: PositionList, _ index: Int
    ) {
        timestampCount += 1
        if earliest.map({ instant < $0 }) ?? true { earliest = instant }
        if latest.map({ instant > $0 }) ?? true { latest = instant }
        guard instant < Self.earliestPlausible || instant > latestAllowed else { return }
        outOfRangeCount += 1
        if outOfRange.count < Self.listLimit {
            let why = instant < Self.earliestPlausible ? "before 2009" : "after now + \(Int(skewSeconds)) s"
            outOfRange.append("\(location(p, list, index)) \(field) \(instant.iso8601) is \(why)")
        }
    }

    private func location(_ p: Position, _ list: PositionList, _ index: Int) -> String {
        "\(list.rawValue)[\(index)]" + (p.symbol.isEmpty ? "" : " (\(p.symbol))")
    }

    /// The verdicts over everything added.
    public func finish() -> DataCheckReport {
        var checks: [CheckResult] = []
        let total = openCount + closedCount
        checks.append(readable(total: total))
        checks.append(
            outOfRangeCount == 0
                ? CheckResult(
                    name: "timestamps_in_range", ok: true,
                    detail: timestampCount == 0
                        ? "no timestamps to check"
                        : "\(grouped(timestampCount)) timestamps from \(earliest?.iso8601 ?? "-") to \(latest?.iso8601 ?? "-"), all between 2009-01-01 and now + \(Int(skewSeconds)) s"
                )
                : CheckResult(
                    name: "timestamps_in_range", ok: false,
                    detail:
                        "\(grouped(outOfRangeCount)) timestamp(s) outside 2009-01-01 .. now + \(Int(skewSeconds)) s (\(latestAllowed.iso8601)): "
                        + listed(outOfRange, outOfRangeCount)
                        + ". Check the year of these records; a clock or date bug wrote them."))
        checks.append(
            reversedCount == 0
                ? CheckResult(
                    name: "closed_after_opened", ok: true, detail: "every closed trade closed at or after it opened")
                : CheckResult(
                    name: "closed_after_opened", ok: false,
                    detail: "\(grouped(reversedCount)) trade(s) closed before they opened: "
                        + listed(reversed, reversedCount)
                        + ". Fix opened_at/closed_at of these records."))
        checks.append(resetNotInFuture())
        checks.append(resetWindow())
        if let limits {
            let found = RiskGate(limits: limits).breaches(open: openSymbols) {
                universe.sectors[$0]?.rawValue ?? "other"
            }
            checks.append(
                found.isEmpty
                    ? CheckResult(
                        name: "open_within_limits", ok: true,
                        detail: "\(openCount) open position(s) within max_positions, one per symbol and max_per_sector")
                    : CheckResult(
                        name: "open_within_limits", ok: true, warning: true,
                        detail: found.joined(separator: "; ")
                            + ". The engine opens nothing that adds to this; close or fix these positions to end it."))
        }
        return DataCheckReport(
            checks: checks,
            summary: DataCheckReport.Summary(
                openPositions: openCount, closedTrades: closedCount, countedTrades: counted,
                balance: reset.startingCapital + countedNet, resetAt: reset.at, now: now, firstTimestamp: earliest,
                lastTimestamp: latest))
    }

    private func readable(total: Int) -> CheckResult {
        let read = "\(grouped(total)) records read (\(grouped(openCount)) open, \(grouped(closedCount)) closed)"
        let old =
            "\(grouped(oldIssueCount)) field(s) of trades closed before the wallet reset \(reset.at.iso8601) cannot be used: "
            + listed(oldIssues, oldIssueCount)
        if issueCount > 0 {
            return CheckResult(
                name: "records_readable", ok: false,
                detail:
                    "\(grouped(issueCount)) field(s) of open positions or of trades that count for the balance cannot be used: "
                    + listed(issues, issueCount)
                    + ". Fix these records (or restore the file from a backup) and run the check again."
                    + (oldIssueCount > 0 ? " Also \(old)." : ""))
        }
        if oldIssueCount > 0 {
            return CheckResult(
                name: "records_readable", ok: true, warning: true,
                detail:
                    "\(read); \(old). They do not count for the balance, so nothing is blocked; fix them when convenient."
            )
        }
        return CheckResult(name: "records_readable", ok: true, detail: read)
    }

    private func resetNotInFuture() -> CheckResult {
        if reset.at > latestAllowed {
            let days = Int((now.seconds(until: reset.at) / 86_400).rounded(.down))
            return CheckResult(
                name: "wallet_reset_not_in_future", ok: false,
                detail:
                    "the wallet reset \(reset.at.iso8601) is in the future (now \(now.iso8601), \(days) day(s) ahead): no trade would count until then. Set wallet_reset.at in \(configName) to the instant the wallet was really reset."
            )
        }
        return CheckResult(
            name: "wallet_reset_not_in_future", ok: true,
            detail:
                "the wallet reset \(reset.at.iso8601) is \(ageText(reset.at.seconds(until: now))) before now (\(now.iso8601))"
        )
    }

    private func resetWindow() -> CheckResult {
        let name = "wallet_reset_window"
        if closedCount == 0 {
            return CheckResult(name: name, ok: true, detail: "no closed trades yet; nothing to count")
        }
        if counted == 0 {
            var detail =
                "the wallet reset \(reset.at.iso8601) excludes all \(grouped(closedCount)) closed trades (the last closed \(latestClose?.iso8601 ?? "-")): the dashboard would show no trades and a balance of \(money(reset.startingCapital))."
            if countedIfYearEarlier > 0, let earlier = shiftedYear(reset.at, by: -1) {
                detail +=
                    " With the year \(earlier.civil.year) instead (\(earlier.iso8601)), \(grouped(countedIfYearEarlier)) trade(s) would count: is the year wrong?"
            }
            return CheckResult(name: name, ok: false, detail: detail + " Fix wallet_reset.at in \(configName).")
        }
        if let earliest, reset.at < earliest, counted == closedCount {
            return CheckResult(
                name: name, ok: true, warning: true,
                detail:
                    "the wallet reset \(reset.at.iso8601) precedes every trade (the first is \(earliest.iso8601), \(ageText(reset.at.seconds(until: earliest))) later), so all \(grouped(closedCount)) closed trades count. If the reset was more recent, check the year of wallet_reset.at in \(configName)."
            )
        }
        return CheckResult(
            name: name, ok: true,
            detail:
                "\(grouped(counted)) of \(grouped(closedCount)) closed trades count since the reset \(reset.at.iso8601); balance \(money(reset.startingCapital + countedNet))"
        )
    }

    private func listed(_ items: [String], _ count: Int) -> String {
        items.joined(separator: "; ") + (count > items.count ? "; and \(grouped(count - items.count)) more" : "")
    }
}

/// Whole days, hours or minutes, for messages.
func ageText(_ seconds: Double) -> String {
    let s = abs(seconds)
    if s >= 86_400 * 2 { return "\(Int(s / 86_400)) days" }
    if s >= 3600 * 2 { return "\(Int(s / 3600)) hours" }
    return "\(Int(s / 60)) minutes"
}

/// The same calendar instant `years` later or earlier (Feb 29 becomes Feb 28).
func shiftedYear(_ instant: Instant, by years: Int) -> Instant? {
    let c = instant.civil
    let year = c.year + years
    let day = min(c.day, CivilDate.daysIn(month: c.month, year: year))
    return Instant(
        year: year, month: c.month, day: day, hour: c.hour, minute: c.minute, second: c.second,
        microsecond: c.microsecond)
}
