import Foundation
import Synchronization
import TradingCore
import TradingStore

/// The numbers of the positions file, computed by the same code as `tradingbot report`, once per
/// change of the file (and of bot.json's wallet reset): a page reads them from memory, and what
/// is kept does not grow with the history (the newest closed trades only).
public struct PositionsSnapshot: Sendable {
    public var report: PerformanceReport?
    /// Why the positions file could not be read, worded for the operator.
    public var problem: String?
    public var open: [Position] = []
    /// Newest first, at most `DashboardData.recentLimit`.
    public var recentClosed: [Position] = []
    public var recentIssues = 0
    public var stamp: FileStamp?
    public var computedAt: Instant

    /// Trades in the file that the wallet reset leaves out.
    public var excludedByReset: Int {
        report.map { max(0, $0.closedTradesTotal - $0.totals.trades - $0.leftOutCount) } ?? 0
    }
    /// The newest fill the file shows: a position opened or closed.
    public var lastFill: Instant? {
        (open.compactMap { $0.openedAt?.instant } + recentClosed.prefix(1).compactMap { $0.closedAt?.instant }).max()
    }
}

/// What the dashboard reads from the home. Reads are bounded: the positions file through the
/// cached snapshot, the logs by their last 64 KB, the state files whole (they are small).
public final class DashboardData: Sendable {
    public static let recentLimit = 500
    public let home: Home
    let clock: @Sendable () -> Instant
    private let cache = Mutex<(key: [FileStamp?], snapshot: PositionsSnapshot)?>(nil)
    /// A recompute is running in the background (at most one).
    private let refreshing = Mutex(false)
    /// Serialises the first computation, which every request has to wait for.
    private let firstComputation = Mutex(())
    /// Recomputes run here, off the threads that serve pages and /healthz.
    private let queue = DispatchQueue(label: "tradingbot.dashboard.positions")
    /// Called before each computation: lets a test hold one midway.
    let beforeCompute: (@Sendable () -> Void)?

    public init(
        home: Home, clock: @escaping @Sendable () -> Instant, beforeCompute: (@Sendable () -> Void)? = nil
    ) {
        self.home = home
        self.clock = clock
        self.beforeCompute = beforeCompute
    }

    public var now: Instant { clock() }

    /// bot.json, or why it cannot be used (the dashboard then shows that instead of numbers).
    public func config() -> Result<BotConfig, ConfigError> {
        Result { () throws(ConfigError) in try ConfigFiles.bot(home.botConfig) }
    }

    /// The positions snapshot, recomputed only when the file or bot.json changed. After a
    /// change the previous snapshot is served (its `computedAt` says when) while one recompute
    /// runs in the background: at 1M trades a recompute takes seconds, and neither a page nor
    /// the watchdog's /healthz probe may wait on it, nor may two requests compute it twice.
    /// Only the very first computation is waited for (once, however many ask).
    public func positions() -> PositionsSnapshot {
        let key = currentKey()
        if let cached = cache.withLock({ $0 }) {
            if cached.key != key { refreshInBackground() }
            return cached.snapshot
        }
        return firstComputation.withLock { _ in
            if let cached = cache.withLock({ $0 }) { return cached.snapshot }
            return compute(key)
        }
    }

    func currentKey() -> [FileStamp?] { [FileStamp.of(home.positions), FileStamp.of(home.botConfig)] }

    @discardableResult
    func compute(_ key: [FileStamp?]) -> PositionsSnapshot {
        beforeCompute?()
        let snapshot = computePositions(stamp: key[0])
        cache.withLock { $0 = (key, snapshot) }
        return snapshot
    }

    /// Starts one background recompute unless one is running; it repeats while the file keeps
    /// changing under it, so the snapshot ends current.
    func refreshInBackground() {
        let start = refreshing.withLock { busy in
            if busy { return false }
            busy = true
            return true
        }
        guard start else { return }
        queue.async { [self] in
            var key = currentKey()
            while true {
                compute(key)
                let now = currentKey()
                if now == key { break }
                key = now
            }
            refreshing.withLock { $0 = false }
        }
    }

    func computePositions(stamp: FileStamp?) -> PositionsSnapshot {
        var s = PositionsSnapshot(stamp: stamp, computedAt: now)
        let reset: WalletReset
        switch config() {
        case .success(let c): reset = c.walletReset
        case .failure(let e):
            s.problem = "\(e)"
            return s
        }
        guard stamp != nil else {
            s.report = PerformanceReport(file: PositionsFile(), reset: reset)
            return s
        }
        let store = PositionsStore(home: home)
        do {
            let (report, recent) = try store.reportAndRecent(reset: reset, limit: Self.recentLimit)
            s.report = report
            s.open = recent.open
            s.recentClosed = recent.closed
            s.recentIssues = recent.issues.count
        } catch {
            s.problem = "\(error)"
        }
        return s
    }

    /// The newest price the engine saw for each of `symbols` (data/candles.db), with its time.
    public func latestPrices(_ symbols: Set<String>) -> [String: (price: Double, at: Instant)] {
        guard FileIO.exists(home.candleStore), let store = try? CandleStore(path: home.candleStore, readOnly: true)
        else { return [:] }
        var out: [String: (price: Double, at: Instant)] = [:]
        for symbol in symbols {
            if let c = try? store.latest(symbol) { out[symbol] = (c.close, c.ts) }
        }
        return out
    }

    /// The engine's learned weights; nil before it has learned any.
    public func weights() -> Result<SignalWeights?, any Error> {
        Result {
            guard FileIO.exists(home.signalWeights) else { return nil }
            return try SignalWeights.parse(try ConfigFiles.json(home.signalWeights), file: home.signalWeights)
        }
    }

    /// Every release of the ledger and its torn lines.
    public func releases() -> (Result<[ReleaseRecord], any Error>, unreadable: [Int]) {
        let ledger = Ledger(path: home.releasesLedger)
        guard FileIO.exists(ledger.path) else { return (.success([]), []) }
        return (Result { try ledger.releases() }, ledger.unreadableLines())
    }

    public func heartbeat() -> Result<Heartbeat?, any Error> {
        Result { try HeartbeatStore(home: home).read() }
    }

    /// The engine's last cycle line (balance, equity, breaker, counts), if any.
    public func lastCycle() -> JSONObject? {
        JSONLTail.lastLines(home.decisionsLog).last?.objectValue
    }

    public var killSwitchOn: Bool { KillSwitch(home: home).isOn }

    /// Turns the kill switch on (the engine opens nothing new; exits go on) or off.
    public func setKillSwitch(_ on: Bool, by who: String) throws {
        try KillSwitch(home: home).set(on, note: "set from the dashboard by \(who) at \(now.iso8601)")
    }

    /// The watchdog's last verdict and action, from its state file.
    public func watchdog() -> (verdict: String?, action: String?, at: Instant?)? {
        guard let o = (try? ConfigFiles.json(home.stateDir + "/watchdog.json"))?.objectValue else { return nil }
        return (o["last_verdict"]?.stringValue, o["last_action"]?.stringValue, o["last_run"]?.instantValue)
    }

    /// The live slot's name and release, and the release's last state in the ledger.
    public func release() -> (slot: String?, release: String?, state: String?, since: Instant?) {
        let slot = (try? FileManager.default.destinationOfSymbolicLink(atPath: home.currentSlot)).map {
            String($0.split(separator: "/").last ?? "")
        }
        let release = home.currentRelease
        var state: String?
        var since: Instant?
        if let release {
            for line in JSONLTail.lastLines(home.releasesLedger, maxBytes: 256 << 10) {
                guard let o = line.objectValue, o["release"]?.stringValue == release,
                    o["event"]?.stringValue == "state", let next = o["state"]?.stringValue
                else { continue }
                state = next
                since = o["ts"]?.instantValue
            }
        }
        return (slot, release, state, since)
    }
}
