/// Closed trades read from one stretch of a positions file, apart from the reading of the whole
/// (on another core), for `PositionsCodec.scan(_:prepared:)` to take where its own reading
/// arrives at `start`.
public struct RecordBatch: Sendable {
    /// The text's offset of the first trade's `{`.
    public var start: Int
    /// The text's offset just past the last trade's `}`.
    public var end: Int
    /// Each trade with its issues, numbered from 0 within the batch.
    public var records: [(Position, [RecordIssue])]
}

extension PositionsCodec {
    /// The first place in `bytes` at or after `from` and before `before` that looks like a trade
    /// following another in a list: `}`, `,`, `{`, `"` with only whitespace between. A guess (a
    /// string may hold the same bytes): `scan` takes a batch only where its own reading arrives.
    public static func likelyRecordStart(in bytes: UnsafeBufferPointer<UInt8>, from: Int, before: Int) -> Int? {
        var i = from
        let end = min(before, bytes.count)
        while i < end {
            guard bytes[i] == UInt8(ascii: "{") else {
                i += 1
                continue
            }
            var after = i + 1
            while after < bytes.count && isJSONSpace(bytes[after]) { after += 1 }
            var back = i - 1
            while back >= 0 && isJSONSpace(bytes[back]) { back -= 1 }
            if after < bytes.count && bytes[after] == UInt8(ascii: "\"") && back >= 1
                && bytes[back] == UInt8(ascii: ",")
            {
                back -= 1
                while back >= 0 && isJSONSpace(bytes[back]) { back -= 1 }
                if back >= 0 && bytes[back] == UInt8(ascii: "}") { return i }
            }
            i += 1
        }
        return nil
    }

    /// Reads, as `scan` reads closed trades, the trades of `bytes` from the `{` at `from` on,
    /// each that starts before `until`; it stops at the list's end, at a trade it cannot read
    /// (the reading of the whole reads it and says why) and at the end of `bytes`.
    /// - Parameter offset: the text's offset of `bytes`' first byte.
    public static func readRecords(
        in bytes: UnsafeBufferPointer<UInt8>, from: Int, until: Int, offset: Int
    ) -> RecordBatch? {
        // Depth 2: inside the top-level object and the list, as `scan` is at a trade.
        var r = JSONReader(window: bytes, position: from, depth: 2, isFinal: true)
        var shape = RecordShape()
        var records: [(Position, [RecordIssue])] = []
        records.reserveCapacity((until - from) / 256 + 1)  // a trade is some 300 bytes or more
        var end = from
        while r.position < until {
            var position = Position(symbol: "")
            var found: [RecordIssue] = []
            do {
                try readPosition(
                    &r, into: &position, list: .closed, index: records.count, keepSpelling: false,
                    shape: &shape, issues: &found)
            } catch {
                break
            }
            records.append((position, named(found, position)))
            end = r.position
            var first = false
            guard (try? r.nextElement(first: &first)) == true else { break }
            r.skipWhitespace()
            guard r.position < bytes.count && bytes[r.position] == UInt8(ascii: "{") else { break }
        }
        return records.isEmpty ? nil : RecordBatch(start: offset + from, end: offset + end, records: records)
    }
}
