import Foundation
import TradingCore

/// Brings the Python bot's files into a home: its positions file, signal and decision logs and
/// feature store. The source is only read. The data checks run first, the engine lock is held
/// while files are replaced (no import under a running engine), and a home that already has
/// trades is replaced only when asked, its file kept beside the new one.
public struct OldBotImport {
    /// The files found in the old bot's folder (its own layout: `logs/` or the folder itself).
    public struct Source: Sendable {
        public var folder: String
        public var positions: String
        public var signals: String?
        public var decisions: String?
        public var featureStore: String?
        /// Files under `featureStore`, relative to it.
        public var featureFiles: [String]
    }

    /// What was found and what importing would do.
    public struct Survey: Sendable {
        public var source: Source
        public var check: DataCheckReport
        public var signalLines: Int
        public var decisionLines: Int
        /// Trades and open positions already in the home (an import would replace them).
        public var homeOpen: Int
        public var homeClosed: Int
        /// The home has a positions file that cannot be read at all (an import would replace it).
        public var homeUnreadable: Bool

        /// The old bot's `feature_store/signal_weights.json` is not in this engine's shape: it is
        /// imported as `signal_weights.imported.json` so it neither replaces learned weights nor
        /// is read as them.
        public var foreignWeights: Bool

        /// The home holds something an import would replace.
        public var homeHasData: Bool { homeOpen + homeClosed > 0 || homeUnreadable }

        /// Where a feature-store file goes in the home.
        public func target(ofFeatureFile file: String) -> String {
            file == OldBotImport.weightsFile && foreignWeights ? "signal_weights.imported.json" : file
        }
    }

    static let weightsFile = "signal_weights.json"

    /// Why an import did not happen; `code` follows the CLI contract.
    public typealias Failure = HomeRefusal

    public let home: Home

    public init(home: Home) { self.home = home }

    /// Finds the old bot's files in `folder`, or says where it looked.
    public static func locate(_ folder: String) throws(Failure) -> Source {
        func first(_ names: [String]) -> String? {
            names.map { folder + "/" + $0 }.first { FileIO.exists($0) }
        }
        guard isDirectory(folder) else {
            throw Failure(code: .usage, message: "\(folder): not a folder; give --from the old bot's folder")
        }
        guard let positions = first(["logs/positions_futures.json", "positions_futures.json"]) else {
            throw Failure(
                code: .usage,
                message:
                    "no positions_futures.json in \(folder)/logs or \(folder): give --from the folder the Python bot ran in"
            )
        }
        let store = first(["feature_store", "logs/feature_store"]).flatMap { isDirectory($0) ? $0 : nil }
        return Source(
            folder: folder, positions: positions, signals: first(["logs/signals.jsonl", "signals.jsonl"]),
            decisions: first(["logs/enriched_decisions.jsonl", "enriched_decisions.jsonl"]), featureStore: store,
            featureFiles: store.map { regularFiles(under: $0) } ?? [])
    }

    /// Reads everything, changes nothing.
    public func survey(_ source: Source, reset: WalletReset, now: Instant, skewSeconds: Double = 300) throws
        -> Survey
    {
        let check = DataCheckRunner.run(
            positionsPath: source.positions, reset: reset, now: now, skewSeconds: skewSeconds,
            configName: home.botConfig)
        let (homeOpen, homeClosed, homeUnreadable) = try homeContents()
        return Survey(
            source: source, check: check, signalLines: try source.signals.map(FileIO.lineCount) ?? 0,
            decisionLines: try source.decisions.map(FileIO.lineCount) ?? 0, homeOpen: homeOpen,
            homeClosed: homeClosed, homeUnreadable: homeUnreadable,
            foreignWeights: source.featureStore.map { store in
                let path = store + "/" + Self.weightsFile
                guard FileIO.exists(path) else { return false }
                return (try? SignalWeights.parse(try ConfigFiles.json(path), file: path)) == nil
            } ?? false)
    }

    /// What the home's positions file holds now: open and closed counts, or unreadable.
    func homeContents() throws -> (open: Int, closed: Int, unreadable: Bool) {
        guard FileIO.exists(home.positions) else { return (0, 0, false) }
        var open = 0
        var closed = 0
        do {
            try PositionsCodec.scan(file: home.positions) { list, _, _, _ in
                if list == .open { open += 1 } else { closed += 1 }
            }
        } catch {
            return (0, 0, true)
        }
        return (open, closed, false)
    }

    /// Copies the files in under the engine lock. Returns where the files it replaced were kept.
    @discardableResult
    public func apply(_ survey: Survey, force: Bool, stamp: String) throws -> [String] {
        guard survey.check.ok else {
            throw Failure(
                code: .failed,
                message:
                    "the data checks failed on \(survey.source.positions); nothing was imported. Fix the records they name and run the import again."
            )
        }
        try home.createDirectories()
        let lock = try HomeRefusal.engineLock(home, doing: "importing", then: "import. Nothing was imported.")
        defer { lock.release() }
        // Looked at again under the lock: an engine that ran between the survey and the lock may
        // have written trades the survey did not see.
        let now = try homeContents()
        if (now.open + now.closed > 0 || now.unreadable) && !force {
            let count =
                now.unreadable
                ? "a positions file that cannot be read"
                : "\(grouped(now.closed)) closed trade(s) and \(now.open) open position(s)"
            throw Failure(
                code: .failed,
                message:
                    "\(home.positions) already has \(count): nothing was imported. Pass --force to replace it (the current file is kept beside it)."
            )
        }
        let source = survey.source
        var copies = [(from: source.positions, to: home.positions)]
        if let signals = source.signals { copies.append((signals, home.signalsLog)) }
        if let decisions = source.decisions { copies.append((decisions, home.decisionsLog)) }
        if let store = source.featureStore {
            for file in source.featureFiles {
                copies.append((store + "/" + file, home.featureStore + "/" + survey.target(ofFeatureFile: file)))
            }
        }
        // Nothing the home had is lost: each file an import replaces is kept beside it first.
        var kept: [String] = []
        for copy in copies where FileIO.exists(copy.to) {
            let aside = copy.to + ".before-import-" + stamp
            try FileIO.copy(copy.to, to: aside)
            kept.append(aside)
        }
        for copy in copies {
            try makeDirectories(parentOf: copy.to)
            try FileIO.copy(copy.from, to: copy.to)
        }
        // The SQLite mirror follows the file it mirrors.
        let file = try PositionsStore(home: home).decode().file
        try AnalyticsDatabase(path: home.database).rebuild(from: file)
        return kept
    }
}

private func isDirectory(_ path: String) -> Bool {
    var directory: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
}

/// Regular files under `root`, relative to it, sorted (symbolic links are not followed).
private func regularFiles(under root: String) -> [String] {
    guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
    var files: [String] = []
    while let relative = walker.nextObject() as? String {
        if (walker.fileAttributes?[.type] as? FileAttributeType) == .typeRegular { files.append(relative) }
    }
    return files.sorted()
}

private func makeDirectories(parentOf path: String) throws {
    let parent = (path as NSString).deletingLastPathComponent
    do {
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
    } catch {
        throw StoreError(path: parent, message: "cannot create the folder: \(error.localizedDescription)")
    }
}
