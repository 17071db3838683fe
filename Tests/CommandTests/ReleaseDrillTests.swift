import Foundation
import TestSupport
import Testing

@testable import Deploy
@testable import TradingCore
@testable import TradingStore

/// A deployment with a fixture application: a repository whose "build" installs a shell script
/// as bin/tradingbot. The script runs the real tradingbot, or misbehaves the way a bad release would.
struct ReleaseDrill {
    enum Variant {
        case good, doesNotBuild, selfcheckFails, seesNoTrades, dropsUnknownFields, crashesOnRun, neverBeats, slowBuild
        case hangingBuild, hangsAfterTenCycles, errorsOnFlag, freezesOnFlag, dashboardFails
        case hangingSelfcheck, hangingDashboard
        /// Beats idle and error-free from a living process, but never evaluates a signal.
        case noSignals
        /// An older release: it does not know bot.json's `risk.exposure_basis` and refuses the
        /// file that holds it, as every release refuses a key it does not know.
        case olderConfig
        /// Decides with an entry threshold of 0.6 whatever bot.json says (its replays read a
        /// copy of the home's bot.json with the threshold raised): a threshold changed in code.
        case higherThreshold
        /// Its replay of the recorded day never ends (the decision diff's candidate hangs).
        case hangingReplay
        /// A release from before capital scaling: it refuses bot.json's `risk.scaling` as an unknown
        /// key, and its selfcheck has no `scaling` check.
        case beforeScaling
    }

    let root: String
    let repo: GitFixture
    let home: String
    var deploy: String { home + "/config/deploy.json" }

    init(probationTimeout: Int = 20, supervisedWatchdog: Bool = false) throws {
        root = try Fixtures.temporaryDirectory("drill")
        repo = try GitFixture(root + "/repo")
        home = root + "/home"
        let bot = """
            {"wallet_reset": {"at": "2025-12-18T00:00:00Z", "starting_capital": 10000}, "cycle_seconds": 1}
            """
        try repo.write("config/bot.json", bot)
        try repo.write(
            "config/asset_universe.json",
            try String(contentsOfFile: Fixtures.repoRoot + "/config/asset_universe.json", encoding: .utf8))
        try repo.write(
            "wrongyear.json", #"{"wallet_reset": {"at": "2026-12-18T00:00:00Z", "starting_capital": 10000}}"#)
        try use(.good, "v1")
        let out = try CommandRunner.run("deployctl", ["init", "--home", home, "--repo", repo.path])
        guard out.status == 0 else { throw FixtureError("init: \(out.stderr)") }
        var config = try JSONValue.parse(try FileIO.read(deploy)).objectValue ?? JSONObject()
        config["binary"] = "bin/tradingbot"
        config["build"] = ["command": "sh build.sh", "timeout_seconds": 60]
        config["probation"] = ["healthy_cycles": 2, "timeout_seconds": .int(probationTimeout)]
        // The drills run the watchdog themselves, one step at a time; one drill turns the
        // supervised daemon on.
        // A stall threshold of 15 one-second cycles: a busy machine must not fail a healthy
        // probation; the hang drills lower it.
        config["watchdog"] = ["supervised": .bool(supervisedWatchdog), "interval_seconds": 5, "stall_cycles": 15]
        // Parallel drills would all ask for port 8050; the self-release drill runs the dashboard.
        config["dashboard"] = ["supervised": false]
        try Fixtures.write(JSONValue.object(config).serialized(indent: 2), to: deploy)
        try FileManager.default.copyItem(
            atPath: Fixtures.samplePositions, toPath: home + "/logs/positions_futures.json")
    }

    /// Commits the application in `variant` and returns its sha.
    @discardableResult
    func use(_ variant: Variant, _ message: String) throws -> String {
        let real = CommandRunner.path("tradingbot")
        var app = "#!/bin/sh\nREAL='\(real)'\n"
        switch variant {
        case .selfcheckFails:
            app +=
                "if [ \"$1\" = selfcheck ]; then echo '{\"ok\": false, \"checks\": [{\"name\": \"config\", \"ok\": false, \"detail\": \"broken on purpose\"}]}'; exit 1; fi\n"
        case .seesNoTrades:
            app +=
                "if [ \"$1\" = report ]; then shift; exec \(real) report --config \"$(dirname \"$0\")/../wrongyear.json\" \"$@\"; fi\n"
        case .dropsUnknownFields:
            app += """
                if [ "$1" = roundtrip ]; then \(real) "$@" || exit 1
                python3 -c "import json,sys; p=sys.argv[1]; d=json.load(open(p)); [r.pop('signal_ctx', None) for r in d['closed_positions']]; json.dump(d, open(p, 'w'))" "$5"; exit $?; fi

                """
        case .crashesOnRun: app += "if [ \"$1\" = run ]; then echo 'fatal: crashed on start' >&2; exit 1; fi\n"
        case .dashboardFails:
            app += "if [ \"$1\" = dashboard ]; then echo 'fatal: the dashboard cannot bind' >&2; exit 1; fi\n"
        case .neverBeats: app += "if [ \"$1\" = run ]; then exec sleep 3600; fi\n"
        case .hangingSelfcheck: app += "if [ \"$1\" = selfcheck ]; then exec sleep 301; fi\n"
        case .hangingDashboard: app += "if [ \"$1\" = dashboard ]; then exec sleep 302; fi\n"
        case .hangingReplay: app += "if [ \"$1\" = replay ]; then exec sleep 303; fi\n"
        case .hangsAfterTenCycles:
            // Ten real cycles, then the process stays up but never beats again.
            app += "if [ \"$1\" = run ]; then \(real) \"$@\" --max-cycles 10; exec sleep 3600; fi\n"
        case .errorsOnFlag:
            // Healthy until the test drops a flag; then every cycle fails (fresh heartbeats with
            // rising consecutive errors, from a living process).
            app += """
                if [ "$1" = run ] && [ -e "$3/state/fail-every-cycle" ]; then
                n=0; while true; do n=$((n+1)); printf '{"pid": %d, "release": "%s", "cycle": %d, "phase": "error", "written_at": "%s", "symbols_evaluated": 0, "signals_evaluated": 0, "consecutive_errors": %d, "last_error": "exchange down"}' $$ "$(cat "$3/slots/current/.release")" $n "$(date -u +%Y-%m-%dT%H:%M:%SZ)" $n > "$3/state/heartbeat.json"; sleep 1; done; fi

                """
        case .freezesOnFlag:
            // Healthy until the test drops a flag; then a living process cycles and evaluates
            // signals, but no price changes after its start (a feed that froze).
            app += """
                if [ "$1" = run ] && [ -e "$3/state/freeze-feed" ]; then
                start=$(date -u +%Y-%m-%dT%H:%M:%SZ); n=0; while true; do n=$((n+1)); now=$(date -u +%Y-%m-%dT%H:%M:%SZ); printf '{"pid": %d, "release": "%s", "cycle": %d, "phase": "idle", "written_at": "%s", "symbols_evaluated": 16, "signals_evaluated": 160, "consecutive_errors": 0, "last_signals_at": "%s", "last_price_change_at": "%s"}' $$ "$(cat "$3/slots/current/.release")" $n "$now" "$now" "$start" > "$3/state/heartbeat.json.tmp"; mv "$3/state/heartbeat.json.tmp" "$3/state/heartbeat.json"; sleep 1; done; fi

                """
        case .noSignals:
            app += """
                if [ "$1" = run ]; then
                start=$(date -u +%Y-%m-%dT%H:%M:%SZ); n=0; while true; do n=$((n+1)); now=$(date -u +%Y-%m-%dT%H:%M:%SZ); printf '{"pid": %d, "release": "%s", "cycle": %d, "phase": "idle", "written_at": "%s", "symbols_evaluated": 16, "signals_evaluated": 0, "consecutive_errors": 0, "started_at": "%s", "last_signals_at": null, "last_price_change_at": null}' $$ "$(cat "$3/slots/current/.release")" $n "$now" "$start" > "$3/state/heartbeat.json.tmp"; mv "$3/state/heartbeat.json.tmp" "$3/state/heartbeat.json"; sleep 1; done; fi

                """
        case .olderConfig:
            app += #"""
                h=""; prev=""; for a in "$@"; do [ "$prev" = --home ] && h=$a; prev=$a; done
                if [ -n "$h" ] && [ "$1" != roundtrip ]; then python3 - "$h/config/bot.json" "$1" <<'PY' || exit $?
                import json, sys
                path, command = sys.argv[1:3]
                if "exposure_basis" not in (json.load(open(path)).get("risk") or {}):
                    sys.exit(0)
                said = path + ': field "risk.exposure_basis": is not a known key; allowed keys: max_positions, max_symbol_fraction'
                if command == "selfcheck":
                    print(json.dumps({"ok": False, "checks": [{"name": "config", "ok": False, "detail": said}]}))
                    sys.exit(1)
                print("error: " + said, file=sys.stderr)
                sys.exit(2)
                PY
                fi

                """#
        case .higherThreshold:
            app += #"""
                h=""; prev=""; for a in "$@"; do [ "$prev" = --home ] && h=$a; prev=$a; done
                if [ "$1" = replay ] && [ -n "$h" ]; then
                t="$h/state/higher-threshold.json"
                python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d.setdefault("strategy", {})["entry_threshold"]=0.6; json.dump(d, open(sys.argv[2], "w"))' "$h/config/bot.json" "$t"
                exec "$REAL" "$@" --config "$t"
                fi

                """#
        case .beforeScaling:
            app += #"""
                h=""; prev=""; for a in "$@"; do [ "$prev" = --home ] && h=$a; prev=$a; done
                if [ -n "$h" ] && [ "$1" != roundtrip ]; then python3 - "$h/config/bot.json" "$1" <<'PY' || exit $?
                import json, sys
                path, command = sys.argv[1:3]
                if "scaling" not in (json.load(open(path)).get("risk") or {}):
                    sys.exit(0)
                said = path + ': field "risk.scaling": is not a known key; allowed keys: max_positions, max_symbol_fraction'
                if command == "selfcheck":
                    print(json.dumps({"ok": False, "checks": [{"name": "config", "ok": False, "detail": said}]}))
                    sys.exit(1)
                print("error: " + said, file=sys.stderr)
                sys.exit(2)
                PY
                fi
                if [ "$1" = selfcheck ]; then
                out=$("$REAL" "$@"); rc=$?
                printf '%s' "$out" | python3 -c 'import json,sys; t=sys.stdin.read(); d=json.loads(t[t.index("{"):]); d["checks"]=[c for c in d["checks"] if c.get("name")!="scaling"]; print(json.dumps(d))'
                exit $rc
                fi

                """#
        case .good, .doesNotBuild, .slowBuild, .hangingBuild: break
        }
        app += "exec \(real) \"$@\"\n"
        try repo.write("app.sh", app, executable: true)
        // The build writes down its environment, so a test can see which secrets reached it.
        // It also leaves an intermediate and a line per build in its build folder, as a compiler
        // would: a test can see where each release was built.
        var build =
            "set -e\nenv > \"$TRADINGBOT_HOME/state/build-env.txt\"\nmkdir -p bin .build\ncp app.sh bin/tradingbot\nchmod +x bin/tradingbot\n"
            + "echo built >> .build/builds\necho object > .build/app.o\n"
        if variant == .doesNotBuild { build = "echo 'error: expected expression' >&2\nexit 1\n" }
        if variant == .slowBuild { build = "sleep 1\n" + build }
        if variant == .hangingBuild { build = "sleep 300\n" + build }
        try repo.write("build.sh", build + "# \(message)\n")
        return try repo.commit(message)
    }

    /// A real HTTP server taking the watchdog's alerts: its URL goes in the home's secrets.env
    /// (0600), the way the operator sets it.
    func webhook() throws -> WebhookServer {
        let server = try WebhookServer()
        let secrets = home + "/config/secrets.env"
        try Fixtures.write("TRADINGBOT_ALERT_WEBHOOK=\(server.url("/alert/DRILLTOKEN"))\n", to: secrets)
        chmod(secrets, 0o600)
        return server
    }

    /// What must hold after every drill, whatever it did: every closed trade of the sample still
    /// in the positions file, exactly one engine holding engine.lock (the heartbeat's, alive), and
    /// `deployctl status` naming the slot and the ledger's state truthfully. Returns what does not.
    func invariantProblems() throws -> [String] {
        var problems: [String] = []
        let sample = try PositionsStore(path: Fixtures.samplePositions, lockPath: root + "/sample.lock").load()
        let now = try PositionsStore(home: Home(root: home)).load()
        func key(_ p: Position) -> String { "\(p.symbol)|\(p.openedAt?.instant.microseconds ?? 0)" }
        let kept = Set(now.closed.map(key))
        let lost = sample.closed.filter { !kept.contains(key($0)) }
        if !lost.isEmpty { problems.append("\(lost.count) closed trades of the sample are gone") }

        let lock = home + "/state/engine.lock"
        var info = stat()
        if stat(lock, &info) == 0 {
            let table = (try? String(contentsOfFile: "/proc/locks", encoding: .utf8)) ?? ""
            let holders = table.split(separator: "\n").filter {
                let f = $0.split(separator: " ", omittingEmptySubsequences: true)
                return f.count >= 6 && !f.contains("->") && f[1] == "FLOCK" && f[5].hasSuffix(":\(info.st_ino)")
            }
            if holders.count != 1 { problems.append("\(holders.count) holders of engine.lock") }
        } else {
            problems.append("no engine.lock")
        }
        if let beat = heartbeat, kill(Int32(beat.pid), 0) != 0 {
            problems.append("the heartbeat's pid \(beat.pid) is not alive")
        }

        let status = try CommandRunner.run("deployctl", ["status", "--home", home, "--json"])
        let json = (try? status.json()) ?? [:]
        let active = json["active"] as? [String: Any]
        if active?["slot"] as? String != self.active {
            problems.append("status names slot \(active?["slot"] ?? "none")")
        }
        let liveID = self.active.flatMap { Slots(home: Home(root: home)).releaseID($0) }
        let ledgerState = try releases().last { $0.id == liveID }?.state
        if active?["state"] as? String != ledgerState {
            problems.append("status says \(active?["state"] ?? "nil"), the ledger \(ledgerState ?? "nil")")
        }
        return problems
    }

    /// Rewrites one section of deploy.json (what an operator does with an editor).
    func setDeploy(_ key: String, _ value: JSONValue) throws {
        var config = try JSONValue.parse(try FileIO.read(deploy)).objectValue ?? JSONObject()
        var section = config[key]?.objectValue ?? JSONObject()
        for field in value.objectValue?.fields ?? [] { section[field.key] = field.value }
        config[key] = .object(section)
        try Fixtures.write(JSONValue.object(config).serialized(indent: 2), to: deploy)
    }

    /// Starts `deployctl release` without waiting for it (for a test that kills it).
    func startRelease(_ extra: [String] = []) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandRunner.path("deployctl"))
        process.arguments = ["release", "--home", home, "--json"] + extra
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Starts a release, waits for a hung child of it (`marker`, its command line) and sends
    /// deployctl `sig`; returns once deployctl has ended. False when the child never started.
    func interruptRelease(at marker: String, with sig: Int32, _ extra: [String] = []) throws -> Bool {
        let process = try startRelease(extra)
        let started = waitUntil(seconds: 120) { !Self.processes(marker).isEmpty }
        kill(process.processIdentifier, sig)
        process.waitUntilExit()
        return started
    }

    /// One run of the guard copy's watchdog.
    func watchdogOnce() throws {
        _ = try CommandRunner.execute(home + "/bin/deployctl", ["watchdog", "--once", "--home", home])
    }

    func release(_ extra: [String] = []) throws -> CommandRunner.Output {
        try CommandRunner.run("deployctl", ["release", "--home", home, "--json"] + extra)
    }

    var active: String? { Slots(home: Home(root: home)).active() }
    var heartbeat: Heartbeat? { try? HeartbeatStore(home: Home(root: home)).read() }
    func releases() throws -> [ReleaseRecord] { try Ledger(path: home + "/state/releases.jsonl").releases() }

    /// Waits until the engine's heartbeat names `release` and is idle.
    func waitForBeat(of release: String, seconds: Double = 15) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let beat = heartbeat, beat.release == release, beat.phase == "idle" { return true }
            usleep(100_000)
        }
        return false
    }

    func shutdown() {
        SupervisorManager(home: Home(root: home), binary: "bin/tradingbot").shutdown()
    }

    var supervisor: SupervisorManager { SupervisorManager(home: Home(root: home), binary: "bin/tradingbot") }

    /// Replaces a slot's binary with one whose `run` leaves an old healthy-looking heartbeat of
    /// `release` (idle, no errors, written long ago, by a living pid) and then hangs: only a
    /// probation that checks freshness can tell it from a healthy engine.
    func staleBeatsInSlot(_ slot: String, release: String) throws {
        let path = home + "/slots/\(slot)/bin/tradingbot"
        let real = try String(contentsOfFile: path, encoding: .utf8)
        let beat =
            #"{"pid": PID, "release": "\#(release)", "cycle": 7, "phase": "idle", "written_at": "2020-01-01T00:00:00Z", "symbols_evaluated": 1, "signals_evaluated": 1, "consecutive_errors": 0}"#
        let run =
            "if [ \"$1\" = run ]; then echo '\(beat)' | sed \"s/PID/$$/\" > '\(home)/state/heartbeat.json'; exec sleep 3600; fi\n"
        try Fixtures.write(real.replacingOccurrences(of: "#!/bin/sh\n", with: "#!/bin/sh\n" + run), to: path)
        chmod(path, 0o755)
    }

    /// Processes whose working directory is inside the slots or the build workspace (a build or
    /// check still running).
    func processesInSlots() -> [String] {
        Self.running().filter {
            $0.cwd?.hasPrefix(home + "/slots/") == true || $0.cwd?.hasPrefix(home + "/workspace") == true
        }.map { "\($0.pid): \($0.command)" }
    }

    /// Processes whose command line is exactly `command` (a marker no other test runs).
    static func processes(_ command: String) -> [Int32] {
        running().filter { $0.command.trimmingCharacters(in: .whitespaces) == command }.map(\.pid)
    }

    /// Every process in /proc: its pid, working directory (when readable) and command line.
    static func running() -> [(pid: Int32, cwd: String?, command: String)] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry in
            guard let pid = Int32(entry) else { return nil }
            let cmdline = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(entry)/cmdline"))) ?? Data()
            return (
                pid, try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/cwd"),
                String(decoding: cmdline.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            )
        }
    }

    /// The environment of a running process, as NAME=value lines.
    static func environment(of pid: Int) -> [String] {
        let bytes = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ"))) ?? Data()
        return bytes.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }
}

@Suite(.serialized) struct ReleaseDrillTests {
    @Test(.timeLimit(.minutes(20))) func badCandidatesAreRefusedBeforeTheFlipWithTheLiveSlotUntouched() throws {
        let drill = try ReleaseDrill()
        defer { drill.shutdown() }
        // The operator's shell holds secrets: none of them reaches the build, supervisord or the engine.
        let secrets = ["TRADINGBOT_GIT_TOKEN": "tok-DRILL-1", "BLOFIN_API_SECRET": "sec-DRILL-2"]
        let first = try CommandRunner.run(
            "deployctl", ["release", "--home", drill.home, "--json"], environment: secrets)
        #expect(first.status == 0, "\(first.stdout)")
        let good = try #require(try first.json()["release"] as? String)
        let buildEnv = try String(contentsOfFile: drill.home + "/state/build-env.txt", encoding: .utf8)
        #expect(buildEnv.contains("TRADINGBOT_HOME=") && !buildEnv.contains("DRILL-"), "a secret reached the build")
        #expect(drill.waitForBeat(of: good))
        let engineEnv = ReleaseDrill.environment(of: try #require(drill.heartbeat?.pid))
        #expect(!engineEnv.isEmpty && !engineEnv.contains { $0.contains("DRILL-") }, "a secret reached the engine")
        #expect(try first.json()["state"] as? String == "good")
        #expect(drill.active == "A")
        #expect(drill.waitForBeat(of: good))
        let livePid = drill.heartbeat?.pid

        let cases: [(ReleaseDrill.Variant, String, String)] = [
            (.doesNotBuild, "build", "expected expression"),
            (.selfcheckFails, "checks", "broken on purpose"),
            (.seesNoTrades, "checks", "sees no trades after the wallet reset"),
            (.dashboardFails, "checks", "the dashboard cannot bind"),
            (.dropsUnknownFields, "checks", "lost field \"signal_ctx\""),
        ]
        for (variant, step, phrase) in cases {
            try drill.use(variant, "\(variant)")
            // Started with SIGCHLD ignored, a failing build must still fail (not "pass" because
            // the kernel reaped it before deployctl could ask).
            let out =
                variant == .doesNotBuild
                ? try CommandRunner.execute(
                    "/bin/sh",
                    [
                        "-c", "trap '' CHLD; exec \"$0\" release --home \"$1\" --json", CommandRunner.path("deployctl"),
                        drill.home,
                    ])
                : try drill.release()
            #expect(out.status == 1, "\(variant): \(out.stdout)")
            let message = try out.json()["message"] as? String ?? ""
            #expect(message.contains("step \(step) failed") && message.contains(phrase), "\(variant): \(message)")
            #expect(message.contains("Nothing live changed"))
            #expect(drill.active == "A", "\(variant) flipped")
            #expect(
                drill.heartbeat?.release == good && drill.heartbeat?.pid == livePid, "\(variant) touched the engine")
            #expect(try drill.releases().last?.state == "failed")
        }
        // `deployctl check` runs the same checks without flipping: the live slot passes, the slot
        // holding the field-dropping build does not.
        let live = try CommandRunner.run("deployctl", ["check", "--home", drill.home, "--json"])
        #expect(live.status == 0, "\(live.stdout)")
        let names = (try live.json()["checks"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(names.contains("selfcheck") && names.contains("report_agrees") && names.contains("roundtrip"))
        #expect(names.contains("data.wallet_reset_window"))
        let other = try CommandRunner.run("deployctl", ["check", "--home", drill.home, "--slot", "B"])
        #expect(other.status == 1 && other.stdout.contains("FAIL roundtrip"))
        let history = try CommandRunner.run("deployctl", ["history", "--home", drill.home, "--json"])
        #expect((try history.json()["releases"] as? [Any])?.count == 6)
    }

    @Test(.timeLimit(.minutes(20))) func crashingOrSilentReleasesAreRolledBack() throws {
        let drill = try ReleaseDrill(probationTimeout: 6)
        defer { drill.shutdown() }
        let first = try drill.release()
        let good = try #require(try first.json()["release"] as? String)
        #expect(first.status == 0)
        func steps(_ out: CommandRunner.Output) throws -> [String] {
            (try out.json()["steps"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        }
        #expect(try steps(first) == ["git", "build", "decisions", "flip", "restart", "probation"])

        let crashSha = try drill.use(.crashesOnRun, "crash")
        let crash = try drill.release()
        #expect(crash.status == 1)
        #expect(try crash.json()["state"] as? String == "bad")
        #expect((try crash.json()["message"] as? String)?.contains("Rolled back to \(good)") == true, "\(crash.stdout)")
        let crashSteps = try steps(crash)
        #expect(crashSteps.suffix(2) == ["restart", "rollback"], "\(crashSteps)")
        #expect(drill.active == "A")
        #expect(drill.waitForBeat(of: good), "the good release runs again")

        try drill.use(.neverBeats, "silent")
        let silent = try drill.release()
        #expect(silent.status == 1)
        let message = try silent.json()["message"] as? String ?? ""
        #expect(message.contains("probation failed") && message.contains("0 of 2 healthy cycles"), "\(message)")
        #expect(drill.active == "A")
        #expect(drill.waitForBeat(of: good))

        // An engine that beats, idle and error-free, but never evaluates a signal does not trade:
        // it is rolled back (before, it passed probation and the watchdog restarted it for ever).
        try drill.use(.noSignals, "no signals")
        let quiet = try drill.release()
        #expect(quiet.status == 1, "\(quiet.stdout)")
        let quietMessage = try quiet.json()["message"] as? String ?? ""
        // On a busy machine the 6 s timeout may come before the third quiet cycle.
        #expect(
            quietMessage.contains("evaluates no signal") || quietMessage.contains("0 of 2 healthy cycles"),
            "\(quietMessage)")
        #expect(drill.active == "A")
        #expect(drill.waitForBeat(of: good))

        // The crashing sha is marked bad: releasing it again needs --force.
        try drill.repo.git("reset", "-q", "--hard", crashSha)
        let again = try drill.release()
        #expect(again.status == 1)
        #expect((try again.json()["message"] as? String)?.contains("marked bad") == true)
        let states = try drill.releases().map(\.state)
        #expect(states == ["good", "bad", "bad", "bad", "failed"])
        // With --force it is built and tried again; crashing again, it is rolled back again.
        let forced = try drill.release(["--force"])
        #expect(forced.status == 1)
        let forcedMessage = try forced.json()["message"] as? String ?? ""
        #expect(
            !forcedMessage.contains("marked bad by release") && forcedMessage.contains("Rolled back"),
            "\(forcedMessage)")
        #expect(try drill.releases().map(\.state) == ["good", "bad", "bad", "bad", "failed", "bad"])
        #expect(drill.active == "A")
    }

    @Test(.timeLimit(.minutes(20))) func rollbackGoesToTheLastGoodReleaseAndTheLockIsExclusive() throws {
        let drill = try ReleaseDrill()
        defer { drill.shutdown() }
        let v1 = try #require(try drill.release().json()["release"] as? String)
        try drill.use(.good, "v2")
        let second = try drill.release()
        #expect(second.status == 0)
        let v2 = try #require(try second.json()["release"] as? String)
        #expect(drill.active == "B")
        #expect(drill.waitForBeat(of: v2))

        // A ref that is not there fails at git and leaves the other slot's release whole.
        let typo = try drill.release(["--ref", "no-such-branch"])
        let typoMessage = try typo.json()["message"] as? String ?? ""
        #expect(
            typo.status == 1 && typoMessage.contains("never pushed") && typoMessage.contains("Nothing live changed"))
        #expect(Slots(home: Home(root: drill.home)).releaseID("A") == v1)

        let back = try CommandRunner.run("deployctl", ["rollback", "--home", drill.home, "--json"])
        #expect(back.status == 0, "\(back.stdout)")
        #expect(try back.json()["release"] as? String == v1)
        #expect(drill.active == "A")
        #expect(drill.waitForBeat(of: v1))
        #expect(try drill.releases().first { $0.id == v2 }?.state == "rolled_back")
        // Nothing good left in the other slot: a second rollback changes nothing.
        let none = try CommandRunner.run("deployctl", ["rollback", "--home", drill.home])
        #expect(none.status == 1 && none.stdout.contains("Nothing changed"))

        let lock = try FileLock.acquire(drill.home + "/state/deploy.lock", holder: "pid 4242 releasing main (test)")
        let blocked = try drill.release()
        #expect(blocked.status == 3)
        #expect((try blocked.json()["message"] as? String)?.contains("pid 4242") == true)
        lock.release()

        let status = try CommandRunner.run("deployctl", ["status", "--home", drill.home, "--json"])
        let json = try status.json()
        #expect((json["active"] as? [String: Any])?["release"] as? String == v1)
        #expect((json["heartbeat"] as? [String: Any])?["release"] as? String == v1)
        #expect((json["service"] as? String)?.contains("RUNNING") == true)

        let doctor = try CommandRunner.run("deployctl", ["doctor", "--home", drill.home, "--json"])
        #expect(doctor.status == 0, "\(doctor.stdout)")
        let names = (try doctor.json()["checks"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(
            names == [
                "config", "libgit2", "service_manager", "slots", "guard", "engine", "heartbeat", "positions",
                "secrets", "dashboard", "recording", "disk", "units", "watchdog", "boot", "config_compat", "clock",
                "locks",
                "build_tool",
            ])
        // The engine stopped by hand: doctor and status say nothing trades, and how to start it.
        let conf = drill.home + "/deploy/supervisord.conf"
        #expect(try CommandRunner.execute("/usr/bin/supervisorctl", ["-c", conf, "stop", "tradingbot"]).status == 0)
        let stopped = try CommandRunner.run("deployctl", ["doctor", "--home", drill.home])
        #expect(stopped.status == 1, "\(stopped.stdout)")
        #expect(
            stopped.stdout.contains("FAIL engine") && stopped.stdout.contains("NOTHING IS TRADING")
                && stopped.stdout.contains("start tradingbot"), "\(stopped.stdout)")
        let stoppedStatus = try CommandRunner.run("deployctl", ["status", "--home", drill.home, "--json"])
        #expect(stoppedStatus.status == 1)
        #expect(
            (try stoppedStatus.json()["problems"] as? [String])?.contains { $0.contains("the engine is not running") }
                == true, "\(stoppedStatus.stdout)")
        #expect(try CommandRunner.execute("/usr/bin/supervisorctl", ["-c", conf, "start", "tradingbot"]).status == 0)
        // Releases in the ledger but no live slot: not "no release yet", and the commands to fix it.
        let current = drill.home + "/slots/current"
        let target = try FileManager.default.destinationOfSymbolicLink(atPath: current)
        try FileManager.default.removeItem(atPath: current)
        let noSlot = try CommandRunner.run("deployctl", ["doctor", "--home", drill.home])
        #expect(noSlot.status == 1 && noSlot.stdout.contains("FAIL slots"), "\(noSlot.stdout)")
        #expect(noSlot.stdout.contains("NOTHING IS TRADING") && noSlot.stdout.contains("deployctl rollback --home"))
        #expect(try CommandRunner.run("deployctl", ["status", "--home", drill.home]).status == 1)
        try FileManager.default.createSymbolicLink(atPath: current, withDestinationPath: target)
        // A guard copy gone (a home made before it existed) is found, and install-units puts it back.
        try FileManager.default.removeItem(atPath: drill.home + "/bin/deployctl")
        let noGuard = try CommandRunner.run("deployctl", ["doctor", "--home", drill.home])
        #expect(noGuard.status == 1 && noGuard.stdout.contains("FAIL guard"), "\(noGuard.stdout)")
        #expect(
            try CommandRunner.run("deployctl", ["install-units", "--home", drill.home, "--supervisor"]).status == 0)
        #expect(FileManager.default.isExecutableFile(atPath: drill.home + "/bin/deployctl"))
        // A binary gone from the live slot is found.
        try FileManager.default.removeItem(atPath: drill.home + "/slots/A/bin/tradingbot")
        let broken = try CommandRunner.run("deployctl", ["doctor", "--home", drill.home])
        #expect(broken.status == 1 && broken.stdout.contains("FAIL slots"))
    }

    @Test(.timeLimit(.minutes(20))) func sigkillOfDeployctlAtAnyStepLeavesCurrentValid() throws {
        let drill = try ReleaseDrill()
        defer { drill.shutdown() }
        #expect(try drill.release().status == 0)
        try drill.use(.slowBuild, "slow build")
        // A kill after the flip leaves the live release on probation, and no release builds over
        // its way back until it has a verdict: the watchdog gives it (the drills run it themselves).
        func liveUnproven() throws -> Bool {
            let live = drill.active.flatMap { Slots(home: Home(root: drill.home)).releaseID($0) }
            let state = try drill.releases().last { $0.id == live }?.state
            return state == "probation" || state == "flipped"
        }
        func giveTheVerdict() throws {
            let verdict = Date().addingTimeInterval(90)
            while try liveUnproven(), Date() < verdict {
                _ = try CommandRunner.run("deployctl", ["watchdog", "--once", "--home", drill.home])
                sleep(1)
            }
            #expect(try !liveUnproven(), "the watchdog gives the killed release its verdict")
        }
        var hit: [String] = []
        for delay in [0.05, 0.3, 0.8, 1.2, 1.6, 2.2, 3.0, 4.0] {
            let process = try drill.startRelease()
            usleep(useconds_t(delay * 1_000_000))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            if let last = try drill.releases().last {
                let step = last.steps.last?.objectValue?["name"]?.stringValue ?? "-"
                hit.append("\(delay) s: \(last.state) after \(step)")
            }
            let active = try #require(drill.active, "current is missing after a kill at \(delay) s")
            #expect(
                FileManager.default.isExecutableFile(atPath: drill.home + "/slots/\(active)/bin/tradingbot"),
                "current points at a slot without a binary after a kill at \(delay) s")
            // A slot names a release only once its checkout, build and checks are complete.
            let other = active == "A" ? "B" : "A"
            if let named = Slots(home: Home(root: drill.home)).releaseID(other) {
                let state = try drill.releases().last { $0.id == named }?.state ?? "missing"
                #expect(
                    !["started", "building", "checking", "missing"].contains(state)
                        && FileManager.default.isExecutableFile(atPath: drill.home + "/slots/\(other)/bin/tradingbot"),
                    "slot \(other) names \(named) (\(state)) after a kill at \(delay) s")
            }
            try giveTheVerdict()
        }
        let status = try CommandRunner.run("deployctl", ["status", "--home", drill.home, "--json"])
        #expect(try status.json()["deploy_lock"] is NSNull, "a killed release's lock is not reported as held")
        #expect(Set(hit.map { $0.split(separator: ":")[1] }).count >= 2, "the kills hit several steps: \(hit)")
        // A kill in the middle of a build: the build keeps running until the next deployctl
        // takes the lock, which ends it before it touches the slot.
        try drill.use(.hangingBuild, "hangs")
        let hanging = try drill.startRelease()
        let building = Date().addingTimeInterval(60)
        while Date() < building && !drill.processesInSlots().contains(where: { $0.contains("sleep 300") }) {
            usleep(100_000)
        }
        #expect(drill.processesInSlots().contains { $0.contains("sleep 300") }, "the build started")
        kill(hanging.processIdentifier, SIGKILL)
        hanging.waitUntilExit()
        #expect(drill.processesInSlots().contains { $0.contains("sleep 300") }, "SIGKILL cannot end the build itself")
        // Ctrl-C is different: deployctl ends its build's whole group on the way out.
        let orphans = Set(drill.processesInSlots().filter { $0.contains("sleep 300") })
        let interrupted = try drill.startRelease(["--wait", "30"])
        let second = Date().addingTimeInterval(60)
        func ownBuildRuns() -> Bool {
            drill.processesInSlots().contains { $0.contains("sleep 300") && !orphans.contains($0) }
        }
        while Date() < second && !ownBuildRuns() { usleep(100_000) }
        #expect(ownBuildRuns(), "the interrupted release's build started")
        kill(interrupted.processIdentifier, SIGINT)
        interrupted.waitUntilExit()
        let gone = Date().addingTimeInterval(20)
        while Date() < gone && !drill.processesInSlots().isEmpty { usleep(100_000) }
        #expect(drill.processesInSlots().isEmpty, "after Ctrl-C: \(drill.processesInSlots())")
        try drill.use(.slowBuild, "after the hang")
        let final = try drill.release(["--wait", "10"])
        #expect(final.status == 0, "the next release recovers: \(final.stdout)")
        #expect(try final.json()["state"] as? String == "good")
        #expect(drill.processesInSlots().isEmpty, "left running by a killed release: \(drill.processesInSlots())")
        let abandoned = try drill.releases().filter { $0.state == "building" || $0.state == "checking" }
        #expect(abandoned.isEmpty, "releases left mid-way are marked failed: \(abandoned.map(\.id))")
        print("SIGKILL drill hit: \(hit.joined(separator: "; "))")
    }

    /// The candidate's own checks (its selfcheck, its dashboard) do not outlive deployctl: after a
    /// SIGKILL the next holder of the deploy lock ends them, after Ctrl-C deployctl ends them itself.
    @Test(.timeLimit(.minutes(20))) func aKilledReleaseLeavesNoCheckRunning() throws {
        let drill = try ReleaseDrill()
        defer { drill.shutdown() }
        #expect(try drill.release().status == 0)
        // Build logs can quote configuration and paths: the operator's to read only.
        func mode(_ path: String) -> mode_t {
            var info = stat()
            return stat(path, &info) == 0 ? info.st_mode & 0o777 : 0o7777
        }
        let logs = drill.home + "/logs/deploy"
        #expect(mode(logs) == 0o700)
        let built = try FileManager.default.contentsOfDirectory(atPath: logs)
        #expect(!built.isEmpty && built.allSatisfy { mode(logs + "/" + $0) == 0o600 }, "\(built)")
        #expect(mode(drill.home + "/state/releases.jsonl") == 0o600)
        try drill.use(.hangingSelfcheck, "hanging selfcheck")
        #expect(try drill.interruptRelease(at: "sleep 301", with: SIGKILL), "the selfcheck started")
        #expect(!ReleaseDrill.processes("sleep 301").isEmpty, "SIGKILL cannot end the check itself")
        // The watchdog's next run ends it, without waiting for another release to take the lock.
        try drill.watchdogOnce()
        #expect(
            waitUntil(seconds: 30) { ReleaseDrill.processes("sleep 301").isEmpty },
            "the watchdog ends what a killed deployctl left running")
        let said = (try? String(contentsOfFile: drill.home + "/logs/watchdog.jsonl", encoding: .utf8)) ?? ""
        #expect(said.contains("ended what a killed deployctl left running"), "\(said)")
        #expect(!FileIO.exists(drill.home + "/state/deploy.children"))
        #expect(try drill.interruptRelease(at: "sleep 301", with: SIGKILL), "the selfcheck started again")

        try drill.use(.hangingDashboard, "hanging dashboard")
        let interrupted = try drill.startRelease(["--wait", "30"])
        #expect(
            waitUntil(seconds: 60) { ReleaseDrill.processes("sleep 301").isEmpty },
            "the next holder of the lock ends the killed run's selfcheck")
        #expect(
            waitUntil(seconds: 120) { !ReleaseDrill.processes("sleep 302").isEmpty }, "the dashboard check started")
        kill(interrupted.processIdentifier, SIGINT)
        interrupted.waitUntilExit()
        #expect(
            waitUntil(seconds: 20) { ReleaseDrill.processes("sleep 302").isEmpty },
            "Ctrl-C ends the candidate's dashboard: \(ReleaseDrill.processes("sleep 302"))")
        for pid in ReleaseDrill.processes("sleep 301") + ReleaseDrill.processes("sleep 302") { kill(pid, SIGKILL) }
        #expect(drill.active == "A", "nothing went live")

        // The decision diff's replays are tracked like the checks: a SIGKILLed release's hung
        // candidate replay is ended by the watchdog's next run, a Ctrl-C ends it at once.
        try drill.use(.hangingReplay, "hanging replay")
        #expect(
            try drill.interruptRelease(at: "sleep 303", with: SIGKILL, ["--wait", "30"]),
            "the candidate's replay started")
        #expect(!ReleaseDrill.processes("sleep 303").isEmpty, "SIGKILL cannot end the replay itself")
        try drill.watchdogOnce()
        #expect(
            waitUntil(seconds: 30) { ReleaseDrill.processes("sleep 303").isEmpty },
            "the watchdog ends the killed release's replay")
        #expect(
            try drill.interruptRelease(at: "sleep 303", with: SIGINT, ["--wait", "30"]), "the replay started again")
        #expect(
            waitUntil(seconds: 20) { ReleaseDrill.processes("sleep 303").isEmpty }, "Ctrl-C ends the candidate's replay"
        )
        for pid in ReleaseDrill.processes("sleep 303") { kill(pid, SIGKILL) }
        #expect(drill.active == "A", "nothing went live")
    }

    @Test(.timeLimit(.minutes(20))) func afterTheFlipALedgerThatCannotBeWrittenStillEndsOnTheGoodEngine() throws {
        let drill = try ReleaseDrill(probationTimeout: 15)
        defer { drill.shutdown() }
        let first = try drill.release()
        let good = try #require(try first.json()["release"] as? String)
        #expect(drill.waitForBeat(of: good))
        let goodPid = drill.heartbeat?.pid
        try drill.use(.good, "v2")
        // The disk fills right after the restart: the move to probation cannot be written.
        let home = Home(root: drill.home)
        let ledger = FullDiskLedger(path: home.releasesLedger, fullFrom: "probation")
        let pipeline = ReleasePipeline(
            home: home, config: try ConfigFiles.deploy(drill.deploy), manager: drill.supervisor,
            progress: SilentProgress(), now: { WallClock.now }, ledger: ledger)
        let outcome = pipeline.run(ReleasePipeline.Options())
        #expect(outcome.exitCode == 1)
        #expect(!outcome.message.contains("Nothing live changed"), "\(outcome.message)")
        #expect(outcome.message.contains("Rolled back to \(good)"), "\(outcome.message)")
        #expect(outcome.message.contains("could not record"), "the unwritten ledger is reported: \(outcome.message)")
        #expect(drill.active == "A")
        #expect(drill.waitForBeat(of: good) && drill.heartbeat?.pid != goodPid, "a fresh engine of the good release")
    }

    @Test(.timeLimit(.minutes(20))) func aFailedCandidateGoesBackToAReleaseNeverMarkedGoodAndNeverFakesHealth() throws {
        let drill = try ReleaseDrill(probationTimeout: 8)
        defer { drill.shutdown() }
        // Detached: on probation for ever (no watchdog), but trading fine.
        let first = try drill.release(["--detach"])
        #expect(first.status == 0, "\(first.stdout)")
        let v1 = try #require(try first.json()["release"] as? String)
        #expect(try drill.releases().last?.state == "probation")
        #expect(drill.waitForBeat(of: v1))

        try drill.use(.crashesOnRun, "crash")
        let crash = try drill.release()
        #expect(crash.status == 1)
        let message = try crash.json()["message"] as? String ?? ""
        #expect(message.contains("Rolled back to \(v1)"), "\(message)")
        #expect(drill.active == "A")
        #expect(drill.waitForBeat(of: v1), "the release that traded before runs again")

        // The release to go back to is broken on disk: it hangs, leaving an old idle heartbeat of
        // its release. That must not pass for a healthy engine, and the message says nothing is
        // proven to trade.
        try drill.staleBeatsInSlot("A", release: v1)
        try drill.use(.crashesOnRun, "crash again")
        let twice = try drill.release()
        #expect(twice.status == 1)
        let told = try twice.json()["message"] as? String ?? ""
        #expect(told.contains("Going back to \(v1) in slot A FAILED"), "\(told)")
        #expect(told.contains("NOTHING IS PROVEN TO BE TRADING") && told.contains("Live now: slots/current -> A"))
        let doctor = try CommandRunner.run("deployctl", ["doctor", "--home", drill.home])
        #expect(doctor.status == 1 && doctor.stdout.contains("FAIL heartbeat"), "\(doctor.stdout)")
        let status = try CommandRunner.run("deployctl", ["status", "--home", drill.home])
        #expect(
            status.status == 1 && status.stdout.contains("PROBLEM") && status.stdout.contains("stalled"),
            "\(status.stdout)")
    }

    @Test(.timeLimit(.minutes(20))) func aFailingFirstReleaseStopsTheEngineKeepsTheSlotAndSaysSo() throws {
        let drill = try ReleaseDrill(probationTimeout: 6)
        defer { drill.shutdown() }
        try drill.use(.crashesOnRun, "crash first")
        let out = try drill.release()
        #expect(out.status == 1)
        let message = try out.json()["message"] as? String ?? ""
        #expect(
            message.contains("NOTHING IS TRADING") && message.contains("slots/current stays on slot A"), "\(message)")
        #expect(drill.active == "A", "kept for inspection")
        #expect(!drill.supervisor.health().running)
        let doctor = try CommandRunner.run("deployctl", ["doctor", "--home", drill.home])
        #expect(doctor.status == 1, "\(doctor.stdout)")
        // The fix goes out the normal way.
        try drill.use(.good, "fixed")
        let fixed = try drill.release()
        #expect(fixed.status == 0, "\(fixed.stdout)")
        #expect(drill.active == "B")
    }

    @Test(.timeLimit(.minutes(20))) func rollbackChecksItsTargetFirstAndRestoresWhatRanWhenTheTargetFails() throws {
        let drill = try ReleaseDrill(probationTimeout: 8)
        defer { drill.shutdown() }
        let v1 = try #require(try drill.release().json()["release"] as? String)
        try drill.use(.good, "v2")
        let v2 = try #require(try drill.release().json()["release"] as? String)
        #expect(drill.waitForBeat(of: v2))
        let pid = drill.heartbeat?.pid

        // No binary in the target: refused before anything is stopped.
        let binary = drill.home + "/slots/A/bin/tradingbot"
        let saved = try Data(contentsOf: URL(fileURLWithPath: binary))
        try FileManager.default.removeItem(atPath: binary)
        let refused = try CommandRunner.run("deployctl", ["rollback", "--home", drill.home])
        #expect(refused.status == 1 && refused.stdout.contains("has no binary"), "\(refused.stdout)")
        #expect(drill.active == "B" && drill.heartbeat?.pid == pid && drill.supervisor.health().running)

        // A target that does not come up (it hangs, leaving an old heartbeat): the release that
        // ran is put back and proven.
        try saved.write(to: URL(fileURLWithPath: binary))
        chmod(binary, 0o755)
        try drill.staleBeatsInSlot("A", release: v1)
        let failed = try CommandRunner.run("deployctl", ["rollback", "--home", drill.home, "--json"])
        #expect(failed.status == 1)
        let message = try failed.json()["message"] as? String ?? ""
        #expect(message.contains("\(v1) in slot A did not come up healthy"), "\(message)")
        #expect(message.contains("\(v2) in slot B is running again"), "\(message)")
        #expect(drill.active == "B")
        #expect(drill.waitForBeat(of: v2) && drill.heartbeat?.pid != pid)
        #expect(try drill.releases().first { $0.id == v2 }?.state == "good", "a failed rollback leaves v2 as it was")
    }
}

@Suite struct DeploySetupCommandTests {
    /// Both slots are built in the one workspace, so the first release into a slot never built
    /// is as incremental as any; a slot keeps its checkout and its products only; each product is
    /// checked against the build's before the flip; a long build says what it is doing.
    @Test(.timeLimit(.minutes(20))) func releasesIntoEitherSlotBuildInOneWorkspace() throws {
        let drill = try ReleaseDrill()
        defer { drill.shutdown() }
        let workspace = drill.home + "/workspace"
        #expect(try drill.release().status == 0)
        let env = try String(contentsOfFile: drill.home + "/state/build-env.txt", encoding: .utf8)
        #expect(env.contains("PWD=\(workspace)\n"), "the build ran in the workspace")
        // SwiftPM plans again (about 9 s) when its environment changes: every build gets the same.
        func buildEnvironment() throws -> [String] {
            try String(contentsOfFile: drill.home + "/state/build-env.txt", encoding: .utf8).split(separator: "\n")
                .map(String.init).filter { !$0.hasPrefix("OLDPWD=") }.sorted()
        }
        let firstEnvironment = try buildEnvironment()
        // What an older deployctl left: the slot's own build folder, as large as a build's.
        try FileManager.default.createDirectory(
            atPath: drill.home + "/slots/A/.build/release/Core.build", withIntermediateDirectories: true)
        try Fixtures.write("old object", to: drill.home + "/slots/A/.build/release/Core.build/A.o")

        try drill.use(.good, "v2")
        let second = try drill.release()
        #expect(second.status == 0 && drill.active == "B", "\(second.stdout)")
        try drill.use(.good, "v3")
        let third = try drill.release()
        #expect(third.status == 0 && drill.active == "A", "\(third.stdout)")
        let builds = try String(contentsOfFile: workspace + "/.build/builds", encoding: .utf8)
        #expect(builds == "built\nbuilt\nbuilt\n", "slot B's first build found slot A's build folder: \(builds)")
        #expect(try buildEnvironment() == firstEnvironment, "the builds for A and for B saw the same environment")
        for slot in ["A", "B"] {
            let path = drill.home + "/slots/\(slot)"
            #expect(!FileIO.exists(path + "/.build"), "slot \(slot) keeps no build folder")
            #expect(FileManager.default.isExecutableFile(atPath: path + "/bin/tradingbot"))
            #expect(FileIO.exists(path + "/.git") && FileIO.exists(path + "/build.sh"), "its own checkout")
        }
        let detail = try #require(
            (try third.json()["steps"] as? [[String: Any]])?.first { $0["name"] as? String == "build" }?["detail"]
                as? String)
        #expect(detail.contains("copied and checked: bin/tradingbot") && detail.contains("changed"), "\(detail)")
        let doctor = try CommandRunner.run("deployctl", ["doctor", "--home", drill.home])
        #expect(doctor.stdout.contains("the build workspace holds"), "\(doctor.stdout)")

        // A product that changes between the build and the flip stops the release.
        try drill.setDeploy("checks", ["smoke_commands": ["echo '# changed after the build' >> bin/tradingbot"]])
        try drill.use(.good, "v4")
        let changed = try drill.release()
        #expect(changed.status == 1 && drill.active == "A", "\(changed.stdout)")
        #expect((try changed.json()["message"] as? String ?? "").contains("step products failed"))
        try drill.setDeploy("checks", ["smoke_commands": []])

        // At a terminal, a build of several seconds says every 5 s what it is doing; --json never.
        try drill.setDeploy(
            "build", ["command": "sh build.sh && echo '[3/9] Compiling Fixture main.swift' && sleep 8"])
        try drill.use(.good, "v5")
        let command = "'\(CommandRunner.path("deployctl"))' release --home '\(drill.home)'"
        let atTerminal = try CommandRunner.execute("/usr/bin/script", ["-qec", command, "/dev/null"])
        #expect(atTerminal.status == 0, "\(atTerminal.stdout)")
        // "[build] 5s: ..." (a later second on a busy machine).
        let ticks = atTerminal.stdout.split(whereSeparator: \.isNewline).filter {
            $0.hasPrefix("[build] ") && $0.hasSuffix("s: [3/9] Compiling Fixture main.swift")
        }
        #expect(!ticks.isEmpty, "\(atTerminal.stdout)")
        try drill.use(.good, "v6")
        let quiet = try drill.release()
        #expect(quiet.status == 0 && !quiet.stderr.contains("[build]"), "\(quiet.stderr)")
    }

    @Test func initKeepsDeployFieldsAndInstallUnitsWritesBothKinds() throws {
        let root = try Fixtures.temporaryDirectory("setup")
        let repo = try GitFixture(root + "/repo")
        try repo.write(
            "config/bot.json", #"{"wallet_reset": {"at": "2025-12-18T00:00:00Z", "starting_capital": 10000}}"#)
        try repo.write("config/asset_universe.json", #"{"symbols": {"BTCUSDT": "mega"}}"#)
        try repo.commit("configs")
        let home = root + "/home"
        try FileManager.default.createDirectory(atPath: home + "/config", withIntermediateDirectories: true)
        try Fixtures.write(
            #"{"repo": "old", "probation": {"healthy_cycles": 7, "timeout_seconds": 99}, "probaton": {}}"#,
            to: home + "/config/deploy.json")
        let misspelt = try CommandRunner.run("deployctl", ["init", "--home", home, "--repo", repo.path])
        #expect(misspelt.status == 2)
        #expect(misspelt.stderr.contains("field \"probaton\": is not a known key (did you mean \"probation\"?)"))
        try Fixtures.write(
            #"{"repo": "old", "probation": {"healthy_cycles": 7}, "_custom": true}"#, to: home + "/config/deploy.json")
        let out = try CommandRunner.run("deployctl", ["init", "--home", home, "--repo", repo.path, "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        let deploy = try JSONValue.parse(try FileIO.read(home + "/config/deploy.json")).objectValue
        #expect(deploy?["repo"] == .string(repo.path))
        #expect(deploy?["probation"]?.objectValue?["healthy_cycles"] == 7, "existing fields are kept")
        #expect(deploy?["_custom"] == true, "comment keys are kept")
        #expect(FileManager.default.fileExists(atPath: home + "/config/bot.json"))

        let supervisor = try CommandRunner.run("deployctl", ["install-units", "--home", home, "--supervisor"])
        #expect(supervisor.status == 0 && supervisor.stdout.contains("supervisord -c \(home)/deploy/supervisord.conf"))
        let conf = try String(contentsOfFile: home + "/deploy/supervisord.conf", encoding: .utf8)
        #expect(
            conf.contains("[program:tradingbot]")
                && conf.contains("\(home)/slots/current/.build/release/tradingbot run --home \(home)"))
        let noUser = try CommandRunner.run(
            "deployctl", ["install-units", "--home", home, "--systemd", "--user", "no-such-trader"])
        #expect(noUser.status == 2 && noUser.stderr.contains("does not exist") && noUser.stderr.contains("useradd"))
        let user = String(cString: getpwuid(getuid()).pointee.pw_name)
        let systemd = try CommandRunner.run(
            "deployctl", ["install-units", "--home", home, "--systemd", "--user", user])
        #expect(systemd.status == 0 && systemd.stdout.contains("sudo systemctl daemon-reload"), "\(systemd.stderr)")
        let unit = try String(contentsOfFile: home + "/deploy/tradingbot.service", encoding: .utf8)
        #expect(unit.contains("User=\(user)") && unit.contains("Type=notify"))
        let watchdogUnit = try String(contentsOfFile: home + "/deploy/tradingbot-watchdog.service", encoding: .utf8)
        #expect(watchdogUnit.contains("\(home)/bin/deployctl\" watchdog --once"), "the guard copy, outside the slots")
        #expect(try CommandRunner.run("deployctl", ["install-units", "--home", home]).status == 2)
        let noRepo = try CommandRunner.run("deployctl", ["release", "--home", root + "/elsewhere"])
        #expect(noRepo.status == 2 && noRepo.stderr.contains("deployctl init"))
    }
}

/// A ledger on a disk that fills up: every append from the move to `fullFrom` on fails, as
/// write(2) does with ENOSPC.
final class FullDiskLedger: Ledger {
    let fullFrom: String
    private var full = false

    init(path: String, fullFrom: String) {
        self.fullFrom = fullFrom
        super.init(path: path)
    }

    override func append(_ release: String, _ event: String, _ fields: [JSONField] = [], at: Instant = WallClock.now)
        throws
    {
        if event == "state", fields.contains(where: { $0.key == "state" && $0.value == .string(fullFrom) }) {
            full = true
        }
        if full { throw StoreError(path: path, message: "write failed: No space left on device") }
        try super.append(release, event, fields, at: at)
    }
}
