#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import TradingCore

/// An exclusive `flock` on a lock file, released when the lock is released or the process dies
/// (so a SIGKILLed holder never leaves a stale lock). The file records the holder for messages.
///
/// - Important: not Sendable; hold it in one place and release it there.
public final class FileLock {
    public let path: String
    private var fd: Int32

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    deinit { release() }

    /// Why a lock could not be taken.
    public enum Failure: Error, CustomStringConvertible {
        /// Someone else holds it; `holder` is what they wrote in the file (pid, what, since).
        case held(path: String, holder: String)
        case failed(StoreError)

        public var description: String {
            switch self {
            case .held(let path, let holder):
                "\(path) is held by another process (\(holder.isEmpty ? "holder unknown" : holder))"
            case .failed(let error): error.description
            }
        }
    }

    /// Takes the lock, waiting up to `timeout` seconds (0: try once). Writes `holder` into the file.
    ///
    /// After flock succeeds, the locked file must still be the one at `path`: a lock file deleted
    /// (or replaced) while we waited would give each of two processes "its" lock on a different
    /// inode, and both would go on. Then it starts over on the file now at the path.
    public static func acquire(_ path: String, holder: String, timeout: Double = 0) throws(Failure) -> FileLock {
        var waited = 0.0
        while true {
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw .failed(StoreError(path: path, message: "cannot open lock file: \(FileIO.errnoText())"))
            }
            var locked = false
            while !locked {
                if flock(fd, LOCK_EX | LOCK_NB) == 0 {
                    locked = true
                    break
                }
                guard errno == EWOULDBLOCK || errno == EINTR else {
                    let text = FileIO.errnoText()
                    close(fd)
                    throw .failed(StoreError(path: path, message: "flock failed: \(text)"))
                }
                if waited >= timeout {
                    let holder = (try? FileIO.read(path)).map { String(decoding: $0, as: UTF8.self) } ?? ""
                    close(fd)
                    throw .held(path: path, holder: String(holder.trimmingSpaces))
                }
                usleep(20_000)
                waited += 0.02
            }
            if isStillAtPath(fd, path) {
                ftruncate(fd, 0)
                let bytes = Array(holder.utf8) + [0x0A]
                _ = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
                return FileLock(path: path, fd: fd)
            }
            flock(fd, LOCK_UN)
            close(fd)
        }
    }

    /// The inode locked through `fd` is the file `path` names now.
    static func isStillAtPath(_ fd: Int32, _ path: String) -> Bool {
        var held = stat()
        var named = stat()
        guard fstat(fd, &held) == 0, stat(path, &named) == 0 else { return false }
        return held.st_ino == named.st_ino && held.st_dev == named.st_dev
    }

    /// Who holds the lock on `path` right now, without taking it (which could make someone
    /// starting at that moment fail): the kernel's table of flocks in /proc/locks. Nil when
    /// nobody holds it; the file's holder text otherwise. Matched by inode only: the device
    /// numbers in /proc/locks differ from stat's on some filesystems (btrfs subvolumes), and a
    /// rare false "held" in a status line is harmless.
    public static func currentHolder(_ path: String) -> String? {
        var named = stat()
        guard stat(path, &named) == 0, let table = try? FileIO.read("/proc/locks") else { return nil }
        let suffix = ":\(named.st_ino)"
        for line in String(decoding: table, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            // "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"; a waiting entry has "->" in front.
            guard fields.count >= 6, !fields.contains("->"), fields[1] == "FLOCK", fields[5].hasSuffix(suffix)
            else { continue }
            let text = (try? FileIO.read(path)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            let holder = String(text.trimmingSpaces)
            return holder.isEmpty ? "pid \(fields[4])" : holder
        }
        return nil
    }

    /// Releases the lock; safe to call twice.
    public func release() {
        guard fd >= 0 else { return }
        ftruncate(fd, 0)
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }
}
