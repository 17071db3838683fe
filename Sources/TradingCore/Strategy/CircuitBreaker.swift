/// Stops new entries after the daily loss limit or while the kill switch is on, and recovers
/// by itself at the next UTC day. Exits keep running while it is tripped.
public struct CircuitBreaker: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case armed
        case tripped(reason: String, until: Instant?)
    }

    public private(set) var state: State = .armed
    public var dailyLossLimitFraction: Double

    public init(dailyLossLimitFraction: Double) { self.dailyLossLimitFraction = dailyLossLimitFraction }

    /// A breaker in the state a checkpoint kept (a recorded replay starts where the engine was).
    public init(dailyLossLimitFraction: Double, state: State) {
        self.dailyLossLimitFraction = dailyLossLimitFraction
        self.state = state
    }

    /// Re-evaluates; returns a description of the change when the state changed.
    public mutating func update(
        now: Instant, dayStartBalance: Double, dayPnl: Double, killSwitch: Bool
    ) -> String? {
        let before = state
        if killSwitch {
            state = .tripped(reason: "kill switch on", until: nil)
        } else if case .tripped(let reason, let until) = state {
            if until == nil && reason == "kill switch on" {
                state = .armed
            } else if let until, now >= until {
                state = .armed
            }
        }
        if state == .armed, dayStartBalance > 0, dayPnl <= -dailyLossLimitFraction * dayStartBalance {
            let nextDay = now.startOfUTCDay.adding(seconds: 86_400)
            state = .tripped(
                reason:
                    "daily loss \(money(dayPnl)) reached the limit of \(money(dailyLossLimitFraction * dayStartBalance))",
                until: nextDay)
        }
        guard state != before else { return nil }
        switch state {
        case .armed: return "circuit breaker re-armed"
        case .tripped(let reason, let until):
            return "circuit breaker tripped: \(reason)" + (until.map { ", until \($0.iso8601)" } ?? "")
        }
    }

    public var allowsEntries: Bool { state == .armed }

    /// Puts back a daily trip a restart must not clear (it still ends at `until`).
    public mutating func restore(reason: String, until: Instant, now: Instant) {
        guard now < until, state == .armed else { return }
        state = .tripped(reason: reason, until: until)
    }

    /// The daily trip in force, if any (the kill switch's is the file's, not ours to keep).
    public var dailyTrip: (reason: String, until: Instant)? {
        if case .tripped(let reason, let until?) = state { return (reason, until) }
        return nil
    }
}

/// Paper fills at the touch: buys at the ask and sells at the bid, plus slippage, with the
/// taker fee for market orders and the maker fee for resting ones.
public struct FillModel: Sendable, Equatable {
    public var takerFee: Double
    public var makerFee: Double
    public var slippage: Double

    public init(fees: BotConfig.Fees, slippage: Double = 0.0002) {
        takerFee = fees.taker
        makerFee = fees.maker
        self.slippage = slippage
    }

    /// The price a market order gets.
    public func marketPrice(buy: Bool, bid: Double, ask: Double) -> Double {
        buy ? ask * (1 + slippage) : bid * (1 - slippage)
    }

    public func fee(notional: Double, maker: Bool = false) -> Double { abs(notional) * (maker ? makerFee : takerFee) }
}

/// FNV-1a over the decision lines: the same data must give the same decisions, bit for bit.
public struct DecisionsHash: Sendable, Equatable {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    /// The hash as a checkpoint kept it.
    public init(value: UInt64) { self.value = value }

    public mutating func add(_ line: String) {
        for b in line.utf8 {
            value ^= UInt64(b)
            value = value &* 0x100_0000_01b3
        }
        value ^= 0x0A
        value = value &* 0x100_0000_01b3
    }

    public var hex: String {
        let s = String(value, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
