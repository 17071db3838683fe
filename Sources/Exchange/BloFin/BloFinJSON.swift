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
        if let exact = Int64(t) { return exact }
        // "1.7e12", never "NaN" or past Int64: a bad answer must not crash the engine.
        guard let d = Double(t), d.isFinite, abs(d) < 9e18 else { return nil }
        return Int64(d)
    }

    static func instant(_ value: JSONValue?) -> Instant? {
        guard let ms = int64(value) else { return nil }
        let (us, overflow) = ms.multipliedReportingOverflow(by: 1000)
        return overflow ? nil : Instant(microseconds: us)
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
        // The places the step itself has: 0.25 needs 2, 0.1 needs 1, 5 needs none.
        var places = 0
        while places < 12 {
            let scaled = step * pow(10, Double(places))
            if abs(scaled - scaled.rounded()) < 1e-7 * max(1, scaled) { break }
            places += 1
        }
        var s = String(format: "%.\(places)f", value)
        if s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s
    }
}
