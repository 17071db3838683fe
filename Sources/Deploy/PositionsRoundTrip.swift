import TradingCore

/// Compares a positions file with the candidate's rewrite of it: every record and every field,
/// known or not, must survive (numbers compared as numbers, `5` equals `5.0`; `NaN` equals `NaN`,
/// since Python wrote it and the rewrite must keep it, not drop or "repair" it).
public enum PositionsRoundTrip {
    /// The first difference, or nil when the rewrite kept everything.
    public static func difference(original: JSONValue, rewritten: JSONValue) -> String? {
        guard let a = original.objectValue, let b = rewritten.objectValue else {
            return "the rewrite is not a JSON object"
        }
        for field in a.fields {
            guard let other = b[field.key] else { return "top-level field \"\(field.key)\" was dropped" }
            if let list = field.value.arrayValue, let otherList = other.arrayValue {
                guard list.count == otherList.count else {
                    return "\(field.key) has \(otherList.count) records after the rewrite, \(list.count) before"
                }
                for (i, (x, y)) in zip(list, otherList).enumerated() {
                    if let why = differ(x, y, path: "\(field.key)[\(i)]") { return why }
                }
            } else if let why = differ(field.value, other, path: field.key) {
                return why
            }
        }
        return nil
    }

    static func differ(_ x: JSONValue, _ y: JSONValue, path: String) -> String? {
        switch (x, y) {
        case (.object(let a), .object(let b)):
            for field in a.fields {
                guard let other = b[field.key] else { return "\(path) lost field \"\(field.key)\"" }
                if let why = differ(field.value, other, path: "\(path).\(field.key)") { return why }
            }
            if let extra = b.keys.first(where: { a[$0] == nil }) { return "\(path) gained field \"\(extra)\"" }
            return nil
        case (.array(let a), .array(let b)):
            guard a.count == b.count else { return "\(path) has \(b.count) items after the rewrite, \(a.count) before" }
            for (i, (p, q)) in zip(a, b).enumerated() {
                if let why = differ(p, q, path: "\(path)[\(i)]") { return why }
            }
            return nil
        case (.number, .number):
            return x == y || x.doubleValue == y.doubleValue
                ? nil : "\(path) changed from \(x.serialized()) to \(y.serialized())"
        default:
            return x == y ? nil : "\(path) changed from \(x.serialized()) to \(y.serialized())"
        }
    }
}
