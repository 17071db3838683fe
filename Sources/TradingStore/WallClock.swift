import Foundation
import TradingCore

/// The real clock, read only at the edges (TradingCore and the engine take time as a parameter).
public enum WallClock {
    public static var now: Instant { Instant(seconds: Date().timeIntervalSince1970) }
}
