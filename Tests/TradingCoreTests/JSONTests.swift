import Testing

@testable import TradingCore

@Suite struct JSONTests {
    @Test func parsesNestedValuesKeepingKeyOrder() throws {
        let value = try JSONValue.parse(#"{"b": [1, 2.5, -3e2, true, false, null], "a": {"z": "x", "y": {}}}"#)
        let object = try #require(value.objectValue)
        #expect(object.keys == ["b", "a"])
        #expect(object["b"] == .array([.number("1"), .number("2.5"), .number("-3e2"), true, false, .null]))
        #expect(object["a"]?.objectValue?.keys == ["z", "y"])
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let value = try JSONValue.parse(#"["a\"b\\c\/d\n\t\u00e9\ud83d\ude00"]"#)
        #expect(value == .array([.string("a\"b\\c/d\n\té😀")]))
    }

    @Test func serialisedTextReadsBackIdentically() throws {
        let original: JSONValue = [
            "name": "quote \" and \\ and \n and \u{01}", "n": .number("1.10"), "list": [1, "two", nil, ["x": false]],
        ]
        for indent in [nil, 1, 2] as [Int?] {
            #expect(try JSONValue.parse(original.serialized(indent: indent)) == original)
        }
    }

    @Test(arguments: [
        ("{\"a\": 1,}", "expected a quoted key"),
        ("[1, 2", "unterminated array"),
        ("{\"a\" 1}", "expected ':'"),
        ("\"abc", "unterminated string"),
        ("01", "after the end of the document"),
        ("[1.]", "expected a digit after '.'"),
        ("{\"a\": tru}", "expected true or false"),
        ("[\"a\u{01}\"]", "control character"),
        ("{} x", "after the end of the document"),
        ("", "found end of file"),
    ])
    func rejectsInvalidJSONWithAReason(text: String, reason: String) {
        #expect {
            _ = try JSONValue.parse(text)
        } throws: { error in
            "\(error)".contains(reason)
        }
    }

    @Test func errorNamesLineAndColumn() {
        let text = "{\n \"a\": 1,\n \"b\": ?\n}"
        #expect {
            _ = try JSONValue.parse(text)
        } throws: { error in
            guard let e = error as? JSONSyntaxError else { return false }
            return e.line == 3 && e.column == 7
        }
    }

    /// The eight-bytes-at-a-time scan of strings stops exactly where the byte-by-byte one does.
    @Test func aWordHasASpecialByteExactlyWhenOneOfItsBytesIs() {
        var generator = SystemRandomNumberGenerator()
        let interesting: [UInt8] = [
            0x00, 0x01, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x5B, 0x5C, 0x5D, 0x7F, 0x80, 0xA2, 0xDC, 0xFF,
        ]
        for round in 0..<50_000 {
            let bytes = (0..<8).map { _ in
                round % 2 == 0
                    ? interesting.randomElement(using: &generator)! : UInt8.random(in: 0...255, using: &generator)
            }
            let word = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
            let expected = bytes.contains { $0 == 0x22 || $0 == 0x5C || $0 < 0x20 }
            #expect(JSONReader.hasSpecialByte(word) == expected, "\(bytes)")
        }
    }

    @Test func fastNumberParsingMatchesTheStandardLibrary() {
        var generator = SystemRandomNumberGenerator()
        var literals = [
            "0", "-0", "0.1", "1e22", "1e23", "123456789012345678", "9007199254740993", "2.2250738585072014e-308",
            "0.000001234", "656.04536979", "-2.4343", "1E+2", "3.14159265358979323846",
        ]
        for _ in 0..<20_000 {
            let value = Double(bitPattern: generator.next())
            if value.isFinite { literals.append(value.description) }
            let digits = Int.random(in: 1...18, using: &generator)
            var text = String(UInt64.random(in: 0...UInt64(999_999_999_999_999_999), using: &generator)).prefix(digits)
            if Bool.random(using: &generator) {
                text.insert(
                    ".", at: text.index(text.startIndex, offsetBy: Int.random(in: 0..<text.count, using: &generator)))
            }
            if text.hasPrefix(".") { text = "0" + text }
            if text.hasSuffix(".") { text += "5" }
            literals.append(String(text))
        }
        for literal in literals {
            var copy = literal
            let parsed = copy.withUTF8 { NumberParsing.parseDouble($0) }
            #expect(parsed == Double(literal), "\(literal)")
            // The record reader's one-pass read: the range the grammar gives, and the standard
            // library's value bit for bit (sign of zero included).
            for text in [literal, "-" + literal, literal + "]"] where !text.hasPrefix("--") {
                var bytes = text
                bytes.withUTF8 { buffer in
                    var reader = JSONReader(buffer)
                    let read = try? reader.readNumber()
                    var general = JSONReader(buffer)
                    let range = try? general.readNumberRange()
                    #expect(read?.range == range, "\(text)")
                    let expected = range.flatMap {
                        Double(String(decoding: UnsafeBufferPointer(rebasing: buffer[$0]), as: UTF8.self))
                    }
                    #expect(read != nil && read?.value.bitPattern == expected?.bitPattern, "\(text)")
                }
            }
        }
    }
}
