import Foundation
import TradingCore

/// BloFin sends numbers as strings ("27187.5"); these read either form.
enum BloFinJSON {
    static func text(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let s)?: s
        case .number(let n)?: n
        case let v?: v.stringValue
        default: nil
        }
    }

    static func double(_ value: JSONValue?) -> Double? {
        guard let t = text(value), !t.isEmpty else { return nil }
        return Double(t)
    }

    static func int64(_ value: JSONValue?) -> Int64? {
        guard let t = text(value), !t.isEmpty else { return nil }
        return Int64(t) ?? Double(t).map { Int64($0) }
    }

    static func instant(_ value: JSONValue?) -> Instant? {
        int64(value).map { Instant(microseconds: $0 * 1000) }
    }

    /// A documented number field, or a `malformed` error naming it.
    static func require(_ object: JSONObject, _ key: String, _ endpoint: String) throws(BloFinError) -> Double {
        guard let v = double(object[key]) else {
            throw .malformed(endpoint: endpoint, why: "\(key) is missing or not a number")
        }
        return v
    }

    /// A decimal as BloFin wants it in a request: plain digits, no exponent, no trailing zeros.
    static func decimal(_ value: Double, step: Double) -> String {
        let places = max(0, min(12, Int((-log10(step)).rounded(.up))))
        var s = String(format: "%.\(places)f", value)
        if s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s
    }
}
