import Engine
import Exchange
import Foundation
import TradingCore
import TradingStore

// Engine benchmark (release build): one cycle over 50 symbols with every signal, against the
// feed's own cost in the same run; replay throughput on the recorded 5-minute spot data (Tests/Fixtures); peak RSS.
// usage: engine-bench [FIXTURES_DIR] [--cycles N]

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.isEmpty ? 0 : s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

func peakRSSMiB() -> Double {
    var usage = rusage()
    getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_maxrss) / 1024
}

let args = CommandLine.arguments
if let i = args.firstIndex(of: "--record-home"), i + 2 < args.count, let symbols = Int(args[i + 2]) {
    try recordHome(
        args[i + 1], symbols: symbols, cycles: args.firstIndex(of: "--cycles").flatMap { Int(args[$0 + 1]) } ?? 1440)
    exit(0)
}
let fixtures = args.count > 1 && !args[1].hasPrefix("--") ? args[1] : "Tests/Fixtures"
let cycles = args.firstIndex(of: "--cycles").flatMap { Int(args[$0 + 1]) } ?? 300

let sectors = Sector.allCases
var universeMap: [String: Sector] = [:]
for i in 0..<50 { universeMap["SYM\(i)USDT"] = sectors[i % sectors.count] }
let universe = AssetUniverse(sectors: universeMap)
let start = Instant(seconds: 1_766_000_000)
let config: BotConfig = {
    var c = BotConfig(walletReset: WalletReset(at: start.adding(seconds: -86_400), startingCapital: 10_000))
    c.symbols = universe.symbols
    return c
}()

@MainActor func timeCycles(persistEvery: Int) throws -> (cycle: [Double], feed: [Double]) {
    let home = Home(root: NSTemporaryDirectory() + "engine-bench-\(UUID().uuidString.prefix(8))")
    var settings = EngineSettings()
    settings.persistEvery = persistEvery
    let feed = SimulatedFeed(symbols: universe.symbols, seed: 1, intervalSeconds: 60, start: start)
    let baseline = SimulatedFeed(symbols: universe.symbols, seed: 1, intervalSeconds: 60, start: start)
    let engine = try TradingEngine(
        config: config, universe: universe, feed: feed, stores: try EngineStores(home: home), settings: settings)
    var cycleTimes: [Double] = []
    var feedTimes: [Double] = []
    var t = start
    for i in 0..<(cycles + 20) {
        let a = DispatchTime.now().uptimeNanoseconds
        _ = try baseline.advance(to: t)
        let b = DispatchTime.now().uptimeNanoseconds
        _ = try engine.runCycle(now: t)
        let c = DispatchTime.now().uptimeNanoseconds
        if i >= 20 {
            feedTimes.append(Double(b - a) / 1e6)
            cycleTimes.append(Double(c - b) / 1e6)
        }
        t = t.adding(seconds: 60)
    }
    try? FileManager.default.removeItem(atPath: home.root)
    return (cycleTimes, feedTimes)
}

let persisted = try timeCycles(persistEvery: 1)
let compute = try timeCycles(persistEvery: 1_000_000)
let cycleMedian = median(persisted.cycle)
let feedMedian = median(persisted.feed)
print("engine cycle, 50 symbols x 10 signals, \(cycles) cycles (median ms; p95 ms)")
print(
    String(
        format: "  feed only (baseline)            %7.3f   %7.3f", feedMedian,
        persisted.feed.sorted()[cycles * 95 / 100]))
print(
    String(
        format: "  full cycle incl. persistence    %7.3f   %7.3f   (%.1fx the feed)", cycleMedian,
        persisted.cycle.sorted()[cycles * 95 / 100], cycleMedian / feedMedian))
print(
    String(
        format: "  cycle without file writes       %7.3f   %7.3f", median(compute.cycle),
        compute.cycle.sorted()[cycles * 95 / 100]))

let replayHome = Home(root: NSTemporaryDirectory() + "engine-bench-replay-\(UUID().uuidString.prefix(8))")
var replaySettings = EngineSettings()
replaySettings.persistEvery = 500
let summary = try ReplayRunner.run(
    feedPath: fixtures + "/market/spot-5m-2018-01", home: replayHome, baseConfig: nil, universe: nil,
    settings: replaySettings)
print(
    String(
        format: "replay spot-5m-2018-01: %d candles in %.2f s = %.0f candles/s, %d trades, hash %@",
        summary.candles, summary.seconds, Double(summary.candles) / summary.seconds, summary.trades,
        summary.decisionsHash))
print(String(format: "peak RSS %.1f MiB", peakRSSMiB()))
try? FileManager.default.removeItem(atPath: replayHome.root)

try recorderCost(symbols: 50, cycles: cycles)
try recorderCost(symbols: 400, cycles: max(20, cycles / 10))
print("flight recorder size (bytes a day at one cycle a minute)")
for shape in ["sim", "blofin"] {
    for symbols in [16, 400] { _ = try recordingSize(shape: shape, symbols: symbols, cycles: 30) }
}
if args.contains("--day") { try recordedDayReplay(symbols: 400, cycles: 1440) }
