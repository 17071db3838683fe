import Exchange
import TradingCore
import TradingStore

/// One segment of a recording as read back: its header, its opening checkpoint and its cycles,
/// each cycle's market rebuilt exactly as the engine used it.
public struct RecordedSegment {
    public var name: String
    public var path: String
    public var format: Int
    public var release: String
    public var pid: Int
    /// `start` (a process began), `hour` (the next hour of the same process), `gap` (recording
    /// failed before it: cycles are missing).
    public var reason: String
    public var feed: String
    public var mode: String
    public var botJSON: JSONValue
    public var overrides: JSONObject
    public var universeJSON: JSONValue
    public var settings: EngineSettings
    public var checkpoint: JSONValue
    public var checkpointCycle: Int
    public var checkpointTime: Instant
    /// The file's bytes and where each whole cycle line lies in them: a cycle is parsed and
    /// rebuilt only when the replay reaches it (an hour at 400 symbols in BloFin's shape is about
    /// 19 MB of text; its 60 cycles' whole windows rebuilt at once would be many times that).
    let bytes: [UInt8]
    let cycleLines: [Range<Int>]

    /// Cycle lines in the file (a torn last line, from a process killed mid-line, is not one).
    public var cycleCount: Int { cycleLines.count }

    /// Reads the header and the checkpoint. Throws when the segment is of a newer format, or has
    /// no readable header or checkpoint (a process killed before it wrote one).
    public static func read(_ entry: RecordingSegments.Entry) throws(RecordingError) -> RecordedSegment {
        let bytes: [UInt8]
        do {
            bytes = try FileIO.read(entry.path)
        } catch {
            throw RecordingError("\(entry.path): \(error)")
        }
        var lines: [Range<Int>] = []
        var start = 0
        for (index, byte) in bytes.enumerated() where byte == 0x0A {
            if index > start { lines.append(start..<index) }
            start = index + 1
        }
        func parse(_ range: Range<Int>) -> JSONObject? { (try? JSONValue.parse(Array(bytes[range])))?.objectValue }
        guard let first = lines.first, let h = parse(first), let format = h["recording"]?.doubleValue.map({ Int($0) })
        else { throw RecordingError("\(entry.path): no readable header") }
        guard format <= FlightRecorder.formatVersion else {
            throw RecordingError(
                "\(entry.path): recording format \(format) is newer than this build reads (\(FlightRecorder.formatVersion))"
            )
        }
        guard lines.count > 1, let c = parse(lines[1]), let checkpoint = c["checkpoint"],
            let cycle = c["c"]?.doubleValue, let time = SnapshotCodec.instant(c["t"])
        else { throw RecordingError("\(entry.path): no checkpoint (the recording stopped before it wrote one)") }
        return RecordedSegment(
            name: entry.name, path: entry.path, format: format, release: h["release"]?.stringValue ?? "?",
            pid: h["pid"]?.doubleValue.map { Int($0) } ?? 0, reason: h["reason"]?.stringValue ?? "?",
            feed: h["feed"]?.stringValue ?? "?", mode: h["mode"]?.stringValue ?? "paper",
            botJSON: h["bot_json"] ?? .null, overrides: h["overrides"]?.objectValue ?? JSONObject(),
            universeJSON: h["universe"] ?? .null, settings: try RecordingHeader.settings(h["settings"]),
            checkpoint: checkpoint, checkpointCycle: Int(cycle), checkpointTime: time, bytes: bytes,
            cycleLines: Array(lines.dropFirst(2)))
    }

    /// Each cycle in order, rebuilt one at a time, while `body` returns true. Returns why the
    /// segment ends early when a line cannot be read (a damaged file): the cycles after it are
    /// missing, a gap.
    public func forEachCycle(_ body: (RecordedCycle) throws -> Bool) rethrows -> String? {
        var previous: [String: MarketSnapshot] = [:]
        for (index, range) in cycleLines.enumerated() {
            let cycle: RecordedCycle
            do {
                cycle = try RecordedCycle(try JSONValue.parse(Array(bytes[range])), previous: &previous)
            } catch {
                return "line \(index + 3) cannot be read (\(error)): the cycles from there on are missing"
            }
            guard try body(cycle) else { return nil }
        }
        return nil
    }

    /// The config this segment's engine ran with: bot.json as it parsed it, with its overrides.
    public func config() throws(RecordingError) -> BotConfig {
        do {
            var config = try BotConfig.parse(botJSON, file: "\(name) bot_json")
            if let seconds = overrides["cycle_seconds"]?.doubleValue { config.cycleSeconds = Int(seconds) }
            return config
        } catch {
            throw RecordingError("\(path): the recorded bot.json: \(error)")
        }
    }

    public func universe() throws(RecordingError) -> AssetUniverse {
        do {
            return try AssetUniverse.parse(universeJSON, file: "\(name) universe")
        } catch {
            throw RecordingError("\(path): the recorded asset universe: \(error)")
        }
    }
}

/// One cycle as recorded: its time, the market in the feed's order, the kill switch, what the
/// feed had to say, the broker's answers and the writes that failed.
public struct RecordedCycle {
    public var cycle: Int
    public var time: Instant
    public var market: [MarketSnapshot]
    public var kill: Bool
    public var notices: [FeedNotice]
    public var answers: [JSONValue]
    public var failures: [JSONValue]

    init(_ line: JSONValue, previous: inout [String: MarketSnapshot]) throws(RecordingError) {
        guard let o = line.objectValue, let c = o["c"]?.doubleValue, let t = SnapshotCodec.instant(o["t"]),
            let m = o["m"]?.arrayValue
        else { throw RecordingError("not a cycle") }
        cycle = Int(c)
        time = t
        market = []
        market.reserveCapacity(m.count)
        for item in m {
            let symbol = item.objectValue?["s"]?.stringValue ?? ""
            let s = try SnapshotCodec.decode(item, after: previous[symbol])
            previous[s.symbol] = s
            market.append(s)
        }
        kill = o["k"]?.boolValue ?? false
        notices = (o["n"]?.arrayValue ?? []).compactMap { v in
            guard let a = v.arrayValue, a.count == 3, let level = a[0].stringValue, let event = a[1].stringValue,
                let message = a[2].stringValue
            else { return nil }
            return FeedNotice(level: level, event: event, message: message)
        }
        answers = o["a"]?.arrayValue ?? []
        failures = o["f"]?.arrayValue ?? []
    }
}
