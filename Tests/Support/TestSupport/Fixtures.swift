import Foundation

/// Paths of the repository and of the real-shaped test data it carries (Tests/Fixtures).
public enum Fixtures {
    /// The repository root (two levels above this file's folder).
    public static let repoRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// `Tests/Fixtures`: the positions sample and the recorded market data (see its README).
    public static let data: String = repoRoot + "/Tests/Fixtures"

    /// The real-shaped positions file: 1,100 closed and 4 open positions, 2025-10-20..2025-12-19.
    public static var samplePositions: String { data + "/positions/positions_futures.json" }

    public static func sampleBytes() throws -> [UInt8] {
        let path = samplePositions
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FixtureError(
                "the sample \(path) is missing: the repository carries it under Tests/Fixtures"
            )
        }
        return [UInt8](data)
    }

    /// A fresh empty directory under the system temp dir.
    public static func temporaryDirectory(_ label: String = "test") throws -> String {
        let path = NSTemporaryDirectory() + "tradingbot-\(label)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    public static func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }
}

public struct FixtureError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
