import Foundation

/// Paths of the repository and of the shared real-shaped data beside it.
public enum Fixtures {
    /// The repository root (two levels above this file's folder).
    public static let repoRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// `../shared/data` beside the repository (or `$SHARED_DATA`).
    public static let sharedData: String = {
        if let env = ProcessInfo.processInfo.environment["SHARED_DATA"], !env.isEmpty { return env }
        return URL(fileURLWithPath: repoRoot).deletingLastPathComponent().appendingPathComponent("shared/data").path
    }()

    /// The real-shaped positions file: 1,100 closed and 4 open positions, 2025-10-20..2025-12-19.
    public static var samplePositions: String { sharedData + "/positions/positions_futures.json" }

    public static func sampleBytes() throws -> [UInt8] {
        let path = samplePositions
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FixtureError(
                "the shared sample \(path) is missing: tests expect ../shared/data beside the repository (or SHARED_DATA)"
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
