import TradingCore

/// `state/kill_switch`: present, the engine opens nothing new from its next cycle (exits go
/// on). One owner for the file, shared by the engine, `tradingbot kill-switch` and the dashboard.
public struct KillSwitch: Sendable {
    public let path: String

    public init(home: Home) { path = home.stateDir + "/kill_switch" }

    public var isOn: Bool { FileIO.exists(path) }

    /// Turns it on (the file says who and when, atomically) or off.
    public func set(_ on: Bool, note: String) throws {
        if on {
            try FileIO.writeAtomically(path, Array((note + "\n").utf8))
        } else if isOn {
            try FileIO.remove(path)
        }
    }
}
