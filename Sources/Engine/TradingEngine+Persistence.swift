import TradingCore
import TradingStore

/// Writing what changed, and what the engine does while writes fail.
extension TradingEngine {
    /// Writes what changed: the positions file (atomic), the SQLite mirror, learned weights.
    /// While it fails (a full disk), the engine reduces: a position it could not record must not
    /// be opened.
    public func persist(now: Instant) throws {
        // The state that money depends on: the day's breaker and the positions. Only their
        // writes decide whether the engine may enter, and only a real write of the positions
        // file proves they work again (a small day.json may fit where the positions do not).
        do {
            if writeProblem != nil { dirty = true }
            try saveDay()
            if autonomy.scalingDirty, let state = autonomy.scaling {
                let path = stores.home.scalingState
                try world.write(.day) { try ScalingFile.save(state, to: path) }
                autonomy.scalingDirty = false
            }
            if dirty {
                try world.write(.positions) { try stores.positions.save(file) }
                dirty = false
            }
        } catch {
            noteWriteFailure(error, now: now)
            throw error
        }
        if writeProblem != nil {
            writeProblem = nil
            if writeFailureAnnounced { stores.log("info", "writes_recovered", cycle: cycle, at: now) }
            writeFailureAnnounced = false
        }
        // The mirror and the learned weights can be rebuilt: their failures fail the cycle
        // (logged, counted) but do not stop entries.
        if !pendingClosed.isEmpty {
            try world.write(.database) { try stores.database.upsert(pendingClosed) }
            pendingClosed.removeAll()
        }
        if weightsDirty {
            try world.write(.weights) { try stores.saveWeights(weights) }
            weightsDirty = false
        }
    }

    /// Remembers that a write failed; the first failure is critical, so the watchdog alerts it.
    /// A failure that comes and goes every cycle (one log file not writable) is said once per
    /// ten minutes, not once per cycle.
    func noteWriteFailure(_ error: any Error, now: Instant) {
        if writeProblem == nil, writeFailureSaidAt.map({ $0.seconds(until: now) >= 600 }) ?? true {
            writeFailureSaidAt = now
            writeFailureAnnounced = true
            stores.log(
                "critical", "writes_failing", cycle: cycle, at: now,
                [
                    JSONField("error", .string("\(error)")),
                    JSONField("effect", .string("no new entries until the files can be written; exits go on")),
                ])
        }
        writeProblem = "\(error)"
    }
}
