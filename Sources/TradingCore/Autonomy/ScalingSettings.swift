/// `risk.scaling` in bot.json: how capital scaling moves the share of `max_exposure_fraction` the
/// engine may use. Every key has a default, so a home without the section scales (on by
/// default) and `enabled: false` alone turns it off.
public struct ScalingSettings: Sendable, Equatable {
    public var enabled = true
    /// The lowest and highest multiplier of `max_exposure_fraction`; the ceiling is at most 1: scaling
    /// never raises a configured limit.
    public var floor = 0.25
    public var start = 0.5
    public var ceiling = 1.0
    public var step = 0.25
    /// Closed trades, since the last change, whose expectancy must be positive before a step up.
    public var minTrades = 20
    /// The bot's health below which it never steps up, and at which it steps down.
    public var minHealth = 50.0
    /// The least time between two changes up (and between a change and the next step up).
    public var dwellHours = 24.0
    /// A fall of equity from its peak since the last step up that steps down at once. Nil: the
    /// default, two thirds of `exits.emergency_drawdown`, so scaling acts before the engine reduces.
    public var stepDownDrawdown: Double?

    public init() {}

    public static let keys = [
        "enabled", "floor", "start", "ceiling", "step", "min_trades", "min_health", "dwell_hours",
        "step_down_drawdown",
    ]

    /// The step-down drawdown in force, given the exits' emergency drawdown.
    public func stepDownDrawdown(emergencyDrawdown: Double) -> Double {
        stepDownDrawdown ?? emergencyDrawdown * 2 / 3
    }

    /// The multiplier in force for a saved `state`: 1 when off, `start` before any state, and a
    /// saved step moved within the bounds (the operator may have moved them since).
    public func level(of state: CapitalScaling?) -> Double {
        enabled ? min(max(state?.level ?? start, floor), ceiling) : 1
    }

    /// The multipliers it moves between: floor, floor + step, ..., ceiling.
    public var levels: [Double] {
        var out: [Double] = []
        var level = floor
        while level < ceiling - 1e-9 {
            out.append(Self.tidy(level))
            level += step
        }
        out.append(Self.tidy(ceiling))
        return out
    }

    static func tidy(_ v: Double) -> Double { (v * 1_000_000).rounded() / 1_000_000 }

    /// Parses `risk.scaling`; `emergencyDrawdown` is the exits' (the step-down drawdown must stay below it).
    public static func parse(_ section: ConfigSection, emergencyDrawdown: Double) throws(ConfigError)
        -> ScalingSettings
    {
        try section.allowOnly(keys)
        var s = ScalingSettings()
        s.enabled = try section.bool("enabled", default: s.enabled)
        s.floor = try section.number("floor", in: 0.01...1, default: s.floor)
        s.ceiling = try section.number("ceiling", in: s.floor...1, default: max(s.floor, s.ceiling))
        s.start = try section.number("start", in: s.floor...s.ceiling, default: min(max(s.start, s.floor), s.ceiling))
        s.step = try section.number("step", in: 0.01...1, default: s.step)
        s.minTrades = try section.int("min_trades", in: 1...10_000, default: s.minTrades)
        s.minHealth = try section.number("min_health", in: 0...100, default: s.minHealth)
        s.dwellHours = try section.number("dwell_hours", in: 0...8760, default: s.dwellHours)
        if section.value("step_down_drawdown") != nil {
            let limit = emergencyDrawdown
            let value = try section.number("step_down_drawdown", in: 0.0001...1)
            guard value < limit else {
                throw section.fail(
                    "step_down_drawdown",
                    "\(JSONWriter.format(value)) is not below exits.emergency_drawdown \(JSONWriter.format(limit)); scaling must step down before the engine reduces: set it below \(JSONWriter.format(limit)), or leave it out (default \(JSONWriter.format(tidy(limit * 2 / 3))))"
                )
            }
            s.stepDownDrawdown = value
        }
        return s
    }
}
