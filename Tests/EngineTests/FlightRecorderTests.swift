import Foundation
import TestSupport
import Testing

@testable import Engine
@testable import Exchange
@testable import TradingCore
@testable import TradingStore

/// The flight recorder and its replay: a live run on the simulated market, with everything that
/// changes what the engine does (a UTC midnight, a funding time, a drawdown-reducing episode, the
/// kill switch, a failed positions write, a restart), replayed from the recording into another
/// home, writes the same signal and decision lines, byte for byte.
@Suite struct FlightRecorderTests {
    /// A home whose bot.json enters readily and reduces on a small drawdown, so one hour and a
    /// half shows entries, exits and a drawdown-reducing episode.
    func home(_ label: String, start: Instant) throws -> (Home, JSONValue, JSONValue) {
        let home = Home(root: try Fixtures.temporaryDirectory(label))
        try home.createDirectories()
        try FileManager.default.createDirectory(atPath: home.configDir, withIntermediateDirectories: true)
        let bot: JSONValue = [
            "wallet_reset": ["at": .string(start.iso8601), "starting_capital": 10_000],
            "cycle_seconds": 60,
            "risk": ["max_positions": 6, "max_positions_per_day": 200],
            "exits": [
                "min_hold_seconds": 120, "max_hold_seconds": 1500, "emergency_drawdown": 0.004,
                "trailing_activation": 0.004, "trailing_distance": 0.002,
            ],
            "strategy": ["entry_threshold": 0.05, "min_agreeing": 1],
            "symbols": ["BTCUSDT", "ETHUSDT", "SOLUSDT", "DOGEUSDT", "XRPUSDT", "LINKUSDT", "OPUSDT", "PEPEUSDT"],
        ]
        try FileIO.writeJSON(home.botConfig, bot)
        let universe = try ConfigFiles.json(Fixtures.repoRoot + "/config/asset_universe.json")
        try FileIO.writeJSON(home.assetUniverse, universe)
        return (home, bot, universe)
    }

    /// One `tradingbot run` process, as RunCommand builds it, on the simulated market from `start`;
    /// no free-space floor unless asked (a test machine's disk is not what these drills are about).
    func process(
        _ home: Home, bot: JSONValue, universe: JSONValue, start: Instant, seed: UInt64, minFreeBytes: Int64? = 0
    ) throws -> TradingEngine {
        let config = try BotConfig.parse(bot, file: "bot.json")
        let sectors = try AssetUniverse.parse(universe, file: "asset_universe.json")
        var settings = EngineSettings()
        settings.release = "r-test"
        settings.recordCandles = false
        let stores = try EngineStores(home: home)
        let feed = SimulatedFeed(symbols: config.symbols, seed: seed, intervalSeconds: 60, start: start)
        let live = LiveWorld(config: config, settings: settings, feed: feed, broker: nil, home: home)
        let recorder = FlightRecorder(
            live: live, stores: stores, botJSON: bot, overrides: [:], universeJSON: universe, settings: settings)
        let engine = try TradingEngine(
            config: config, universe: sectors, world: recorder, stores: stores, settings: settings)
        if let minFreeBytes { recorder.bound.minFreeBytes = minFreeBytes }
        recorder.begin(engine, at: start)
        return engine
    }

    func lines(_ path: String) throws -> [String] {
        guard FileIO.exists(path) else { return [] }
        return String(decoding: try FileIO.read(path), as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// The lines of `path` whose `ts` passes `keep`.
    func lines(_ path: String, at keep: (Instant) -> Bool) throws -> [String] {
        try lines(path).filter { line in
            (try? JSONValue.parse(Array(line.utf8)))?.objectValue?["ts"]?.instantValue.map(keep) ?? false
        }
    }

    func events(_ home: Home) throws -> [String] {
        try JSONLAppender.readAll(home.botLog).compactMap { $0.objectValue?["event"]?.stringValue }
    }

    /// The same lines, or the first that differs.
    func expectSame(_ live: [String], _ replayed: [String], _ what: String) {
        #expect(replayed.count == live.count, "\(what) lines: \(live.count) live, \(replayed.count) replayed")
        for (index, (a, b)) in zip(live, replayed).enumerated() where a != b {
            Issue.record("\(what) line \(index + 1) differs:\nlive   \(a)\nreplay \(b)")
            return
        }
    }

    @Test func aLiveRunAndItsRecordedReplayWriteTheSameLines() throws {
        let start = try #require(Instant(year: 2026, month: 3, day: 9, hour: 23, minute: 1))
        let (home, bot, universe) = try home("recorder-live", start: start)
        var engine = try process(home, bot: bot, universe: universe, start: start, seed: 5)
        var t = start
        var failedCycles = 0
        for i in 1...100 {
            switch i {
            case 20: try KillSwitch(home: home).set(true, note: "test")
            case 30: try KillSwitch(home: home).set(false, note: "")
            case 40:
                // A positions file that cannot be replaced: the engine reduces until it can write.
                try FileIO.remove(home.positions)
                try FileManager.default.createDirectory(atPath: home.positions, withIntermediateDirectories: false)
            case 46: try FileManager.default.removeItem(atPath: home.positions)
            case 58:
                // Again across the UTC midnight, where the day's snapshot persists in the cycle too.
                try FileIO.remove(home.positions)
                try FileManager.default.createDirectory(atPath: home.positions, withIntermediateDirectories: false)
            case 60: try FileManager.default.removeItem(atPath: home.positions)
            case 75:
                // A restart: the process stops as EngineRunner stops it, a new one starts from the files.
                engine.recorder?.flush(engine, at: t)
                try engine.persist(now: t)
                // The operator's reset of capital scaling, applied at the start: the segment's first
                // checkpoint must hold the step the engine starts with, or its replay sizes otherwise.
                try ScalingReset.request(home, level: 0.75, at: t)
                engine = try process(home, bot: bot, universe: universe, start: t, seed: 6)
                #expect(engine.exposureScale == 0.75 && !FileIO.exists(ScalingReset.path(home)))
            default: break
            }
            do {
                _ = try engine.runCycle(now: t)
            } catch {
                failedCycles += 1
            }
            t = t.adding(seconds: 60)
        }
        engine.recorder?.flush(engine, at: t)
        let said = try events(home)
        #expect(said.contains("circuit_breaker"), "the kill switch was seen")
        #expect(said.contains("writes_failing"), "the failed positions write was seen")
        #expect(said.contains("drawdown_reducing"), "a drawdown-reducing episode: \(Set(said).sorted())")
        let scaled = try JSONLAppender.readAll(home.botLog).compactMap { $0.objectValue }.filter {
            $0["event"] == "capital_scaled"
        }
        #expect(scaled.contains { $0["reason"] == "operator" && $0["to"] == .double(0.75) }, "\(scaled)")
        #expect(scaled.contains { $0["level"] == "critical" }, "scaling stepped down on the way: \(scaled)")
        let live = try lines(home.signalsLog)
        #expect(live.contains { $0.contains("\"closed:") || $0.contains("\"action\":\"closed") })

        let positions = String(decoding: try FileIO.read(home.positions), as: UTF8.self)
        #expect(positions.contains("\"funding\""), "the midnight funding was settled on a position")

        let segments = RecordingSegments.list(home.recordingDir)
        #expect(segments.count == 3, "the start, the midnight hour, the restart")

        let replayHome = Home(root: try Fixtures.temporaryDirectory("recorder-replay"))
        let summary = try RecordedReplay.run(recording: home.recordingDir, into: replayHome)
        #expect(summary.divergences.isEmpty, "\(summary.divergences)")
        #expect(summary.cycles == 100)
        expectSame(live, try lines(replayHome.signalsLog), "signal")
        expectSame(try lines(home.decisionsLog), try lines(replayHome.decisionsLog), "decisions")
        #expect(summary.decisionsHash == engine.hash.hex)
        // The numbers a proposed setting is judged by: every close the engine made, counted once.
        #expect(summary.statistics.trades == live.filter { $0.contains("\"action\":\"closed\"") }.count)
        #expect(summary.statistics.trades > 0 && summary.maxDrawdown > 0)

        // A damaged line in the middle of a segment: the segment ends there, a gap, and the replay
        // goes on from the next segment's checkpoint.
        let damagedDir = try Fixtures.temporaryDirectory("recorder-damaged")
        for entry in segments { try FileIO.copy(entry.path, to: damagedDir + "/" + entry.name) }
        let firstCopy = damagedDir + "/" + segments[0].name
        var copyLines = String(decoding: try FileIO.read(firstCopy), as: UTF8.self).split(separator: "\n").map(
            String.init)
        copyLines[10] = "{\"c\": 9, \"t\": torn"
        try Fixtures.write(copyLines.joined(separator: "\n") + "\n", to: firstCopy)
        let damaged = try RecordedReplay.run(
            recording: damagedDir, into: Home(root: try Fixtures.temporaryDirectory("recorder-damaged-replay")))
        #expect(damaged.gaps == 1, "\(damaged.segments.map(\.json))")
        #expect(damaged.segments.first?.status.contains("line 11 cannot be read") == true)
        #expect(damaged.segments.first?.cycles == 8, "the cycles before the damaged line")

        // From the midnight hour's checkpoint on: exactly what the engine wrote when it went on.
        let midnight = try #require(Instant(year: 2026, month: 3, day: 10, hour: 0))
        let fromHome = Home(root: try Fixtures.temporaryDirectory("recorder-from"))
        let partial = try RecordedReplay.run(
            recording: home.recordingDir, into: fromHome, options: .init(from: midnight.adding(seconds: 90)))
        let checkpoint = try #require(partial.checkpoint)
        #expect(checkpoint.time >= midnight && checkpoint.time < midnight.adding(seconds: 120))
        let tail = try lines(home.signalsLog, at: { $0 > checkpoint.time })
        expectSame(tail, try lines(fromHome.signalsLog), "signal (from the midnight checkpoint)")
    }
}

/// The recording within its bound: the oldest hours go first, the replay restores from the oldest
/// hour kept and writes what the engine wrote from there; a segment of a newer format (a rollback
/// meeting a newer release's recording) is listed, never replayed, never written into.
@Suite struct FlightRecorderBoundTests {
    @Test func theOldestHoursGoFirstAndANewerFormatIsLeftAlone() throws {
        let start = try #require(Instant(year: 2026, month: 3, day: 9, hour: 20, minute: 31))
        let base = FlightRecorderTests()
        let (home, bot, universe) = try base.home("recorder-bound", start: start)
        let engine = try base.process(home, bot: bot, universe: universe, start: start, seed: 8)
        let recorder = try #require(engine.recorder)
        // About two hours' segments at 8 symbols.
        recorder.bound.maxBytes = 1_700_000
        var t = start
        for _ in 0..<200 {
            _ = try engine.runCycle(now: t)
            t = t.adding(seconds: 60)
        }
        recorder.flush(engine, at: t)
        let kept = RecordingSegments.list(home.recordingDir)
        #expect(kept.count >= 1 && kept.count < 4, "\(kept.map(\.name))")
        #expect(kept.reduce(0) { $0 + $1.bytes } < 1_700_000 + 1_000_000, "within the bound and the hour being written")
        let pruned = try JSONLAppender.readAll(home.botLog).compactMap { $0.objectValue }.filter {
            $0["event"] == "recording_pruned"
        }
        #expect(!pruned.isEmpty && pruned.allSatisfy { $0["level"] == "info" })
        let oldest = try #require(kept.first.flatMap(RecordingSegments.head))
        #expect(oldest.reason == "hour")

        // A newer release's segment, sorted first: left alone, listed, not replayed.
        let newer = home.recordingDir + "/seg-20260309T000000Z-p1-000001.jsonl"
        try Fixtures.write(#"{"recording": 99, "release": "r-next", "reason": "start"}"# + "\n", to: newer)
        let newerBytes = try FileIO.read(newer)
        let replayHome = Home(root: try Fixtures.temporaryDirectory("recorder-bound-replay"))
        let summary = try RecordedReplay.run(recording: home.recordingDir, into: replayHome)
        let first = try #require(summary.segments.first)
        #expect(first.status.contains("newer than this build reads"), "\(first.status)")
        #expect(summary.gaps == 1)
        #expect(try FileIO.read(newer) == newerBytes, "never written into")
        let from = try #require(oldest.started)
        let tail = try base.lines(home.signalsLog, at: { $0 > from })
        base.expectSame(tail, try base.lines(replayHome.signalsLog), "signal (from the oldest hour kept)")
    }
}

/// The recording's disk hangs (the writer held) across an hour's turn: the engine leaves the
/// cycles it cannot hand over, says so once, and after the disk comes back starts a gap's segment
/// even though the hour's segment asked for before the hang opens fine; the replay writes what
/// the engine wrote in every recorded cycle.
@Suite struct FlightRecorderHangTests {
    @Test func aHungDiskAcrossTheHourLeavesAGapNotAHoleInASegment() throws {
        let start = try #require(Instant(year: 2026, month: 3, day: 9, hour: 10, minute: 50))
        let base = FlightRecorderTests()
        let (home, bot, universe) = try base.home("recorder-hang", start: start)
        let engine = try base.process(home, bot: bot, universe: universe, start: start, seed: 4)
        let recorder = try #require(engine.recorder)
        var t = start
        var recordedTimes: Set<Int64> = []
        var skipped = 0
        let release = DispatchSemaphore(value: 0)
        for i in 1...75 {
            if i == 5 { recorder.writer.hold(until: release) }
            if i == 60 {
                // The disk comes back between two cycles: everything handed over is written before
                // the engine hears of it.
                release.signal()
                recorder.writer.flush()
            }
            let behind = recorder.writer.backlog > FlightRecorder.maxBacklog
            _ = try engine.runCycle(now: t)
            if behind { skipped += 1 } else { recordedTimes.insert(t.microseconds) }
            if i >= 60 { recorder.flush(engine, at: t) }
            t = t.adding(seconds: 60)
        }
        recorder.flush(engine, at: t)
        #expect(skipped > 0, "cycles were left out while the writer was held")
        let said = try JSONLAppender.readAll(home.botLog).compactMap { $0.objectValue?["event"]?.stringValue }
        #expect(said.filter { $0 == "recording_failed" }.count == 1)
        let heads = RecordingSegments.list(home.recordingDir).compactMap(RecordingSegments.head)
        #expect(heads.map(\.reason).contains("gap"), "\(heads.map(\.reason))")

        let replayHome = Home(root: try Fixtures.temporaryDirectory("recorder-hang-replay"))
        let summary = try RecordedReplay.run(recording: home.recordingDir, into: replayHome)
        #expect(summary.divergences.isEmpty, "\(summary.divergences)")
        // Cycles in the recording: those handed over, less the one whose end opened the gap's segment.
        var inRecording: Set<Int64> = []
        for entry in RecordingSegments.list(home.recordingDir) {
            for line in try JSONLAppender.readAll(entry.path) {
                guard let o = line.objectValue, o["checkpoint"] == nil, o["recording"] == nil,
                    let ts = SnapshotCodec.instant(o["t"])
                else { continue }
                inRecording.insert(ts.microseconds)
            }
        }
        #expect(inRecording.isSubset(of: recordedTimes))
        let live = try base.lines(home.signalsLog, at: { inRecording.contains($0.microseconds) })
        base.expectSame(live, try base.lines(replayHome.signalsLog), "signal (recorded cycles)")
        // The cycle summaries carry the balance, equity and open positions: a replay that went on
        // across left-out cycles as if none were missing shows there.
        let liveDecisions = try base.lines(home.decisionsLog, at: { inRecording.contains($0.microseconds) })
        base.expectSame(liveDecisions, try base.lines(replayHome.decisionsLog), "decisions (recorded cycles)")
    }
}

/// The recording's own disk fills up (a real tmpfs under data/recording, filled to the last
/// byte): trading goes on untouched, the recording says so once, leaves a gap, and starts a new
/// segment when space is back; its replay restores from that segment's checkpoint and writes
/// what the engine wrote outside the gap.
@Suite(.serialized) struct FlightRecorderFullDiskTests {
    @Test func aFullRecordingDiskLeavesAGapAndNeverTouchesTrading() throws {
        let start = try #require(Instant(year: 2026, month: 3, day: 9, hour: 10, minute: 1))
        let base = FlightRecorderTests()
        let (home, bot, universe) = try base.home("recorder-fulldisk", start: start)
        try FileManager.default.createDirectory(atPath: home.recordingDir, withIntermediateDirectories: true)
        let mounted = try Self.execute("/bin/mount", ["-t", "tmpfs", "-o", "size=3m", "tmpfs", home.recordingDir])
        guard mounted == 0 else {
            print("FlightRecorderFullDiskTests: no tmpfs could be mounted here; drill not run")
            return
        }
        defer { _ = try? Self.execute("/bin/umount", ["-l", home.recordingDir]) }
        // The floor of free space is the home's (min_free_disk_mb + 1 GB); this tmpfs is the
        // recording's alone, so the test lets it fill to the last byte.
        let engine = try base.process(home, bot: bot, universe: universe, start: start, seed: 3, minFreeBytes: 0)
        let recorder = try #require(engine.recorder)
        var t = start
        var gapCycles: Set<Int> = []
        for i in 1...40 {
            if i == 10 {
                _ = try Self.execute("/bin/dd", ["if=/dev/zero", "of=\(home.recordingDir)/filler", "bs=64k"])
            }
            if i == 20 { try FileManager.default.removeItem(atPath: home.recordingDir + "/filler") }
            // A cycle is missing when its line failed, or when it ran while the recording was
            // failing (the cycle that opens the next segment is in its checkpoint, not a line).
            let wasFailing = recorder.failing != nil
            _ = try engine.runCycle(now: t)
            recorder.flush(engine, at: t)
            #expect(engine.writeProblem == nil, "recording never sets the engine's write problem")
            if wasFailing || recorder.failing != nil { gapCycles.insert(engine.cycle) }
            t = t.adding(seconds: 60)
        }
        #expect(!gapCycles.isEmpty, "the recording failed while its disk was full")
        #expect(recorder.failing == nil, "the recording resumed once space was back")
        let said = try JSONLAppender.readAll(home.botLog).compactMap { $0.objectValue }
        #expect(said.filter { $0["event"] == "recording_failed" }.map { $0["level"] } == ["warning"], "said once")
        #expect(said.contains { $0["event"] == "recording_resumed" })
        #expect(!said.contains { $0["event"] == "writes_failing" }, "the engine's own writes never failed")

        let replayHome = Home(root: try Fixtures.temporaryDirectory("recorder-fulldisk-replay"))
        let summary = try RecordedReplay.run(recording: home.recordingDir, into: replayHome)
        #expect(summary.gaps == 1, "\(summary.segments.map(\.json))")
        #expect(summary.divergences.isEmpty)
        // Cycles the recording lacks are the gap: the failed cycle and those until a segment opened.
        let recorded = Set((1...40).filter { c in !gapCycles.contains(c) })
        let live = try base.lines(home.signalsLog).filter { line in
            let cycle = (try? JSONValue.parse(Array(line.utf8)))?.objectValue?["cycle"]?.doubleValue.map { Int($0) }
            return cycle.map { recorded.contains($0) } ?? false
        }
        base.expectSame(live, try base.lines(replayHome.signalsLog), "signal (outside the gap)")
    }

    static func execute(_ path: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// Demo trading on the local BloFin server, recorded: every order's fill, the reconciliation that
/// finds a stop filled on the exchange and a position the bot does not know, all replayed from the
/// recording with no exchange at all, line for line.
@Suite(.serialized) struct FlightRecorderExchangeTests {
    @Test func demoTradingIsRecordedAndReplayedWithoutTheExchange() throws {
        let server = try BloFinServer(symbols: 4)
        let home = Home(root: try Fixtures.temporaryDirectory("recorder-demo"))
        try home.createDirectories()
        var botObject = try #require(try ConfigFiles.json(Fixtures.repoRoot + "/config/bot.json").objectValue)
        var strategy = botObject["strategy"]?.objectValue ?? JSONObject()
        strategy["entry_threshold"] = .double(0.01)
        strategy["min_agreeing"] = .int(1)
        botObject["strategy"] = .object(strategy)
        botObject["symbols"] = .array([])
        let bot = JSONValue.object(botObject)
        let universeJSON = try ConfigFiles.json(Fixtures.repoRoot + "/config/asset_universe.json")
        let config = try BotConfig.parse(bot, file: "bot.json")
        let universe = try AssetUniverse.parse(universeJSON, file: "asset_universe.json")
        let tests = BloFinTradingTests()
        let feed = try BloFinFeed(
            client: tests.client(server, signed: false), symbols: ["BTCUSDT", "ETHUSDT", "C002USDT"], bar: "1m",
            requestBudget: 20)
        let broker = BloFinBroker(
            client: tests.client(server, signed: true), mode: "demo",
            stopLossFraction: config.exits.emergencyPositionLoss, leverage: Int(config.strategy.leverage))
        var settings = EngineSettings()
        settings.recordCandles = false
        settings.release = "r-demo"
        let stores = try EngineStores(home: home)
        let live = LiveWorld(config: config, settings: settings, feed: feed, broker: broker, home: home)
        let recorder = FlightRecorder(
            live: live, stores: stores, botJSON: bot, overrides: [:], universeJSON: universeJSON, settings: settings)
        let engine = try TradingEngine(
            config: config, universe: universe, world: recorder, stores: stores, settings: settings)
        // Cycles a second apart on the wall clock, as the server's market moves.
        var t = WallClock.now
        recorder.begin(engine, at: t)
        func cycle() throws {
            t = max(t.adding(seconds: 1), WallClock.now)
            _ = try engine.runCycle(now: t)
        }
        for _ in 0..<3 where engine.file.open.isEmpty { try cycle() }
        let opened = try #require(engine.file.open.first, "an entry on the server's market")
        try server.control("/test/trigger-stop", ["instId": String(opened.symbol.dropLast(4)) + "-USDT"])
        try cycle()
        try server.control("/test/open-position", ["instId": "C003-USDT", "contracts": -40, "price": 1.7])
        try cycle()
        try cycle()
        recorder.flush(engine, at: t)
        #expect(engine.reducingReason?.contains("does not know") == true)
        #expect(
            engine.file.closed.contains {
                ["exchange_stop_loss", "closed_on_exchange"].contains($0.extra["exit_reason"]?.stringValue ?? "")
            }, "the reconciliation booked the close the exchange made")

        let segment = try #require(RecordingSegments.list(home.recordingDir).first)
        let recorded = String(decoding: try FileIO.read(segment.path), as: UTF8.self)
        #expect(recorded.contains("\"o\":[") && recorded.contains("\"r\":{"), "orders and reconciliations are kept")

        // The replay asks nothing of the exchange: the server sees no further request.
        let requestsBefore = server.requests().count
        let replayHome = Home(root: try Fixtures.temporaryDirectory("recorder-demo-replay"))
        let summary = try RecordedReplay.run(recording: home.recordingDir, into: replayHome)
        #expect(server.requests().count == requestsBefore)
        #expect(summary.divergences.isEmpty, "\(summary.divergences)")
        let base = FlightRecorderTests()
        base.expectSame(try base.lines(home.signalsLog), try base.lines(replayHome.signalsLog), "signal")
        let replayEvents = try JSONLAppender.readAll(replayHome.botLog).compactMap {
            $0.objectValue?["event"]?.stringValue
        }
        #expect(replayEvents.contains("closed_on_exchange") && replayEvents.contains("exchange_unknown_position"))
        let replayedPositions = try PositionsStore(home: replayHome).load()
        #expect(replayedPositions.open.map(\.symbol) == engine.file.open.map(\.symbol))
        #expect(replayedPositions.open.first?.extra["order_id"] == engine.file.open.first?.extra["order_id"])
    }
}
