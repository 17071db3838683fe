import Exchange
import TradingCore
import TradingStore

/// The trading day: its roll at UTC midnight, what a restart must keep, the drawdown state.
extension TradingEngine {
    /// Enters or leaves the drawdown's reducing state, from the day's peak equity.
    func updateDrawdown(now: Instant) {
        let equity = balance + unrealized()
        let drawdown = dayDrawdown(at: equity)
        let threshold = config.exits.emergencyDrawdown
        func percent(_ v: Double) -> String { "\((v * 10_000).rounded() / 100) %" }
        if drawdownReducing == nil, drawdown > threshold {
            drawdownReducing =
                "the day's drawdown \(percent(drawdown)) passed the emergency threshold \(percent(threshold)): no new entries until it is back within \(percent(threshold / 2)) of the peak or the UTC day turns; exits go on"
            stores.log(
                "critical", "drawdown_reducing", cycle: cycle, at: now,
                [JSONField("drawdown", .double(round6(drawdown))), JSONField("equity", .double(cents(equity)))])
        } else if drawdownReducing != nil, drawdown <= threshold / 2 {
            drawdownReducing = nil
            stores.log(
                "info", "drawdown_recovered", cycle: cycle, at: now,
                [JSONField("drawdown", .double(round6(drawdown))), JSONField("equity", .double(cents(equity)))])
        }
    }

    /// Starts a new UTC day when `now` crosses midnight: counters reset, the breaker may re-arm.
    /// On the engine's first cycle of a day it already traded (a restart), what the day decided
    /// comes back from state/day.json: the daily-loss trip, the loss baseline, the equity peak.
    func rollDay(_ now: Instant) {
        let today = now.startOfUTCDay
        guard day != today else { return }
        let restarting = day == nil
        writeDailyReports(previousDay: day, today: today, now: now)
        if let ended = day { takeDaySnapshot(ended: ended, now: now) }
        day = today
        peakEquity = balance
        dayPnl = 0
        for p in file.closed where (p.closedAt?.instant ?? Instant(microseconds: 0)) >= today {
            guard config.walletReset.counts(p) else { continue }
            dayPnl += p.effectiveNetPnl ?? 0
        }
        dayStartBalance = balance - dayPnl
        if restarting, let saved = savedDay, saved.day == today {
            peakEquity = max(peakEquity, saved.peakEquity)
            if saved.dayStartBalance > 0 { dayStartBalance = saved.dayStartBalance }
            if let reason = saved.tripReason, let until = saved.tripUntil {
                breaker.restore(reason: reason, until: until, now: now)
            }
        }
        openedToday =
            (file.open + file.closed).filter { ($0.openedAt?.instant ?? Instant(microseconds: 0)) >= today }.count
    }

    var dayStatePath: String { stores.home.stateDir + "/day.json" }

    /// Writes what the day has decided (atomically), so a restart cannot clear it.
    func saveDay() throws {
        guard let day else { return }
        let trip = breaker.dailyTrip
        let state = DayState(
            day: day, peakEquity: peakEquity, dayStartBalance: dayStartBalance, tripReason: trip?.reason,
            tripUntil: trip?.until)
        try world.write(.day) { try state.save(dayStatePath) }
    }
}
