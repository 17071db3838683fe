import Foundation
import TestSupport
import Testing

@testable import TradingCore
@testable import TradingStore

@Suite struct PositionsStoreTests {
    func makeHome() throws -> Home {
        let home = Home(root: try Fixtures.temporaryDirectory("store"))
        try home.createDirectories()
        return home
    }

    @Test func updateOfTheSampleKeepsUnknownFieldsAndAddsTheTrade() throws {
        let home = try makeHome()
        try FileIO.copy(Fixtures.samplePositions, to: home.positions)
        let store = PositionsStore(home: home)
        try store.update { file in
            file.closed.append(
                Position(
                    symbol: "ETHUSDT", direction: "LONG", netPnl: 3.25,
                    openedAt: Timestamp(Instant(year: 2025, month: 12, day: 19)!),
                    closedAt: Timestamp(Instant(year: 2025, month: 12, day: 19, hour: 12)!)))
        }
        let raw = try JSONValue.parse(try FileIO.read(home.positions))
        let closed = try #require(raw.objectValue?["closed_positions"]?.arrayValue)
        #expect(closed.count == 1101)
        #expect(closed[0].objectValue?["signal_ctx"] == ["ofi": .number("0.823"), "hurst": .number("0.342")])
        #expect(closed[0].objectValue?["opened_at"] == "2025-10-20T00:15:29+00:00")
        let withExtras = closed.filter { $0.objectValue?["exit_reason"] != nil }.count
        #expect(withExtras == 463)
        #expect(closed.last?.objectValue?["closed_at"] == "2025-12-19T12:00:00Z")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: home.logsDir).filter {
            $0.contains(".tmp-")
        }
        #expect(leftovers.isEmpty)
    }

    @Test func loadRefusesAFileWithUnreadableFieldsAndNamesThem() throws {
        let home = try makeHome()
        try Fixtures.write(
            #"{"open_positions": [], "closed_positions": [{"symbol": "BTCUSDT", "closed_at": "2025-99-01", "net_pnl": 1}]}"#,
            to: home.positions)
        #expect {
            _ = try PositionsStore(home: home).load()
        } throws: { error in
            let text = "\(error)"
            return text.contains(home.positions) && text.contains("closed_positions[0] (BTCUSDT) field \"closed_at\"")
        }
        // An update (the engine closing another position) writes the unreadable value back as it
        // was: the evidence stays, and one bad record does not stop every write.
        try PositionsStore(home: home).update { file in
            file.open.append(Position(symbol: "ETHUSDT", direction: "LONG", entryPrice: 1, size: 1))
        }
        let text = String(decoding: try FileIO.read(home.positions), as: UTF8.self)
        #expect(text.contains(#""closed_at": "2025-99-01""#) && text.contains("ETHUSDT"))
    }

    @Test func emptyFileIsAnErrorNamingIt() throws {
        let home = try makeHome()
        try Fixtures.write("", to: home.positions)
        #expect(try FileIO.read(home.positions).isEmpty)
        #expect {
            _ = try PositionsStore(home: home).load()
        } throws: { "\($0)".contains(home.positions) && "\($0)".contains("found end of file") }
    }

    @Test func missingFileIsEmptyOnlyWhenAsked() throws {
        let store = PositionsStore(home: try makeHome())
        #expect(try store.load(missingIsEmpty: true) == PositionsFile())
        #expect { _ = try store.load() } throws: { "\($0)".contains("no such file") }
    }

    @Test func concurrentUpdatersLoseNothing() async throws {
        let store = PositionsStore(home: try makeHome())
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<4 {
                group.addTask {
                    for i in 0..<25 {
                        try store.update { file in
                            file.closed.append(
                                Position(
                                    symbol: "W\(writer)", exitPrice: 1, netPnl: 1,
                                    closedAt: Timestamp(Instant(microseconds: Int64(i)))))
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let file = try store.load()
        #expect(file.closed.count == 100)
        #expect(Set(file.closed.map(\.symbol)) == ["W0", "W1", "W2", "W3"])
    }

    /// One pass gives the report and the newest trades since the reset, bounded and newest first.
    @Test func recentReaderIsBoundedAndNewestFirst() throws {
        let home = try makeHome()
        let generated = GeneratedPositions(closed: 5000)
        try Fixtures.write(generated.text(), to: home.positions)
        let store = PositionsStore(home: home)
        let since = Instant(seconds: Double(generated.closeEpoch(4000)))
        let reset = WalletReset(at: since, startingCapital: 10_000)
        let (report, recent) = try store.reportAndRecent(reset: reset, limit: 50)
        let alone = try store.report(reset: reset)
        #expect(report.totals.trades == 1000 && report == alone, "the same report as `report`")
        #expect(recent.closedInWindow == 1000)
        #expect(recent.closed.count == 50)
        #expect(recent.open.count == 2)
        #expect(recent.issues.isEmpty)
        let closes = recent.closed.compactMap { $0.closedAt?.instant.secondsSinceEpoch }
        #expect(closes == closes.sorted(by: >))
        #expect(Int(closes[0]) == generated.closeEpoch(4999))
        #expect(Int(closes[49]) == generated.closeEpoch(4950))
    }
}

@Suite struct FileTests {
    @Test func atomicWriteReplacesAndLeavesNoTempFiles() throws {
        let dir = try Fixtures.temporaryDirectory("io")
        let path = dir + "/f.json"
        try FileIO.writeAtomically(path, Array("one".utf8))
        try FileIO.writeAtomically(path, Array("two".utf8))
        #expect(String(decoding: try FileIO.read(path), as: UTF8.self) == "two")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["f.json"])
    }

    @Test func writeIntoAMissingDirectoryNamesIt() {
        #expect {
            try FileIO.writeAtomically("/nonexistent-dir-xyz/f.json", [1])
        } throws: { "\($0)".contains("/nonexistent-dir-xyz/f.json") }
    }

    @Test func lockIsExclusiveAndNamesItsHolder() throws {
        let path = try Fixtures.temporaryDirectory("lock") + "/x.lock"
        let first = try FileLock.acquire(path, holder: "pid 1 release r1")
        #expect {
            _ = try FileLock.acquire(path, holder: "pid 2")
        } throws: { "\($0)".contains("pid 1 release r1") }
        first.release()
        let second = try FileLock.acquire(path, holder: "pid 2")
        second.release()
    }

    @Test func homeResolvesOptionThenEnvironmentThenCwd() {
        #expect(Home.resolve(option: "/srv/bot", environment: ["TRADINGBOT_HOME": "/other"]).root == "/srv/bot")
        #expect(Home.resolve(option: nil, environment: ["TRADINGBOT_HOME": "/srv/env/"]).root == "/srv/env")
        #expect(Home.resolve(option: nil, environment: [:]).root == FileManager.default.currentDirectoryPath)
        let home = Home(root: "/srv/bot/./x/..")
        #expect(home.positions == "/srv/bot/logs/positions_futures.json")
        #expect(home.heartbeat == "/srv/bot/state/heartbeat.json")
        #expect(home.currentSlot == "/srv/bot/slots/current")
    }

    @Test func jsonlAppendsWholeLinesAndSkipsATornTail() async throws {
        let path = try Fixtures.temporaryDirectory("jsonl") + "/signals.jsonl"
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<4 {
                group.addTask {
                    let appender = try JSONLAppender(path: path)
                    for i in 0..<200 {
                        try appender.append([
                            "writer": .int(writer), "i": .int(i), "pad": .string(String(repeating: "x", count: 300)),
                        ])
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try JSONLAppender.readAll(path).count == 800)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data("{\"torn\": ".utf8))
        handle.closeFile()
        #expect(try JSONLAppender.readAll(path).count == 800)
    }

    @Test func heartbeatFileRoundTrips() throws {
        let store = HeartbeatStore(path: try Fixtures.temporaryDirectory("hb") + "/heartbeat.json")
        #expect(try store.read() == nil)
        let beat = Heartbeat(
            pid: 7, release: "r1", cycle: 3, phase: "sleep", writtenAt: Instant(year: 2025, month: 12, day: 18)!)
        try store.write(beat)
        #expect(try store.read() == beat)
    }
}
