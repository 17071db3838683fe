/// One named check with its verdict and a sentence a person can act on.
public struct CheckResult: Sendable, Equatable {
    public var name: String
    public var ok: Bool
    /// Passed, but with something the operator should look at.
    public var warning: Bool
    public var detail: String

    public init(name: String, ok: Bool, warning: Bool = false, detail: String) {
        self.name = name
        self.ok = ok
        self.warning = warning
        self.detail = detail
    }

    /// `FAIL name: detail`, `WARN ...` or `ok   ...`: one line of a check list on a terminal.
    public var line: String { "\(!ok ? "FAIL" : warning ? "WARN" : "ok  ") \(name): \(detail)" }

    public var json: JSONValue {
        var object = JSONObject([
            JSONField("name", .string(name)), JSONField("ok", .bool(ok)), JSONField("detail", .string(detail)),
        ])
        if warning { object["warning"] = .bool(true) }
        return .object(object)
    }
}

/// Formats counts for messages: 1100 -> "1,100".
public func grouped(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var out = ""
    for (i, ch) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(ch)
    }
    return (n < 0 ? "-" : "") + out
}

/// Formats money for messages: 10036.6 -> "$10,036.60".
public func money(_ value: Double) -> String {
    // A value no Int64 of cents can hold (a corrupt record) is shown as is, never a crash.
    guard value.isFinite, abs(value) < 9e15 else { return "$\(value)" }
    let cents = Int64((abs(value) * 100).rounded())
    let whole = grouped(Int(cents / 100))
    let frac = cents % 100
    return (value < 0 && cents != 0 ? "-" : "") + "$" + whole + "." + (frac < 10 ? "0" : "") + String(frac)
}
