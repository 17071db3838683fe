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
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            let hint = code == ENOENT ? " (no such file; check the path or --home)" : ""
            throw StoreError(path: path, message: "cannot open for reading: \(FileIO.errnoText(code))\(hint)")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw StoreError(path: path, message: "cannot stat: \(FileIO.errnoText())") }
        let size = Int(info.st_size)
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
