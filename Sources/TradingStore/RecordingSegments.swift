import Foundation
import TradingCore

/// The flight recorder's folder: one file per segment, named so that names sort as time does.
public enum RecordingSegments {
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var path: String
        public var bytes: Int64
    }

    /// `seg-20261207T101500Z-p4242-1.jsonl`: the UTC second it started, the recording process, and
    /// the process's own count (an hour's segment and a gap's segment may start in one second).
    public static func fileName(started: Instant, pid: some BinaryInteger, n: Int) -> String {
        let stamp = String(started.iso8601.prefix(19)).filter { $0 != "-" && $0 != ":" }
        // The pid padded, so two processes' segments of one second still sort as text.
        return "seg-\(stamp)Z-p\(String(format: "%07d", Int(pid)))-\(String(format: "%06d", n)).jsonl"
    }

    /// The segments in `dir`, oldest first.
    public static func list(_ dir: String) -> [Entry] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.filter { $0.hasPrefix("seg-") && $0.hasSuffix(".jsonl") }.sorted().map { name in
            let path = dir + "/" + name
            return Entry(name: name, path: path, bytes: FileStamp.of(path)?.size ?? 0)
        }
    }

    /// What a segment's first line says, without reading the segment.
    public struct Head: Sendable, Equatable {
        public var name: String
        public var path: String
        public var format: Int?
        public var release: String
        public var reason: String
        public var pid: Int
        public var started: Instant?
        public var bytes: Int64
    }

    /// The header of `entry`, or nil when its first line cannot be read.
    public static func head(_ entry: Entry) -> Head? {
        guard let line = JSONLTail.firstLine(entry.path), let o = line.objectValue else { return nil }
        return Head(
            name: entry.name, path: entry.path, format: o["recording"]?.doubleValue.map { Int($0) },
            release: o["release"]?.stringValue ?? "?", reason: o["reason"]?.stringValue ?? "?",
            pid: o["pid"]?.doubleValue.map { Int($0) } ?? 0, started: o["started"]?.instantValue, bytes: entry.bytes)
    }
}
