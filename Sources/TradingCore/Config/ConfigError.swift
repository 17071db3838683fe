/// A configuration problem, naming the file, the field and what would be accepted.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    /// Dotted path such as `risk.max_positions`; empty for the file as a whole.
    public var field: String
    public var message: String

    public init(file: String, field: String, message: String) {
        self.file = file
        self.field = field
        self.message = message
    }

    public var description: String {
        field.isEmpty ? "\(file): \(message)" : "\(file): field \"\(field)\": \(message)"
    }
}

/// Reads typed fields out of one JSON object of a config file, with errors that say where.
public struct ConfigSection: Sendable {
    public let file: String
    public let path: String
    public let object: JSONObject

    public init(file: String, path: String, value: JSONValue) throws(ConfigError) {
        guard case .object(let object) = value else {
            throw ConfigError(file: file, field: path, message: "must be a JSON object, found \(value.typeName)")
        }
        self.file = file
        self.path = path
        self.object = object
    }

    func fieldPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func fail(_ key: String, _ message: String) -> ConfigError {
        ConfigError(file: file, field: fieldPath(key), message: message)
    }

    /// A nested section, or nil when absent (the caller falls back to defaults).
    public func section(_ key: String) throws(ConfigError) -> ConfigSection? {
        guard let value = object[key], !value.isNull else { return nil }
        return try ConfigSection(file: file, path: fieldPath(key), value: value)
    }

    /// Fails on the first key that is not in `allowed`, naming the allowed keys, so a misspelt key
    /// is an error instead of a silently ignored setting that leaves its default in force. Keys
    /// that start with `_` are comments.
    public func allowOnly(_ allowed: [String]) throws(ConfigError) {
        for key in object.keys where !key.hasPrefix("_") && !allowed.contains(key) {
            var message = "is not a known key"
            if let guess = closest(to: key, in: allowed) { message += " (did you mean \"\(guess)\"?)" }
            throw fail(key, message + "; allowed keys: \(allowed.joined(separator: ", "))")
        }
    }

    /// The value of `key`, or nil when it is absent or null.
    func value(_ key: String) -> JSONValue? {
        guard let value = object[key], !value.isNull else { return nil }
        return value
    }

    func required(_ key: String, _ expected: String) throws(ConfigError) -> JSONValue {
        guard let value = value(key) else {
            throw fail(key, "is missing; expected \(expected)")
        }
        return value
    }

    /// A number in `range`; when absent, `defaultValue` (if given) instead of an error.
    public func number(
        _ key: String, in range: ClosedRange<Double>, default defaultValue: Double? = nil
    ) throws(ConfigError) -> Double {
        if let defaultValue, value(key) == nil { return defaultValue }
        let expected = "a number from \(JSONWriter.format(range.lowerBound)) to \(JSONWriter.format(range.upperBound))"
        let value = try required(key, expected)
        guard let number = value.doubleValue, number.isFinite else {
            throw fail(
                key, "is \(value.typeName == "a number" ? value.serialized() : value.typeName); expected \(expected)")
        }
        guard range.contains(number) else {
            throw fail(key, "\(JSONWriter.format(number)) is out of range; allowed \(expected)")
        }
        return number
    }

    /// A whole number in `range`; when absent, `defaultValue` (if given) instead of an error.
    public func int(_ key: String, in range: ClosedRange<Int>, default defaultValue: Int? = nil) throws(ConfigError)
        -> Int
    {
        if let defaultValue, value(key) == nil { return defaultValue }
        let expected = "a whole number from \(range.lowerBound) to \(range.upperBound)"
        let value = try required(key, expected)
        guard let number = value.doubleValue, number == number.rounded(), abs(number) < 1e15 else {
            throw fail(key, "is \(value.serialized()); expected \(expected)")
        }
        guard range.contains(Int(number)) else {
            throw fail(key, "\(Int(number)) is out of range; allowed \(expected)")
        }
        return Int(number)
    }

    /// A string; when absent, `defaultValue` (if given) instead of an error.
    public func string(_ key: String, allowEmpty: Bool = false, default defaultValue: String? = nil)
        throws(ConfigError) -> String
    {
        if let defaultValue, value(key) == nil { return defaultValue }
        let value = try required(key, "a string")
        guard let text = value.stringValue else { throw fail(key, "is \(value.typeName); expected a string") }
        if !allowEmpty && text.trimmingSpaces.isEmpty { throw fail(key, "is empty; expected a non-empty string") }
        return text
    }

    /// true or false; when absent, `defaultValue` (if given) instead of an error.
    public func bool(_ key: String, default defaultValue: Bool? = nil) throws(ConfigError) -> Bool {
        if let defaultValue, value(key) == nil { return defaultValue }
        let value = try required(key, "true or false")
        guard case .bool(let flag) = value else { throw fail(key, "is \(value.typeName); expected true or false") }
        return flag
    }

    /// One of `allowed`; when absent, `defaultValue` (if given) instead of an error.
    public func choice(_ key: String, _ allowed: [String], default defaultValue: String? = nil) throws(ConfigError)
        -> String
    {
        if let defaultValue, value(key) == nil { return defaultValue }
        let text = try string(key)
        guard allowed.contains(text) else {
            throw fail(key, "\"\(text)\" is not allowed; expected one of \(allowed.joined(separator: ", "))")
        }
        return text
    }

    /// A list of strings; when absent, `defaultValue` (if given) instead of an error.
    public func strings(_ key: String, default defaultValue: [String]? = nil) throws(ConfigError) -> [String] {
        if let defaultValue, value(key) == nil { return defaultValue }
        let value = try required(key, "a list of strings")
        guard let items = value.arrayValue else { throw fail(key, "is \(value.typeName); expected a list of strings") }
        var out: [String] = []
        for (i, item) in items.enumerated() {
            guard let text = item.stringValue else {
                throw fail("\(key)[\(i)]", "is \(item.typeName); expected a string")
            }
            out.append(text)
        }
        return out
    }

    public func instant(_ key: String) throws(ConfigError) -> Instant {
        let text = try string(key)
        switch TimestampParser.parse(text) {
        case .success(let instant): return instant
        case .failure(let failure): throw fail(key, failure.message)
        }
    }
}

/// The allowed key nearest to a misspelt one, for "did you mean": at most two edits away, or one
/// that starts with it (`timeout` for `timeout_seconds`).
func closest(to key: String, in allowed: [String]) -> String? {
    let best = allowed.map { ($0, editDistance(Array(key.utf8), Array($0.utf8))) }.min { $0.1 < $1.1 }
    if let best, best.1 <= 2 { return best.0 }
    return key.utf8.count >= 3 ? allowed.first { $0.hasPrefix(key) } : nil
}

/// Levenshtein distance over bytes.
func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
    if a.isEmpty { return b.count }
    var previous = Array(0...b.count)
    var current = previous
    for i in 1...a.count {
        current[0] = i
        for j in stride(from: 1, through: b.count, by: 1) {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}

extension String {
    /// The string without leading and trailing white space (no Foundation needed).
    public var trimmingSpaces: Substring {
        var s = self[...]
        while let c = s.first, c.isWhitespace { s = s.dropFirst() }
        while let c = s.last, c.isWhitespace { s = s.dropLast() }
        return s
    }
}
