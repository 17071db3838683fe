import Foundation
import GitKit
import TradingCore
import TradingStore

/// `deployctl doctor`: everything a home needs, checked in one go, each with what to do.
public enum Doctor {
    public static func run(home: Home, now: Instant) -> [CheckResult] {
        var checks = CheckList()
        var deploy: DeployConfig?
        checks.run("config") {
            let d = try ConfigFiles.deploy(home.deployConfig)
            _ = try ConfigFiles.bot(home.botConfig)
            _ = try ConfigFiles.assetUniverse(home.assetUniverse)
            guard !d.repo.isEmpty else {
                throw ConfigError(
                    file: home.deployConfig, field: "repo", message: "is empty; run deployctl init --repo URL|PATH")
            }
            deploy = d
            return "deploy.json, bot.json and asset_universe.json valid; repository \(d.repo)"
        }
        checks.run("libgit2") {
            let transports = [GitFeatures.https ? "https" : nil, GitFeatures.ssh ? "ssh" : nil].compactMap { $0 }
            let remote = deploy?.repo ?? ""
            if remote.hasPrefix("https://") && !GitFeatures.https {
                throw ServiceError(
                    message: "libgit2 \(GitFeatures.version) has no https transport but the repository is \(remote)")
            }
            if (remote.hasPrefix("ssh://") || remote.contains("@")) && !remote.hasPrefix("https://") && !GitFeatures.ssh
            {
                throw ServiceError(
                    message: "libgit2 \(GitFeatures.version) has no ssh transport but the repository is \(remote)")
            }
            return
                "libgit2 \(GitFeatures.version), transports: local\(transports.isEmpty ? "" : ", " + transports.joined(separator: ", "))"
        }
        checks.run("service_manager") {
            let manager = deploy?.serviceManager ?? "supervisor"
            let tool = manager == "systemd" ? "/bin/systemctl" : "/usr/bin/supervisord"
            let alternatives = manager == "systemd" ? [tool, "/usr/bin/systemctl"] : [tool]
            guard alternatives.contains(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
                throw ServiceError(
                    message:
                        "\(manager) is configured but \(tool) is missing; install it (apt-get install \(manager == "systemd" ? "systemd" : "supervisor")) or change service_manager"
                )
            }
            return "\(manager) available"
        }
        checks.run("slots") {
            let slots = Slots(home: home)
            guard let active = slots.active() else { return "no release yet (slots/current absent)" }
            let binary = slots.path(active) + "/" + (deploy?.binary ?? ".build/release/tradingbot")
            guard FileManager.default.isExecutableFile(atPath: binary) else {
                throw StoreError(
                    path: binary,
                    message: "slots/current -> \(active) but its binary is missing; release again or roll back")
            }
            return "slots/current -> \(active) (\(slots.releaseID(active) ?? "unknown release")), binary present"
        }
        if let beat = try? HeartbeatStore(home: home).read(), beat.phase == "stopped" {
            checks.append(
                CheckResult(
                    name: "heartbeat", ok: true, warning: true,
                    detail:
                        "the engine stopped \(Int(beat.age(now: now))) s ago (release \(beat.release)); start it if that was not intended"
                ))
        } else {
            checks.run("heartbeat") {
                guard let beat = try HeartbeatStore(home: home).read() else { return "no heartbeat yet" }
                let bot = try ConfigFiles.bot(home.botConfig)
                let stall = bot.cycleSeconds * (deploy?.watchdog.stallCycles ?? 3)
                let age = beat.age(now: now)
                if age > Double(stall) {
                    throw StoreError(
                        path: home.heartbeat,
                        message:
                            "last written \(Int(age)) s ago (stall threshold \(stall) s) by pid \(beat.pid): the engine is stalled or down; see RUNBOOK 'Is it trading?'"
                    )
                }
                return "release \(beat.release), cycle \(beat.cycle), \(beat.phase), \(Int(age)) s old"
            }
        }
        checks.run("positions") {
            guard FileIO.exists(home.positions) else { return "no positions file yet" }
            let bot = try ConfigFiles.bot(home.botConfig)
            let report = DataCheckRunner.run(positionsPath: home.positions, reset: bot.walletReset, now: now)
            guard report.ok else {
                let failed = report.checks.filter { !$0.ok }.map(\.name).joined(separator: ", ")
                throw StoreError(
                    path: home.positions,
                    message: "data checks fail (\(failed)); run deployctl check data --positions \(home.positions)")
            }
            return "data-date checks pass"
                + (report.warnings.isEmpty ? "" : " with \(report.warnings.count) warning(s)")
        }
        checks.run("disk") {
            let attributes = try FileManager.default.attributesOfFileSystem(forPath: home.root)
            let free = (attributes[.systemFreeSize] as? NSNumber)?.int64Value ?? 0
            guard free > 2_000_000_000 else {
                throw StoreError(
                    path: home.root, message: "only \(free / 1_000_000) MB free; builds and logs need at least 2 GB")
            }
            return "\(free / 1_000_000_000) GB free"
        }
        return checks.results
    }
}
