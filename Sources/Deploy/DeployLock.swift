import TradingStore

/// state/deploy.lock: one release, rollback or watchdog action at a time.
public enum DeployLock {
    public struct Refusal: Error {
        public var exitCode: Int32
        public var message: String
    }

    /// Where the process group of the running build or check is written down.
    public static func childrenFile(_ home: Home) -> String { home.stateDir + "/deploy.children" }

    /// Takes the lock; then ends whatever a killed holder's build left running.
    public static func take(home: Home, holder: String, wait: Double) -> Result<FileLock, Refusal> {
        do throws(FileLock.Failure) {
            let lock = try FileLock.acquire(home.deployLock, holder: holder, timeout: wait)
            ProcessRunner.endLeftovers(childrenFile(home))
            return .success(lock)
        } catch {
            switch error {
            case .held(_, let other):
                return .failure(
                    Refusal(
                        exitCode: 3,
                        message:
                            "another deploy holds \(home.deployLock): \(other). Wait for it, or pass --wait SECONDS."))
            case .failed(let store):
                return .failure(Refusal(exitCode: 1, message: "\(store)"))
            }
        }
    }
}
