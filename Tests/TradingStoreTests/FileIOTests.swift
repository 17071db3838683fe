import Foundation
import TestSupport
import Testing
import TradingCore

@testable import TradingStore

@Suite struct FileIOTests {
    /// What a one-pass reader streams is the file, byte for byte, whatever its size against the
    /// window (none, less, exactly, more), and an unreadable path is named.
    @Test func aStreamedFileIsTheFileByteForByte() throws {
        let dir = try Fixtures.temporaryDirectory("stream")
        var rng = SystemRandomNumberGenerator()
        for size in [0, 10, 4095, 4096, 3 * 4096 + 17] {
            // A JSON string of random letters, so the reader reads it as one value.
            let text = (0..<size).map { _ in UInt8.random(in: 0x61...0x7A, using: &rng) }
            let bytes = Array("\"".utf8) + text + Array("\"".utf8)
            let path = dir + "/file-\(size)"
            try FileIO.writeAtomically(path, bytes)
            let read = try MappedFile.withStream(path, window: 4096) { stream, _ in
                try stream.unit { try $0.readString() }
            }
            #expect(Array(read.utf8) == text, "size \(size)")
        }
        #expect(throws: StoreError.self) { try MappedFile.withStream(dir + "/missing") { _, _ in 0 } }
    }

    /// A positions file another program truncates in place while a check reads it (the old
    /// bot rewrites its file so) ends the read with an error naming where it stopped, not the
    /// process (a mapping would take SIGBUS).
    @Test func aFileTruncatedWhileStreamedIsAnErrorNotACrash() throws {
        let path = try Fixtures.temporaryDirectory("truncated") + "/positions_futures.json"
        try FileIO.writeAtomically(path, try Fixtures.sampleBytes())
        var records = 0
        #expect {
            try PositionsCodec.scan(file: path, window: 4096, stretch: ParallelRecords.stretch) { _, _, _, _ in
                records += 1
                if records == 1 { #expect(truncate(path, 100) == 0) }
            }
        } throws: { error in
            guard let error = error as? JSONSyntaxError else { return false }
            return error.offset > 100 && error.offset <= 4096 && "\(error)".contains("closed_positions[")
        }
        #expect(records > 1 && records < 1104, "the window's records were read, then the read ended: \(records)")
    }

    @Test func aReplacedFileKeepsItsModeAndOwner() throws {
        let path = try Fixtures.temporaryDirectory("modes") + "/deploy.json"
        try FileIO.writeAtomically(path, Array("{}".utf8))
        chmod(path, 0o600)
        let owned = getuid() == 0
        if owned { chown(path, 4242, 4343) }  // the operator's file, rewritten by root
        try FileIO.writeAtomically(path, Array("{\"a\": 1}".utf8))
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600, "a 0600 file stays 0600")
        if owned { #expect(info.st_uid == 4242 && info.st_gid == 4343, "root's rewrite keeps the owner") }
        try FileIO.copy(path, to: path + ".snapshot", mode: 0o600)
        #expect(stat(path + ".snapshot", &info) == 0 && info.st_mode & 0o777 == 0o600)
        let dir = path + ".d/logs"
        try FileIO.makePrivateDirectory(dir)
        #expect(stat(dir, &info) == 0 && info.st_mode & 0o777 == 0o700)
    }
}
