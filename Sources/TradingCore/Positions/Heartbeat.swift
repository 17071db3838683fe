/// What the engine writes to `state/heartbeat.json` at each phase of a cycle, so the watchdog
/// and deployctl can tell a live engine from a stalled one and which release it runs.
public struct Heartbeat: Sendable, Equatable {
    public var pid: Int
    public var release: String
    public var cycle: Int
    public var phase: String
    public var cycleStartedAt: Instant?
    public var cycleFinishedAt: Instant?
    public var writtenAt: Instant
    public var symbolsEvaluated: Int
    public var signalsEvaluated: Int
    public var consecutiveErrors: Int
    public var lastError: String?
    /// Why the engine is opening nothing new while its exits go on, or nil.
    public var reducing: String?
    /// When this engine process started; the last cycle that evaluated any signal; the last
    /// time any price differed from the cycle before (nil until one has, since the start). An
    /// engine that cycles on a frozen feed or evaluates nothing is alive but not trading, which
    /// the watchdog calls a trading stall, counted from the start when nothing happened yet.
    public var startedAt: Instant?
    public var lastSignalsAt: Instant?
    public var lastPriceChangeAt: Instant?

    public init(
        pid: Int, release: String, cycle: Int, phase: String, cycleStartedAt: Instant? = nil,
        cycleFinishedAt: Instant? = nil, writtenAt: Instant, symbolsEvaluated: Int = 0, signalsEvaluated: Int = 0,
        consecutiveErrors: Int = 0, lastError: String? = nil, reducing: String? = nil, startedAt: Instant? = nil,
        lastSignalsAt: Instant? = nil, lastPriceChangeAt: Instant? = nil
    ) {
        self.reducing = reducing
        self.startedAt = startedAt
        self.lastSignalsAt = lastSignalsAt
        self.lastPriceChangeAt = lastPriceChangeAt
        self.pid = pid
        self.release = release
        self.cycle = cycle
        self.phase = phase
        self.cycleStartedAt = cycleStartedAt
        self.cycleFinishedAt = cycleFinishedAt
        self.writtenAt = writtenAt
        self.symbolsEvaluated = symbolsEvaluated
        self.signalsEvaluated = signalsEvaluated
        self.consecutiveErrors = consecutiveErrors
        self.lastError = lastError
    }

    /// Seconds since the engine last wrote it.
    public func age(now: Instant) -> Double { writtenAt.seconds(until: now) }

    /// Stalled when older than `cycles` cycles of `cycleSeconds`.
    public func isStale(now: Instant, cycleSeconds: Int, cycles: Int) -> Bool {
        age(now: now) > Double(cycleSeconds * cycles)
    }

    public var json: JSONValue {
        var o = JSONObject([
            JSONField("pid", .int(pid)), JSONField("release", .string(release)), JSONField("cycle", .int(cycle)),
            JSONField("phase", .string(phase)),
        ])
        o["cycle_started_at"] = cycleStartedAt.map { .string($0.iso8601) } ?? .null
        o["cycle_finished_at"] = cycleFinishedAt.map { .string($0.iso8601) } ?? .null
        o["written_at"] = .string(writtenAt.iso8601)
        o["symbols_evaluated"] = .int(symbolsEvaluated)
        o["signals_evaluated"] = .int(signalsEvaluated)
        o["consecutive_errors"] = .int(consecutiveErrors)
        o["last_error"] = lastError.map { .string($0) } ?? .null
        o["reducing"] = reducing.map { .string($0) } ?? .null
        o["started_at"] = startedAt.map { .string($0.iso8601) } ?? .null
        o["last_signals_at"] = lastSignalsAt.map { .string($0.iso8601) } ?? .null
        o["last_price_change_at"] = lastPriceChangeAt.map { .string($0.iso8601) } ?? .null
        return .object(o)
    }

    /// Reads the heartbeat JSON; `file` names it in errors.
    public static func parse(_ value: JSONValue, file: String) throws(ConfigError) -> Heartbeat {
        let s = try ConfigSection(file: file, path: "", value: value)
        func optionalInstant(_ key: String) throws(ConfigError) -> Instant? {
            guard let v = s.object[key], !v.isNull else { return nil }
            return try s.instant(key)
        }
        return Heartbeat(
            pid: try s.int("pid", in: 0...Int(Int32.max)), release: try s.string("release", allowEmpty: true),
            cycle: try s.int("cycle", in: 0...Int(Int32.max)), phase: try s.string("phase"),
            cycleStartedAt: try optionalInstant("cycle_started_at"),
            cycleFinishedAt: try optionalInstant("cycle_finished_at"), writtenAt: try s.instant("written_at"),
            symbolsEvaluated: try s.int("symbols_evaluated", in: 0...Int(Int32.max)),
            signalsEvaluated: try s.int("signals_evaluated", in: 0...Int(Int32.max)),
            consecutiveErrors: try s.int("consecutive_errors", in: 0...Int(Int32.max)),
            lastError: s.object["last_error"]?.stringValue, reducing: s.object["reducing"]?.stringValue,
            startedAt: try optionalInstant("started_at"), lastSignalsAt: try optionalInstant("last_signals_at"),
            lastPriceChangeAt: try optionalInstant("last_price_change_at"))
    }
}
