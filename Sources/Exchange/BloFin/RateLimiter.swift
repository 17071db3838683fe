/// The client's own count of what it sent, so BloFin never has to refuse it: BloFin suspends an
/// address for 5 minutes past 500 requests a minute and for an hour past 1500 in 5 minutes, and
/// allows 30 trade requests per 10 s per account. The windows here stop at 90 % of those.
public struct RateLimiter: Sendable {
    public struct Window: Sendable {
        public var limit: Int
        public var seconds: Double
        var times: [Double] = []

        public init(limit: Int, seconds: Double) {
            self.limit = limit
            self.seconds = seconds
        }

        /// Seconds until one more request fits (0 when it fits now).
        func wait(at now: Double) -> Double {
            let recent = times.filter { $0 > now - seconds }
            guard recent.count >= limit else { return 0 }
            return recent[recent.count - limit] + seconds - now
        }

        mutating func record(_ now: Double) {
            times.append(now)
            if times.count > limit * 2 { times.removeFirst(times.count - limit) }
        }
    }

    public var address: [Window]
    public var trade: [Window]

    public init(
        address: [Window] = [Window(limit: 450, seconds: 60), Window(limit: 1350, seconds: 300)],
        trade: [Window] = [Window(limit: 27, seconds: 10)]
    ) {
        self.address = address
        self.trade = trade
    }

    /// Seconds to wait before a request (a trade request counts in both kinds of window).
    public func wait(trade isTrade: Bool, at now: Double) -> Double {
        let windows = isTrade ? address + trade : address
        return windows.map { $0.wait(at: now) }.max() ?? 0
    }

    public mutating func record(trade isTrade: Bool, at now: Double) {
        for i in address.indices { address[i].record(now) }
        if isTrade { for i in trade.indices { trade[i].record(now) } }
    }
}

/// One rate limiter for several clients (the feed's and the broker's), since BloFin counts the
/// requests of an address, not of a client.
///
/// - Important: not Sendable; the engine's one thread drives every client.
public final class SharedLimits {
    public var limiter: RateLimiter
    public init(_ limiter: RateLimiter = RateLimiter()) { self.limiter = limiter }
}
