import Exchange
import Foundation
import TradingCore
import TradingStore

/// The flight recorder: the live world, wrapped so that everything it tells the engine in a
/// cycle is kept in `data/recording`, with checkpoints of the engine's state, so a replay of the
/// recording decides exactly what the engine decided.
///
/// Recording never changes trading: a write that fails is logged once as a warning, leaves a gap
/// and is tried again at the next cycle in a new segment; it never sets the engine's write
/// problem. Each process writes segments of its own (`seg-<UTC>-p<pid>-<n>.jsonl`, one per UTC
/// hour, each opening with a checkpoint) and never appends to another's, so a build meeting a
/// newer format never writes into it.
///
/// - Important: not Sendable; the engine's thread drives it.
public final class FlightRecorder: EngineWorld {
    /// The recording's format; every build reads every older one.
    public static let formatVersion = 1
    /// A segment (and its checkpoint) per UTC hour.
    static let checkpointEvery: Int64 = 3_600_000_000

    /// Cycles the writer may fall behind before the engine leaves a gap instead.
    static let maxBacklog = 30

    let inner: LiveWorld
    let stores: EngineStores
    let header: JSONObject
    let writer: RecordingWriter
    var segmentCount = 0
    var checkpointHour: Int64?
    /// A failure was heard: the next cycle opens a new segment.
    var needsSegment = false
    /// Failures noted so far, and the count when each segment still opening was asked for: a
    /// segment asked for before the latest failure does not end its gap when it opens.
    var failuresNoted = 0
    var opening: [String: Int] = [:]
    /// Why recording fails, while it does (said once; nil again when a segment opens).
    public private(set) var failing: String?

    /// The recorder's bound (size and free-space floor).
    public var bound: RecordingBound {
        get { writer.currentBound }
        set { writer.currentBound = newValue }
    }

    // What the world said in this cycle.
    var market: [MarketSnapshot] = []
    var answers: [JSONValue] = []
    var failures: [JSONValue] = []
    var writes: [WriteKind: Int] = [:]
    var kill = false
    var notices: [FeedNotice] = []

    /// `botJSON` and `universeJSON` are the files as this process parsed them, `overrides` its
    /// command-line changes to them (`cycle_seconds`).
    public init(
        live: LiveWorld, stores: EngineStores, botJSON: JSONValue, overrides: JSONObject, universeJSON: JSONValue,
        settings: EngineSettings
    ) {
        inner = live
        self.stores = stores
        var h = JSONObject()
        h["recording"] = .int(Self.formatVersion)
        h["release"] = .string(settings.release)
        h["pid"] = .int(Int(ProcessIdentity.pid))
        h["feed"] = .string(live.feedName)
        h["mode"] = .string(live.mode)
        h["bot_json"] = botJSON
        h["overrides"] = .object(overrides)
        h["universe"] = universeJSON
        h["settings"] = RecordingHeader.settingsJSON(settings)
        header = h
        let (bound, problem) = RecordingBound.load(home: stores.home)
        writer = RecordingWriter(dir: stores.home.recordingDir, bound: bound)
        if let problem {
            stores.log(
                "warning", "recording_config_unreadable", cycle: 0, at: WallClock.now,
                [JSONField("error", .string(problem))])
        }
    }

    public var feedName: String { inner.feedName }
    public var mode: String { inner.mode }
    public var live: LiveWorld? { inner }

    public func market(at time: Instant) throws -> [MarketSnapshot]? {
        answers.removeAll()
        failures.removeAll()
        writes.removeAll()
        notices.removeAll()
        kill = false
        let snapshots = try inner.market(at: time)
        market = snapshots ?? []
        return snapshots
    }

    public func feedNotices() -> [FeedNotice] {
        let said = inner.feedNotices()
        notices += said
        return said
    }

    public func killSwitchOn() -> Bool {
        kill = inner.killSwitchOn()
        return kill
    }

    public func order(symbol: String, buy: Bool, notional: Double, market: MarketSnapshot) throws -> Fill {
        let call = RecordedAnswers.orderCall(symbol: symbol, buy: buy, notional: notional)
        return try answer("o", call) { try inner.order(symbol: symbol, buy: buy, notional: notional, market: market) }
    }

    public func close(symbol: String, buy: Bool, quantity: Double, market: MarketSnapshot, onPaper: Bool) throws
        -> Fill
    {
        let call = RecordedAnswers.closeCall(symbol: symbol, buy: buy, quantity: quantity, onPaper: onPaper)
        return try answer("x", call) {
            try inner.close(symbol: symbol, buy: buy, quantity: quantity, market: market, onPaper: onPaper)
        }
    }

    func answer(_ kind: String, _ call: JSONValue, _ body: () throws -> Fill) throws -> Fill {
        do {
            let fill = try body()
            answers.append([kind: call, "fill": RecordedAnswers.fill(fill)])
            return fill
        } catch {
            answers.append([kind: call, "err": RecordedAnswers.error(error)])
            throw error
        }
    }

    public func reconcile(open: [Position], now: Instant) throws -> Reconciliation? {
        do {
            // A broker that holds nothing elsewhere (paper) answers nil: nothing to keep.
            guard let r = try inner.reconcile(open: open, now: now) else { return nil }
            answers.append(["r": RecordedAnswers.reconciliation(r)])
            return r
        } catch {
            answers.append(["r": .null, "err": RecordedAnswers.error(error)])
            throw error
        }
    }

    public func write(_ kind: WriteKind, _ body: () throws -> Void) throws {
        let n = writes[kind, default: 0]
        writes[kind] = n + 1
        do {
            try body()
        } catch {
            failures.append(["k": .string(kind.rawValue), "n": .int(n), "err": RecordedAnswers.error(error)])
            throw error
        }
    }

    // MARK: the recording

    /// Opens the first segment with the engine's state as it starts.
    public func begin(_ engine: TradingEngine, at now: Instant) {
        openSegment(engine, at: now, reason: "start")
    }

    /// Hands the cycle that just ran (or failed) to the writer. Each UTC hour starts a segment
    /// of its own, beginning with a checkpoint (the oldest hours go first when the recording is
    /// over its bound); after a gap, a new segment starts from the engine's state now.
    func cycleEnded(_ engine: TradingEngine, at now: Instant) {
        hearWriter(engine, at: now)
        if writer.backlog > Self.maxBacklog {
            // The disk hangs: leave a gap rather than hold every cycle in memory.
            noteFailure(
                "the recording is \(writer.backlog) cycles behind (its disk is too slow): this cycle is not recorded",
                engine: engine, at: now)
            return
        }
        guard !needsSegment else {
            openSegment(engine, at: now, reason: "gap")
            return
        }
        writer.submit(
            .cycle(
                RecordedCycleCapture(
                    cycle: engine.cycle, time: now, market: market, kill: kill, notices: notices, answers: answers,
                    failures: failures)))
        let hour = now.microseconds / Self.checkpointEvery
        if hour != checkpointHour {
            openSegment(engine, at: now, reason: "hour")
        }
    }

    /// The writer waits until everything handed over is on disk: a stopping engine calls it, so
    /// its last cycles are in the recording.
    public func flush(_ engine: TradingEngine, at now: Instant, timeout: Double? = nil) {
        if writer.flush(timeout: timeout) {
            hearWriter(engine, at: now)
        } else {
            stores.log(
                "warning", "recording_unfinished", cycle: engine.cycle, at: now,
                [
                    JSONField(
                        "error",
                        .string("the recording's disk did not take its last cycles within \(Int(timeout ?? 0)) s"))
                ])
        }
    }

    func openSegment(_ engine: TradingEngine, at now: Instant, reason: String) {
        segmentCount += 1
        let path =
            stores.home.recordingDir + "/"
            + RecordingSegments.fileName(started: now, pid: ProcessIdentity.pid, n: segmentCount)
        var h = header
        h["started"] = .string(now.iso8601)
        h["reason"] = .string(reason)
        needsSegment = false
        checkpointHour = now.microseconds / Self.checkpointEvery
        opening[path] = failuresNoted
        writer.submit(.open(path: path, header: h, checkpoint: engine.captureCheckpoint(at: now)))
    }

    /// Logs what the writer did since the last cycle: a failure once (a gap; the next cycle
    /// opens a new segment), the recording back, old segments removed.
    func hearWriter(_ engine: TradingEngine, at now: Instant) {
        for event in writer.drainEvents() {
            switch event {
            case .failed(let message):
                noteFailure(message, engine: engine, at: now)
                // Segments asked for before this failure end no gap; none is still opening then.
                opening = opening.filter { $0.value >= failuresNoted }
            case .opened(let path):
                // A failure heard in the same breath belonged to the segment this one replaced;
                // one noted after this segment was asked for (cycles left out) still needs the next.
                if opening.removeValue(forKey: path) == failuresNoted { needsSegment = false }
                if let said = failing {
                    failing = nil
                    stores.log(
                        "info", "recording_resumed", cycle: engine.cycle, at: now,
                        [JSONField("segment", .string(path)), JSONField("after", .string(said))])
                }
            case .pruned(let removed, let kept):
                stores.log(
                    "info", "recording_pruned", cycle: engine.cycle, at: now,
                    [
                        JSONField("removed", .array(removed.map { .string($0) })),
                        JSONField("kept_bytes", .int(Int(clamping: kept))),
                    ])
            }
        }
    }

    /// A gap: said once while it lasts; the next cycle starts a new segment.
    func noteFailure(_ message: String, engine: TradingEngine, at now: Instant) {
        needsSegment = true
        failuresNoted += 1
        guard failing == nil else { return }
        failing = message
        stores.log(
            "warning", "recording_failed", cycle: engine.cycle, at: now,
            [
                JSONField("error", .string(message)),
                JSONField(
                    "effect",
                    .string(
                        "trading goes on; the recording has a gap from cycle \(engine.cycle) and starts a new segment when it can write again"
                    )),
            ])
    }
}

extension TradingEngine {
    /// The flight recorder this engine reads the world through, if it records.
    public var recorder: FlightRecorder? { world as? FlightRecorder }
}
