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
        guard mapped else { return try FileIO.read(path).withUnsafeBufferPointer(body) }
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
}
