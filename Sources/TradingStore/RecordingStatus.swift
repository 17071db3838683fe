import TradingCore

/// The flight recorder's state as the guard and the dashboard see it from outside the engine:
/// is it being written while the engine runs, and is it within its bound.
public struct RecordingStatus: Sendable {
    public var segments: Int
    public var bytes: Int64
    public var bound: RecordingBound
    /// Why config/recording.json could not be used (the recorder then uses the defaults).
    public var boundProblem: String?
    /// When the newest segment was last written.
    public var newestWrittenAt: Instant?

    /// `minFreeDiskMB` as `RecordingBound.load` takes it.
    public static func read(home: Home, minFreeDiskMB: Int? = nil) -> RecordingStatus {
        let list = RecordingSegments.list(home.recordingDir)
        let (bound, problem) = RecordingBound.load(home: home, minFreeDiskMB: minFreeDiskMB)
        let newest = list.last.flatMap { FileStamp.of($0.path) }.map {
            Instant(microseconds: $0.modifiedNanoseconds / 1000)
        }
        return RecordingStatus(
            segments: list.count, bytes: list.reduce(0) { $0 + $1.bytes }, bound: bound, boundProblem: problem,
            newestWrittenAt: newest)
    }

    /// What is wrong, or nil: nothing written for `staleAfter` seconds while the engine runs
    /// (`beat` fresh and not stopped), or the folder well over its bound.
    public func problem(now: Instant, beat: Heartbeat?, staleAfter: Double) -> String? {
        if let boundProblem { return "config/recording.json: \(boundProblem)" }
        let running = beat.map { $0.phase != "stopped" && $0.age(now: now) <= staleAfter } ?? false
        if running {
            guard let newestWrittenAt else {
                return
                    "the engine runs but nothing is recorded in data/recording (a release older than the flight recorder records nothing; else grep recording_failed logs/bot.jsonl)"
            }
            let age = newestWrittenAt.seconds(until: now)
            if age > staleAfter {
                return
                    "the engine runs but the recording was last written \(Int(age)) s ago: grep recording_failed logs/bot.jsonl (a full disk, or free space under min_free_disk_mb + 1000 MB)"
            }
        }
        // The writer prunes when it opens a segment: one hour's segment over the bound is normal.
        if bytes > bound.maxBytes + bound.maxBytes / 10 + 50_000_000 {
            return "\(bytes / 1_000_000) MB recorded, over its bound of \(bound.maxBytes / 1_000_000) MB"
        }
        return nil
    }

    public var summary: String {
        guard segments > 0 else { return "nothing recorded yet" }
        return "\(segments) segment(s), \(bytes / 1_000_000) MB of \(bound.maxBytes / 1_000_000) MB"
    }
}
