import Foundation
import TestSupport
import Testing

@testable import TradingCore
@testable import TradingStore

/// The logs a year of cycles writes stay bounded, and a reader that follows them by cursor
/// loses nothing across a rotation and reads nothing twice.
@Suite struct LogRotationTests {
    @Test func rotationBoundsTheFilesKeepsTheModeAndLosesNoLineItKeeps() throws {
        let dir = try Fixtures.temporaryDirectory("rotate")
        let path = dir + "/bot.jsonl"
        // The operator's file is 0600; the appender would create 0644: the new files keep 0600.
        try Fixtures.write("", to: path)
        chmod(path, 0o600)
        let log = try JSONLAppender(path: path, rotation: .init(maxBytes: 2048, keep: 2))
        for n in 0..<200 { try log.append(["n": .int(n), "pad": .string(String(repeating: "x", count: 40))]) }
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(names == ["bot.jsonl", "bot.jsonl.1", "bot.jsonl.2"], "\(names)")
        var kept: [Int] = []
        for name in ["bot.jsonl.2", "bot.jsonl.1", "bot.jsonl"] {
            let size = try FileManager.default.attributesOfItem(atPath: dir + "/" + name)[.size] as? Int ?? 0
            #expect(size <= 2048, "\(name) is \(size) bytes")
            let mode = try FileManager.default.attributesOfItem(atPath: dir + "/" + name)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(name) keeps the log's mode")
            kept += try JSONLAppender.readAll(dir + "/" + name).compactMap { $0.objectValue?["n"]?.doubleValue }
                .map { Int($0) }
        }
        #expect(kept.last == 199 && kept == Array(kept.first!...199), "the kept lines are whole and in order")
    }

    @Test func theTailReadsOnlyWhatIsNewAcrossARotationAndATornLine() throws {
        let dir = try Fixtures.temporaryDirectory("tail")
        let path = dir + "/bot.jsonl"
        func numbers(_ r: JSONLTail.Read) -> [Int] {
            r.lines.compactMap { $0.objectValue?["n"]?.doubleValue }.map { Int($0) }
        }
        // A look before the file exists: once it does, all of it is new.
        let early = JSONLTail.read(path, since: nil)
        let log = try JSONLAppender(path: path, rotation: .init(maxBytes: 1024, keep: 3))
        try log.append(["n": -1])
        #expect(numbers(JSONLTail.read(path, since: early.cursor)) == [-1])
        for n in 0..<5 { try log.append(["n": .int(n)]) }
        var read = JSONLTail.read(path, since: nil)
        #expect(read.lines.isEmpty, "a first look at an existing log starts at its end")

        for n in 5..<8 { try log.append(["n": .int(n)]) }
        read = JSONLTail.read(path, since: read.cursor)
        #expect(numbers(read) == [5, 6, 7])

        // A line still being written is left for the next look.
        let fd = open(path, O_WRONLY | O_APPEND)
        _ = "{\"n\": 8".withCString { write(fd, $0, 7) }
        read = JSONLTail.read(path, since: read.cursor)
        #expect(numbers(read).isEmpty)
        _ = "}\n".withCString { write(fd, $0, 2) }
        close(fd)
        read = JSONLTail.read(path, since: read.cursor)
        #expect(numbers(read) == [8])

        // Enough to rotate once: the old file's tail, then the new file, nothing twice.
        let before = read.cursor
        for n in 9..<40 { try log.append(["n": .int(n), "pad": "xxxxxxxxxxxxxxxxxxxx"]) }
        #expect(FileManager.default.fileExists(atPath: path + ".1"))
        read = JSONLTail.read(path, since: before)
        #expect(numbers(read) == Array(9..<40), "\(numbers(read))")

        // A cursor saved to disk comes back the same.
        #expect(LogCursor.parse(read.cursor?.json) == read.cursor)
        // More than the cap since the last look: the newest part is read, the rest counted.
        for n in 40..<100 { try log.append(["n": .int(n)]) }
        let capped = JSONLTail.read(path, since: read.cursor, maxBytes: 100)
        #expect(capped.skippedBytes > 0 && numbers(capped).last == 99)
    }
}
