/// Why a command that replaces the operator's files (import, restore) did not; `code` follows
/// the CLI contract (usage 2, failed 1, locked 3).
public struct HomeRefusal: Error, CustomStringConvertible {
    public enum Code: Sendable { case usage, failed, locked }
    public var code: Code
    public var message: String
    public var description: String { message }

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// Takes the home's engine lock, so nothing replaces the positions file under a running
    /// engine; a held lock names its holder and what to do.
    public static func engineLock(_ home: Home, doing: String, then next: String) throws(HomeRefusal) -> FileLock {
        do {
            let lock = try FileLock.acquire(home.engineLock, holder: "pid \(ProcessIdentity.pid) \(doing)")
            FileIO.giveToFolderOwner([home.engineLock])
            return lock
        } catch {
            switch error {
            case .held(let path, let holder):
                throw HomeRefusal(
                    code: .locked,
                    message:
                        "an engine is running on this home (\(path) is held by \(holder.isEmpty ? "an unknown process" : holder)): stop it first (and the watchdog, which would start it again), then \(next)"
                )
            case .failed(let failure):
                throw HomeRefusal(code: .failed, message: "\(failure)")
            }
        }
    }
}
