import Foundation
import TestSupport
import Testing

/// deploy/ holds the units and the supervisord config as `deployctl install-units` writes them
/// for /srv/tradingbot and the user tradingbot, so an operator can read them before installing
/// anything; this keeps them in step with the code.
@Suite struct ReferenceUnitsTests {
    @Test func theReferenceUnitsAreWhatInstallUnitsWrites() throws {
        let out = try Fixtures.temporaryDirectory("units")
        let run = try CommandRunner.execute(
            "/bin/bash",
            [Fixtures.repoRoot + "/scripts/refresh-deploy-units.sh", CommandRunner.path("deployctl"), out])
        #expect(run.status == 0, "\(run.stderr)")
        let written = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        #expect(
            written == [
                "50-tradingbot-tradingbot.rules", "supervisord.conf", "tradingbot-boot.service",
                "tradingbot-dashboard.service", "tradingbot-watchdog.service", "tradingbot-watchdog.timer",
                "tradingbot.service",
            ])
        for name in written {
            let fresh = try String(contentsOfFile: out + "/" + name, encoding: .utf8)
            let committed = (try? String(contentsOfFile: Fixtures.repoRoot + "/deploy/" + name, encoding: .utf8)) ?? ""
            #expect(
                fresh == committed,
                "deploy/\(name) is out of step with deployctl install-units: run scripts/refresh-deploy-units.sh")
            #expect(!fresh.contains("/tmp/") && !fresh.contains("nobody"))
        }
    }
}
