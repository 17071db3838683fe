import CLISupport
import TradingCore
import TradingStore

/// What `import` and `restore` share on the command line.
extension HomeRefusal.Code {
    var exitStatus: Int32 {
        switch self {
        case .usage: ExitStatus.usage
        case .failed: ExitStatus.failed
        case .locked: ExitStatus.locked
        }
    }
}

extension Instant {
    /// `2025-12-18T09:30:00Z` as `2025-12-18T09-30-00Z`, for a file name.
    var fileStamp: String { String(iso8601.map { $0 == ":" ? "-" : $0 }) }
}
