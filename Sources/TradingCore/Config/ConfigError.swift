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

    func required(_ key: String, _ expected: String) throws(ConfigError) -> JSONValue {
        guard let value = object[key], !value.isNull else {
            throw fail(key, "is missing; expected \(expected)")
        }
        return value
    }

    public func number(_ key: String, in range: ClosedRange<Double>) throws(ConfigError) -> Double {
        let expected = "a number from \(JSONWriter.format(range.lowerBound)) to \(JSONWriter.format(range.upperBound))"
        let value = try required(key, expected)
        guard let number = value.doubleValue else { throw fail(key, "is \(value.typeName); expected \(expected)") }
        guard range.contains(number) else {
            throw fail(key, "\(JSONWriter.format(number)) is out of range; allowed \(expected)")
        }
        return number
    }

    public func int(_ key: String, in range: ClosedRange<Int>) throws(ConfigError) -> Int {
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

    public func string(_ key: String, allowEmpty: Bool = false) throws(ConfigError) -> String {
        let value = try required(key, "a string")
        guard let text = value.stringValue else { throw fail(key, "is \(value.typeName); expected a string") }
        if !allowEmpty && text.trimmingSpaces.isEmpty { throw fail(key, "is empty; expected a non-empty string") }
        return text
    }

    public func choice(_ key: String, _ allowed: [String]) throws(ConfigError) -> String {
        let text = try string(key)
        guard allowed.contains(text) else {
            throw fail(key, "\"\(text)\" is not allowed; expected one of \(allowed.joined(separator: ", "))")
        }
        return text
    }

    public func strings(_ key: String) throws(ConfigError) -> [String] {
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

extension String {
    /// The string without leading and trailing white space (no Foundation needed).
    public var trimmingSpaces: Substring {
        var s = self[...]
        while let c = s.first, c.isWhitespace { s = s.dropFirst() }
        while let c = s.last, c.isWhitespace { s = s.dropLast() }
        return s
    }
}
