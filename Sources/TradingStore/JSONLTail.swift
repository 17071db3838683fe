#if canImport(Glibc)
    import Glibc
#endif
import TradingCore

/// Where a reader stopped in a JSONL log: the file (by inode, so a rotation is seen) and the
/// byte after the last whole line read.
public struct LogCursor: Sendable, Equatable {
    public var inode: UInt64
    public var offset: Int64

    public init(inode: UInt64, offset: Int64) {
        self.inode = inode
        self.offset = offset
    }

    public var json: JSONValue {
        ["inode": .number(String(inode)), "offset": .int(Int(clamping: offset))]
    }

    public static func parse(_ value: JSONValue?) -> LogCursor? {
        func text(_ key: String) -> String? {
            if case .number(let text) = value?.objectValue?[key] { return text }
            return nil
        }
        guard let inode = text("inode").flatMap({ UInt64($0) }), let offset = text("offset").flatMap({ Int64($0) }),
            offset >= 0
        else { return nil }
        return LogCursor(inode: inode, offset: offset)
    }
}

/// Reads only what a JSONL log gained since a cursor, so a reader that runs twice a minute for
/// ever (the watchdog) costs the same on a 100 MB log as on an empty one. Follows one rotation
/// (`path` renamed to `path.1` by `JSONLAppender`): the rest of the old file, then the new one.
public enum JSONLTail {
    public struct Read {
        /// The whole lines appended since the cursor, parsed; unparsable lines are skipped.
        public var lines: [JSONValue]
        /// Where the next read starts.
        public var cursor: LogCursor?
        /// Bytes passed over unread because more than the cap arrived since the last look.
        public var skippedBytes: Int64
    }

    /// Lines since `cursor`. Without a cursor (a first look) it starts at the end: what was
    /// logged before the reader existed is not news. At most `maxBytes` are read per call.
    public static func read(_ path: String, since cursor: LogCursor?, maxBytes: Int64 = 8 << 20) -> Read {
        // No file yet: once the writer creates it, all of it is new (inode 0 matches no file).
        guard let now = identity(path) else {
            return Read(lines: [], cursor: cursor ?? LogCursor(inode: 0, offset: 0), skippedBytes: 0)
        }
        guard let cursor else {
            return Read(lines: [], cursor: LogCursor(inode: now.inode, offset: now.size), skippedBytes: 0)
        }
        var result = Read(lines: [], cursor: nil, skippedBytes: 0)
        var start: Int64 = 0
        if now.inode == cursor.inode {
            // A file shorter than the cursor was truncated in place: read it from the start.
            start = now.size < cursor.offset ? 0 : cursor.offset
        } else if let old = identity(path + ".1"), old.inode == cursor.inode, old.size > cursor.offset {
            // Rotated since the last look: the old file's tail first.
            _ = segment(path + ".1", from: cursor.offset, to: old.size, maxBytes: maxBytes, into: &result)
        }
        let end = segment(path, from: start, to: now.size, maxBytes: maxBytes, into: &result)
        result.cursor = LogCursor(inode: now.inode, offset: end)
        return result
    }

    /// The whole lines in the last `maxBytes` of `path` (a line cut by that window is dropped),
    /// oldest first: the newest state a log holds, read in bounded time whatever its size.
    public static func lastLines(_ path: String, maxBytes: Int64 = 64 << 10) -> [JSONValue] {
        guard let now = identity(path) else { return [] }
        var result = Read(lines: [], cursor: nil, skippedBytes: 0)
        _ = segment(path, from: 0, to: now.size, maxBytes: maxBytes, into: &result)
        return result.lines
    }

    /// The first line of `path` when it is whole and reads as JSON (within `maxBytes`): a
    /// file's header, read without reading the file.
    public static func firstLine(_ path: String, maxBytes: Int = 4 << 20) -> JSONValue? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { _ = close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while bytes.count < maxBytes {
            let got = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            guard got > 0 else { return nil }
            if let newline = chunk[0..<got].firstIndex(of: 0x0A) {
                bytes += chunk[0..<newline]
                return try? JSONValue.parse(bytes)
            }
            bytes += chunk[0..<got]
        }
        return nil
    }

    static func identity(_ path: String) -> (inode: UInt64, size: Int64)? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return (UInt64(info.st_ino), Int64(info.st_size))
    }

    /// Parses the whole lines of `path` between the offsets; returns the offset after the last
    /// whole line (a line still being written is read next time).
    static func segment(_ path: String, from: Int64, to: Int64, maxBytes: Int64, into result: inout Read) -> Int64 {
        guard to > from else { return from }
        var start = from
        var skipping = false
        if to - from > maxBytes {
            result.skippedBytes += to - from - maxBytes
            start = to - maxBytes
            skipping = true  // starts mid-line: drop up to the first newline
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return from }
        defer { _ = close(fd) }
        var bytes = [UInt8](repeating: 0, count: Int(to - start))
        let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(start)) }
        guard got > 0 else { return from }
        var lineStart = 0
        var consumed = 0
        for index in 0..<got where bytes[index] == 0x0A {
            if skipping {
                skipping = false
            } else if index > lineStart, let value = try? JSONValue.parse(Array(bytes[lineStart..<index])) {
                result.lines.append(value)
            }
            lineStart = index + 1
            consumed = index + 1
        }
        return start + Int64(consumed)
    }
}
