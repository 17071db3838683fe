/// The seven sectors the old bot used; the risk gate allows at most N positions per sector.
public enum Sector: String, Sendable, CaseIterable {
    case mega, l1, l2, defi, meme, exchange, payment
}

/// `config/asset_universe.json`: every tradable symbol and its sector.
public struct AssetUniverse: Sendable, Equatable {
    public var sectors: [String: Sector]

    public init(sectors: [String: Sector]) { self.sectors = sectors }

    public var symbols: [String] { sectors.keys.sorted() }

    /// Validates `{"symbols": {"BTCUSDT": "mega", ...}}`.
    public static func parse(_ value: JSONValue, file: String) throws(ConfigError) -> AssetUniverse {
        let root = try ConfigSection(file: file, path: "", value: value)
        try root.allowOnly(["symbols"])
        guard let symbols = try root.section("symbols") else {
            throw ConfigError(
                file: file, field: "symbols", message: "is missing; expected {\"BTCUSDT\": \"mega\", ...}")
        }
        guard !symbols.object.isEmpty else {
            throw ConfigError(
                file: file, field: "symbols", message: "is empty; list at least one symbol with its sector")
        }
        let allowed = Sector.allCases.map(\.rawValue)
        var sectors: [String: Sector] = [:]
        for field in symbols.object.fields {
            let sector = try symbols.choice(field.key, allowed)
            sectors[field.key] = Sector(rawValue: sector)
        }
        return AssetUniverse(sectors: sectors)
    }
}
