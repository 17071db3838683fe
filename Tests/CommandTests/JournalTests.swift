import Foundation
import TestSupport
import Testing

/// What the operator sees with `journalctl -u tradingbot` or `supervisorctl tail`: the engine's
/// own lines, as they happen, from the built binary.
@Suite(.serialized) struct JournalTests {
    func text(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    @Test(.timeLimit(.minutes(20))) func theJournalShowsEachCycleAsItHappens() throws {
        let home = try CommandRunner.makeHome(botConfig: EngineServiceTests.fastConfig)
        #expect(try CommandRunner.run("tradingbot", ["kill-switch", "on", "--home", home]).status == 0)
        let out = home + "/engine.out"
        let err = home + "/engine.err"
        // Files, as under supervisord: a buffered stdout would hold the lines until exit.
        let process = try CommandRunner.startEngine(
            home: home, ["--cycle-seconds", "2", "--max-cycles", "100"], journal: home)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, !text(out).contains(" cycle 2: ") { usleep(100_000) }
        #expect(process.isRunning, "the lines arrived only when the engine stopped")
        let lines = text(out).split(separator: "\n")
        // Seen line by line, not a buffer's worth at once (about 30 cycles' lines fill 4 KB).
        #expect(
            lines.filter { $0.contains(" cycle ") && $0.contains(": ") }.count <= 10, "\(lines.count) lines at once")
        #expect(lines.first?.contains("INFO engine_started cycle=0") == true, "\(lines)")
        let cycle = try #require(lines.first { $0.contains(" cycle 1: ") })
        #expect(cycle.contains(" symbols, ") && cycle.contains(" signals, ") && cycle.contains(" open, balance "))
        #expect(cycle.contains(" ms, REDUCING") == false)
        // The kill switch's trip is a critical event: on stderr, found by grep ERROR, same words as bot.jsonl.
        let problem = try #require(text(err).split(separator: "\n").first { $0.contains("ERROR") })
        #expect(
            problem.contains(
                "CRITICAL ERROR circuit_breaker cycle=1 change=\"circuit breaker tripped: kill switch on\""))
        #expect(text(home + "/logs/bot.jsonl").contains(#""change":"circuit breaker tripped: kill switch on""#))
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(text(out).contains("INFO engine_stopped"))
    }

    @Test func quietWritesOnlyTheLog() throws {
        let home = try CommandRunner.makeHome(botConfig: EngineServiceTests.fastConfig)
        #expect(try CommandRunner.run("tradingbot", ["kill-switch", "on", "--home", home]).status == 0)
        let run = try CommandRunner.run("tradingbot", ["run", "--home", home, "--max-cycles", "2", "--quiet"])
        #expect(run.status == 0 && run.stdout.isEmpty && run.stderr.isEmpty, "\(run.stdout)\(run.stderr)")
        let log = text(home + "/logs/bot.jsonl")
        #expect(log.contains("engine_started") && log.contains("circuit_breaker"))
    }

    @Test func theWatchdogsFaultsGoToStderrWithError() throws {
        let home = try CommandRunner.makeHome()
        var once = try CommandRunner.run("deployctl", ["watchdog", "--once", "--home", home])
        #expect(once.status == 0 && once.stdout.contains(" not_deployed: ") && once.stderr.isEmpty, "\(once)")
        // An engine ran here and stopped, with nothing released: a fault, on stderr, found by grep ERROR.
        #expect(
            try CommandRunner.run("tradingbot", ["run", "--home", home, "--max-cycles", "1", "--quiet"]).status == 0)
        once = try CommandRunner.run("deployctl", ["watchdog", "--once", "--home", home])
        #expect(once.status == 1 && once.stdout.isEmpty, "\(once.stdout)")
        #expect(once.stderr.contains(" ERROR not_running: the engine is not running"), "\(once.stderr)")
    }

    @Test func aFailedReleaseStepSaysError() throws {
        let home = try CommandRunner.makeHome()
        try Fixtures.write(
            #"{"repo": "/nonexistent/repository", "service_manager": "supervisor"}"#, to: home + "/config/deploy.json")
        let release = try CommandRunner.run("deployctl", ["release", "--home", home])
        #expect(release.status == 1)
        #expect(release.stderr.contains("ERROR [git] FAILED in "), "\(release.stderr)")
        #expect((release.stdout + release.stderr).contains("Nothing live changed"), "\(release.stdout)")
    }
}
