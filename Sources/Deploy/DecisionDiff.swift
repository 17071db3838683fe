import Foundation
import TradingCore
import TradingStore

/// The A/B: a candidate and the live build each replayed the same recorded window from the same
/// checkpoint, and their signal lines are compared in the log's own words: per line the outcome
/// (`executed`, `blocked:RULE`, `skipped:RULE`, `closed:REASON`), the direction and the notional
/// to the cent. Both saw the same inputs, so every difference is the candidate's own.
public enum DecisionDiff {
    /// One signal line, reduced to what is compared; the line itself stays in its file (`file`,
    /// bytes `start..<end`) and is read again only for the report. A day at 400 symbols is
    /// 576,000 lines a side: kept whole they took over a gigabyte beside the live engine.
    struct Line {
        var ts: Int64
        var cycle: JSONValue
        var symbol: String
        var close: Bool
        var outcome: String
        var direction: String
        var notional: String
        /// What only the A/A compares: an entry's `rule` (the cap that sized it), a close's net
        /// P&L to the cent and exit price.
        var detail: String
        var file: String
        var start: Int
        var end: Int

        var executed: Bool { outcome == "executed" || outcome == "ordered" }

        /// The line as written.
        var json: JSONValue {
            guard let handle = FileHandle(forReadingAtPath: file) else { return .null }
            defer { try? handle.close() }
            try? handle.seek(toOffset: UInt64(start))
            guard let data = try? handle.read(upToCount: end - start) else { return .null }
            return (try? JSONValue.parse(Array(data))) ?? .null
        }
    }

    /// A line's outcome: its action, with the rule that decided it or the exit's reason.
    static func outcome(_ o: JSONObject) -> String {
        let action = o["action"]?.stringValue ?? "?"
        switch action {
        case "executed", "ordered": return action
        case "closed": return "closed:" + (o["reason"]?.stringValue ?? "?")
        default:
            if let rule = o["rule"]?.stringValue { return action + ":" + rule }
            return action
        }
    }

    /// The signal lines of `path` and, when `rotated`, its rotated files (oldest first) whose
    /// time falls in one of `windows` (all when nil), in file order.
    static func lines(_ path: String, rotated: Bool = true, in windows: [(Instant, Instant)]? = nil) -> [Line] {
        let files = rotated ? JSONLAppender.Rotation.oldestFirst(path) : [path]
        var out: [Line] = []
        // Outcomes and rules repeat on every line: one copy of each text is shared by all.
        var shared = Set<String>()
        func share(_ text: String) -> String { shared.insert(text).memberAfterInsert }
        let prefix = Array(#"{"ts":""#.utf8)
        func inWindow(_ ts: Instant) -> Bool { windows.map { $0.contains { ts >= $0.0 && ts <= $0.1 } } ?? true }
        func cents(_ v: JSONValue?) -> String { v?.doubleValue.map { String(format: "%.2f", $0) } ?? "" }
        for file in files {
            guard let bytes = try? FileIO.read(file) else { continue }
            var start = 0
            while start < bytes.count {
                let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
                defer { start = end + 1 }
                guard end > start else { continue }
                // A line's time is read from its start (the engine writes `ts` first), so lines
                // outside the windows are never parsed.
                if windows != nil, end - start > prefix.count + 1,
                    Array(bytes[start..<(start + prefix.count)]) == prefix,
                    let close = bytes[(start + prefix.count)..<end].firstIndex(of: 0x22),
                    case .success(let ts) = TimestampParser.parse(
                        String(decoding: bytes[(start + prefix.count)..<close], as: UTF8.self)),
                    !inWindow(ts)
                {
                    continue
                }
                guard let o = (try? JSONValue.parse(Array(bytes[start..<end])))?.objectValue,
                    let ts = o["ts"]?.instantValue, inWindow(ts)
                else { continue }
                let action = o["action"]?.stringValue ?? ""
                var detail = ""
                if action == "closed" {
                    detail = cents(o["net_pnl"]) + "|" + (o["price"]?.doubleValue.map { "\($0)" } ?? "")
                } else if action == "executed" || action == "ordered" {
                    detail = share(o["rule"]?.stringValue ?? "")
                }
                out.append(
                    Line(
                        ts: ts.microseconds, cycle: o["cycle"] ?? .null, symbol: share(o["symbol"]?.stringValue ?? ""),
                        close: action == "closed", outcome: share(outcome(o)),
                        direction: share(o["direction"]?.stringValue ?? ""), notional: cents(o["notional"]),
                        detail: detail, file: file, start: start, end: end))
            }
        }
        return out
    }

    public struct Transition: Sendable, Equatable {
        public var from: String
        public var to: String
        public var count: Int
        public var json: JSONValue { ["from": .string(from), "to": .string(to), "count": .int(count)] }
    }

    public struct Comparison: Sendable {
        public var compared = 0
        /// Lines whose outcome, direction or notional differ, or that one side alone wrote.
        public var changed = 0
        /// Entry decisions that changed: executed on one side only, or executed both ways with
        /// another direction or notional. The policy's share is of these.
        public var changedEntries = 0
        public var transitions: [Transition] = []
        /// The first 20 differing lines, both sides whole (they carry the scores the decision read).
        public var first: [JSONValue] = []
    }

    /// What a line was, for a transition: a change of direction alone names both directions; a
    /// change of notional alone is one transition, `executed -> executed (another notional)`,
    /// whatever the amounts (they are in `first`).
    static func label(_ line: Line?, against other: Line?, candidate: Bool) -> String {
        guard let line else { return "none" }
        guard let other, other.outcome == line.outcome else { return line.outcome }
        if other.direction != line.direction { return "\(line.outcome) \(line.direction)" }
        if other.notional != line.notional && candidate { return "\(line.outcome) (another notional)" }
        return line.outcome
    }

    /// Compares the two replays cycle by cycle; within a cycle lines are matched by symbol, kind
    /// (decision or close) and order.
    static func compare(current: [Line], candidate: [Line]) -> Comparison {
        var result = Comparison()
        var counts: [String: (String, String, Int)] = [:]
        var order: [String] = []
        func byCycle(_ lines: [Line]) -> [Int64: [Line]] { Dictionary(grouping: lines, by: \.ts) }
        let a = byCycle(current)
        let b = byCycle(candidate)
        for ts in Set(a.keys).union(b.keys).sorted() {
            func keyed(_ lines: [Line]) -> ([String], [String: Line]) {
                var seen: [String: Int] = [:]
                var keys: [String] = []
                var map: [String: Line] = [:]
                for line in lines {
                    let base = "\(line.symbol)|\(line.close ? "close" : "decision")"
                    let n = seen[base, default: 0]
                    seen[base] = n + 1
                    let key = "\(base)|\(n)"
                    keys.append(key)
                    map[key] = line
                }
                return (keys, map)
            }
            let (keysA, mapA) = keyed(a[ts] ?? [])
            let (keysB, mapB) = keyed(b[ts] ?? [])
            for key in keysA + keysB.filter({ mapA[$0] == nil }) {
                let l = mapA[key]
                let r = mapB[key]
                if let l, let r, l.outcome == r.outcome, l.direction == r.direction, l.notional == r.notional {
                    // (An entry's sizing rule and a close's P&L are the A/A's business: here the
                    // outcome, direction and notional are the decision.)
                    result.compared += 1
                    continue
                }
                result.compared += 1
                result.changed += 1
                let isDecision = !(l ?? r)!.close
                if isDecision && ((l?.executed ?? false) || (r?.executed ?? false)) { result.changedEntries += 1 }
                let from = label(l, against: r, candidate: false)
                let to = label(r, against: l, candidate: true)
                let name = "\(from) -> \(to)"
                if counts[name] == nil { order.append(name) }
                counts[name, default: (from, to, 0)].2 += 1
                if result.first.count < 20 {
                    let line = (l ?? r)!
                    result.first.append(
                        [
                            "ts": .string(Instant(microseconds: ts).iso8601), "symbol": .string(line.symbol),
                            "from": .string(from), "to": .string(to), "current": l?.json ?? .null,
                            "candidate": r?.json ?? .null,
                        ])
                }
            }
        }
        result.transitions = order.map { Transition(from: counts[$0]!.0, to: counts[$0]!.1, count: counts[$0]!.2) }
            .sorted { $0.count != $1.count ? $0.count > $1.count : ($0.from, $0.to) < ($1.from, $1.to) }
        return result
    }

    /// One side's numbers over the replayed window.
    public struct Totals: Sendable {
        public var entries = 0
        public var exits: [String: Int] = [:]
        public var fees = 0.0
        /// Realized net P&L of the window's closes plus the open positions valued at the window's
        /// last prices (the last cycle's equity less its balance).
        public var netPnl = 0.0
        public var maxDrawdown = 0.0
        /// The most notional open at once.
        public var exposurePeak = 0.0
        public var openAtEnd = 0
        /// Orders and closes the recording held no answer for, filled by the paper broker.
        public var paperFills = 0
        /// Closes the exchange made (a stop, a take-profit, a liquidation; demo and live), applied
        /// as recorded: exact for the live build, approximate for a candidate that holds other
        /// positions.
        public var exchangeCloses = 0

        public var json: JSONValue {
            func c(_ v: Double) -> JSONValue { .double((v * 100).rounded() / 100) }
            return [
                "entries": .int(entries),
                "exits": .object(
                    JSONObject(exits.sorted { $0.key < $1.key }.map { JSONField($0.key, .int($0.value)) })),
                "fees": c(fees), "net_pnl": c(netPnl),
                "max_drawdown": .double((maxDrawdown * 10_000).rounded() / 10_000),
                "exposure_peak": c(exposurePeak), "open_at_end": .int(openAtEnd), "paper_fills": .int(paperFills),
                "exchange_closes": .int(exchangeCloses),
            ]
        }
    }

    /// The totals of a replay home (`replay --recorded --into`) and its `--json` summary.
    static func totals(lines: [Line], home: Home, summary: JSONObject) -> Totals {
        var t = Totals()
        for line in lines {
            if line.outcome == "executed" { t.entries += 1 }
            if line.close { t.exits[String(line.outcome.dropFirst("closed:".count)), default: 0] += 1 }
        }
        t.fees = summary["total_fees"]?.doubleValue ?? 0
        t.maxDrawdown = summary["max_drawdown"]?.doubleValue ?? 0
        t.paperFills = (summary["segments"]?.arrayValue ?? []).reduce(0) {
            $0 + ($1.objectValue?["divergences"]?.doubleValue.map { Int($0) } ?? 0)
        }
        var unrealized = 0.0
        if let last = JSONLTail.lastLines(home.decisionsLog).last?.objectValue,
            let equity = last["equity"]?.doubleValue, let balance = last["balance"]?.doubleValue
        {
            unrealized = equity - balance
        }
        t.netPnl = (summary["net_pnl"]?.doubleValue ?? 0) + unrealized
        t.exchangeCloses =
            ((try? JSONLAppender.readAll(home.botLog)) ?? []).filter {
                $0.objectValue?["event"]?.stringValue == "closed_on_exchange"
            }.count
        if let file = try? PositionsStore(home: home).load() {
            t.openAtEnd = file.open.count
            let all = file.open + file.closed
            let since = summary["checkpoint"]?.objectValue?["time"]?.instantValue
            // Exposure only rises at an entry: the peak is at one of them.
            for p in all {
                guard let at = p.openedAt?.instant, since.map({ at >= $0 }) ?? true else { continue }
                let open = openAt(at, all)
                t.exposurePeak = max(t.exposurePeak, open.reduce(0) { $0 + notional($1) })
            }
        }
        return t
    }

    /// The positions open when a cycle at `at` made its entries: entered by then and not
    /// closed before. A cycle reconciles with the exchange, then enters, then exits: a close at
    /// that very time was still open then, unless the exchange made it.
    static func openAt(_ at: Instant, _ all: [Position]) -> [Position] {
        all.filter { q in
            guard let from = q.openedAt?.instant, from <= at else { return false }
            guard let closed = q.closedAt?.instant else { return true }
            let reason = q.extra["exit_reason"]?.stringValue ?? ""
            let byExchange = reason.hasPrefix("exchange_") || reason == "closed_on_exchange"
            return closed > at || (closed == at && !byExchange)
        }
    }

    static func notional(_ p: Position) -> Double { abs((p.size ?? 0) * (p.entryPrice ?? 0)) }

    /// The limits a candidate broke with entries it made itself (positions the checkpoint did
    /// not hold), judged against the config it is to trade with: more positions than allowed, a
    /// second position on a symbol, a sector over its count, the day's count, a notional over
    /// the caps, total exposure over its fraction, and a close in the same cycle as its entry
    /// other than by the emergency position loss. Positions the checkpoint already held over a
    /// limit are not the candidate's doing.
    static func limitBreaks(home: Home, config: BotConfig, universe: AssetUniverse?, since: Instant?) -> [String] {
        guard let file = try? PositionsStore(home: home).load() else { return [] }
        let limits = config.risk
        // A close the exchange filled for part of a position leaves two records with the same
        // entry (the closed part, the open rest): one position. A closed record without its
        // close time is not counted as open.
        var merged: [String: Position] = [:]
        var order: [String] = []
        for p in file.open + file.closed.filter({ $0.closedAt != nil }) {
            let key = "\(p.symbol)|\(p.openedAt?.instant.microseconds ?? 0)"
            guard var kept = merged[key] else {
                merged[key] = p
                order.append(key)
                continue
            }
            kept.size = (kept.size ?? 0) + (p.size ?? 0)
            kept.marginCollateral = (kept.marginCollateral ?? 0) + (p.marginCollateral ?? 0)
            if p.closedAt == nil || kept.closedAt == nil {
                kept.closedAt = nil
            } else if let a = kept.closedAt?.instant, let b = p.closedAt?.instant, b > a {
                kept.closedAt = p.closedAt
                kept.extra = p.extra
            }
            merged[key] = kept
        }
        let all = order.compactMap { merged[$0] }
        var equityAt: [Int64: Double] = [:]
        for value in (try? JSONLAppender.readAll(home.decisionsLog)) ?? [] {
            if let o = value.objectValue, let ts = o["ts"]?.instantValue, let equity = o["equity"]?.doubleValue {
                equityAt[ts.microseconds] = equity
            }
        }
        func sector(_ symbol: String) -> String { universe?.sectors[symbol]?.rawValue ?? "other" }
        // As the engine measures: a position without its margin counts none on the margin basis.
        func measure(_ p: Position) -> Double {
            limits.exposureBasis == "margin" ? (p.marginCollateral ?? 0) : notional(p)
        }
        var out: [String] = []
        let mine = all.filter { p in
            guard let at = p.openedAt?.instant else { return false }
            return since.map { at > $0 } ?? true
        }.sorted { ($0.openedAt?.instant ?? .init(microseconds: 0)) < ($1.openedAt?.instant ?? .init(microseconds: 0)) }
        for p in mine {
            guard let at = p.openedAt?.instant else { continue }
            let when = "\(p.symbol) \(p.direction ?? "") entered at \(at.iso8601)"
            let open = openAt(at, all)
            if open.count > limits.maxPositions {
                out.append("\(when): \(open.count) positions open (max_positions \(limits.maxPositions))")
            }
            if open.filter({ $0.symbol == p.symbol }).count > 1 {
                out.append("\(when): a second open \(p.symbol) position (one_per_symbol)")
            }
            let inSector = open.filter { sector($0.symbol) == sector(p.symbol) }.count
            if inSector > limits.maxPerSector {
                out.append(
                    "\(when): \(inSector) open in sector \(sector(p.symbol)) (max_per_sector \(limits.maxPerSector))")
            }
            let day = at.startOfUTCDay
            let today = all.filter { q in
                q.openedAt.map { $0.instant.startOfUTCDay == day && $0.instant <= at } ?? false
            }
            if today.count > limits.maxPositionsPerDay {
                out.append(
                    "\(when): \(today.count) opened that day (max_positions_per_day \(limits.maxPositionsPerDay))")
            }
            // The size is rounded and the fill may slip: half a percent of allowance.
            if notional(p) > limits.maxNotional * 1.005 + 0.01 {
                out.append("\(when): notional \(money(notional(p))) (max_notional \(money(limits.maxNotional)))")
            }
            // The entry was sized on the equity before its fee (a cent's and a fee's allowance),
            // and the engine values the other open positions at their last prices, not at their
            // entries as here: 5 % more for prices that fell since.
            if let equity = equityAt[at.microseconds], equity > 0 {
                let room = equity * 1.01 + 0.01
                let total = open.reduce(0) { $0 + measure($1) }
                if total > limits.maxExposureFraction * (equity * 1.05 + 0.01) {
                    out.append(
                        "\(when): \(limits.exposureBasis) \(money(total)) open against equity \(money(equity)) (max_exposure_fraction \(limits.maxExposureFraction))"
                    )
                }
                if measure(p) > limits.maxSymbolFraction * room {
                    out.append(
                        "\(when): \(limits.exposureBasis) \(money(measure(p))) against equity \(money(equity)) (max_symbol_fraction \(limits.maxSymbolFraction))"
                    )
                }
            }
            if let closed = p.closedAt?.instant, closed <= at,
                p.extra["exit_reason"]?.stringValue != "emergency_position_loss"
            {
                out.append(
                    "\(when): closed in the same cycle by \(p.extra["exit_reason"]?.stringValue ?? "?") (only the emergency position loss may)"
                )
            }
        }
        return out
    }

    /// The policy's reasons to stop the candidate (thresholds), from the comparison and totals.
    static func thresholdReasons(
        _ c: Comparison, current: Totals, candidate: Totals, policy: DeployConfig.DecisionDiff
    ) -> [String] {
        var out: [String] = []
        func ratio(_ mine: Int, _ theirs: Int) -> Double {
            theirs == 0 ? (mine == 0 ? 1 : .infinity) : Double(mine) / Double(theirs)
        }
        func text(_ r: Double) -> String { r.isInfinite ? "some against none" : String(format: "%.2f", r) }
        let entries = ratio(candidate.entries, current.entries)
        if entries < policy.entryRatioMin || entries > policy.entryRatioMax {
            out.append(
                "entries \(candidate.entries) against the live build's \(current.entries) (ratio \(text(entries)), allowed \(policy.entryRatioMin) to \(policy.entryRatioMax))"
            )
        }
        for reason in Set(current.exits.keys).union(candidate.exits.keys).sorted() {
            let mine = candidate.exits[reason] ?? 0
            let theirs = current.exits[reason] ?? 0
            let r = ratio(mine, theirs)
            if r < policy.exitRatioMin || r > policy.exitRatioMax {
                out.append(
                    "\(reason) exits \(mine) against \(theirs) (ratio \(text(r)), allowed \(policy.exitRatioMin) to \(policy.exitRatioMax))"
                )
            }
        }
        let share = c.changedEntries == 0 ? 0 : Double(c.changedEntries) / Double(max(current.entries, 1))
        if share > policy.maxChangedEntryShare {
            out.append(
                "\(c.changedEntries) entry decisions changed, \(String(format: "%.0f", share * 100)) % of the live build's \(current.entries) entries (allowed \(String(format: "%.0f", policy.maxChangedEntryShare * 100)) %)"
            )
        }
        return out
    }
}
