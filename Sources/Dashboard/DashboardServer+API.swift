import Hummingbird
import Prometheus
import TradingCore
import TradingStore

extension DashboardServer {
    /// Without login, for the watchdog and probes: 200 when the dashboard can read the home's
    /// numbers, 503 with the reason when not; the engine's state is said either way.
    func healthz() -> Response {
        let positions = data.positions()
        let health = HealthPanel.read(data, positions: positions)
        let engine = health.items.first { $0.name == "Engine" }
        let ok = positions.problem == nil
        return json(
            [
                "ok": .bool(ok), "dashboard": "up",
                "positions": positions.problem.map { .string($0) } ?? "readable",
                "engine": .string(engine?.level.rawValue ?? "red"), "engine_detail": .string(engine?.text ?? ""),
                "checked_at": .string(data.now.iso8601),
            ], status: ok ? .ok : .serviceUnavailable)
    }

    func summaryJSON() -> JSONValue {
        let positions = data.positions()
        var o = JSONObject()
        o["ok"] = .bool(positions.report != nil)
        // When these numbers were computed: after a change they are the previous ones until
        // the background recompute ends.
        o["computed_at"] = .string(positions.computedAt.iso8601)
        if let problem = positions.problem { o["error"] = .string(problem) }
        if let report = positions.report {
            for field in report.json.objectValue?.fields ?? [] { o[field.key] = field.value }
            o["excluded_by_reset"] = .int(positions.excludedByReset)
            let today = report.byDay[String(data.now.startOfUTCDay.iso8601.prefix(10))] ?? TradeTotals()
            o["today"] = ["trades": .int(today.trades), "net_pnl": .double((today.netPnl * 100).rounded() / 100)]
        }
        let cycle = data.lastCycle()
        o["equity"] = cycle?["equity"] ?? .null
        o["breaker"] = cycle?["breaker"] ?? .null
        o["kill_switch"] = .bool(data.killSwitchOn)
        return .object(o)
    }

    func positionsJSON() -> JSONValue {
        let positions = data.positions()
        return [
            "ok": .bool(positions.problem == nil),
            "open": .array(positions.open.map { .object(PositionsCodec.object(for: $0)) }),
            "recent_closed": .array(positions.recentClosed.prefix(100).map { .object(PositionsCodec.object(for: $0)) }),
            "recent_closed_kept": .int(positions.recentClosed.count),
        ]
    }

    /// Prometheus text format, built fresh for each scrape from the same numbers as the pages.
    func metrics() -> Response {
        let registry = PrometheusCollectorRegistry()
        let positions = data.positions()
        if let report = positions.report {
            registry.makeGauge(name: "tradingbot_balance_usd", help: "Wallet balance since the reset").set(
                report.balance)
            registry.makeGauge(name: "tradingbot_open_positions", help: "Open positions").set(
                Double(report.openPositions))
            registry.makeGauge(name: "tradingbot_closed_trades", help: "Closed trades since the reset").set(
                Double(report.totals.trades))
            registry.makeGauge(name: "tradingbot_net_pnl_usd", help: "Net P&L since the reset").set(
                report.totals.netPnl)
        }
        registry.makeGauge(name: "tradingbot_positions_readable", help: "1 when the positions file can be read").set(
            positions.problem == nil ? 1.0 : 0.0)
        let cycle = data.lastCycle()
        if let equity = cycle?["equity"]?.doubleValue {
            registry.makeGauge(name: "tradingbot_equity_usd", help: "Equity at the last cycle").set(equity)
        }
        for action in ["executed", "blocked", "skipped", "closed"] {
            if let n = cycle?[action]?.doubleValue {
                registry.makeGauge(
                    name: "tradingbot_signals_last_cycle", labels: [("action", action)],
                    help: "Signal lines by action in the last cycle"
                ).set(n)
            }
        }
        if case .success(let beat?) = data.heartbeat() {
            registry.makeGauge(name: "tradingbot_heartbeat_age_seconds", help: "Age of the engine's heartbeat").set(
                beat.age(now: data.now))
            registry.makeGauge(name: "tradingbot_cycle", help: "The engine's cycle number").set(Double(beat.cycle))
            if let started = beat.cycleStartedAt, let finished = beat.cycleFinishedAt, finished >= started {
                registry.makeGauge(name: "tradingbot_cycle_duration_seconds", help: "Duration of the last cycle").set(
                    started.seconds(until: finished))
            }
            registry.makeGauge(
                name: "tradingbot_release_info", labels: [("release", beat.release)],
                help: "The release the engine runs"
            ).set(1.0)
        }
        registry.makeGauge(name: "tradingbot_kill_switch", help: "1 when the kill switch is on").set(
            data.killSwitchOn ? 1.0 : 0.0)
        if case .success(let view?) = data.autonomy() { autonomyMetrics(view, registry) }
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
    }

    /// The controller's gauges from the engine's last view (state/health.json).
    func autonomyMetrics(_ view: JSONObject, _ registry: PrometheusCollectorRegistry) {
        let help = "Health score, 0 to 100, of the bot, a strategy or a setup"
        if let score = view["bot"]?.objectValue?["score"]?.doubleValue {
            registry.makeGauge(name: "tradingbot_health_score", labels: [("scope", "bot"), ("name", "bot")], help: help)
                .set(score)
        }
        for (scope, key) in [("strategy", "strategies"), ("setup", "setups")] {
            for field in view[key]?.objectValue?.fields ?? [] {
                guard let score = field.value.objectValue?["score"]?.doubleValue else { continue }
                registry.makeGauge(
                    name: "tradingbot_health_score", labels: [("scope", scope), ("name", field.key)], help: help
                ).set(score)
            }
        }
        if let level = view["scaling"]?.objectValue?["level"]?.doubleValue {
            registry.makeGauge(
                name: "tradingbot_capital_scaling_step",
                help: "Share of max_exposure_fraction capital scaling allows (1 when off)"
            ).set(level)
        }
        for field in view["strategies"]?.objectValue?.fields ?? [] {
            guard let share = field.value.objectValue?["allocation"]?.doubleValue else { continue }
            registry.makeGauge(
                name: "tradingbot_allocation_share", labels: [("strategy", field.key)],
                help: "A strategy's share of the scaled exposure"
            ).set(share)
        }
    }
}
