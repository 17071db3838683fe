import Foundation
import TestSupport
import Testing

@testable import TradingStore

@Suite struct FileIOTests {
    /// The copy a one-pass reader scans is the file, byte for byte, whether it is small (read
    /// plainly) or large (read into huge pages), and an unreadable path is named.
    @Test func aCopyForOnePassIsTheFileByteForByte() throws {
        let dir = try Fixtures.temporaryDirectory("copy")
        var rng = SystemRandomNumberGenerator()
        for size in [0, 10, (1 << 20) - 1, 1 << 20, 3 * (1 << 20) + 17] {
            let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let path = dir + "/file-\(size)"
            try FileIO.writeAtomically(path, bytes)
            let copied = try MappedFile.withCopy(path) { Array($0) }
            #expect(copied == bytes, "size \(size)")
        }
        #expect(throws: StoreError.self) { try MappedFile.withCopy(dir + "/missing") { $0.count } }
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
