import Foundation
import TestSupport
import Testing

/// The engine reads the world only through `EngineWorld`: a cycle that read the clock, a file,
/// the feed or the broker another way would decide something its recording cannot replay. This
/// reads the cycle's source files and fails on any such read; the three reads of a starting
/// engine (positions, weights, day.json) are its checkpoint's to carry, and named here.
@Suite struct WorldDoorTests {
    /// Ways to learn about the world that bypass `world`.
    static let bypasses = [
        "WallClock", "Date(", "DispatchTime", "ProcessInfo", "getenv", "random", "KillSwitch(", "killSwitchOn",
        ".advance(", "marketOrder(", "drainNotices", ".reconcile(", "FileIO.read", "FileIO.exists", "ConfigFiles",
        "JSONLAppender.read", "FileManager.default.contents",
    ]
    /// Writes whose failure changes what the engine does: each must run inside `world.write`.
    static let writes = [
        "stores.positions.save", "stores.signals.append", "stores.decisions.append", "stores.database.upsert",
        "saveWeights(", "state.save(",
    ]
    /// The starting engine's reads, carried by the checkpoint a recording opens with.
    static let startingReads = [
        "stores.positions.decode(missingIsEmpty: true)", "stores.loadWeights()", "DayState.load(",
    ]

    /// Each line of `source` that reads the world around `world` (`file:line: text`).
    static func bypassing(_ source: String, file: String) -> [String] {
        var found: [String] = []
        for (index, raw) in source.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw)
            let code = line.trimmingCharacters(in: .whitespaces)
            if code.hasPrefix("//") || code.hasPrefix("///") { continue }
            if startingReads.contains(where: { line.contains($0) }) { continue }
            let viaWorld = line.contains("world.")
            let bad =
                bypasses.contains { token in
                    line.contains(token)
                        && !(viaWorld && line.contains("world." + token.trimmingCharacters(in: .punctuationCharacters)))
                }
                || writes.contains { line.contains($0) && !line.contains("world.write(") }
            if bad { found.append("\(file):\(index + 1): \(code)") }
        }
        return found
    }

    @Test func theCycleReadsTheWorldOnlyThroughItsDoor() throws {
        let dir = Fixtures.repoRoot + "/Sources/Engine"
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter {
            $0.hasPrefix("TradingEngine") && $0.hasSuffix(".swift")
        }
        #expect(files.count >= 8, "the engine's phases: \(files)")
        var found: [String] = []
        for file in files.sorted() {
            found += Self.bypassing(try String(contentsOfFile: dir + "/" + file, encoding: .utf8), file: file)
        }
        #expect(found.isEmpty, "reads of the world that a recording would not see:\n\(found.joined(separator: "\n"))")
    }

    /// The check finds what it is for (it cannot pass by finding nothing).
    @Test func aReadAroundTheDoorIsFound() {
        let source = """
            let now = WallClock.now
            if stores.killSwitchOn { return }
            try stores.signals.append(line)
            try world.write(.signals) { try stores.signals.append(line) }
            let on = world.killSwitchOn()
            // WallClock in a comment is fine
            """
        let found = Self.bypassing(source, file: "X.swift")
        #expect(found.map { String($0.split(separator: ":")[1]) } == ["1", "2", "3"], "\(found)")
    }
}
