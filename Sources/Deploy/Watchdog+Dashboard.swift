import CurlKit
import TradingCore
import TradingStore

/// The dashboard is watched, never acted on for trading: when its /healthz does not answer the
/// watchdog alerts (once per cooldown) and says when it is back. It never restarts or rolls
/// back the engine because of it.
extension Watchdog {
    enum DashboardProbe: Equatable {
        case up
        case down(String)

        var text: String {
            switch self {
            case .up: "up"
            case .down(let why): "down: \(why)"
            }
        }
    }

    /// Probes /healthz where bot.json's dashboard listens, when a dashboard is meant to run
    /// here (supervised by supervisord, or its systemd unit written); nil when none is.
    func probeDashboard() -> DashboardProbe? { Self.probeDashboard(home: home, config: config, manager: manager) }

    /// The probe itself, for the watchdog and for `deployctl doctor`.
    static func probeDashboard(home: Home, config: DeployConfig, manager: ServiceManager) -> DashboardProbe? {
        guard config.dashboard.probe, manager.dashboardEnabled(), let bot = try? ConfigFiles.bot(home.botConfig),
            bot.dashboard.port != 0
        else { return nil }
        let bind = bot.dashboard.bind
        let host =
            ["0.0.0.0", ""].contains(bind)
            ? "127.0.0.1" : bind == "::" ? "[::1]" : (bind.contains(":") ? "[\(bind)]" : bind)
        let url = "http://\(host):\(bot.dashboard.port)/healthz"
        do {
            let answer = try HTTPClient.send(HTTPRequest(url: url, timeoutSeconds: 5, maxResponseBytes: 64 << 10))
            if answer.status == 200 { return .up }
            let why = (try? JSONValue.parse(answer.body))?.objectValue?["positions"]?.stringValue ?? answer.text
            return .down("\(url) answered HTTP \(answer.status): \(why.prefix(300))")
        } catch {
            return .down("\(url) does not answer: \(error)")
        }
    }

    /// A fault alert for a dashboard that stopped answering, and one when it is back.
    func dashboardAlerts(_ probe: DashboardProbe?, release: String?, state: inout WatchdogState) -> [Alert] {
        let at = now()
        let key = "dashboard_down"
        let next =
            manager.name == "supervisor"
            ? "supervisorctl -c \(home.root)/deploy/supervisord.conf status tradingbot-dashboard; tail \(home.root)/logs/dashboard.err.log"
            : "systemctl status tradingbot-dashboard.service; journalctl -u tradingbot-dashboard.service -n 50"
        func alert(_ kind: Alert.Kind, _ headline: String, _ what: String) -> Alert {
            Alert(
                kind: kind, key: key, headline: headline, what: what, home: home.root, release: release,
                action: "none: trading is not affected", next: next, at: at)
        }
        switch probe {
        case .down(let why)?:
            let cooled = state.alertedAt[key].map {
                $0.seconds(until: at) >= Double(config.watchdog.alertCooldownSeconds)
            }
            guard cooled ?? true else { return [] }
            state.alertedAt[key] = at
            return [alert(.fault, "DASHBOARD DOWN", "the dashboard \(why); the engine goes on trading")]
        case .up?:
            guard state.alertedAt[key] != nil else { return [] }
            state.alertedAt[key] = nil
            return [alert(.recovery, "DASHBOARD UP AGAIN", "the dashboard answers /healthz again")]
        case nil:
            return []
        }
    }
}
