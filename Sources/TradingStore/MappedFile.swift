import TradingCore

#if canImport(Glibc)
    import Glibc
#endif

/// A file mapped read-only for one pass: the kernel pages it in and can drop the pages again,
/// so a reader of a 1M-trade history does not hold its 400 MB in its own memory. Only for
/// files replaced by rename (the positions file always is): the mapping keeps the old file.
public enum MappedFile {
    public static func withBytes<T>(
        _ path: String, _ body: (UnsafeBufferPointer<UInt8>) throws -> T
    ) throws -> T {
        let (fd, size) = try FileIO.openForReading(path)
        defer { close(fd) }
        guard size > 0 else { return try body(UnsafeBufferPointer(start: nil, count: 0)) }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            // Some file systems cannot map: read it instead.
            let bytes = try FileIO.read(path)
            return try bytes.withUnsafeBufferPointer(body)
        }
        defer { munmap(base, size) }
        _ = madvise(base, size, MADV_SEQUENTIAL)
        return try body(UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: size))
    }

    /// The file read through a sliding window (`JSONStream`), for one pass: memory stays about
    /// a megabyte however long the history, nothing is faulted in but the window, and a file
    /// another program truncates or rewrites in place while it is read gives an error, not a
    /// crash (a mapping would end the process with SIGBUS).
    /// `body` also gets the open file, for readers of stretches of it (`ParallelRecords`).
    static func withStream<T>(
        _ path: String, window: Int = 1 << 20, _ body: (JSONStream, ParallelRecords.Source) throws -> T
    ) throws -> T {
        let (fd, size) = try FileIO.openForReading(path)
        defer { close(fd) }
        return try body(try stream(fd: fd, path: path, window: window), .file(fd: fd, size: size))
    }

    /// A stream over the open file `fd` (read with pread: the file's offset is not used).
    private static func stream(fd: Int32, path: String, window: Int) throws -> JSONStream {
        try JSONStream(
            window: window,
            read: { buffer, offset in
                while true {
                    let n = pread(fd, buffer.baseAddress, buffer.count, off_t(offset))
                    if n >= 0 { return n }
                    if errno != EINTR { throw StoreError(path: path, message: "read failed: \(FileIO.errnoText())") }
                }
            },
            locate: { offset in try locate(offset, fd: fd, path: path) })
    }

    /// The line and column of `offset`, read again from the same open file (an error's place).
    private static func locate(_ offset: Int, fd: Int32, path: String) throws -> (line: Int, column: Int) {
        var locator = TextLocator()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while locator.offset < offset {
            let wanted = min(chunk.count, offset - locator.offset)
            let n = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, wanted, off_t(locator.offset)) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw StoreError(path: path, message: "read failed: \(FileIO.errnoText())") }
            if n == 0 { break }
            chunk.withUnsafeBufferPointer { locator.advance(through: UnsafeBufferPointer(rebasing: $0[0..<n])) }
        }
        return (locator.line, locator.column)
    }
}
