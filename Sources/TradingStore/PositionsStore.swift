import TradingCore

/// The authoritative positions file. Reads are tolerant but never silent: `decode()` returns
/// every record with the fields that cannot be used, `load()` refuses such a file and names
/// them, and the report counts what it can and names what it left out. Writes are atomic, made
/// under the positions lock, and keep every field this program does not model or cannot use.
public struct PositionsStore: Sendable {
    public let path: String
    public let lockPath: String

    public init(path: String, lockPath: String) {
        self.path = path
        self.lockPath = lockPath
    }

    public init(home: Home) { self.init(path: home.positions, lockPath: home.positionsLock) }

    /// The file as read, with the fields that could not be used. A missing file is an error
    /// unless `missingIsEmpty` (a fresh home has none yet).
    public func decode(missingIsEmpty: Bool = false) throws -> PositionsCodec.Decoded {
        if missingIsEmpty && !FileIO.exists(path) { return PositionsCodec.Decoded(file: PositionsFile(), issues: []) }
        let bytes = try FileIO.read(path)
        do {
            return try PositionsCodec.decode(bytes)
        } catch {
            throw StoreError(
                path: path,
                message: "\(error); fix the file there, or put a good copy back: `tradingbot restore --list` shows them"
            )
        }
    }

    /// The file, or an error naming every unusable field (at most 10, then a count).
    public func load(missingIsEmpty: Bool = false) throws -> PositionsFile {
        let decoded = try decode(missingIsEmpty: missingIsEmpty)
        try Self.refuse(decoded.issues, path: path)
        return decoded.file
    }

    /// The report over the file, streamed (memory does not grow with the history). Records
    /// with unusable fields are counted where they can be and named in `leftOut` where not.
    public func report(reset: WalletReset) throws -> PerformanceReport {
        try reportAndRecent(reset: reset, limit: 0, mapped: false).report
    }

    /// The report and what the dashboard holds (open positions, the newest `limit` trades
    /// closed since the reset) from one pass over the file: the file is read once.
    /// - Parameter mapped: map the file instead of reading it through a window (its pages are
    ///   then the kernel's to drop, and a recompute reads nothing twice). Only for the engine's
    ///   own file, which is always replaced by rename: a file truncated in place while mapped
    ///   would end the process (SIGBUS). `report` may be pointed at any file (an old bot's,
    ///   being rewritten), so it reads.
    /// - Parameter also: sees every record too (a reader that needs more from the same pass).
    public func reportAndRecent(
        reset: WalletReset, limit: Int, mapped: Bool = true, also: ((PositionList, Position) -> Void)? = nil
    ) throws -> (report: PerformanceReport, recent: Recent) {
        var accumulator = PerformanceReport.Accumulator(reset: reset)
        var recent = RecentCollector(since: reset.at, limit: limit)
        do {
            let add = { (list: PositionList, _: Int, position: Position, issues: [RecordIssue]) in
                if list == .open {
                    accumulator.addOpen(position, issues: issues)
                } else {
                    accumulator.addClosed(position, issues: issues)
                }
                if limit > 0 { recent.add(list, position, issues) }
                also?(list, position)
            }
            if mapped {
                try MappedFile.withBytes(path) { try PositionsCodec.scan(mapped: $0, record: add) }
            } else {
                try PositionsCodec.scan(file: path, record: add)
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(
                path: path,
                message: "\(error); fix the file there, or put a good copy back: `tradingbot restore --list` shows them"
            )
        }
        return (accumulator.report, recent.result)
    }

    static func refuse(_ issues: [RecordIssue], path: String) throws {
        guard !issues.isEmpty else { return }
        let shown = issues.prefix(10).map(\.description).joined(separator: "; ")
        let more = issues.count > 10 ? "; and \(issues.count - 10) more" : ""
        throw StoreError(
            path: path,
            message:
                "\(issues.count) field(s) cannot be used: \(shown)\(more). Fix them, or run `deployctl check data --positions \(path)` for the full check."
        )
    }

    /// Writes the whole file atomically under the positions lock.
    public func save(_ file: PositionsFile) throws {
        let lock = try lockForWriting()
        defer { lock.release() }
        FileIO.removeStaleTemps(of: path)
        try FileIO.writeAtomically(path, PositionsCodec.encode(file))
    }

    /// Read-modify-write under the lock, so no concurrent writer's change is lost. Records with
    /// unusable fields are kept as they are (the caller sees them; their values stay as written).
    @discardableResult
    public func update<T>(missingIsEmpty: Bool = true, _ body: (inout PositionsFile) throws -> T) throws -> T {
        let lock = try lockForWriting()
        defer { lock.release() }
        FileIO.removeStaleTemps(of: path)
        var file = try decode(missingIsEmpty: missingIsEmpty).file
        let result = try body(&file)
        try FileIO.writeAtomically(path, PositionsCodec.encode(file))
        return result
    }

    private func lockForWriting() throws -> FileLock {
        do {
            return try FileLock.acquire(lockPath, holder: "pid \(ProcessIdentity.pid) writing \(path)", timeout: 10)
        } catch {
            throw StoreError(path: lockPath, message: "cannot lock the positions file for writing: \(error)")
        }
    }

    /// What the dashboard may hold: open positions and the newest closed trades in a window.
    public struct Recent: Sendable {
        public var open: [Position]
        /// Newest first, at most the limit.
        public var closed: [Position]
        /// Closed trades in the window, including those beyond the limit.
        public var closedInWindow: Int
        public var issues: [RecordIssue]
    }
}

/// Keeps the open positions and the newest `limit` closed trades since `since`, pruning as it
/// goes so memory follows the limit.
struct RecentCollector {
    let since: Instant
    let limit: Int
    var open: [Position] = []
    var kept: [Position] = []
    var inWindow = 0
    var issues: [RecordIssue] = []

    init(since: Instant, limit: Int) {
        self.since = since
        self.limit = limit
    }

    mutating func add(_ list: PositionList, _ position: Position, _ found: [RecordIssue]) {
        issues.append(contentsOf: found)
        if list == .open {
            open.append(position)
            return
        }
        guard let closed = position.closedAt?.instant, closed >= since else { return }
        inWindow += 1
        kept.append(position)
        if kept.count >= max(2 * limit, 64) { prune() }
    }

    mutating func prune() {
        kept.sort { ($0.closedAt?.instant ?? since) > ($1.closedAt?.instant ?? since) }
        if kept.count > limit { kept.removeLast(kept.count - limit) }
    }

    var result: PositionsStore.Recent {
        var copy = self
        copy.prune()
        return PositionsStore.Recent(open: open, closed: copy.kept, closedInWindow: inWindow, issues: issues)
    }
}
