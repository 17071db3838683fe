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
