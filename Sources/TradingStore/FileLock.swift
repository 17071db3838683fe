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
    public static func acquire(_ path: String, holder: String, timeout: Double = 0) throws(Failure) -> FileLock {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw .failed(StoreError(path: path, message: "cannot open lock file: \(FileIO.errnoText())"))
        }
        var waited = 0.0
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
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
        ftruncate(fd, 0)
        let bytes = Array(holder.utf8) + [0x0A]
        _ = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return FileLock(path: path, fd: fd)
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
