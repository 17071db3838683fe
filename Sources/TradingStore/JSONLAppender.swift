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

    public init(path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw StoreError(path: path, message: "cannot open for appending: \(FileIO.errnoText())")
        }
    }

    deinit { close() }

    /// Appends `value` as one compact line; `sync` makes it durable before returning.
    public func append(_ value: JSONValue, sync: Bool = false) throws {
        var writer = JSONWriter()
        writer.write(value)
        writer.bytes.append(0x0A)
        try FileIO.writeAll(fd, writer.bytes, path: path)
        if sync && fsync(fd) != 0 { throw StoreError(path: path, message: "fsync failed: \(FileIO.errnoText())") }
    }

    public func close() {
        guard fd >= 0 else { return }
        _ = Glibc.close(fd)
        fd = -1
    }

    /// The parsed lines of a JSONL file, skipping a torn last line (a crash mid-write) but
    /// reporting any other unreadable line by number.
    public static func readAll(_ path: String) throws -> [JSONValue] {
        guard FileIO.exists(path) else { return [] }
        let bytes = try FileIO.read(path)
        var values: [JSONValue] = []
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
                throw StoreError(path: path, message: "line \(lineNumber): \(error)")
            }
        }
        return values
    }
}
