import Foundation
import Exchange
import TradingCore
import TradingStore

/// `tradingbot selfcheck`: initialises every subsystem the engine needs, without network and
/// without trading, and says for each whether it works. Deploy runs it on a candidate release
/// against the live home before any flip.
public enum SelfCheck {
    public static func run(home: Home, now: Instant) -> [CheckResult] {
        var checks = CheckList()
        var bot: BotConfig?
        var universe: AssetUniverse?
        checks.run("config") {
            let b = try ConfigFiles.bot(home.botConfig)
            let u = try ConfigFiles.assetUniverse(home.assetUniverse)
            _ = try ConfigFiles.deploy(home.deployConfig)
            let missing = b.symbols.filter { u.sectors[$0] == nil }
            bot = b
            universe = u
            return
                "bot.json, asset_universe.json and deploy.json valid; \(b.symbols.isEmpty ? u.sectors.count : b.symbols.count) symbols enabled"
                + (missing.isEmpty
                    ? ""
                    : "; not in the asset universe (traded as sector \"other\"): \(missing.joined(separator: ", "))")
        }
        checks.run("exchange") {
            guard let bot else { throw CheckList.Warning("not checked: bot.json did not load") }
            let e = bot.exchange
            let environment = ProcessInfo.processInfo.environment
            guard
                let (url, _) = try ExchangeSetup.orders(
                    config: bot, home: home, feed: e.feed, mode: e.mode, environment: environment)
            else { return "feed \(e.feed), paper trading (no orders sent)" }
            return "feed \(e.feed), \(e.mode) orders to \(url), keys present (not sent: no network here)"
        }
        checks.run("home") {
            try home.createDirectories()
            let probe = home.stateDir + "/.selfcheck-\(ProcessIdentity.pid)"
            try FileIO.writeAtomically(probe, Array("ok".utf8))
            _ = unlinkFile(probe)
            return "\(home.root) writable (logs, data, state, feature_store, reports)"
        }
        checks.run("positions") {
            let decoded = try PositionsStore(home: home).decode(missingIsEmpty: true)
            let counts = "\(decoded.file.open.count) open, \(decoded.file.closed.count) closed positions"
            var notes: [String] = []
            // The config check read bot.json and the asset universe already.
            if let bot, let universe {
                let open = decoded.file.open.enumerated().map { ("open_positions[\($0.offset)]", $0.element.symbol) }
                let found = RiskGate(limits: bot.risk).breaches(open: open) {
                    universe.sectors[$0]?.rawValue ?? "other"
                }
                if !found.isEmpty {
                    notes.append(
                        "the file already breaks a limit: " + found.joined(separator: "; ")
                            + " (the engine opens nothing that adds to it)")
                }
            }
            if let first = decoded.issues.first {
                // The engine starts anyway (a refusal would stop every exit); the data checks
                // decide whether these block a release.
                let open = decoded.issues.filter { $0.list == .open }.count
                notes.append(
                    "\(decoded.issues.count) field(s) cannot be used (first: \(first)). The engine trades on the rest"
                        + (open > 0
                            ? " and stays reducing (no new entries) while an open position cannot be valued" : "")
                        + "; see `deployctl check data`")
            }
            guard !notes.isEmpty else { return counts + " readable" }
            throw CheckList.Warning(counts + "; " + notes.joined(separator: "; "))
        }
        // Read-only: a candidate's selfcheck runs against the live home before the flip and must
        // not migrate (or otherwise write) the live database.
        checks.run("database") {
            guard let (mode, trades) = try AnalyticsDatabase.inspect(path: home.database) else {
                return "no \(home.database) yet; the engine creates it on start"
            }
            guard mode == "wal" else {
                throw StoreError(path: home.database, message: "journal mode is \(mode), not wal")
            }
            return "\(home.database) readable in WAL mode, \(trades) trades mirrored"
        }
        checks.run("weights") {
            let path = home.featureStore + "/signal_weights.json"
            guard FileIO.exists(path) else { return "no learned weights yet (defaults)" }
            let weights: SignalWeights
            do {
                weights = try SignalWeights.parse(try ConfigFiles.json(path), file: path)
            } catch {
                throw CheckList.Warning(
                    "\(error): the engine moves it aside and starts from the default weights (trading goes on)")
            }
            return "\(weights.weights.count) learned weights from \(weights.tradesLearned) trades"
        }
        var snapshot: MarketSnapshot?
        checks.run("feed") {
            let symbols = bot.map { $0.symbols.isEmpty ? (universe?.symbols ?? []) : $0.symbols } ?? ["BTCUSDT"]
            let feed = SimulatedFeed(symbols: Array(symbols.prefix(3)), seed: 1, intervalSeconds: 60, start: now)
            guard let first = try feed.advance(to: now)?.first else {
                throw BrokerError("the simulated feed gave no market")
            }
            snapshot = first
            return "simulated feed: \(first.candles.count) candles for \(first.symbol) (offline; no network used)"
        }
        checks.run("signals") {
            guard let snapshot else { throw BrokerError("no market to evaluate (feed failed)") }
            let readings = SignalCatalog.all.map { ($0.name, $0.read(snapshot)) }
            let unavailable = readings.filter { $0.1.value == nil }.map(\.0)
            guard unavailable.isEmpty else {
                throw BrokerError("signals unavailable on the simulated market: \(unavailable.joined(separator: ", "))")
            }
            return "\(readings.count) signals evaluated: \(readings.map(\.0).joined(separator: ", "))"
        }
        checks.run("risk") {
            guard let bot else { throw BrokerError("no config") }
            let verdict = RiskGate(limits: bot.risk).evaluate(
                symbol: "BTCUSDT", sector: "mega", desiredNotional: bot.risk.maxNotional, leverage: 5,
                equity: bot.walletReset.startingCapital, open: [], openedToday: 0)
            guard case .allow(let notional, _, let bound) = verdict else {
                throw BrokerError("risk gate blocks an empty book: \(verdict)")
            }
            return
                "risk gate allows \(money(notional)) on an empty book (bound by \(bound)); limits \(bot.risk.maxPositions) positions, \(bot.risk.maxPerSector) per sector"
        }
        // Its name says the release has capital scaling: a way back to a release without the
        // check is told that scaling is off (deployctl logs `capital_scaling_off`).
        checks.run("scaling") {
            guard let bot else { throw CheckList.Warning("not checked: bot.json did not load") }
            let s = bot.risk.scaling
            guard s.enabled else {
                return "capital scaling off (risk.scaling.enabled false): the full max_exposure_fraction"
            }
            let (state, problem) = ScalingFile.load(home.scalingState)
            if let problem {
                throw CheckList.Warning(
                    "\(problem): the engine computes the step from the closed trades again (trading goes on)")
            }
            let level = s.level(of: state)
            return
                "capital scaling on: \(Int((level * 100).rounded())) % of max_exposure_fraction \(bot.risk.maxExposureFraction)\(state == nil ? " (no state yet: computed from the closed trades at the engine's start)" : ""), steps \(s.levels.map { "\(Int(($0 * 100).rounded())) %" }.joined(separator: ", "))"
        }
        checks.run("broker") {
            guard let bot, let snapshot else { throw BrokerError("no config or market") }
            let fill = try PaperBroker(model: FillModel(fees: bot.fees)).marketOrder(
                symbol: snapshot.symbol, buy: true, notional: 1000, market: snapshot)
            return
                "paper broker fills $1,000 at \(fill.price) with fee \(money(fill.fee)) (taker \(bot.fees.taker * 100) %)"
        }
        return checks.results
    }
}

#if canImport(Glibc)
    import Glibc
    func unlinkFile(_ path: String) -> Int32 { unlink(path) }
#endif
