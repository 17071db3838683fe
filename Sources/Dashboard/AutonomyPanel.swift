import TradingCore
import TradingStore

extension DashboardData {
    /// The engine's last view of its health, capital scaling and allocation (state/health.json,
    /// written after each cycle); nil before the engine wrote one.
    public func autonomy() -> Result<JSONObject?, any Error> {
        Result {
            guard FileIO.exists(home.healthView) else { return nil }
            return try ConfigFiles.json(home.healthView).objectValue
        }
    }
}

extension Pages {
    /// The Executive Summary's autonomy section: the health scores, the capital scaling step with
    /// its history, and each strategy's allocation, as the engine last saw them.
    static func autonomy(_ view: Result<JSONObject?, any Error>) -> String {
        var out = "<h2 id=\"autonomy\">Health and capital scaling</h2>"
        let v: JSONObject
        switch view {
        case .failure(let error):
            return out + "<div class=\"error\">state/health.json cannot be read: \(HTML.escape("\(error)"))</div>"
        case .success(nil):
            return out
                + HTML.empty("The engine has not written its health yet (state/health.json comes after a cycle).")
        case .success(let o?): v = o
        }
        func number(_ value: JSONValue?, _ places: Double = 10) -> String {
            value?.doubleValue.map { "\(($0 * places).rounded() / places)" } ?? "n/a"
        }
        func count(_ value: JSONValue?) -> String { value?.doubleValue.map { grouped(Int($0)) } ?? "n/a" }
        func share(_ value: JSONValue?) -> String {
            value?.doubleValue.map { "\(($0 * 1000).rounded() / 10) %" } ?? "no cap"
        }
        let scaling = v["scaling"]?.objectValue ?? JSONObject()
        let bot = v["bot"]?.objectValue
        out += "<div class=\"cards\">"
        out += card(
            "Bot health", number(bot?["score"]), "0 to 100; min_health steps scaling down", id: "health-score")
        if scaling["enabled"] == .bool(true) {
            out += card(
                "Capital scaling", share(scaling["level"]),
                "of max_exposure_fraction: \(number(scaling["max_exposure_fraction"], 10_000)) of \(number(scaling["configured_max_exposure_fraction"], 10_000))",
                id: "scaling-step")
            out += card(
                "Toward the next step", "\(count(scaling["trades_since"])) / \(count(scaling["min_trades"]))",
                "closed trades since the last change, net \(number(scaling["net_since"], 100)); a step up needs a positive net",
                id: "scaling-evidence")
        } else {
            out += card("Capital scaling", "off", "risk.scaling.enabled is false: the full limits", id: "scaling-step")
        }
        out += "</div>"
        if let penalties = bot?["penalties"]?.objectValue {
            out +=
                "<p>Points the bot's health lost, by input (docs/autonomy.md lists the weights): "
                + HTML.escape(penalties.fields.map { "\($0.key) \(number($0.value))" }.joined(separator: ", "))
                + " · as of cycle \(count(v["cycle"])) at \(HTML.escape(v["ts"]?.stringValue ?? "?"))</p>"
        }
        let strategies = v["strategies"]?.objectValue?.fields ?? []
        out += "<h3>Strategies (the last 7 days)</h3>"
        out +=
            strategies.isEmpty
            ? HTML.empty("No closed trade in the window yet: no strategy is capped.")
            : HTML.table(
                ["Strategy", "Health", "Trades", "Attributed net P&L", "Allocation"],
                strategies.map { f in
                    let o = f.value.objectValue
                    return [
                        f.key, number(o?["score"]), count(o?["trades"]), number(o?["net"], 100),
                        share(o?["allocation"]),
                    ]
                }, numeric: [1, 2, 3, 4])
        let setups = v["setups"]?.objectValue?.fields ?? []
        out += "<h3>Setups (the expectancy gate's window)</h3>"
        out +=
            setups.isEmpty
            ? HTML.empty("No setup has a recent record: each sizes by conviction alone.")
            : HTML.table(
                ["Setup", "Health", "Trades", "Net P&L"],
                setups.sorted {
                    ($0.value.objectValue?["score"]?.doubleValue ?? 0)
                        < ($1.value.objectValue?["score"]?.doubleValue ?? 0)
                }
                .map { f in
                    let o = f.value.objectValue
                    return [f.key, number(o?["score"]), count(o?["trades"]), number(o?["net"], 100)]
                }, numeric: [1, 2, 3])
        let history = (scaling["history"]?.arrayValue ?? []).compactMap(\.objectValue)
        if !history.isEmpty {
            out += "<h3>Scaling history (newest first)</h3>"
            out += HTML.table(
                ["At", "From", "To", "Why", "Detail"],
                history.reversed().prefix(20).map {
                    [
                        $0["at"]?.stringValue ?? "", share($0["from"]), share($0["to"]),
                        $0["reason"]?.stringValue ?? "",
                        $0["detail"]?.stringValue ?? "",
                    ]
                }, numeric: [1, 2])
        }
        return out
    }
}
