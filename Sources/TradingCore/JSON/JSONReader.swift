/// A pull parser over UTF-8 bytes. It reads values in place (no token array, no intermediate
/// tree), so typed decoders such as the positions decoder allocate only what they keep.
///
/// It reads what Python's `json` module writes, which strict JSON forbids: `NaN`, `Infinity` and
/// `-Infinity` (numbers whose literal is kept), lone UTF-16 surrogate escapes (decoded as U+FFFD,
/// with `lastStringWasLossy` set so the caller can keep the literal), and a UTF-8 byte order mark
/// that an editor put at the start of the file.
///
/// - Important: it borrows the buffer; use it only inside the `withUnsafeBufferPointer` scope
///   that produced the buffer.
public struct JSONReader {
    public let bytes: UnsafeBufferPointer<UInt8>
    public internal(set) var position: Int = 0
    var depth = 0
    private static let maxDepth = 512
    /// True when the last string read had a lone surrogate escape that it decoded as U+FFFD.
    public private(set) var lastStringWasLossy = false
    /// False when `bytes` is a window that more of the text follows (`JSONStream`): a number that
    /// reaches the window's end may go on, so it is not read as ended there.
    let isFinal: Bool
    /// Set when a read needed bytes past the end of `bytes`: the error it threw may be only the
    /// window's end, not the text's (`JSONStream` then reads on and tries again).
    var ranOut = false

    public init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        isFinal = true
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { position = 3 }
    }

    /// A reader over a window of a longer text, resuming at `position` with `depth` levels open.
    init(window bytes: UnsafeBufferPointer<UInt8>, position: Int, depth: Int, isFinal: Bool) {
        self.bytes = bytes
        self.position = position
        self.depth = depth
        self.isFinal = isFinal
    }

    /// The kinds of value that can start at the current position.
    public enum Kind: Sendable { case object, array, string, number, bool, null }

    /// A key as read from the text: a byte range when it had no escapes, else the decoded string.
    public struct Key {
        public let start: Int
        public let end: Int
        public let decoded: String?
    }

    // MARK: - Errors

    /// An error at `offset` (default: the current position) with its line and column.
    public func error(_ message: String, at offset: Int? = nil) -> JSONSyntaxError {
        let end = min(offset ?? position, bytes.count)
        // A window's errors are mostly its end, not the text's: `JSONStream` places the real ones.
        guard isFinal else { return JSONSyntaxError(offset: end, line: 0, column: 0, message: message) }
        let (line, column) = TextLocator.place(end, in: bytes)
        return JSONSyntaxError(offset: end, line: line, column: column, message: message)
    }

    private func describeByte(at offset: Int) -> String {
        guard offset < bytes.count else { return "end of file" }
        let b = bytes[offset]
        if b >= 0x21 && b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
        return "byte 0x\(String(b, radix: 16))"
    }

    // MARK: - Structure

    @inline(__always)
    public mutating func skipWhitespace() {
        while position < bytes.count {
            guard isJSONSpace(bytes[position]) else { return }
            position += 1
        }
    }

    /// The kind of the next value, after whitespace.
    public mutating func peekKind() throws(JSONSyntaxError) -> Kind {
        skipWhitespace()
        guard position < bytes.count else { throw error("expected a value, found end of file") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "N"), UInt8(ascii: "I"):
            return .number
        default: throw error("expected a value, found \(describeByte(at: position))")
        }
    }

    @inline(__always)
    private mutating func expect(_ byte: UInt8, _ what: String) throws(JSONSyntaxError) {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == byte else {
            throw error("expected \(what), found \(describeByte(at: position))")
        }
        position += 1
    }

    public mutating func beginObject() throws(JSONSyntaxError) {
        try expect(UInt8(ascii: "{"), "'{'")
        depth += 1
        if depth > Self.maxDepth { throw error("nesting deeper than \(Self.maxDepth) levels") }
    }

    public mutating func beginArray() throws(JSONSyntaxError) {
        try expect(UInt8(ascii: "["), "'['")
        depth += 1
        if depth > Self.maxDepth { throw error("nesting deeper than \(Self.maxDepth) levels") }
    }

    /// The next key of the object begun last, positioned at its value; nil at the closing brace.
    /// `first` must start true for each object.
    public mutating func nextKey(first: inout Bool) throws(JSONSyntaxError) -> Key? {
        guard try atKey(first: &first) else { return nil }
        let key = try readKeyToken()
        try expect(UInt8(ascii: ":"), "':' after a key")
        return key
    }

    /// `nextKey` matched against `table`, for objects whose keys are mostly its names in a usual
    /// order (every record of a positions file): the key is first compared in place with the
    /// name `guess`, which settles most keys without scanning them twice.
    /// - Returns: the index of the key's name in `table`, `KeyTable.other` when it is none of
    ///   them (the key is in `key`), `KeyTable.end` at the closing brace.
    public mutating func nextField(
        first: inout Bool, in table: KeyTable, guess: Int, key: inout Key
    ) throws(JSONSyntaxError) -> Int {
        guard try atKey(first: &first) else { return KeyTable.end }
        let start = position + 1
        if guess >= 0 && guess < table.lengths.count, case let end = start + table.lengths[guess],
            end < bytes.count && bytes[end] == UInt8(ascii: "\"") && table.name(guess, isAt: start, in: bytes)
        {
            position = end + 1
            try expect(UInt8(ascii: ":"), "':' after a key")
            return guess
        }
        key = try readKeyToken()
        try expect(UInt8(ascii: ":"), "':' after a key")
        return match(key, in: table) ?? KeyTable.other
    }

    /// Moves to the next key's opening quote; false (past the brace) at the end of the object.
    private mutating func atKey(first: inout Bool) throws(JSONSyntaxError) -> Bool {
        skipWhitespace()
        guard position < bytes.count else { throw error("unterminated object: expected '}' or a key") }
        if bytes[position] == UInt8(ascii: "}") {
            position += 1
            depth -= 1
            return false
        }
        if first {
            first = false
        } else {
            guard bytes[position] == UInt8(ascii: ",") else {
                throw error("expected ',' or '}' after an object value, found \(describeByte(at: position))")
            }
            position += 1
            skipWhitespace()
        }
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
            throw error("expected a quoted key, found \(describeByte(at: position))")
        }
        return true
    }

    /// True when another element of the array begun last follows; false at the closing bracket.
    public mutating func nextElement(first: inout Bool) throws(JSONSyntaxError) -> Bool {
        skipWhitespace()
        guard position < bytes.count else { throw error("unterminated array: expected ']' or a value") }
        if bytes[position] == UInt8(ascii: "]") {
            position += 1
            depth -= 1
            return false
        }
        if first {
            first = false
        } else {
            guard bytes[position] == UInt8(ascii: ",") else {
                throw error("expected ',' or ']' after an array element, found \(describeByte(at: position))")
            }
            position += 1
        }
        return true
    }

    /// Checks that nothing but whitespace follows the document.
    public mutating func finish() throws(JSONSyntaxError) {
        skipWhitespace()
        if position < bytes.count {
            throw error("unexpected \(describeByte(at: position)) after the end of the document")
        }
        if !isFinal {
            ranOut = true  // only whitespace up to the window's end: what follows it decides
            throw error("the end of the window after the document", at: position)
        }
    }

    // MARK: - Keys

    private mutating func readKeyToken() throws(JSONSyntaxError) -> Key {
        let start = position + 1
        var i = start
        // Eight bytes at a time while none ends the token: no quote, backslash or control byte.
        if let base = bytes.baseAddress {
            while i + 8 <= bytes.count {
                let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                guard !Self.hasSpecialByte(word) else { break }
                i += 8
            }
        }
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                position = i + 1
                return Key(start: start, end: i, decoded: nil)
            }
            if b == UInt8(ascii: "\\") || b < 0x20 { break }
            i += 1
        }
        return Key(start: start, end: start, decoded: try readString())
    }

    /// True when one of the eight bytes is `"`, `\\` or below 0x20 (SWAR: each test sets a
    /// byte's high bit where it holds).
    @inline(__always)
    static func hasSpecialByte(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let zeroQuote = (quote &- ones) & ~quote
        let zeroBackslash = (backslash &- ones) & ~backslash
        let control = (word &- ones &* 0x20) & ~word
        return (zeroQuote | zeroBackslash | control) & highs != 0
    }

    /// Reads a string value without decoding it when it has no escapes (timestamps, enums).
    public mutating func readStringToken() throws(JSONSyntaxError) -> Key {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
            throw error("expected a string, found \(describeByte(at: position))")
        }
        return try readKeyToken()
    }

    /// The raw bytes of an undecoded token, or nil when it had escapes.
    public func rawBytes(of key: Key) -> UnsafeBufferPointer<UInt8>? {
        key.decoded == nil ? UnsafeBufferPointer(rebasing: bytes[key.start..<key.end]) : nil
    }

    /// The key as a Swift string.
    public func string(of key: Key) -> String {
        key.decoded ?? String(decoding: UnsafeBufferPointer(rebasing: bytes[key.start..<key.end]), as: UTF8.self)
    }

    /// Names to match keys against, laid out flat: a key is compared only with the names of its
    /// length, byte by byte, with no array per name to retain (it runs for every key of a file).
    public struct KeyTable: Sendable {
        /// `nextField`'s answers for a key that is none of the names, and for the object's end.
        public static let other = -1
        public static let end = -2

        let bytes: [UInt8]
        let starts: [Int]
        let lengths: [Int]

        public init(_ names: [String]) {
            var bytes: [UInt8] = []
            var starts: [Int] = []
            for name in names {
                starts.append(bytes.count)
                bytes.append(contentsOf: name.utf8)
            }
            self.bytes = bytes
            self.starts = starts
            lengths = names.map(\.utf8.count)
        }

        /// True when `text` from `start` holds name `index` (`text` has its length's bytes
        /// there), compared eight bytes at a time.
        func name(_ index: Int, isAt start: Int, in text: UnsafeBufferPointer<UInt8>) -> Bool {
            let length = lengths[index]
            let name = starts[index]
            return bytes.withUnsafeBufferPointer { names in
                var j = 0
                if let text = text.baseAddress, let known = names.baseAddress {
                    while j + 8 <= length {
                        let a = UnsafeRawPointer(text + start + j).loadUnaligned(as: UInt64.self)
                        let b = UnsafeRawPointer(known + name + j).loadUnaligned(as: UInt64.self)
                        guard a == b else { return false }
                        j += 8
                    }
                }
                while j < length && names[name + j] == text[start + j] { j += 1 }
                return j == length
            }
        }

        /// The index of the name `text` from `start` for `length` bytes spells, if any.
        func index(of text: UnsafeBufferPointer<UInt8>, at start: Int, length: Int) -> Int? {
            lengths.indices.first { lengths[$0] == length && name($0, isAt: start, in: text) }
        }
    }

    /// The index in `table` of the name equal to `key`, if any.
    public func match(_ key: Key, in table: KeyTable) -> Int? {
        guard let decoded = key.decoded else {
            return table.index(of: bytes, at: key.start, length: key.end - key.start)
        }
        var text = decoded
        return text.withUTF8 { table.index(of: $0, at: 0, length: $0.count) }
    }

    // MARK: - Scalars

    /// Reads a string value and returns it decoded.
    public mutating func readString() throws(JSONSyntaxError) -> String {
        lastStringWasLossy = false
        try expect(UInt8(ascii: "\""), "a string")
        let start = position
        var i = start
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                position = i + 1
                return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw error("control character inside a string (escape it)", at: i) }
            i += 1
        }
        guard i < bytes.count else {
            ranOut = true
            throw error("unterminated string", at: start - 1)
        }
        var out = Array(UnsafeBufferPointer(rebasing: bytes[start..<i]))
        position = i
        while position < bytes.count {
            let b = bytes[position]
            if b == UInt8(ascii: "\"") {
                position += 1
                return String(decoding: out, as: UTF8.self)
            }
            if b < 0x20 { throw error("control character inside a string (escape it)") }
            if b != UInt8(ascii: "\\") {
                out.append(b)
                position += 1
                continue
            }
            position += 1
            guard position < bytes.count else { break }  // a backslash at the end
            let e = bytes[position]
            position += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try readHex4()
                if (0xD800..<0xDC00).contains(scalar), position + 5 < bytes.count,
                    bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u")
                {
                    let mark = position
                    position += 2
                    let low = try readHex4()
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        position = mark  // a lone high surrogate; the next escape stands alone
                    }
                }
                // Python writes a lone surrogate (from undecodable bytes) as an escape that no
                // Unicode string can hold: read it as U+FFFD and let the caller keep the literal.
                let decoded = Unicode.Scalar(scalar)
                if decoded == nil { lastStringWasLossy = true }
                let u = decoded ?? "\u{FFFD}"
                var utf8 = [UInt8]()
                UTF8.encode(u) { utf8.append($0) }
                out.append(contentsOf: utf8)
            default:
                throw error("invalid escape '\\\(Character(Unicode.Scalar(e)))' in a string", at: position - 2)
            }
        }
        ranOut = true
        throw error("unterminated string", at: start - 1)
    }

    private mutating func readHex4() throws(JSONSyntaxError) -> UInt32 {
        guard position + 4 <= bytes.count else {
            ranOut = true
            throw error("truncated \\u escape")
        }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[position]
            let digit: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(b - UInt8(ascii: "A") + 10)
            default: throw error("invalid hex digit in \\u escape")
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }

    /// Reads a number and returns the byte range of its literal, validated against JSON's grammar.
    public mutating func readNumberRange() throws(JSONSyntaxError) -> Range<Int> {
        skipWhitespace()
        let start = position
        var i = position
        let n = bytes.count
        if i < n, bytes[i] == UInt8(ascii: "-") { i += 1 }
        if i < n, bytes[i] == UInt8(ascii: "N") || bytes[i] == UInt8(ascii: "I") {
            position = i
            if (i == start && matchLiteral("NaN")) || matchLiteral("Infinity") { return start..<position }
            position = start
            throw error("expected a number, found \(describeByte(at: i))", at: i)
        }
        guard i < n, isDigit(bytes[i]) else { throw error("expected a number, found \(describeByte(at: i))", at: i) }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
        } else {
            while i < n, isDigit(bytes[i]) { i += 1 }
        }
        if i < n, bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard i < n, isDigit(bytes[i]) else { throw error("expected a digit after '.'", at: i) }
            while i < n, isDigit(bytes[i]) { i += 1 }
        }
        if i < n, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < n, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard i < n, isDigit(bytes[i]) else { throw error("expected a digit in the exponent", at: i) }
            while i < n, isDigit(bytes[i]) { i += 1 }
        }
        if i == n && !isFinal {
            ranOut = true  // the digits may go on in the text past the window
            throw error("a number at the end of the window", at: i)
        }
        position = i
        return start..<i
    }

    /// Reads a number: its value (correctly rounded) and its literal's range, in one pass over
    /// the digits for the usual literal (up to 15 significant digits, a small exponent). Anything
    /// else takes `readNumberRange` and `NumberParsing`, so values and errors are theirs.
    public mutating func readNumber() throws(JSONSyntaxError) -> (value: Double, range: Range<Int>) {
        skipWhitespace()
        let start = position
        let n = bytes.count
        var i = start
        var negative = false
        if i < n && bytes[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        var digits = NumberParsing.DecimalDigits()
        var regular = i < n && isDigit(bytes[i])
        if regular && bytes[i] == UInt8(ascii: "0") {
            i += 1  // JSON's integer part: a lone 0, or digits led by 1-9
        } else {
            digits.take(bytes, at: &i, fraction: false)
        }
        if regular && i < n && bytes[i] == UInt8(ascii: ".") {
            i += 1
            regular = i < n && isDigit(bytes[i])
            digits.take(bytes, at: &i, fraction: true)
        }
        // An exponent, the end of a window, or too many digits for the fast path: the general way.
        guard regular, i < n, bytes[i] != UInt8(ascii: "e") && bytes[i] != UInt8(ascii: "E"),
            let value = digits.fastValue(negative: negative)
        else {
            position = start
            let range = try readNumberRange()
            return (NumberParsing.parseDouble(UnsafeBufferPointer(rebasing: bytes[range])), range)
        }
        position = i
        return (value, Range(uncheckedBounds: (start, i)))
    }

    /// Reads a number as a double (correctly rounded).
    public mutating func readDouble() throws(JSONSyntaxError) -> Double {
        let range = try readNumberRange()
        return NumberParsing.parseDouble(UnsafeBufferPointer(rebasing: bytes[range]))
    }

    /// Reads a number and returns its literal text.
    public mutating func readNumberText() throws(JSONSyntaxError) -> String {
        let range = try readNumberRange()
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    public mutating func readBool() throws(JSONSyntaxError) -> Bool {
        skipWhitespace()
        if matchLiteral("true") { return true }
        if matchLiteral("false") { return false }
        throw error("expected true or false, found \(describeByte(at: position))")
    }

    public mutating func readNull() throws(JSONSyntaxError) {
        skipWhitespace()
        guard matchLiteral("null") else { throw error("expected null, found \(describeByte(at: position))") }
    }

    private mutating func matchLiteral(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count else {
            ranOut = true
            return false
        }
        let p = literal.utf8Start
        for j in 0..<count where bytes[position + j] != p[j] { return false }
        position += count
        return true
    }

    // MARK: - Whole values

    /// Reads any value into a tree.
    public mutating func readValue() throws(JSONSyntaxError) -> JSONValue {
        switch try peekKind() {
        case .null:
            try readNull()
            return .null
        case .bool: return .bool(try readBool())
        case .number: return .number(try readNumberText())
        case .string:
            skipWhitespace()
            let start = position
            let text = try readString()
            guard lastStringWasLossy else { return .string(text) }
            return .verbatimString(
                String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self))
        case .array:
            try beginArray()
            var items: [JSONValue] = []
            var first = true
            while try nextElement(first: &first) { items.append(try readValue()) }
            return .array(items)
        case .object:
            try beginObject()
            var fields: [JSONField] = []
            var first = true
            while let key = try nextKey(first: &first) {
                fields.append(JSONField(string(of: key), try readValue()))
            }
            return .object(JSONObject(fields))
        }
    }
}

@inline(__always)
func isDigit(_ b: UInt8) -> Bool { b &- UInt8(ascii: "0") < 10 }

/// JSON's whitespace: space, line feed, carriage return, tab.
@inline(__always)
func isJSONSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }

extension JSONValue {
    /// Parses a complete JSON document.
    public static func parse(_ bytes: [UInt8]) throws(JSONSyntaxError) -> JSONValue {
        do {
            return try bytes.withUnsafeBufferPointer { buffer in
                var reader = JSONReader(buffer)
                let value = try reader.readValue()
                try reader.finish()
                return value
            }
        } catch let error as JSONSyntaxError {
            throw error
        } catch {
            fatalError("unreachable: \(error)")
        }
    }

    /// Parses a complete JSON document from text.
    public static func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        try parse(Array(text.utf8))
    }
}
