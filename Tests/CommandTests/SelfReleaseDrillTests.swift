import CurlKit
import Foundation
import TestSupport
import Testing

@testable import Deploy
@testable import TradingCore
@testable import TradingStore

/// The end-to-end drill: deployctl releases this repository itself (its HEAD commit) into a slot
/// with a real `swift build`, checks it against the real-shaped positions, flips, and the real
/// engine passes probation under a real supervisord.
@Suite(.serialized) struct SelfReleaseDrillTests {
    @Test(.timeLimit(.minutes(20))) func releasesThisRepositoryWithARealBuild() throws {
        let root = try Fixtures.temporaryDirectory("self")
        let home = root + "/home"
        let head = try GitFixture(Fixtures.repoRoot).git("rev-parse", "HEAD")
        let initialized = try CommandRunner.run("deployctl", ["init", "--home", home, "--repo", Fixtures.repoRoot])
        #expect(initialized.status == 0, "\(initialized.stderr)")
        var deploy = try JSONValue.parse(try FileIO.read(home + "/config/deploy.json")).objectValue ?? JSONObject()
        deploy["binary"] = ".build/debug/tradingbot"
        deploy["build"] = ["command": "swift build --product tradingbot", "timeout_seconds": 900]
        deploy["probation"] = ["healthy_cycles": 2, "timeout_seconds": 60]
        try Fixtures.write(JSONValue.object(deploy).serialized(indent: 2), to: home + "/config/deploy.json")
        var bot = try JSONValue.parse(try FileIO.read(home + "/config/bot.json")).objectValue ?? JSONObject()
        #expect(bot["wallet_reset"] != nil, "init copied the repository's bot.json")
        bot["cycle_seconds"] = 1
        // The dashboard runs beside the engine (supervised by default), on a port of its own.
        let dashboardPort = try freePort()
        bot["dashboard"] = ["port": .int(dashboardPort)]
        try Fixtures.write(JSONValue.object(bot).serialized(indent: 2), to: home + "/config/bot.json")
        try FileManager.default.copyItem(
            atPath: Fixtures.samplePositions, toPath: home + "/logs/positions_futures.json")
        defer { SupervisorManager(home: Home(root: home), binary: ".build/debug/tradingbot").shutdown() }

        let out = try CommandRunner.run("deployctl", ["release", "--home", home, "--ref", head, "--json"])
        let json = try out.json()
        #expect(out.status == 0, "\(json["message"] ?? out.stdout)")
        #expect(json["state"] as? String == "good")
        #expect(json["sha"] as? String == head)
        let checks = (json["checks"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(checks.contains("selfcheck") && checks.contains("report_agrees") && checks.contains("roundtrip"))
        // A beat written at a cycle's start carries no counts yet: read one written between cycles.
        var beat = try #require(try HeartbeatStore(home: Home(root: home)).read())
        let deadline = Date().addingTimeInterval(60)
        while beat.phase != "idle" && Date() < deadline {
            usleep(100_000)
            beat = try HeartbeatStore(home: Home(root: home)).read() ?? beat
        }
        #expect(beat.release == json["release"] as? String)
        #expect(beat.signalsEvaluated == 160, "the released engine evaluates 16 symbols x 10 signals")
        // The live positions went through the released code untouched (no trade lost).
        let file = try PositionsStore(
            path: home + "/logs/positions_futures.json", lockPath: home + "/state/positions.lock"
        ).load()
        #expect(file.closed.count >= 1100)

        // The released binary's dashboard answers, as its own supervisord program.
        var health: CurlKit.HTTPResponse?
        let up = Date().addingTimeInterval(60)
        while health?.status != 200 && Date() < up {
            health = try? HTTPClient.send(
                HTTPRequest(url: "http://127.0.0.1:\(dashboardPort)/healthz", timeoutSeconds: 10))
            if health?.status != 200 { usleep(200_000) }
        }
        #expect(health?.status == 200, "the dashboard of the release answers /healthz")
        #expect(health?.text.contains("\"positions\": \"readable\"") == true, "\(health?.text ?? "")")
        let status = try ProcessRunner.run(
            "/usr/bin/supervisorctl", ["-c", home + "/deploy/supervisord.conf", "status", "tradingbot-dashboard"],
            timeout: 30)
        #expect(status.output.contains("RUNNING"), "\(status.output)")
    }

    /// A port nothing listens on now (the kernel's pick for a socket bound to port 0).
    func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var size = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                guard bind(fd, pointer, size) == 0 else { return -1 }
                return getsockname(fd, pointer, &size)
            }
        }
        guard bound == 0 else { throw FixtureError("no free port: \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
