import ArgumentParser
import CLISupport
import Engine
import Exchange
import Foundation
import TradingCore
import TradingStore

/// `tradingbot exchange`: the exchange connection.
struct ExchangeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exchange", abstract: "Check the connection to BloFin.", subcommands: [ExchangePingCommand.self])
}

/// `tradingbot exchange ping [--private]`: clock, reachability and (with --private) the keys.
struct ExchangePingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ping",
        abstract:
            "BloFin's server time and this clock's skew, the instruments count, and with --private a signed balance call.",
        discussion: """
            Public calls go to exchange.market_data_url of bot.json; the signed call to the trading host of \
            exchange.mode (the demo host unless live). BLOFIN_BASE_URL overrides both. Keys come from \
            BLOFIN_API_KEY, BLOFIN_API_SECRET and BLOFIN_PASSPHRASE (environment or HOME/config/secrets.env) and are \
            never printed. Exits 0 when everything answered, 1 otherwise.
            """
    )

    @OptionGroup var homeOptions: HomeOptions

    @Flag(name: .customLong("private"), help: "Also make a signed call (the futures balance): checks the keys.")
    var signed = false

    @Flag(help: "Print one JSON object.")
    var json = false

    struct Check {
        var name: String
        var ok: Bool
        var detail: String
    }

    func run() throws {
        let home = homeOptions.resolved
        let environment = ProcessInfo.processInfo.environment
        let config = FileIO.exists(home.botConfig) ? try ConfigFiles.bot(home.botConfig) : nil
        let settings = config?.exchange ?? ExchangeSettings()
        let override = environment[BloFinCredentials.baseURLVariable].flatMap { $0.isEmpty ? nil : $0 }
        let marketURL = override ?? settings.marketDataURL
        var checks: [Check] = []
        let client = ExchangeSetup.client(baseURL: marketURL, credentials: nil)
        client.maxAttempts = 2
        do {
            let local = WallClock.now
            let offset = try client.syncClock()
            let server = local.adding(seconds: Double(offset) / 1000)
            let skew = Double(offset) / 1000
            let words =
                abs(skew) < 0.5
                ? "this clock agrees"
                : "this clock is \(String(format: "%.1f", abs(skew))) s \(skew > 0 ? "behind" : "ahead")"
            let ok = abs(skew) < 30
            checks.append(
                Check(
                    name: "server time", ok: ok,
                    detail: "\(server.iso8601) (\(words))"
                        + (ok
                            ? "" : ": BloFin refuses signed requests more than 60 s off; run timedatectl set-ntp true"))
            )
        } catch {
            checks.append(Check(name: "server time", ok: false, detail: "\(error)"))
        }
        do {
            let instruments = try client.instruments()
            let live = instruments.filter(\.isLive).count
            checks.append(
                Check(
                    name: "instruments", ok: !instruments.isEmpty, detail: "\(instruments.count) listed (\(live) live)")
            )
        } catch {
            checks.append(Check(name: "instruments", ok: false, detail: "\(error)"))
        }
        var tradingURL: String?
        if signed {
            let mode = settings.mode == "paper" ? "demo" : settings.mode
            let url = settings.tradingURL(mode: mode, override: override)
            tradingURL = url
            switch BloFinCredentials.resolve({ SecretsFile.value($0, home: home, environment: environment) }) {
            case .failure(let missing):
                checks.append(Check(name: "balance", ok: false, detail: "\(missing)"))
            case .success(let credentials):
                let privateClient = ExchangeSetup.client(baseURL: url, credentials: credentials)
                privateClient.maxAttempts = 2
                do {
                    try privateClient.syncClock()
                    let balance = try privateClient.balance()
                    let available = balance.available.map { ", \(String(format: "%.2f", $0)) USDT available" } ?? ""
                    checks.append(
                        Check(
                            name: "balance", ok: true,
                            detail:
                                "\(String(format: "%.2f", balance.totalEquity)) USDT equity\(available) (signed, \(mode) account)"
                        ))
                } catch {
                    checks.append(Check(name: "balance", ok: false, detail: "\(error)"))
                }
            }
        }
        let ok = checks.allSatisfy(\.ok)
        if json {
            var object: [String: JSONValue] = [
                "ok": .bool(ok), "market_data_url": .string(marketURL),
                "checks": .array(
                    checks.map {
                        .object(
                            JSONObject([
                                JSONField("name", .string($0.name)), JSONField("ok", .bool($0.ok)),
                                JSONField("detail", .string($0.detail)),
                            ]))
                    }),
            ]
            if let tradingURL { object["trading_url"] = .string(tradingURL) }
            printJSON(.object(JSONObject(object.sorted { $0.key < $1.key }.map { JSONField($0.key, $0.value) })))
        } else {
            print("BloFin at \(marketURL)" + (tradingURL.map { $0 == marketURL ? "" : " (signed calls: \($0))" } ?? ""))
            for c in checks {
                print(
                    "  \(c.name.padding(toLength: 12, withPad: " ", startingAt: 0))  \(c.ok ? "OK    " : "FAILED")  \(c.detail)"
                )
            }
            print(ok ? "All answered." : "FAILED: see above.")
        }
        if !ok { throw ExitCode(ExitStatus.failed) }
    }
}
