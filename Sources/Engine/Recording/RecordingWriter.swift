import Exchange
import Foundation
import TradingCore
import TradingStore

/// The flight recorder's disk side, on a thread of its own: it encodes each cycle (the costly
/// part: every number of the market in its exact shortest form) and writes it, so the engine's
/// cycle only copies what it saw. It keeps its own state; what happened comes back as events the
/// engine's thread logs at its next cycle.
final class RecordingWriter: @unchecked Sendable {
    /// What the engine's thread hands over.
    enum Item: Sendable {
        /// A new segment: its file, its header, the checkpoint it opens with.
        case open(path: String, header: JSONObject, checkpoint: EngineCheckpoint)
        case cycle(RecordedCycleCapture)
    }

    /// What the writer tells the engine's thread.
    enum Event: Sendable, Equatable {
        case opened(path: String)
        case failed(String)
        case pruned(removed: [String], keptBytes: Int64)
    }

    let dir: String
    private let queue = DispatchQueue(label: "tradingbot.flight-recorder", qos: .utility)
    private let lock = NSLock()
    // Under `lock`: shared with the engine's thread.
    private var events: [Event] = []
    private var queued = 0
    private var bound: RecordingBound
    // The writer's own (only touched on `queue`).
    private var segment: JSONLAppender?
    private var segmentPath: String?
    private var previous: [String: MarketSnapshot] = [:]

    init(dir: String, bound: RecordingBound) {
        self.dir = dir
        self.bound = bound
    }

    /// Items handed over and not yet written: a writer far behind (a disk that hangs) makes the
    /// engine leave a gap rather than hold every cycle in memory.
    var backlog: Int { lock.withLock { queued } }

    var currentBound: RecordingBound {
        get { lock.withLock { bound } }
        set { lock.withLock { bound = newValue } }
    }

    func submit(_ item: Item) {
        lock.withLock { queued += 1 }
        queue.async { [self] in
            write(item)
            lock.withLock { queued -= 1 }
        }
    }

    /// Holds the writer until `release` is signalled, as a disk that hangs would (drills).
    func hold(until release: DispatchSemaphore) {
        lock.withLock { queued += 1 }
        queue.async { [self] in
            release.wait()
            lock.withLock { queued -= 1 }
        }
    }

    /// What happened since the last call.
    func drainEvents() -> [Event] {
        lock.withLock {
            defer { events.removeAll() }
            return events
        }
    }

    /// Waits until everything handed over is on disk (a stopping engine; tests), or `timeout`
    /// seconds at most; false when it is still writing then (a disk that hangs).
    @discardableResult
    func flush(timeout: Double? = nil) -> Bool {
        guard let timeout else {
            queue.sync {}
            return true
        }
        let done = DispatchSemaphore(value: 0)
        queue.async { done.signal() }
        return done.wait(timeout: .now() + timeout) == .success
    }

    private func say(_ event: Event) { lock.withLock { events.append(event) } }

    private func write(_ item: Item) {
        switch item {
        case .open(let path, let header, let checkpoint): open(path, header: header, checkpoint: checkpoint)
        case .cycle(let capture):
            guard let segment else { return }  // after a failure, until the next segment
            do {
                if spaceProblem() != nil {
                    prune()
                    if let problem = spaceProblem() { throw RecordingError(problem) }
                }
                try segment.append(capture.encode(after: &previous))
            } catch {
                fail(error)
            }
        }
    }

    private func open(_ path: String, header: JSONObject, checkpoint: EngineCheckpoint) {
        segment?.close()
        segment = nil
        segmentPath = nil
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            prune()
            if let problem = spaceProblem() { throw RecordingError(problem) }
            let appender = try JSONLAppender(path: path)
            segment = appender
            segmentPath = path
            try appender.append(.object(header))
            let line: JSONValue = [
                "checkpoint": checkpoint.json, "c": .int(checkpoint.cycle),
                "t": SnapshotCodec.instantJSON(checkpoint.time),
            ]
            try appender.append(line, sync: true)
            previous.removeAll()
            say(.opened(path: path))
        } catch {
            // Without its header and checkpoint a segment cannot be replayed: no file is left.
            segment?.close()
            segment = nil
            segmentPath = nil
            try? FileIO.remove(path)
            say(.failed("\(error)"))
        }
    }

    /// A gap: the segment ends here; the engine's thread opens the next one.
    private func fail(_ error: any Error) {
        segment?.close()
        segment = nil
        segmentPath = nil
        say(.failed("\(error)"))
    }

    /// Why the home has no room for recording, or nil when it has.
    private func spaceProblem() -> String? {
        let floor = currentBound.minFreeBytes
        guard let free = FileIO.freeBytes(dir), free < floor else { return nil }
        return
            "\(free / 1_000_000) MB free in the home, below min_free_disk_mb + 1000 MB (\(floor / 1_000_000) MB): the engine's own files come first"
    }

    /// Removes the oldest segments (never the one being written) while the recording is over
    /// its size, or while the home's free space is under its floor and giving the recording's
    /// space back lifts it over (when something else filled the disk, deleting the history would
    /// not help: it is kept, and the recording pauses until there is room).
    private func prune() {
        var segments = RecordingSegments.list(dir)
        let bound = currentBound
        func total() -> Int64 { segments.reduce(0) { $0 + $1.bytes } }
        func short() -> Bool { (FileIO.freeBytes(dir) ?? .max) < bound.minFreeBytes }
        let deletable = segments.filter { $0.path != segmentPath }.reduce(Int64(0)) { $0 + $1.bytes }
        let spaceHelps = (FileIO.freeBytes(dir) ?? .max) &+ deletable >= bound.minFreeBytes
        var removed: [String] = []
        while let oldest = segments.first, oldest.path != segmentPath,
            total() > bound.maxBytes || (spaceHelps && short())
        {
            if (try? FileIO.remove(oldest.path)) == nil { break }
            removed.append(oldest.name)
            segments.removeFirst()
        }
        if !removed.isEmpty { say(.pruned(removed: removed, keptBytes: total())) }
    }
}

/// One cycle as the engine's thread hands it over: what the world said, not yet encoded.
struct RecordedCycleCapture: Sendable {
    var cycle: Int
    var time: Instant
    var market: [MarketSnapshot]
    var kill: Bool
    var notices: [FeedNotice]
    var answers: [JSONValue]
    var failures: [JSONValue]

    /// The cycle's line: each snapshot as its change since the symbol's `previous` one.
    func encode(after previous: inout [String: MarketSnapshot]) -> JSONValue {
        var o = JSONObject()
        o["c"] = .int(cycle)
        o["t"] = SnapshotCodec.instantJSON(time)
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
        return .object(o)
    }
}
