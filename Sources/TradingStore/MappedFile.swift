import TradingCore

#if canImport(Glibc)
    import Glibc
#endif

/// A file mapped read-only for one pass: the kernel pages it in and can drop the pages again,
/// so a reader of a 1M-trade history does not hold its 400 MB in its own memory. Only for
/// files replaced by rename (the positions file always is): the mapping keeps the old file.
public enum MappedFile {
    public static func withBytes<T>(
        _ path: String, mapped: Bool = true, _ body: (UnsafeBufferPointer<UInt8>) throws -> T
    ) throws -> T {
        guard mapped else { return try withCopy(path, body) }
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

    /// The file's bytes copied into memory of our own (a file another program may truncate in
    /// place cannot be mapped safely), for one pass. The copy's memory is faulted in at once
    /// (MAP_POPULATE): page by page, inside read(), the faults cost a reader of a large history a
    /// fifth of its time (huge pages cost more in zeroing than they saved, measured).
    public static func withCopy<T>(_ path: String, _ body: (UnsafeBufferPointer<UInt8>) throws -> T) throws -> T {
        let (fd, size) = try FileIO.openForReading(path)
        defer { close(fd) }
        let capacity = size + 1  // one more byte: a read that fills it means the file grew
        guard size >= 1 << 20,
            let base = mmap(nil, capacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0),
            base != MAP_FAILED
        else { return try FileIO.read(path).withUnsafeBufferPointer(body) }
        defer { munmap(base, capacity) }
        let start = base.assumingMemoryBound(to: UInt8.self)
        var filled = 0
        while filled < capacity {
            let n = read(fd, start + filled, capacity - filled)
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw StoreError(path: path, message: "read failed: \(FileIO.errnoText())") }
            if n == 0 { break }
            filled += n
        }
        // It grew while being read: read it whole the plain way.
        if filled == capacity { return try FileIO.read(path).withUnsafeBufferPointer(body) }
        return try body(UnsafeBufferPointer(start: start, count: filled))
    }
}
