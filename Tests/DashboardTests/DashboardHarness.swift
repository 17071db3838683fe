import CurlKit
import Dashboard
import Foundation
import Hummingbird
import Logging
import HummingbirdBcrypt
import Synchronization
import TestSupport
import TradingCore
import TradingStore

/// A dashboard served in-process over a real socket on a free loopback port, with a clock the
/// test moves, and a browser-like client that keeps cookies.
final class DashboardHarness: Sendable {
    static let password = "correct horse battery"
    /// Cost 4 keeps the tests fast; the command uses 12.
    static let hash = Bcrypt.hash(password, cost: 4)

    let home: Home
    let clock = TestClock()
    let port: Int
    let task: Task<Void, any Error>
    let cookies = Mutex<[String: String]>([:])

    /// A home with the repository's config and, unless `positions` is nil, that positions file.
    static func home(positions: String? = Fixtures.samplePositions, resetAt: String? = nil) throws -> Home {
        let root = try Fixtures.temporaryDirectory("dash")
        for dir in ["config", "logs", "state"] {
            try FileManager.default.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true)
        }
        var bot = try String(contentsOfFile: Fixtures.repoRoot + "/config/bot.json", encoding: .utf8)
        if let resetAt {
            bot = bot.replacingOccurrences(
                of: #""at": "2025-12-18T00:00:00Z""#, with: "\"at\": \"\(resetAt)\"")
        }
        try Fixtures.write(bot, to: root + "/config/bot.json")
        if let positions {
            try FileManager.default.copyItem(atPath: positions, toPath: root + "/logs/positions_futures.json")
        }
        return Home(root: root)
    }

    init(
        home: Home, passwordHash: String? = DashboardHarness.hash, sessionHours: Double = 12,
        beforeCompute: (@Sendable () -> Void)? = nil
    ) async throws {
        self.home = home
        let clock = self.clock
        let data = DashboardData(home: home, clock: { clock.now }, beforeCompute: beforeCompute)
        var settings = DashboardSettings()
        settings.sessionHours = sessionHours
        let server = DashboardServer(data: data, passwordHash: passwordHash, settings: settings)
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "dashboard-test")
        logger.logLevel = .critical  // a cancelled server at the test's end is not news
        let app = Application(
            router: server.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) }, logger: logger)
        // The server's tasks run on threads of their own: the test process's cooperative pool
        // (one thread per core) is often held by drills that block for minutes.
        task = Task(executorPreference: ServerExecutor.shared) {
            try await app.runService(gracefulShutdownSignals: [])
        }
        var iterator = stream.makeAsyncIterator()
        port = await iterator.next() ?? 0
    }

    deinit { task.cancel() }

    func advance(seconds: Double) { clock.time.withLock { $0 = $0.adding(seconds: seconds) } }

    /// One request like a browser: sends the cookies it holds, keeps the ones it is given. The
    /// blocking libcurl call runs on its own thread, off the concurrency pool the server uses.
    func request(
        _ path: String, method: String = "GET", form: [String: String]? = nil, headers extra: [String] = []
    ) async throws
        -> CurlKit.HTTPResponse
    {
        let cookieHeader = cookies.withLock { $0.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ") }
        var headers = (cookieHeader.isEmpty ? [] : ["Cookie: \(cookieHeader)"]) + extra
        var body: [UInt8]?
        if let form {
            headers.append("Content-Type: application/x-www-form-urlencoded")
            let allowed = CharacterSet.alphanumerics
            body = Array(
                form.map {
                    "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")"
                }.joined(separator: "&").utf8)
        }
        let request = CurlKit.HTTPRequest(
            url: "http://127.0.0.1:\(port)\(path)", method: method, headers: headers, body: body, timeoutSeconds: 30)
        let response: CurlKit.HTTPResponse = try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try HTTPClient.send(request) }) }.start()
        }
        for line in response.headers(named: "Set-Cookie") {
            guard let pair = line.split(separator: ";").first, let equals = pair.firstIndex(of: "=") else { continue }
            let name = String(pair[..<equals])
            let value = String(pair[pair.index(after: equals)...])
            cookies.withLock { $0[name] = line.contains("Max-Age=0") || value.isEmpty ? nil : value }
        }
        return response
    }

    /// Requests `path` until its page contains `text` (generous: a recompute runs in the background).
    func page(_ path: String, containing text: String, seconds: Double = 60) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await request(path).text.contains(text) { return true }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        return false
    }

    /// The value of the hidden `csrf` field of the last page.
    static func csrf(_ page: CurlKit.HTTPResponse) -> String? {
        guard let range = page.text.range(of: #"name="csrf" value=""#) else { return nil }
        return String(page.text[range.upperBound...].prefix { $0 != "\"" })
    }

    /// Logs in with `password` through the real form.
    func logIn(_ password: String = DashboardHarness.password) async throws -> CurlKit.HTTPResponse {
        let form = try await request("/login")
        return try await request(
            "/login", method: "POST", form: ["csrf": Self.csrf(form) ?? "", "password": password])
    }
}

/// The time the dashboard sees, moved by the test.
final class TestClock: Sendable {
    let time = Mutex(Instant(year: 2025, month: 12, day: 19, hour: 12)!)
    var now: Instant { time.withLock { $0 } }
}

/// Runs jobs on Dispatch threads outside the Swift cooperative pool (child tasks inherit the
/// preference), so the in-process server answers however busy the pool is.
final class ServerExecutor: TaskExecutor, @unchecked Sendable {
    static let shared = ServerExecutor()
    let queue = DispatchQueue(label: "dashboard-test-server", attributes: .concurrent)

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
