import TradingCore

/// Loads the config files of the home, turning I/O and syntax failures into `ConfigError`s
/// that name the file.
public enum ConfigFiles {
    public static func json(_ path: String) throws(ConfigError) -> JSONValue {
        let bytes: [UInt8]
        do {
            bytes = try FileIO.read(path)
        } catch {
            throw ConfigError(file: path, field: "", message: "cannot be read: \(error.message)")
        }
        do {
            return try JSONValue.parse(bytes)
        } catch {
            throw ConfigError(file: path, field: "", message: "\(error.description); fix the syntax")
        }
    }

    public static func bot(_ path: String) throws(ConfigError) -> BotConfig {
        try BotConfig.parse(try json(path), file: path)
    }

    public static func assetUniverse(_ path: String) throws(ConfigError) -> AssetUniverse {
        try AssetUniverse.parse(try json(path), file: path)
    }

    public static func deploy(_ path: String) throws(ConfigError) -> DeployConfig {
        try DeployConfig.parse(try json(path), file: path)
    }

    /// The engine's cycle as bot.json sets it, even when the file holds a key this build does
    /// not know (a newer release's): the guard's thresholds must follow the real cycle. 60 when
    /// the file or the value cannot be read.
    public static func cycleSeconds(_ path: String) -> Int {
        if let bot = try? bot(path) { return bot.cycleSeconds }
        if let value = (try? json(path))?.objectValue?["cycle_seconds"]?.doubleValue, value >= 1, value <= 3600,
            value == value.rounded()
        {
            return Int(value)
        }
        return 60
    }
}

extension Error {
    /// The message of a StoreError without repeating its path, else the description.
    var message: String {
        if let store = self as? StoreError { return store.message }
        return String(describing: self)
    }
}
