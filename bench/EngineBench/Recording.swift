import Engine
import Exchange
import Foundation
import TradingCore
import TradingStore

// The flight recorder's cost and size: a cycle with the recorder beside the same cycle without
// it (two engines on identical feeds, alternating cycle by cycle), and the bytes a day of
// recording takes for the simulated market and for BloFin's shape (candles, book and funding;
// the BloFin client has no trades, open interest or liquidations) at 16 and 400 symbols.

/// A feed in BloFin's shape: what the BloFin feed delivers, from the simulated market.
final class BloFinShaped: MarketFeed {
    let inner: SimulatedFeed
    init(_ inner: SimulatedFeed) { self.inner = inner }
    var name: String { "blofin-shaped" }
    var symbols: [String] { inner.symbols }
    func advance(to time: Instant) throws -> [MarketSnapshot]? {
        try inner.advance(to: time)?.map {
            MarketSnapshot(
                symbol: $0.symbol, time: $0.time, candles: $0.candles, book: $0.book, fundingRate: $0.fundingRate)
        }
    }
}

func benchUniverse(_ n: Int) -> AssetUniverse {
    var map: [String: Sector] = [:]
    for i in 0..<n { map["SYM\(i)USDT"] = Sector.allCases[i % Sector.allCases.count] }
    return AssetUniverse(sectors: map)
}

func benchConfig(_ universe: AssetUniverse, start: Instant) -> (BotConfig, JSONValue) {
    var c = BotConfig(walletReset: WalletReset(at: start.adding(seconds: -86_400), startingCapital: 10_000))
    c.symbols = universe.symbols
    let json: JSONValue = [
        "wallet_reset": ["at": .string(start.adding(seconds: -86_400).iso8601), "starting_capital": 10_000],
        "symbols": .array(universe.symbols.map { .string($0) }),
    ]
    return (c, json)
}

func universeJSON(_ u: AssetUniverse) -> JSONValue {
    ["symbols": .object(JSONObject(u.symbols.map { JSONField($0, .string(u.sectors[$0]?.rawValue ?? "")) }))]
}

/// An engine on `feed`, recording when `record`; its home.
func benchEngine(
    _ universe: AssetUniverse, feed: any MarketFeed, start: Instant, record: Bool, root: String? = nil
) throws -> (TradingEngine, Home) {
    let home = Home(root: root ?? NSTemporaryDirectory() + "engine-bench-rec-\(UUID().uuidString.prefix(8))")
    let (config, json) = benchConfig(universe, start: start)
    var settings = EngineSettings()
    settings.recordCandles = false
    let stores = try EngineStores(home: home)
    let live = LiveWorld(config: config, settings: settings, feed: feed, broker: nil, home: home)
    let world: any EngineWorld =
        record
        ? FlightRecorder(
            live: live, stores: stores, botJSON: json, overrides: [:], universeJSON: universeJSON(universe),
            settings: settings) : live
    let engine = try TradingEngine(config: config, universe: universe, world: world, stores: stores, settings: settings)
    engine.recorder?.begin(engine, at: start)
    return (engine, home)
}

func recorderCost(symbols: Int, cycles: Int) throws {
    let universe = benchUniverse(symbols)
    let start = Instant(seconds: 1_766_000_000)
    let feedA = SimulatedFeed(symbols: universe.symbols, seed: 1, intervalSeconds: 60, start: start)
    let feedB = SimulatedFeed(symbols: universe.symbols, seed: 1, intervalSeconds: 60, start: start)
    let (plain, plainHome) = try benchEngine(universe, feed: feedA, start: start, record: false)
    let (recorded, recordedHome) = try benchEngine(universe, feed: feedB, start: start, record: true)
    var without: [Double] = []
    var with: [Double] = []
    var t = start
    for i in 0..<(cycles + 10) {
        // Alternating which goes first, so neither always meets a warm cache.
        for (engine, first) in i % 2 == 0 ? [(plain, true), (recorded, false)] : [(recorded, false), (plain, true)] {
            let a = DispatchTime.now().uptimeNanoseconds
            _ = try engine.runCycle(now: t)
            let ms = Double(DispatchTime.now().uptimeNanoseconds - a) / 1e6
            if i >= 10 { if first { without.append(ms) } else { with.append(ms) } }
        }
        t = t.adding(seconds: 60)
    }
    let a = median(without)
    let b = median(with)
    print("flight recorder cost, \(symbols) symbols, \(cycles) cycles (median ms per cycle)")
    print(String(format: "  cycle without the recorder (baseline)  %8.3f", a))
    print(String(format: "  cycle with the recorder                %8.3f   (+%.1f %%)", b, (b / a - 1) * 100))
    for home in [plainHome, recordedHome] { try? FileManager.default.removeItem(atPath: home.root) }
}

/// Bytes a day of recording takes: 24 hourly segments, each a header, a checkpoint (taken after
/// `cycles` cycles, as an hour's is) and a first cycle with whole windows, and 59 cycles of changes.
func recordingSize(shape: String, symbols: Int, cycles: Int) throws -> Double {
    let universe = benchUniverse(symbols)
    let start = Instant(seconds: 1_766_000_000)
    let sim = SimulatedFeed(symbols: universe.symbols, seed: 2, intervalSeconds: 60, start: start)
    let feed: any MarketFeed = shape == "sim" ? sim : BloFinShaped(sim)
    let (engine, home) = try benchEngine(universe, feed: feed, start: start, record: true)
    defer { try? FileManager.default.removeItem(atPath: home.root) }
    var t = start
    for _ in 0..<cycles {
        _ = try engine.runCycle(now: t)
        t = t.adding(seconds: 60)
    }
    let segment = try require(RecordingSegments.list(home.recordingDir).first)
    let lines = String(decoding: try FileIO.read(segment.path), as: UTF8.self).split(separator: "\n")
    let header = Double(lines[0].utf8.count + 1)
    let firstCycle = Double(lines[2].utf8.count + 1)
    let changes = median(lines.dropFirst(3).map { Double($0.utf8.count + 1) })
    let checkpoint = Double(engine.checkpoint(at: t).serialized().utf8.count + 30)
    let perDay = 24 * (header + checkpoint + firstCycle) + 24 * 59 * changes
    print(
        String(
            format:
                "  %-7@ %4d symbols: %7.1f MB/day (a cycle of changes %.1f KB, an hour's checkpoint %.1f KB, a first cycle %.1f KB)",
            shape, symbols, perDay / 1e6, changes / 1e3, checkpoint / 1e3, firstCycle / 1e3))
    return perDay
}

struct RequireFailed: Error {}
func require<T>(_ value: T?) throws -> T {
    guard let value else { throw RequireFailed() }
    return value
}

/// A day of recording replayed: `cycles` one-minute cycles recorded at `symbols` symbols in
/// BloFin's shape, then `RecordedReplay` over all of it (what `deployctl check decisions` runs
/// each time), against the live cycles' own time in the same run.
func recordedDayReplay(symbols: Int, cycles: Int) throws {
    let universe = benchUniverse(symbols)
    let start = Instant(seconds: 1_766_000_000)
    let feed = BloFinShaped(SimulatedFeed(symbols: universe.symbols, seed: 3, intervalSeconds: 60, start: start))
    let (engine, home) = try benchEngine(universe, feed: feed, start: start, record: true)
    defer { try? FileManager.default.removeItem(atPath: home.root) }
    let live = try runDay(engine, from: start, cycles: cycles)
    let bytes = RecordingSegments.list(home.recordingDir).reduce(Int64(0)) { $0 + $1.bytes }
    let into = Home(root: NSTemporaryDirectory() + "engine-bench-aa-\(UUID().uuidString.prefix(8))")
    defer { try? FileManager.default.removeItem(atPath: into.root) }
    let rssBefore = peakRSSMiB()
    let b = DispatchTime.now().uptimeNanoseconds
    let summary = try RecordedReplay.run(recording: home.recordingDir, into: into)
    let replay = Double(DispatchTime.now().uptimeNanoseconds - b) / 1e9
    print(
        String(
            format:
                "recorded day replay, %d symbols (BloFin shape), %d cycles, %.0f MB recorded: live cycles %.1f s (baseline), replay %.1f s (%.2fx), %d segments, divergences %d, peak RSS %.0f MiB (%.0f before the replay)",
            symbols, summary.cycles, Double(bytes) / 1e6, live, replay, replay / live, summary.segments.count,
            summary.divergences.count, peakRSSMiB(), rssBefore))
}

/// `--record-home DIR SYMBOLS`: a home at DIR whose recording holds the last day (1440 one-minute
/// cycles in BloFin's shape, ending now), with its bot.json, universe and signal lines, for
/// `bench/decisions_bench.py` to run `deployctl check decisions` on.
func recordHome(_ root: String, symbols: Int, cycles: Int) throws {
    let universe = benchUniverse(symbols)
    let now = Int64(Date().timeIntervalSince1970) / 60 * 60
    let start = Instant(seconds: Double(now - Int64(cycles) * 60))
    let feed = BloFinShaped(SimulatedFeed(symbols: universe.symbols, seed: 3, intervalSeconds: 60, start: start))
    let (engine, home) = try benchEngine(universe, feed: feed, start: start, record: true, root: root)
    let (_, json) = benchConfig(universe, start: start)
    try FileManager.default.createDirectory(atPath: root + "/config", withIntermediateDirectories: true)
    try FileIO.writeAtomically(home.botConfig, Array(json.serialized(indent: 2).utf8))
    try FileIO.writeAtomically(home.assetUniverse, Array(universeJSON(universe).serialized(indent: 2).utf8))
    let seconds = try runDay(engine, from: start, cycles: cycles)
    let bytes = RecordingSegments.list(home.recordingDir).reduce(Int64(0)) { $0 + $1.bytes }
    print(
        String(
            format: "recorded %d cycles at %d symbols in %.1f s: %.0f MB", cycles, symbols,
            seconds, Double(bytes) / 1e6))
}

/// Runs `cycles` one-minute cycles from `start` and flushes the recorder; the seconds they took.
func runDay(_ engine: TradingEngine, from start: Instant, cycles: Int) throws -> Double {
    var t = start
    let a = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<cycles {
        _ = try engine.runCycle(now: t)
        t = t.adding(seconds: 60)
    }
    engine.recorder?.flush(engine, at: t)
    return Double(DispatchTime.now().uptimeNanoseconds - a) / 1e9
}
