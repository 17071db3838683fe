import Foundation

/// Polls until `condition` holds or `seconds` pass (generous deadlines: a busy 2-core machine
/// is slow, never wrong); returns whether it held.
public func waitUntil(seconds: Double, every interval: useconds_t = 50_000, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(interval)
    }
    return condition()
}
