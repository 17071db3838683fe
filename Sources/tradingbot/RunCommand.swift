import ArgumentParser
import CLISupport
import Engine
import Exchange
import Foundation
import TradingCore
import TradingStore

/// `tradingbot run`: the trading service.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the trading engine (paper trading on the simulated market by default).",
        discussion: """
            Holds HOME/state/engine.lock: a second engine on the same home exits 2 naming the holder. \
            SIGTERM stops it at a safe point within a second. With NOTIFY_SOCKET set it sends READY=1 and \
            WATCHDOG=1 to systemd. It prints one line per cycle on stdout and each event of logs/bot.jsonl \
            with the same words, info on stdout and warnings and errors on stderr (grep ERROR finds errors \
            and criticals); --quiet writes only bot.jsonl.
            """
    )

    @OptionGroup var homeOptions: HomeOptions

    @Option(
        help:
            "Market data: sim, replay:PATH (CSV file or folder) or blofin (default: exchange.feed of bot.json, else sim)."
    )
    var feed: String?

    @Option(
        help:
            "paper (simulated fills), demo (orders to BloFin's demo account) or live (default: exchange.mode of bot.json, else paper)."
    )
    var mode: String?

    @Option(help: "Seconds per cycle (default: cycle_seconds of bot.json).")
    var cycleSeconds: Int?

    @Option(help: "Stop after this many cycles.")
    var maxCycles: Int?

    @Option(help: "Seed of the simulated market.")
    var seed: UInt64 = 42

    @Flag(help: "Write only logs/bot.jsonl: no line per cycle on stdout, no echo of warnings and errors on stderr.")
    var quiet = false

    func run() throws {
        if let cycleSeconds, !(1...3600).contains(cycleSeconds) {
            throw CommandFailure.usage("--cycle-seconds must be 1 to 3600")
        }
        let home = homeOptions.resolved
        // Parsed from the bytes the flight recorder keeps, so a replay reads what this run read.
        let botJSON = try ConfigFiles.json(home.botConfig)
        var config = try BotConfig.parse(botJSON, file: home.botConfig)
        let universeJSON = try ConfigFiles.json(home.assetUniverse)
        let universe = try AssetUniverse.parse(universeJSON, file: home.assetUniverse)
        var overrides = JSONObject()
        if let cycleSeconds {
            config.cycleSeconds = cycleSeconds
            overrides["cycle_seconds"] = .int(cycleSeconds)
        }
        var settings = EngineSettings()
        settings.release = ProcessInfo.processInfo.environment["TRADINGBOT_RELEASE"] ?? home.currentRelease ?? "dev"
        let lock: FileLock
        do {
            lock = try EngineRunner.lockEngine(home: home, release: settings.release)
        } catch let held as EngineRunner.LockHeld {
            throw CommandFailure.usage(held.description)
        }
        defer { lock.release() }
        let symbols = config.symbols.isEmpty ? universe.symbols : config.symbols
        let setup: ExchangeSetup
        do {
            setup = try ExchangeSetup.make(
                config: config, home: home, symbols: symbols, feed: feed ?? config.exchange.feed,
                mode: mode ?? config.exchange.mode, seed: seed, environment: ProcessInfo.processInfo.environment,
                now: WallClock.now)
        } catch let refused as ExchangeSetup.Refused {
            throw CommandFailure.usage(refused.message)
        }
        let stop = StopSignal()
        stop.install()
        let stores = try EngineStores(home: home)
        if !quiet {
            stores.console = ConsoleEcho()
            // A reader that went away (a closed pipe) must not kill the engine.
            signal(SIGPIPE, SIG_IGN)
        }
        let engine: TradingEngine
        do {
            let live = LiveWorld(
                config: config, settings: settings, feed: setup.feed, broker: setup.broker, home: home)
            let recorder = FlightRecorder(
                live: live, stores: stores, botJSON: botJSON, overrides: overrides, universeJSON: universeJSON,
                settings: settings)
            engine = try TradingEngine(
                config: config, universe: universe, world: recorder, stores: stores, settings: settings)
        } catch {
            throw CommandFailure.failed("cannot start the engine: \(error)")
        }
        engine.logExchangeRetries(now: { WallClock.now })
        let runner = EngineRunner(
            engine: engine, stores: stores, stop: stop,
            notifier: SystemdNotifier(environment: ProcessInfo.processInfo.environment),
            cycleSeconds: config.cycleSeconds, now: { WallClock.now })
        runner.run(maxCycles: maxCycles)
    }
}

/// `tradingbot selfcheck`.
struct SelfCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "selfcheck",
        abstract: "Initialise every subsystem without network and without trading; exit 1 if any fails."
    )

    @OptionGroup var homeOptions: HomeOptions

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let home = homeOptions.resolved
        let results = SelfCheck.run(home: home, now: WallClock.now)
        let ok = results.allSatisfy(\.ok)
        if json {
            printJSON(["ok": .bool(ok), "home": .string(home.root), "checks": .array(results.map(\.json))])
        } else {
            for r in results { print(r.line) }
            print(ok ? "All subsystems ready." : "FAILED.")
        }
        if !ok { throw ExitCode(ExitStatus.failed) }
    }
}

/// `tradingbot kill-switch on|off|status`: stops (or allows) new entries at the next cycle.
struct KillSwitchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kill-switch",
        abstract: "Stop new entries (on), allow them again (off), or show the state. Exits keep running."
    )

    @OptionGroup var homeOptions: HomeOptions

    @Argument(help: "on, off or status")
    var action: String = "status"

    func run() throws {
        let home = homeOptions.resolved
        let killSwitch = KillSwitch(home: home)
        let path = killSwitch.path
        switch action {
        case "on":
            try home.createDirectories()
            try killSwitch.set(true, note: "on since \(WallClock.now.iso8601)")
            print("kill switch ON: no new entries from the next cycle (\(path))")
        case "off":
            try killSwitch.set(false, note: "")
            print("kill switch OFF: entries allowed from the next cycle")
        case "status":
            print(killSwitch.isOn ? "kill switch ON (\(path))" : "kill switch off")
        default:
            throw CommandFailure.usage("kill-switch \(action): expected on, off or status")
        }
    }
}
