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
        // `\.isNewline`: in Swift "\r\n" is one Character, equal to neither "\n" nor "\r".
        for raw in text.split(whereSeparator: \.isNewline) {
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

    /// Why `name` cannot be a variable name, or nil.
    public static func nameProblem(_ name: String) -> String? {
        let ok =
            !name.isEmpty && name.first.map { $0 == "_" || ("A"..."Z").contains($0) } == true
            && name.allSatisfy { $0 == "_" || ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
        return ok ? nil : "\"\(name)\" is not a variable name (capital letters, digits and _)"
    }

    /// Sets `name` to `value` (nil: removes it) in the file at `path`: the line that held it is
    /// replaced where it was, later duplicates are dropped, every other line and comment stays.
    /// Written atomically under `lock`, mode 0600 whatever the file had.
    /// - Returns: whether the name was in the file before.
    @discardableResult
    public static func update(_ name: String, to value: String?, path: String, lock: String) throws -> Bool {
        if let problem = nameProblem(name) { throw StoreError(path: path, message: problem) }
        var line: String?
        if let value {
            guard !value.contains("\n") && !value.contains("\r") && !value.isEmpty else {
                throw StoreError(path: path, message: "the value of \(name) must be one non-empty line")
            }
            // As the parser reads it back: quoted when spaces or quotes at its ends would be lost.
            let plain = value.trimmingSpaces == Substring(value) && value.first != "'" && value.first != "\""
            if plain {
                line = "\(name)=\(value)"
            } else if !value.contains("'") {
                line = "\(name)='\(value)'"
            } else if !value.contains("\"") {
                line = "\(name)=\"\(value)\""
            } else {
                throw StoreError(
                    path: path, message: "the value of \(name) holds both kinds of quote; it cannot be written")
            }
        }
        let held: FileLock
        do {
            held = try FileLock.acquire(lock, holder: "pid \(ProcessIdentity.pid) writing \(path)", timeout: 10)
        } catch {
            throw StoreError(path: lock, message: "cannot lock the secrets file for writing: \(error)")
        }
        defer { held.release() }
        FileIO.giveToFolderOwner([lock])
        // Private before the secret goes in: the new version takes the old file's mode.
        if FileIO.exists(path) && chmod(path, 0o600) != 0 {
            throw StoreError(path: path, message: "cannot make it private (chmod 600): \(FileIO.errnoText())")
        }
        let text = FileIO.exists(path) ? String(decoding: try FileIO.read(path), as: UTF8.self) : ""
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
        if lines.last == "" { lines.removeLast() }
        var found = false
        var out: [String] = []
        for existing in lines {
            var body = String(existing.trimmingSpaces)
            if body.hasPrefix("export ") { body = String(String(body.dropFirst(7)).trimmingSpaces) }
            let named = body.split(separator: "=", maxSplits: 1).first.map {
                String($0).trimmingSpaces == Substring(name)
            }
            guard named == true && !body.hasPrefix("#") else {
                out.append(existing)
                continue
            }
            if !found, let line { out.append(line) }
            found = true
        }
        if !found, let line { out.append(line) }
        try FileIO.writeAtomically(path, Array((out.joined(separator: "\n") + "\n").utf8), mode: 0o600)
        return found
    }
}
