import TradingCore
import TradingStore

/// The engine's state as a checkpoint of the flight recorder: everything the next cycle reads,
/// taken from memory (the files lag while writes fail, and round what a restart rebuilds). A
/// recorded replay restores it and goes on exactly where the engine was.
extension TradingEngine {
    /// Closed trades a checkpoint keeps: the current UTC day's (the first cycle after a restart
    /// counts the day's P&L and entries from them); the history before is in the balance, the
    /// weights and the expectancy outcomes, not copied every hour.
    func closedForCheckpoint(at time: Instant) -> [Position] {
        let since = (day ?? time.startOfUTCDay)
        let floor = min(since, time.startOfUTCDay)
        return file.closed.filter { p in
            ((p.closedAt?.instant).map { $0 >= floor } ?? false) || ((p.openedAt?.instant).map { $0 >= floor } ?? false)
        }
    }

    /// The engine's state now, copied (cheap: the collections are shared until written), for
    /// the flight recorder's writer to encode off the engine's thread.
    func captureCheckpoint(at time: Instant) -> EngineCheckpoint {
        EngineCheckpoint(
            time: time, cycle: cycle, balance: balance,
            positions: PositionsFile(open: file.open, closed: closedForCheckpoint(at: time)),
            pendingClosed: pendingClosed, weights: weights, expectancy: expectancy, day: day,
            dayStartBalance: dayStartBalance, dayPnl: dayPnl, peakEquity: peakEquity, openedToday: openedToday,
            savedDay: day == nil ? savedDay : nil, lastMarket: lastMarket, lastPriceChangeAt: lastPriceChangeAt,
            missingSymbols: missingSymbols, lastCycleAt: lastCycleAt, breaker: breaker.state,
            drawdownReducing: drawdownReducing, writeProblem: writeProblem, writeFailureSaidAt: writeFailureSaidAt,
            writeFailureAnnounced: writeFailureAnnounced, exchangeUnknown: exchangeUnknown,
            reconcileProblem: reconcileProblem, unvalued: unvalued, pending: pending, dirty: dirty,
            weightsDirty: weightsDirty, hash: hash.hex, otherSectorSymbols: otherSectorSymbols, autonomy: autonomy)
    }

    /// The checkpoint as the recording keeps it.
    public func checkpoint(at time: Instant) -> JSONValue { captureCheckpoint(at: time).json }

    /// Puts the engine where `checkpoint` says it was. Throws when a field is missing or
    /// unreadable: a replay from a wrong state would prove nothing.
    public func restore(_ checkpoint: JSONValue) throws(RecordingError) {
        guard let o = checkpoint.objectValue else { throw RecordingError("the checkpoint is not an object") }
        func need(_ key: String) throws(RecordingError) -> JSONValue {
            guard let v = o[key] else { throw RecordingError("the checkpoint has no \(key)") }
            return v
        }
        func number(_ key: String) throws(RecordingError) -> Double {
            guard let d = try need(key).doubleValue else { throw RecordingError("checkpoint \(key) is not a number") }
            return d
        }
        func time(_ key: String) throws(RecordingError) -> Instant? {
            let v = try need(key)
            if v.isNull { return nil }
            guard let t = SnapshotCodec.instant(v) else { throw RecordingError("checkpoint \(key) is not a time") }
            return t
        }
        func texts(_ key: String) throws(RecordingError) -> [String] {
            guard let a = try need(key).arrayValue else { throw RecordingError("checkpoint \(key) is not a list") }
            return a.compactMap(\.stringValue)
        }
        func text(_ key: String) throws(RecordingError) -> String? { try need(key).stringValue }
        cycle = Int(try number("cycle"))
        balance = try number("balance")
        file = try Self.positions(try need("positions"), key: "positions")
        pendingClosed = try Self.positions(try need("pending_closed"), key: "pending_closed").closed
        do {
            weights = try SignalWeights.parse(try need("weights"), file: "checkpoint")
        } catch let error as RecordingError {
            throw error
        } catch {
            throw RecordingError("checkpoint weights: \(error)")
        }
        expectancy = ExpectancyGate(outcomes: ExpectancyGate.outcomes(from: try need("expectancy")))
        day = try time("day")
        dayStartBalance = try number("day_start_balance")
        dayPnl = try number("day_pnl")
        peakEquity = try number("peak_equity")
        openedToday = Int(try number("opened_today"))
        savedDay = nil
        if let saved = o["saved_day"]?.objectValue, let d = SnapshotCodec.instant(saved["day"]),
            let peak = saved["peak_equity"]?.doubleValue, let start = saved["day_start_balance"]?.doubleValue
        {
            savedDay = DayState(
                day: d, peakEquity: peak, dayStartBalance: start, tripReason: saved["trip_reason"]?.stringValue,
                tripUntil: SnapshotCodec.instant(saved["trip_until"]))
        }
        lastMarket = [:]
        for item in try need("last_market").arrayValue ?? [] {
            let s = try SnapshotCodec.decode(item, after: nil)
            lastMarket[s.symbol] = s
        }
        lastPriceChangeAt = try time("last_price_change_at")
        missingSymbols = Set(try texts("missing_symbols"))
        lastCycleAt = try time("last_cycle_at")
        let tripped = try need("breaker").objectValue
        breaker = CircuitBreaker(
            dailyLossLimitFraction: config.risk.dailyLossLimitFraction,
            state: tripped.map {
                .tripped(reason: $0["reason"]?.stringValue ?? "", until: SnapshotCodec.instant($0["until"]))
            } ?? .armed)
        drawdownReducing = try text("drawdown_reducing")
        writeProblem = try text("write_problem")
        writeFailureSaidAt = try time("write_failure_said_at")
        writeFailureAnnounced = try need("write_failure_announced").boolValue ?? false
        exchangeUnknown = try texts("exchange_unknown")
        reconcileProblem = try text("reconcile_problem")
        unvalued = try texts("unvalued")
        pending = try (need("pending").arrayValue ?? []).map { v throws(RecordingError) in
            guard let p = v.objectValue, let symbol = p["symbol"]?.stringValue,
                let direction = p["direction"]?.stringValue.flatMap(Direction.init),
                let notional = p["notional"]?.doubleValue, let margin = p["margin"]?.doubleValue,
                let bound = p["bound"]?.stringValue, let extra = p["extra"]?.objectValue,
                let strategy = p["strategy"]?.stringValue
            else { throw RecordingError("checkpoint pending: an unreadable order") }
            return EntryOrder(
                symbol: symbol, direction: direction, notional: notional, margin: margin, bound: bound, extra: extra,
                strategy: strategy)
        }
        dirty = try need("dirty").boolValue ?? false
        weightsDirty = try need("weights_dirty").boolValue ?? false
        guard let hex = try text("hash"), let value = UInt64(hex, radix: 16) else {
            throw RecordingError("checkpoint hash is not a hex number")
        }
        hash = DecisionsHash(value: value)
        otherSectorSymbols = Set(try texts("other_sector_symbols"))
        // A checkpoint of a release before the autonomy controller has none.
        autonomy = Autonomy.parse(o["autonomy"])
    }

    static func positionsJSON(_ file: PositionsFile) -> JSONValue {
        (try? JSONValue.parse(PositionsCodec.encode(file))) ?? .null
    }

    static func positions(_ value: JSONValue, key: String) throws(RecordingError) -> PositionsFile {
        var writer = JSONWriter()
        writer.write(value)
        do {
            let decoded = try PositionsCodec.decode(writer.bytes)
            return decoded.file
        } catch {
            throw RecordingError("checkpoint \(key): \(error)")
        }
    }
}

/// Everything the next cycle reads, as a checkpoint of the flight recorder holds it: taken from
/// the engine's memory (the files lag while writes fail, and round what a restart rebuilds).
struct EngineCheckpoint: Sendable {
    var time: Instant
    var cycle: Int
    var balance: Double
    /// The open positions and the current UTC day's closed ones.
    var positions: PositionsFile
    var pendingClosed: [Position]
    var weights: SignalWeights
    var expectancy: ExpectancyGate
    var day: Instant?
    var dayStartBalance: Double
    var dayPnl: Double
    var peakEquity: Double
    var openedToday: Int
    var savedDay: DayState?
    var lastMarket: [String: MarketSnapshot]
    var lastPriceChangeAt: Instant?
    var missingSymbols: Set<String>
    var lastCycleAt: Instant?
    var breaker: CircuitBreaker.State
    var drawdownReducing: String?
    var writeProblem: String?
    var writeFailureSaidAt: Instant?
    var writeFailureAnnounced: Bool
    var exchangeUnknown: [String]
    var reconcileProblem: String?
    var unvalued: [String]
    var pending: [TradingEngine.EntryOrder]
    var dirty: Bool
    var weightsDirty: Bool
    var hash: String
    var otherSectorSymbols: Set<String>
    var autonomy: Autonomy

    var json: JSONValue {
        var o = JSONObject()
        o["time"] = SnapshotCodec.instantJSON(time)
        o["cycle"] = .int(cycle)
        o["balance"] = .double(balance)
        o["positions"] = TradingEngine.positionsJSON(positions)
        o["pending_closed"] = TradingEngine.positionsJSON(PositionsFile(closed: pendingClosed))
        o["weights"] = weights.json
        o["expectancy"] = expectancy.outcomesJSON
        o["day"] = day.map(SnapshotCodec.instantJSON) ?? .null
        o["day_start_balance"] = .double(dayStartBalance)
        o["day_pnl"] = .double(dayPnl)
        o["peak_equity"] = .double(peakEquity)
        o["opened_today"] = .int(openedToday)
        if let saved = savedDay {
            o["saved_day"] = [
                "day": SnapshotCodec.instantJSON(saved.day), "peak_equity": .double(saved.peakEquity),
                "day_start_balance": .double(saved.dayStartBalance),
                "trip_reason": saved.tripReason.map { .string($0) } ?? .null,
                "trip_until": saved.tripUntil.map(SnapshotCodec.instantJSON) ?? .null,
            ]
        }
        o["last_market"] = .array(lastMarket.keys.sorted().map { SnapshotCodec.encode(lastMarket[$0]!, after: nil) })
        o["last_price_change_at"] = lastPriceChangeAt.map(SnapshotCodec.instantJSON) ?? .null
        o["missing_symbols"] = .array(missingSymbols.sorted().map { .string($0) })
        o["last_cycle_at"] = lastCycleAt.map(SnapshotCodec.instantJSON) ?? .null
        if case .tripped(let reason, let until) = breaker {
            o["breaker"] = ["reason": .string(reason), "until": until.map(SnapshotCodec.instantJSON) ?? .null]
        } else {
            o["breaker"] = .null
        }
        func text(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
        o["drawdown_reducing"] = text(drawdownReducing)
        o["write_problem"] = text(writeProblem)
        o["write_failure_said_at"] = writeFailureSaidAt.map(SnapshotCodec.instantJSON) ?? .null
        o["write_failure_announced"] = .bool(writeFailureAnnounced)
        o["exchange_unknown"] = .array(exchangeUnknown.map { .string($0) })
        o["reconcile_problem"] = text(reconcileProblem)
        o["unvalued"] = .array(unvalued.map { .string($0) })
        o["pending"] = .array(
            pending.map {
                [
                    "symbol": .string($0.symbol), "direction": .string($0.direction.rawValue),
                    "notional": .double($0.notional), "margin": .double($0.margin), "bound": .string($0.bound),
                    "extra": .object($0.extra), "strategy": .string($0.strategy),
                ]
            })
        o["dirty"] = .bool(dirty)
        o["weights_dirty"] = .bool(weightsDirty)
        o["hash"] = .string(hash)
        o["other_sector_symbols"] = .array(otherSectorSymbols.sorted().map { .string($0) })
        o["autonomy"] = autonomy.json
        return .object(o)
    }
}
