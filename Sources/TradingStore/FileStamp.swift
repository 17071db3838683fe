#if canImport(Glibc)
    import Glibc
#endif

/// What identifies one version of a file without reading it: a reader that caches what it
/// computed from a file recomputes only when the stamp changes (an atomic rewrite changes the
/// inode; an append changes the size and the modification time).
public struct FileStamp: Sendable, Equatable, Hashable {
    public var inode: UInt64
    public var size: Int64
    public var modifiedNanoseconds: Int64

    /// The stamp of `path`, or nil when it does not exist or cannot be examined.
    public static func of(_ path: String) -> FileStamp? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileStamp(
            inode: UInt64(info.st_ino), size: Int64(info.st_size),
            modifiedNanoseconds: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
    }
}
