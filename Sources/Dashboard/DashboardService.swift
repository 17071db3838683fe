import Dispatch
import Synchronization
import Hummingbird
import Logging
import NIOCore
import TradingCore
import TradingStore

#if canImport(Glibc)
    import Glibc
#endif

/// Runs the dashboard until SIGTERM or SIGINT: its own process, so nothing it does can stop
/// the engine. Prints `listening on ADDR:PORT` first (with the real port when 0 was asked).
public enum DashboardService {
    public static func run(
        home: Home, bind: String, port: Int, settings: DashboardSettings, passwordHash: String?,
        announce: @escaping @Sendable (String) -> Void
    ) throws {
        try DashboardServer.check(passwordHash: passwordHash, bind: bind)
        let data = DashboardData(home: home, clock: { WallClock.now })
        let server = DashboardServer(data: data, passwordHash: passwordHash, settings: settings, bind: bind)
        var logger = Logger(label: "tradingbot.dashboard")
        logger.logLevel = .warning
        let app = Application(
            router: server.router(),
            configuration: .init(address: .hostname(bind, port: port), serverName: nil),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                announce("listening on \(bind):\(bound)")
            },
            logger: logger)
        let finished = DispatchSemaphore(value: 0)
        let failure = Mutex<String?>(nil)
        Task {
            defer { finished.signal() }
            do { try await app.runService() } catch { failure.withLock { $0 = "\(error)" } }
        }
        finished.wait()
        if let message = failure.withLock({ $0 }) {
            throw DashboardError("the dashboard could not listen on \(bind):\(port): \(message)")
        }
    }

}
