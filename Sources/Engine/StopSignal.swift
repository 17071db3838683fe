import Dispatch
import Foundation

/// SIGTERM and SIGINT wake the engine's wait at once, so it stops at a safe point (between
/// cycles or phases), persists and releases its lock within a second.
public final class StopSignal: @unchecked Sendable {
    // The flag is written once by the signal queue and read by the engine thread; the lock
    // makes that hand-over safe.
    private let lock = NSLock()
    private var stopped = false
    private var signalName = ""
    private let wake = DispatchSemaphore(value: 0)
    private var sources: [DispatchSourceSignal] = []
    private let queue = DispatchQueue(label: "tradingbot.signals")

    public init() {}

    /// Installs the handlers (the default actions are ignored so the handlers run instead).
    public func install() {
        for (number, name) in [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [weak self] in self?.request(name) }
            source.resume()
            sources.append(source)
        }
    }

    public func request(_ name: String) {
        lock.lock()
        stopped = true
        signalName = name
        lock.unlock()
        wake.signal()
    }

    public var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }

    public var name: String {
        lock.lock()
        defer { lock.unlock() }
        return signalName
    }

    /// Sleeps until `seconds` pass or a stop is requested; true when stopped.
    public func wait(seconds: Double) -> Bool {
        if isStopped { return true }
        if seconds > 0 { _ = wake.wait(timeout: .now() + seconds) }
        return isStopped
    }
}
