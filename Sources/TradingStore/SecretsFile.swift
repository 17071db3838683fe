import TradingCore

#if canImport(Glibc)
    import Glibc
#endif

/// `HOME/config/secrets.env` (0600): `NAME=value` lines, `#` comments, an optional `export `,
/// values optionally in single or double quotes. Parsed, never sourced by a shell: a bcrypt hash
/// holds `$`, and nothing in the file is expanded or run. Each process reads only the names it
/// needs, so no process's environment carries a secret it has no use for.
public enum SecretsFile {
    /// The value of `name`: from the environment when set there, else from the home's file.
    public static func value(_ name: String, home: Home, environment: [String: String]) -> String? {
        if let value = environment[name], !value.isEmpty { return value }
        guard let values = try? read(home.root + "/config/secrets.env") else { return nil }
        return values[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Every name and value in the file (empty when it is absent).
    public static func read(_ path: String) throws -> [String: String] {
        guard FileIO.exists(path) else { return [:] }
        return parse(String(decoding: try FileIO.read(path), as: UTF8.self))
    }

    public static func parse(_ text: String) -> [String: String] {
        var values: [String: String] = [:]
        for raw in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            var line = String(raw).trimmingSpaces
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)).trimmingSpaces }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let name = String(String(line[..<equals]).trimmingSpaces)
            var value = String(line[line.index(after: equals)...]).trimmingSpaces
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = value.dropFirst().dropLast()
            }
            if !name.isEmpty { values[name] = String(value) }
        }
        return values
    }
}
