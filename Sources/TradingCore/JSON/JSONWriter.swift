/// Serialises JSON values. Key order and number literals are written as held, so a value read
/// from the operator's file and written back differs only where the program changed it.
public struct JSONWriter {
    /// Spaces per nesting level, or nil for one compact line (the JSONL logs).
    public var indent: Int?
    public var bytes: [UInt8] = []

    public init(indent: Int? = nil, reserve: Int = 0) {
        self.indent = indent
        bytes.reserveCapacity(reserve)
    }

    /// The shortest text that reads back as the same double; non-finite values become 0
    /// because JSON has no spelling for them (callers validate before writing).
    public static func format(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return value.description
    }

    public mutating func write(_ value: JSONValue, level: Int = 0) {
        switch value {
        case .null: append("null")
        case .bool(let b): append(b ? "true" : "false")
        case .number(let text): append(text)
        case .string(let s): writeString(s)
        case .verbatimString(let literal): append(literal)
        case .array(let items):
            if items.isEmpty {
                append("[]")
                return
            }
            bytes.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                newline(level + 1)
                write(item, level: level + 1)
            }
            newline(level)
            bytes.append(UInt8(ascii: "]"))
        case .object(let object):
            writeObjectStart()
            for (index, field) in object.fields.enumerated() {
                writeKey(field.key, first: index == 0, level: level + 1)
                write(field.value, level: level + 1)
            }
            writeObjectEnd(empty: object.isEmpty, level: level)
        }
    }

    /// Opens an object; follow with `writeKey` + a value per field and `writeObjectEnd`.
    public mutating func writeObjectStart() { bytes.append(UInt8(ascii: "{")) }

    public mutating func writeKey(_ key: String, first: Bool, level: Int) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        newline(level)
        writeString(key)
        bytes.append(UInt8(ascii: ":"))
        if indent != nil { bytes.append(UInt8(ascii: " ")) }
    }

    public mutating func writeObjectEnd(empty: Bool, level: Int) {
        if !empty { newline(level) }
        bytes.append(UInt8(ascii: "}"))
    }

    public mutating func newline(_ level: Int) {
        guard let indent else { return }
        bytes.append(0x0A)
        bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent * level))
    }

    public mutating func append(_ text: String) { bytes.append(contentsOf: text.utf8) }

    public mutating func writeString(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): append("\\\"")
            case UInt8(ascii: "\\"): append("\\\\")
            case 0x0A: append("\\n")
            case 0x0D: append("\\r")
            case 0x09: append("\\t")
            case 0..<0x20:
                let hex = String(b, radix: 16)
                append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
            default: bytes.append(b)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

extension JSONValue {
    /// The value as JSON text: compact by default, or indented.
    public func serialized(indent: Int? = nil) -> String {
        var writer = JSONWriter(indent: indent)
        writer.write(self)
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}
