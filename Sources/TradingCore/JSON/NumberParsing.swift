/// Decimal text to Double without going through String: the positions file holds millions of
/// numbers, and this is the hot path of every data check.
public enum NumberParsing {
    /// True when the eight bytes of `word` (in memory order) are all ASCII digits (SWAR).
    @inline(__always)
    static func isEightDigits(_ word: UInt64) -> Bool {
        let high: UInt64 = 0xF0F0_F0F0_F0F0_F0F0
        return (word & high) | (((word &+ 0x0606_0606_0606_0606) & high) >> 4) == 0x3333_3333_3333_3333
    }

    /// The value of eight ASCII digits, the first in the lowest byte (little-endian loads).
    @inline(__always)
    static func valueOfEightDigits(_ word: UInt64) -> UInt64 {
        var value = ((word & 0x0F0F_0F0F_0F0F_0F0F) &* 2561) >> 8
        value = ((value & 0x00FF_00FF_00FF_00FF) &* 6_553_601) >> 16
        return ((value & 0x0000_FFFF_0000_FFFF) &* 42_949_672_960_001) >> 32
    }

    /// 10^k for k in 0...22, each exact in a Double; no table to reach through a lazy global.
    @inline(__always)
    static func powerOfTen(_ k: Int) -> Double {
        var value = 1.0
        var remaining = k
        if remaining >= 16 {
            value = 1e16
            remaining -= 16
        }
        if remaining >= 8 {
            value *= 1e8
            remaining -= 8
        }
        if remaining >= 4 {
            value *= 1e4
            remaining -= 4
        }
        switch remaining {
        case 1: value *= 10
        case 2: value *= 100
        case 3: value *= 1000
        default: break
        }
        return value
    }

    /// Digits gathered into a mantissa of significant digits and a decimal exponent: how both
    /// number readers (`parseDouble` and `JSONReader.readNumber`) take them.
    struct DecimalDigits {
        var mantissa: UInt64 = 0
        var significant = 0
        var exponent = 0

        var isZero: Bool { mantissa == 0 && significant == 0 }

        /// Takes the digits at `i` (those after the point when `fraction`). Leading zeros are not
        /// significant; from the first significant digit on, every one is, taken eight at a time
        /// while eight follow.
        @inline(__always)
        mutating func take(_ b: UnsafeBufferPointer<UInt8>, at i: inout Int, fraction: Bool) {
            let n = b.count
            while i < n && mantissa == 0 {
                let d = b[i] &- UInt8(ascii: "0")
                guard d < 10 else { return }
                if d != 0 {
                    mantissa = UInt64(d)
                    significant += 1
                }
                if fraction { exponent -= 1 }
                i += 1
            }
            if let base = b.baseAddress {
                while i + 8 <= n {
                    let word = UInt64(littleEndian: UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self))
                    guard isEightDigits(word) else { break }
                    mantissa = mantissa &* 100_000_000 &+ valueOfEightDigits(word)
                    significant += 8
                    if fraction { exponent -= 8 }
                    i += 8
                }
            }
            while i < n, case let d = b[i] &- UInt8(ascii: "0"), d < 10 {
                mantissa = mantissa &* 10 &+ UInt64(d)
                significant += 1
                if fraction { exponent -= 1 }
                i += 1
            }
        }

        /// The value when it is exact the fast way (Clinger's): zero, or up to 15 significant
        /// digits and a decimal exponent within ±22.
        func fastValue(negative: Bool) -> Double? {
            if isZero { return negative ? -0.0 : 0.0 }
            guard significant <= 15 && exponent >= -22 && exponent <= 22 else { return nil }
            var value = Double(mantissa)
            if exponent < 0 { value /= powerOfTen(-exponent) } else { value *= powerOfTen(exponent) }
            return negative ? -value : value
        }
    }

    /// Parses a JSON number literal (already validated). Exact for up to 15 significant digits
    /// and decimal exponents within ±22 (Clinger's fast path); otherwise defers to the standard
    /// library's correctly rounded parser.
    public static func parseDouble(_ text: UnsafeBufferPointer<UInt8>) -> Double {
        var i = 0
        let n = text.count
        var negative = false
        if i < n, text[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        if i < n, text[i] == UInt8(ascii: "N") { return .nan }
        if i < n, text[i] == UInt8(ascii: "I") { return negative ? -.infinity : .infinity }
        var digits = DecimalDigits()
        digits.take(text, at: &i, fraction: false)
        if i < n, text[i] == UInt8(ascii: ".") {
            i += 1
            digits.take(text, at: &i, fraction: true)
        }
        if i < n, text[i] == UInt8(ascii: "e") || text[i] == UInt8(ascii: "E") {
            i += 1
            var expNegative = false
            if i < n, text[i] == UInt8(ascii: "+") || text[i] == UInt8(ascii: "-") {
                expNegative = text[i] == UInt8(ascii: "-")
                i += 1
            }
            var e = 0
            while i < n, isDigit(text[i]) {
                if e < 100_000 { e = e * 10 + Int(text[i] &- UInt8(ascii: "0")) }
                i += 1
            }
            digits.exponent += expNegative ? -e : e
        }
        if i == n || digits.isZero, let value = digits.fastValue(negative: negative) { return value }
        return Double(String(decoding: text, as: UTF8.self)) ?? .nan
    }

    /// Parses a decimal number from text, or nil when it is not one (used for numbers stored as strings).
    public static func parseDouble(_ text: String) -> Double? {
        var copy = text
        return copy.withUTF8 { buffer -> Double? in
            guard !buffer.isEmpty else { return nil }
            var reader = JSONReader(buffer)
            guard let range = try? reader.readNumberRange(), range.count == buffer.count else {
                return Double(text)
            }
            return parseDouble(UnsafeBufferPointer(rebasing: buffer[range]))
        }
    }
}
