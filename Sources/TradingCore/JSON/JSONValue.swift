/// A JSON document value that keeps object key order and number literals as written,
/// so a rewrite of a file the operator owns reads like the original.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The number's literal text, kept verbatim (`5` stays `5`, `1.10` stays `1.10`).
    case number(String)
    case string(String)
    /// A string literal kept exactly as the file wrote it, quotes and escapes included, because
    /// its value is not valid Unicode (a lone UTF-16 surrogate escape Python wrote) and so cannot
    /// be held as a `String` without changing it on a rewrite.
    case verbatimString(String)
    case array([JSONValue])
    case object(JSONObject)

    /// A number from a Swift double, written in its shortest round-trip form.
    public static func double(_ value: Double) -> JSONValue {
        .number(JSONWriter.format(value))
    }

    /// A number from a Swift integer.
    public static func int(_ value: Int) -> JSONValue { .number(String(value)) }

    /// The string; for a verbatim literal, its value with U+FFFD for what Unicode cannot hold.
    public var stringValue: String? {
        switch self {
        case .string(let s): return s
        case .verbatimString(let literal):
            var copy = literal
            return copy.withUTF8 { buffer in
                var reader = JSONReader(buffer)
                return try? reader.readString()
            }
        default: return nil
        }
    }

    public var doubleValue: Double? {
        if case .number(let text) = self { return Double(text) }
        return nil
    }

    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var isNull: Bool { self == .null }

    /// A short name of the value's JSON type, for error messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string, .verbatimString: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// One key and its value inside a JSON object.
public struct JSONField: Sendable, Equatable {
    public var key: String
    public var value: JSONValue

    public init(_ key: String, _ value: JSONValue) {
        self.key = key
        self.value = value
    }
}

/// A JSON object as an ordered list of fields (objects here are small; lookup is linear).
public struct JSONObject: Sendable, Equatable {
    public var fields: [JSONField]

    public init(_ fields: [JSONField] = []) { self.fields = fields }

    public subscript(key: String) -> JSONValue? {
        get { fields.first { $0.key == key }?.value }
        set {
            if let index = fields.firstIndex(where: { $0.key == key }) {
                if let newValue { fields[index].value = newValue } else { fields.remove(at: index) }
            } else if let newValue {
                fields.append(JSONField(key, newValue))
            }
        }
    }

    public var keys: [String] { fields.map(\.key) }
    public var isEmpty: Bool { fields.isEmpty }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral, ExpressibleByFloatLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(elements.map { JSONField($0.0, $0.1) }))
    }
    public init(nilLiteral: ()) { self = .null }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements.map { JSONField($0.0, $0.1) })
    }
}
