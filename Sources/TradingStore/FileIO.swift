import TradingCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Whole-file reads and crash-safe replacement. Every write of data the operator owns goes
/// through `writeAtomically`: temp file, fsync, rename over the target, fsync of the directory,
/// so a crash at any moment leaves either the old file or the new one, never a torn one.
public enum FileIO {
    public static func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Bytes an unprivileged writer may still use on the file system holding `path`.
    public static func freeBytes(_ path: String) -> Int64? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }

    /// Opens `path` for reading and learns its size; errors name the file and the reason. The
    /// caller closes the descriptor.
    static func openForReading(_ path: String) throws -> (fd: Int32, size: Int) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            let hint = code == ENOENT ? " (no such file; check the path or --home)" : ""
            throw StoreError(path: path, message: "cannot open for reading: \(errnoText(code))\(hint)")
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let text = errnoText()
            close(fd)
            throw StoreError(path: path, message: "cannot stat: \(text)")
        }
        return (fd, Int(info.st_size))
    }

    /// The file's bytes; errors name the file and the reason.
    public static func read(_ path: String) throws -> [UInt8] {
        let (fd, size) = try openForReading(path)
        defer { close(fd) }
        // Read exactly the size fstat reports, then keep reading in case the file grew.
        var result = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            initialized = 0
            guard let base = buffer.baseAddress else { return }
            while initialized < buffer.count {
                let n = Glibc.read(fd, base + initialized, buffer.count - initialized)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                initialized += n
            }
        }
        try forEachChunk(fd, path: path, size: 65_536) { result.append(contentsOf: $0) }
        return result
    }

    /// Reads `fd` to its end in chunks of `size` bytes, handing each to `body`.
    static func forEachChunk(
        _ fd: Int32, path: String, size: Int = 1 << 20, _ body: (ArraySlice<UInt8>) throws -> Void
    ) throws {
        var chunk = [UInt8](repeating: 0, count: size)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw StoreError(path: path, message: "read failed: \(errnoText())")
            }
            if n == 0 { return }
            try body(chunk[0..<n])
        }
    }

    /// Replaces `path` with `bytes` so that readers see the old or the new content, never a mix,
    /// even across a power cut. The temp file sits beside the target (same filesystem). The new
    /// file keeps the mode and owner of the one it replaces (a 0600 file stays 0600), else takes
    /// `mode`.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws {
        try replaceAtomically(path, mode: mode) { fd, temp in try writeAll(fd, bytes, path: temp) }
    }

    /// Copies `source` over `destination` atomically, streaming (a log of gigabytes needs no
    /// more memory than a megabyte); `source` is only read.
    public static func copy(_ source: String, to destination: String, mode: mode_t = 0o644) throws {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else {
            throw StoreError(path: source, message: "cannot open for reading: \(errnoText())")
        }
        defer { close(input) }
        try replaceAtomically(destination, mode: mode) { fd, temp in
            try forEachChunk(input, path: source) { try writeAll(fd, Array($0), path: temp) }
        }
    }

    /// Counts the lines of a file (a last line without a newline counts), streaming.
    public static func lineCount(_ path: String) throws -> Int {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError(path: path, message: "cannot open for reading: \(errnoText())") }
        defer { close(fd) }
        var lines = 0
        var last: UInt8 = 0x0A
        try forEachChunk(fd, path: path) { chunk in
            for byte in chunk where byte == 0x0A { lines += 1 }
            last = chunk.last ?? last
        }
        return last == 0x0A ? lines : lines + 1
    }

    /// Temp file beside `path`, filled by `fill`, fsynced, renamed over `path`, directory fsynced.
    private static func replaceAtomically(
        _ path: String, mode defaultMode: mode_t, fill: (Int32, String) throws -> Void
    ) throws {
        var existing = stat()
        let replacing = stat(path, &existing) == 0
        let mode = replacing ? existing.st_mode & 0o7777 : defaultMode
        let temp = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw StoreError(
                path: temp,
                message: "cannot create temp file: \(errnoText()); check the directory exists and is writable")
        }
        var ok = false
        defer {
            if !ok {
                close(fd)
                unlink(temp)
            }
        }
        _ = fchmod(fd, mode)  // exactly the mode, whatever the umask
        // And the owner: root (a sudo'd command) rewriting the operator's file must not leave it
        // owned by root. Only root can give a file away; for anyone else it is theirs already.
        if replacing && getuid() == 0 && (existing.st_uid != 0 || existing.st_gid != 0) {
            _ = fchown(fd, existing.st_uid, existing.st_gid)
        } else if !replacing, let owner = directoryOwnerForRoot(of: path) {
            // A new file in the service user's folder is the service user's.
            _ = fchown(fd, owner.uid, owner.gid)
        }
        try fill(fd, temp)
        guard fsync(fd) == 0 else { throw StoreError(path: temp, message: "fsync failed: \(errnoText())") }
        guard close(fd) == 0 else {
            ok = true
            unlink(temp)
            throw StoreError(path: temp, message: "close failed: \(errnoText())")
        }
        ok = true
        guard rename(temp, path) == 0 else {
            let text = errnoText()
            unlink(temp)
            throw StoreError(path: path, message: "cannot rename the new version into place: \(text)")
        }
        try syncDirectory(of: path)
    }

    /// Creates `path` (and its parents) readable by the owner only, and makes an existing one so.
    public static func makePrivateDirectory(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            prefix += "/" + part
            guard mkdir(prefix, 0o755) == 0 || errno == EEXIST else {
                throw StoreError(path: prefix, message: "cannot create the directory: \(errnoText())")
            }
        }
        guard chmod(path, 0o700) == 0 else {
            throw StoreError(path: path, message: "cannot make it private (chmod 700): \(errnoText())")
        }
    }

    /// fsyncs the directory holding `path`, so a rename survives a power cut.
    public static func syncDirectory(of path: String) throws {
        let dir = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let dfd = open(dir.isEmpty ? "/" : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dfd >= 0 else { throw StoreError(path: dir, message: "cannot open directory to fsync: \(errnoText())") }
        defer { close(dfd) }
        guard fsync(dfd) == 0 else { throw StoreError(path: dir, message: "directory fsync failed: \(errnoText())") }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { buffer in
                guard let base = buffer.baseAddress else { return 0 }
                return write(fd, base + written, buffer.count - written)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw StoreError(path: path, message: "write failed: \(errnoText()) (disk full?)")
            }
            written += n
        }
    }

    /// Removes temp files that writers of `path` left when killed mid-write (their pid is gone).
    /// Call it under the file's lock. Returns how many were removed.
    @discardableResult
    public static func removeStaleTemps(of path: String) -> Int {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        let dir = parts.dropLast().joined(separator: "/")
        let prefix = "\(parts.last ?? "").tmp-"
        guard let handle = opendir(dir.isEmpty ? "/" : dir) else { return 0 }
        defer { closedir(handle) }
        var removed = 0
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name.hasPrefix(prefix), let pid = Int(name.dropFirst(prefix.count).prefix { $0 != "-" }),
                !ProcessIdentity.isAlive(pid)
            else { continue }
            if unlink("\(dir)/\(name)") == 0 { removed += 1 }
        }
        return removed
    }

}

extension FileIO {
    /// When this process is root, the owner of `path`'s folder if that is not root: what a file
    /// root creates there should belong to (a sudo'd restore must not leave the engine a file
    /// it cannot open). Nil otherwise.
    static func directoryOwnerForRoot(of path: String) -> (uid: uid_t, gid: gid_t)? {
        guard getuid() == 0 else { return nil }
        let dir = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let folder = dir.isEmpty ? (path.hasPrefix("/") ? "/" : ".") : dir
        var info = stat()
        guard stat(folder, &info) == 0, info.st_uid != 0 || info.st_gid != 0 else { return nil }
        return (info.st_uid, info.st_gid)
    }

    /// Gives files another library created (a database and its journal, a lock file) to the
    /// owner of their folder when root created them; a no-op for anyone else.
    public static func giveToFolderOwner(_ paths: [String]) {
        for path in paths {
            guard let owner = directoryOwnerForRoot(of: path) else { continue }
            var info = stat()
            if stat(path, &info) == 0 && info.st_uid == 0 { _ = chown(path, owner.uid, owner.gid) }
        }
    }
}

extension FileIO {
    /// Removes a file; a missing file is not an error.
    public static func remove(_ path: String) throws {
        if unlink(path) != 0 && errno != ENOENT {
            throw StoreError(path: path, message: "cannot remove: \(errnoText())")
        }
    }
}

extension FileIO {
    /// Writes a JSON value (two-space indent, trailing newline) crash-safely: the operator's
    /// small state and config files.
    public static func writeJSON(_ path: String, _ value: JSONValue) throws {
        try writeAtomically(path, Array((value.serialized(indent: 2) + "\n").utf8))
    }
}
