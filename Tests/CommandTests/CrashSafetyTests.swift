import Foundation
import TestSupport
import Testing

@testable import TradingCore
@testable import TradingStore

/// A child process rewrites the positions file in a loop and is SIGKILLed at random moments;
/// after every kill the file must parse and hold every trade the child reported committed.
@Suite struct CrashSafetyTests {
    @Test(.timeLimit(.minutes(20))) func sigkillDuringRewritesNeverLosesACommittedTrade() throws {
        let dir = try Fixtures.temporaryDirectory("crash")
        let positions = dir + "/positions_futures.json"
        let lock = dir + "/positions.lock"
        try FileIO.copy(Fixtures.samplePositions, to: positions)
        var lastCommitted = 0
        var kills = 0
        for round in 0..<30 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CommandRunner.path("positions-crash-writer"))
            process.arguments = [positions, lock]
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            // Debug builds rewrite the 460 KB file a few times a second: kills land before, during
            // and between rewrites.
            usleep(useconds_t(Int.random(in: 20_000...1_000_000)))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            kills += process.terminationReason == .uncaughtSignal ? 1 : 0
            let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            if let last = printed.split(separator: "\n").last(where: { $0.hasPrefix("committed ") }),
                let n = Int(last.dropFirst("committed ".count))
            {
                lastCommitted = max(lastCommitted, n)
            }
            let decoded = try PositionsCodec.decode(try FileIO.read(positions))
            #expect(decoded.issues.isEmpty)
            let sequences = Set(decoded.file.closed.compactMap { $0.extra["seq"].flatMap(\.doubleValue).map(Int.init) })
            let missing = (1...max(lastCommitted, 1)).filter { !sequences.contains($0) }
            #expect(
                lastCommitted == 0 || missing.isEmpty, "round \(round): committed trades missing: \(missing.prefix(5))")
            #expect(decoded.file.closed.count >= 1100 + lastCommitted)
            #expect(decoded.file.closed[0].extra["signal_ctx"] != nil, "unknown fields of the original records survive")
        }
        #expect(kills == 30)
        // Progress, without a timing assumption: one more writer, killed only once the file
        // shows three more commits (a busy 2-core machine may have allowed few above).
        let before = lastCommitted
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandRunner.path("positions-crash-writer"))
        process.arguments = [positions, lock]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        func highest() -> Int {
            guard let bytes = try? FileIO.read(positions), let decoded = try? PositionsCodec.decode(bytes) else {
                return 0
            }
            return decoded.file.closed.compactMap { $0.extra["seq"].flatMap(\.doubleValue).map(Int.init) }.max() ?? 0
        }
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline && highest() < before + 3 { usleep(50_000) }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        lastCommitted = max(lastCommitted, highest())
        #expect(lastCommitted >= before + 3, "the writer made progress (\(before) -> \(lastCommitted) commits)")
        // The next normal write sweeps the temp files the killed writers left.
        try PositionsStore(path: positions, lockPath: lock).update { _ in }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }
}
