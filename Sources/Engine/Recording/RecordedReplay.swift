import Exchange
import Foundation
import TradingCore
import TradingStore

/// `tradingbot replay --recorded`: the engine run again over what the flight recorder kept,
/// from a checkpoint, exactly as `tradingbot run` ran it (the recorded config, settings, market,
/// kill switch, broker answers and failed writes), into a home of its own.
public enum RecordedReplay {
    public struct Options: Sendable {
        /// Start at the last checkpoint at or before this time (default: the oldest).
        public var from: Instant?
        /// Stop after the last cycle at or before this time (default: the newest).
        public var to: Instant?
        /// Another bot.json to replay with instead of the recorded one ("what would this setting
        /// have done"); the recorded market, answers and checkpoints stay.
        public var config: JSONValue?
        public init(from: Instant? = nil, to: Instant? = nil, config: JSONValue? = nil) {
            self.from = from
            self.to = to
            self.config = config
        }
    }

    /// What one segment contributed.
    public struct SegmentReport: Sendable {
        public var name: String
        public var release: String
        public var reason: String
        public var cycles = 0
        public var first: Instant?
        public var last: Instant?
        /// `replayed`, `continued` (the same process's next hour, on the same engine),
        /// `restored` (a restart or a gap: the engine rebuilt from its checkpoint), or why not.
        public var status: String
        /// Calls in this segment the recording held no answer for (filled on paper).
        public var divergences: [String] = []

        public var json: JSONValue {
            [
                "name": .string(name), "release": .string(release), "reason": .string(reason), "cycles": .int(cycles),
                "first": first.map { .string($0.iso8601) } ?? .null, "last": last.map { .string($0.iso8601) } ?? .null,
                "status": .string(status), "divergences": .int(divergences.count),
                "first_divergence": divergences.first.map { .string($0) } ?? .null,
            ]
        }
    }

    public struct Summary: Sendable {
        public var home: String
        public var recording: String
        public var segments: [SegmentReport] = []
        /// Segments that follow a failed recording (cycles are missing before them), and those
        /// that could not be read.
        public var gaps = 0
        /// The checkpoint the replay started from: segment, cycle, time.
        public var checkpoint: (segment: String, cycle: Int, time: Instant)?
        public var cycles = 0
        public var failedCycles = 0
        public var divergences: [String] = []
        public var balance = 0.0
        public var decisionsHash = ""
        public var seconds = 0.0
        /// The trades the replay closed, and the numbers strategies are compared by (as `replay
        /// --feed` gives them): what a proposed bot.json would have done is read here.
        public var statistics = TradeStatistics()
        public var winRate = 0.0
        /// On equity, cycle by cycle, from the equity at the first checkpoint.
        public var maxDrawdown = 0.0
        public var startingEquity = 0.0
        public var equityAtDayEnds: [Double] = []

        public var json: JSONValue {
            var o = base.objectValue ?? JSONObject()
            o["trades"] = .int(statistics.trades)
            o["win_rate"] = .double(round4(winRate))
            o["net_pnl"] = .double(cents(statistics.netPnl))
            for field in statistics.json(start: startingEquity, dayEnds: equityAtDayEnds, maxDrawdown: maxDrawdown) {
                o[field.key] = field.value
            }
            return .object(o)
        }

        var base: JSONValue {
            [
                "ok": true, "home": .string(home), "recording": .string(recording), "cycles": .int(cycles),
                "failed_cycles": .int(failedCycles), "balance": .double(cents(balance)),
                "decisions_hash": .string(decisionsHash), "gaps": .int(gaps),
                "checkpoint": checkpoint.map {
                    ["segment": .string($0.segment), "cycle": .int($0.cycle), "time": .string($0.time.iso8601)]
                } ?? .null,
                "segments": .array(segments.map(\.json)),
                "divergences": .array(divergences.prefix(50).map { .string($0) }),
                "seconds": .double(round4(seconds)),
            ]
        }
    }

    /// An engine for `segment`, restored from its checkpoint: the recorded bot.json (or the one
    /// the options replaced it with), universe and settings (the candle store aside: it never
    /// changes a decision), on the recorded world.
    static func start(_ segment: RecordedSegment, home: Home, stores: EngineStores) throws -> (
        TradingEngine, RecordedWorld
    ) {
        var settings = segment.settings
        settings.recordCandles = false
        let config = try segment.config()
        let universe = try segment.universe()
        try? FileIO.writeJSON(home.botConfig, segment.botJSON)
        try? FileIO.writeJSON(home.assetUniverse, segment.universeJSON)
        let paper = PaperBroker(model: FillModel(fees: config.fees, slippage: settings.slippage))
        let world = RecordedWorld(feedName: segment.feed, mode: segment.mode, paper: paper)
        let engine = try TradingEngine(
            config: config, universe: universe, world: world, stores: stores, settings: settings,
            restoring: segment.checkpoint)
        return (engine, world)
    }

    /// Replays the recording in `dir` into `home` (created when missing). `onCycle` sees the
    /// engine after each cycle; `progress` gets a line per segment.
    public static func run(
        recording dir: String, into home: Home, options: Options = Options(),
        progress: ((String) -> Void)? = nil, onCycle: ((TradingEngine, RecordedCycle) -> Void)? = nil
    ) throws -> Summary {
        let started = Date()
        let entries = RecordingSegments.list(dir)
        guard !entries.isEmpty else {
            throw RecordingError("\(dir): no recording here (the engine records while `tradingbot run` runs)")
        }
        let heads = entries.map { RecordingSegments.head($0) }
        var startIndex = 0
        if let from = options.from {
            startIndex =
                heads.indices.last { i in heads[i].flatMap(\.started).map { $0 <= from } ?? false } ?? 0
        }
        try home.createDirectories()
        try FileManager.default.createDirectory(atPath: home.configDir, withIntermediateDirectories: true)
        let stores = try EngineStores(home: home)
        var summary = Summary(home: home.root, recording: dir)
        var engine: TradingEngine?
        var world: RecordedWorld?
        var lastPid: Int?
        var worlds: [RecordedWorld] = []
        var engines: [TradingEngine] = []
        var equityPath: [Double] = []
        var lastDay: Instant?
        var last: TradingEngine?
        var lastTime: Instant?
        for index in startIndex..<entries.count {
            let entry = entries[index]
            if let to = options.to, let head = heads[index], let t = head.started, t > to { break }
            var segment: RecordedSegment
            do {
                segment = try RecordedSegment.read(entry)
                if let config = options.config { segment.botJSON = config }
            } catch {
                summary.gaps += 1
                summary.segments.append(
                    SegmentReport(
                        name: entry.name, release: heads[index]?.release ?? "?", reason: heads[index]?.reason ?? "?",
                        status: "not replayed: \(error)"))
                engine = nil
                continue
            }
            var report = SegmentReport(
                name: segment.name, release: segment.release, reason: segment.reason, status: "replayed")
            let continues =
                engine != nil && segment.reason == "hour" && segment.pid == lastPid
                && engine?.cycle == segment.checkpointCycle
            // Cycles are missing before a gap's segment (whether or not the replay saw the ones
            // before), and before an hour's segment that does not follow on from the one replayed.
            if segment.reason == "gap" || (segment.reason == "hour" && engine != nil && !continues) {
                summary.gaps += 1
            }
            if !continues {
                do {
                    (engine, world) = try start(segment, home: home, stores: stores)
                    if let world { worlds.append(world) }
                    report.status = summary.checkpoint == nil ? "replayed" : "restored"
                } catch {
                    // One segment that cannot be restored (a config an older build refuses) is a
                    // gap, not the end of the replay.
                    summary.gaps += 1
                    report.status = "not replayed: \(error)"
                    summary.segments.append(report)
                    engine = nil
                    world = nil
                    continue
                }
            } else {
                report.status = "continued"
            }
            if summary.checkpoint == nil {
                summary.checkpoint = (segment.name, segment.checkpointCycle, segment.checkpointTime)
            }
            progress?(
                "replaying \(segment.name) (release \(segment.release), \(segment.reason), \(segment.cycleCount) cycles)"
            )
            guard let running = engine, let recorded = world else { continue }
            last = running
            let divergedBefore = recorded.divergences.count
            if engines.last !== running {
                engines.append(running)
                if equityPath.isEmpty { summary.startingEquity = running.balance + running.unrealized() }
            }
            let damaged = segment.forEachCycle { cycle in
                if let to = options.to, cycle.time > to { return false }
                recorded.load(cycle)
                do {
                    if let result = try running.runCycle(now: cycle.time) {
                        let day = result.time.startOfUTCDay
                        if let lastDay, day != lastDay, let last = equityPath.last {
                            summary.equityAtDayEnds.append(last)
                        }
                        lastDay = day
                        equityPath.append(result.equity)
                    }
                } catch {
                    summary.failedCycles += 1
                    stores.log(
                        "error", "cycle_failed", cycle: running.cycle, at: cycle.time,
                        [JSONField("error", .string("\(error)"))])
                }
                report.cycles += 1
                report.first = report.first ?? cycle.time
                report.last = cycle.time
                lastTime = cycle.time
                onCycle?(running, cycle)
                return true
            }
            report.divergences = Array(recorded.divergences.dropFirst(divergedBefore))
            if let damaged {
                summary.gaps += 1
                report.status += "; \(damaged)"
                // The next segment restores from its own checkpoint.
                engine = nil
                world = nil
            }
            lastPid = segment.pid
            summary.cycles += report.cycles
            summary.segments.append(report)
        }
        if let last {
            (last.world as? RecordedWorld)?.finish()
            try? last.persist(now: lastTime ?? WallClock.now)
            summary.balance = last.balance
            summary.decisionsHash = last.hash.hex
        }
        summary.divergences = worlds.flatMap(\.divergences)
        if let last = equityPath.last { summary.equityAtDayEnds.append(last) }
        let closed = engines.flatMap(\.closedThisRun)
        for p in closed { summary.statistics.add(p, net: p.netPnl ?? 0) }
        let wins = closed.filter { ($0.netPnl ?? 0) > 0 }.count
        let losses = closed.filter { ($0.netPnl ?? 0) < 0 }.count
        summary.winRate = wins + losses == 0 ? 0 : Double(wins) / Double(wins + losses)
        summary.maxDrawdown = TradeStatistics.maxDrawdown([summary.startingEquity] + equityPath)
        summary.seconds = Date().timeIntervalSince(started)
        return summary
    }
}
