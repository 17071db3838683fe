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

    let inner: LiveWorld
    let stores: EngineStores
    let header: JSONObject
    var bound: RecordingBound
    var segment: JSONLAppender?
    var segmentPath: String?
    var segmentCount = 0
    var previous: [String: MarketSnapshot] = [:]
    var checkpointHour: Int64?
    /// Why recording fails, while it does (said once; nil again when a segment opens).
    public private(set) var failing: String?

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
        self.bound = bound
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
        let call: JSONValue = [.string(symbol), .bool(buy), .double(notional)]
        return try answer("o", call) { try inner.order(symbol: symbol, buy: buy, notional: notional, market: market) }
    }

    public func close(symbol: String, buy: Bool, quantity: Double, market: MarketSnapshot, onPaper: Bool) throws
        -> Fill
    {
        let call: JSONValue = [.string(symbol), .bool(buy), .double(quantity), .bool(onPaper)]
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

    /// Keeps what the world said in the cycle that just ran (or failed). Each UTC hour starts a
    /// segment of its own, beginning with a checkpoint (the oldest hours go first when the
    /// recording is over its bound); after a gap, a new segment starts from the engine's state now.
    func cycleEnded(_ engine: TradingEngine, at now: Instant) {
        guard segment != nil else {
            openSegment(engine, at: now, reason: "gap")
            return
        }
        if let free = FileIO.freeBytes(stores.home.recordingDir), free < bound.minFreeBytes {
            prune(engine: engine, at: now)
            if let problem = spaceProblem() {
                failed(RecordingError(problem), engine: engine, at: now)
                return
            }
        }
        var o = JSONObject()
        o["c"] = .int(engine.cycle)
        o["t"] = SnapshotCodec.instantJSON(now)
        o["m"] = .array(
            market.map { s in
                defer { previous[s.symbol] = s }
                return SnapshotCodec.encode(s, after: previous[s.symbol])
            })
        if kill { o["k"] = .bool(true) }
        if !notices.isEmpty {
            o["n"] = .array(notices.map { [.string($0.level), .string($0.event), .string($0.message)] })
        }
        if !answers.isEmpty { o["a"] = .array(answers) }
        if !failures.isEmpty { o["f"] = .array(failures) }
        guard append(.object(o), engine: engine, at: now) else { return }
        if now.microseconds / Self.checkpointEvery != checkpointHour {
            segment?.close()
            segment = nil
            openSegment(engine, at: now, reason: "hour")
        }
    }

    /// Why the home has no room for recording, or nil when it has.
    func spaceProblem() -> String? {
        guard let free = FileIO.freeBytes(stores.home.recordingDir), free < bound.minFreeBytes else { return nil }
        return
            "\(free / 1_000_000) MB free in the home, below min_free_disk_mb + 1000 MB (\(bound.minFreeBytes / 1_000_000) MB): the engine's own files come first"
    }

    func openSegment(_ engine: TradingEngine, at now: Instant, reason: String) {
        let dir = stores.home.recordingDir
        segmentCount += 1
        let path = dir + "/" + RecordingSegments.fileName(started: now, pid: ProcessIdentity.pid, n: segmentCount)
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            prune(engine: engine, at: now)
            if let problem = spaceProblem() { throw RecordingError(problem) }
            let appender = try JSONLAppender(path: path)
            var h = header
            h["started"] = .string(now.iso8601)
            h["reason"] = .string(reason)
            try appender.append(.object(h))
            segment = appender
            segmentPath = path
            previous.removeAll()
        } catch {
            // A segment that could not even take its header is no segment: no empty file left.
            try? FileIO.remove(path)
            failed(error, engine: engine, at: now)
            return
        }
        guard writeCheckpoint(engine, at: now) else {
            // Without its checkpoint the segment cannot be replayed: gone, the gap stays one gap.
            try? FileIO.remove(path)
            return
        }
        if let said = failing {
            failing = nil
            stores.log(
                "info", "recording_resumed", cycle: engine.cycle, at: now,
                [JSONField("segment", .string(path)), JSONField("after", .string(said))])
        }
    }

    func writeCheckpoint(_ engine: TradingEngine, at now: Instant) -> Bool {
        let line: JSONValue = [
            "checkpoint": engine.checkpoint(at: now), "c": .int(engine.cycle), "t": SnapshotCodec.instantJSON(now),
        ]
        guard append(line, engine: engine, at: now, sync: true) else { return false }
        checkpointHour = now.microseconds / Self.checkpointEvery
        return true
    }

    func append(_ line: JSONValue, engine: TradingEngine, at now: Instant, sync: Bool = false) -> Bool {
        guard let segment else { return false }
        do {
            try segment.append(line, sync: sync)
            return true
        } catch {
            failed(error, engine: engine, at: now)
            return false
        }
    }

    /// A gap: the segment ends here, and the next cycle tries a new one. Said once per failure.
    func failed(_ error: any Error, engine: TradingEngine, at now: Instant) {
        segment?.close()
        segment = nil
        segmentPath = nil
        guard failing == nil else { return }
        failing = "\(error)"
        stores.log(
            "warning", "recording_failed", cycle: engine.cycle, at: now,
            [
                JSONField("error", .string("\(error)")),
                JSONField(
                    "effect",
                    .string(
                        "trading goes on; the recording has a gap from cycle \(engine.cycle) and starts a new segment when it can write again"
                    )),
            ])
    }

    /// Removes the oldest segments (never the one being written) while the recording is over
    /// its size or the home's free space is under its floor.
    func prune(engine: TradingEngine, at now: Instant) {
        let dir = stores.home.recordingDir
        var segments = RecordingSegments.list(dir)
        let current = segmentPath
        func total() -> Int64 { segments.reduce(0) { $0 + $1.bytes } }
        func short() -> Bool { (FileIO.freeBytes(dir) ?? .max) < bound.minFreeBytes }
        var removed: [String] = []
        while let oldest = segments.first, oldest.path != current, total() > bound.maxBytes || short() {
            if (try? FileIO.remove(oldest.path)) == nil { break }
            removed.append(oldest.name)
            segments.removeFirst()
        }
        if !removed.isEmpty {
            stores.log(
                "info", "recording_pruned", cycle: engine.cycle, at: now,
                [
                    JSONField("removed", .array(removed.map { .string($0) })),
                    JSONField("kept_bytes", .int(Int(clamping: total()))),
                ])
        }
    }
}

extension TradingEngine {
    /// The flight recorder this engine reads the world through, if it records.
    public var recorder: FlightRecorder? { world as? FlightRecorder }
}
