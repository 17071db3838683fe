#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import TradingCore

/// Appends one JSON object per line (signals, decisions, service log). Each line goes out in a
/// single `write(2)` on an `O_APPEND` descriptor, so lines from concurrent writers never
/// interleave and a crash loses at most the line being written.
///
/// - Important: not Sendable; one owner per file handle.
public final class JSONLAppender {
    public let path: String
    private var fd: Int32
    private let mode: mode_t
    public let rotation: Rotation?

    /// Size-based rotation: at `maxBytes` the file becomes `path.1` (`.1` becomes `.2`, and so on;
    /// the oldest beyond `keep` is deleted), so a year of cycles cannot fill the disk.
    public struct Rotation: Sendable, Equatable {
        public var maxBytes: Int64
        public var keep: Int
        public init(maxBytes: Int64, keep: Int) {
            self.maxBytes = max(1024, maxBytes)
            self.keep = max(1, keep)
        }
        /// The engine's logs and the watchdog's: 50 MB and five old files, at most 300 MB each.
        public static let standard = Rotation(maxBytes: 50 << 20, keep: 5)

        /// `path`'s rotated files that exist and then `path`, oldest first: a log read whole.
        /// Up to `.9`, so a file rotated with a larger `keep` is read too.
        public static func oldestFirst(_ path: String) -> [String] {
            (1...9).reversed().map { "\(path).\($0)" }.filter(FileIO.exists) + [path]
        }
    }
    /// The file ended in a torn line (a writer died mid-line): the first append starts a new line,
    /// so one torn write never glues itself to the next record.
    private var startsWithNewline = false

    /// Opens `path` for appending, creating it with `mode` (an existing file keeps its own).
    public init(path: String, mode: mode_t = 0o644, rotation: Rotation? = nil) throws {
        self.path = path
        self.mode = mode
        self.rotation = rotation
        fd = -1
        try openFile()
    }

    private func openFile() throws {
        fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw StoreError(path: path, message: "cannot open for appending: \(FileIO.errnoText())")
        }
        startsWithNewline = Self.endsTorn(fd)
    }

    /// The file ends in a torn line (a writer died mid-line).
    private static func endsTorn(_ fd: Int32) -> Bool {
        var info = stat()
        var last: UInt8 = 0
        return fstat(fd, &info) == 0 && info.st_size > 0 && pread(fd, &last, 1, off_t(info.st_size - 1)) == 1
            && last != 0x0A
    }

    deinit { close() }

    /// Appends `value` as one compact line; `sync` makes it durable before returning.
    public func append(_ value: JSONValue, sync: Bool = false) throws {
        var writer = JSONWriter()
        if startsWithNewline { writer.bytes.append(0x0A) }
        writer.write(value)
        writer.bytes.append(0x0A)
        if let rotation { rotateIfFull(rotation, adding: writer.bytes.count) }
        try FileIO.writeAll(fd, writer.bytes, path: path)
        startsWithNewline = false
        if sync && fsync(fd) != 0 { throw StoreError(path: path, message: "fsync failed: \(FileIO.errnoText())") }
    }

    /// Before a line that would take the file past its size: shift the old files up, rename this
    /// one to `.1` and start a new one with the same mode. Under an exclusive flock of the file,
    /// and only if `path` is still our file: a second writer that already rotated is followed,
    /// not rotated again. A rotation that fails (a rename refused, no descriptor left) never
    /// fails the line: it goes to the file we have, and the next line tries again.
    private func rotateIfFull(_ rotation: Rotation, adding count: Int) {
        var mine = stat()
        guard fstat(fd, &mine) == 0, Int64(mine.st_size) > 0, Int64(mine.st_size) + Int64(count) > rotation.maxBytes
        else { return }
        guard flock(fd, LOCK_EX) == 0 else { return }
        var named = stat()
        let stillOurs = stat(path, &named) == 0 && named.st_ino == mine.st_ino
        if stillOurs {
            unlink(path + ".\(rotation.keep)")
            for index in stride(from: rotation.keep - 1, through: 1, by: -1) {
                rename(path + ".\(index)", path + ".\(index + 1)")
            }
            guard rename(path, path + ".1") == 0 else {
                flock(fd, LOCK_UN)
                return
            }
        }
        let fresh = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, mode)
        guard fresh >= 0 else {
            flock(fd, LOCK_UN)
            return
        }
        if stillOurs {
            fchmod(fresh, mine.st_mode & 0o7777)
            // The renames and the new file survive a power cut with the lines fsynced into it.
            try? FileIO.syncDirectory(of: path)
        }
        startsWithNewline = Self.endsTorn(fresh)
        flock(fd, LOCK_UN)
        _ = Glibc.close(fd)
        fd = fresh
    }

    public func close() {
        guard fd >= 0 else { return }
        _ = Glibc.close(fd)
        fd = -1
    }

    /// The parsed lines of a JSONL file, skipping a torn last line (a crash mid-write) but
    /// reporting any other unreadable line by number.
    public static func readAll(_ path: String) throws -> [JSONValue] {
        let (values, unreadable) = try readLines(path)
        if let first = unreadable.first { throw StoreError(path: path, message: "line \(first.line): \(first.error)") }
        return values
    }

    /// Every readable line, and the line numbers and errors of those that are not (torn writes
    /// that a later append went past). A torn last line is neither.
    public static func readLines(_ path: String) throws -> ([JSONValue], unreadable: [(line: Int, error: String)]) {
        guard FileIO.exists(path) else { return ([], []) }
        let bytes = try FileIO.read(path)
        var values: [JSONValue] = []
        var unreadable: [(line: Int, error: String)] = []
        var lineNumber = 0
        var start = 0
        while start < bytes.count {
            lineNumber += 1
            let end = bytes[start...].firstIndex(of: 0x0A)
            let line = Array(bytes[start..<(end ?? bytes.count)])
            start = (end ?? bytes.count) + 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D }) { continue }
            do {
                values.append(try JSONValue.parse(line))
            } catch {
                if end == nil { break }  // torn final line
                unreadable.append((lineNumber, "\(error)"))
            }
        }
        return (values, unreadable)
    }
}
