import TradingCore

/// Runs the data-date checks over a positions file on disk, streaming its records.
public enum DataCheckRunner {
    public static func run(
        positionsPath: String, reset: WalletReset, now: Instant, skewSeconds: Double = 300,
        configName: String = "config/bot.json", limits: BotConfig.RiskLimits? = nil,
        universe: AssetUniverse = AssetUniverse(sectors: [:])
    ) -> DataCheckReport {
        var check = DataCheck(reset: reset, now: now, skewSeconds: skewSeconds, configName: configName)
        check.limits = limits
        check.universe = universe
        do {
            // Read, not mapped: the file checked may be one another program rewrites in place.
            try PositionsCodec.scan(file: positionsPath) { list, index, position, issues in
                check.add(position, list: list, index: index, issues: issues)
            }
        } catch let error as StoreError {
            return .unreadable("\(error)")
        } catch {
            return .unreadable(
                "\(positionsPath) cannot be read: \(error). Fix the file there, or put a good copy back (`tradingbot restore --list` shows them)."
            )
        }
        return check.finish()
    }
}
