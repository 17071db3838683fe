/// Reads and writes `positions_futures.json`. Reading is tolerant of what real files contain (what
/// Python's `json` module writes, and hand edits) and reports each unusable field as a
/// `RecordIssue` rather than skipping it or guessing; writing keeps unknown fields, unusable
/// values and the original spelling of what it reads.
public enum PositionsCodec {
    /// The field names this program models, in the order it writes them.
    static let fieldNames = [
        "symbol", "direction", "entry_price", "exit_price", "size", "leverage", "margin_collateral",
        "pnl", "net_pnl", "opened_at", "closed_at", "strategy", "bot_type",
    ]
    private static let fieldTable = JSONReader.KeyTable(fieldNames)

    /// What the records read so far looked like, for reading the next one faster: the order
    /// they give their fields in (each key is first compared with the name that followed the
    /// previous one last time).
    struct RecordShape {
        /// After field i (the start of a record: `fieldNames.count`), the field that came next.
        private var next = [Int](repeating: -1, count: fieldNames.count + 1)
        private(set) var previous = fieldNames.count

        var guess: Int { next[previous] }

        mutating func startRecord() { previous = fieldNames.count }

        mutating func saw(_ field: Int) {
            next[previous] = field
            previous = field
        }
    }

    /// The result of reading a file: every record, plus the fields that could not be used.
    public struct Decoded: Sendable {
        public var file: PositionsFile
        public var issues: [RecordIssue]

        public init(file: PositionsFile, issues: [RecordIssue]) {
            self.file = file
            self.issues = issues
        }
    }

    /// Reads a whole file into memory, keeping how it spelled each value so a rewrite keeps it.
    public static func decode(_ bytes: [UInt8]) throws -> Decoded {
        var file = PositionsFile()
        var issues: [RecordIssue] = []
        file.extra = try scan(bytes, keepSpelling: true) { list, _, position, found in
            issues.append(contentsOf: found)
            switch list {
            case .open: file.open.append(position)
            case .closed: file.closed.append(position)
            }
        }
        return Decoded(file: file, issues: issues)
    }

    /// Streams the records of a file to `record` (with the record's unusable fields) without
    /// keeping them, so checks and bounded readers use memory for what they keep, not for the
    /// whole history.
    /// - Parameter keepSpelling: record in `Position.written` the values a rewrite would spell
    ///   differently; only readers that rewrite the file need it.
    /// - Returns: the top-level fields other than the two lists.
    /// - Throws: `JSONSyntaxError` (with the record it is in) or `PositionsFormatError` when the
    ///   file's structure is broken.
    @discardableResult
    public static func scan(
        _ bytes: [UInt8], keepSpelling: Bool = false,
        record: (PositionList, Int, Position, [RecordIssue]) -> Void
    ) throws -> JSONObject {
        try bytes.withUnsafeBufferPointer { try scan(buffer: $0, keepSpelling: keepSpelling, record: record) }
    }

    /// `scan` over bytes the caller holds (a mapped file: a reader whose memory must not grow
    /// with the history).
    @discardableResult
    public static func scan(
        buffer: UnsafeBufferPointer<UInt8>, keepSpelling: Bool = false,
        record: (PositionList, Int, Position, [RecordIssue]) -> Void
    ) throws -> JSONObject {
        try scan(JSONStream(buffer), keepSpelling: keepSpelling, record: record)
    }

    /// `scan` over a stream (a file read through a window: memory stays flat however long the
    /// history, and a file truncated while it is read gives an error, not a crash).
    /// - Parameter prepared: closed trades read ahead elsewhere (on other cores): asked with the
    ///   text's offset of each closed trade before it is read, it returns the trades read from
    ///   exactly there, which are passed on as if read here, and the reading goes on after them.
    ///   They are read as a one-pass reader reads them: not with `keepSpelling`.
    @discardableResult
    public static func scan(
        _ stream: JSONStream, keepSpelling: Bool = false, prepared: ((Int) -> RecordBatch?)? = nil,
        record: (PositionList, Int, Position, [RecordIssue]) -> Void
    ) throws -> JSONObject {
        precondition(prepared == nil || !keepSpelling, "batches read ahead keep no spelling")
        try stream.unit { r in
            guard try r.peekKind() == .object else {
                throw PositionsFormatError(
                    message: "the top level must be an object with \"open_positions\" and \"closed_positions\" lists")
            }
            try r.beginObject()
        }
        var extra = JSONObject()
        var first = true
        var shape = RecordShape()
        while let name = try stream.unit({ r -> String? in
            var isFirst = first
            guard let key = try r.nextKey(first: &isFirst) else { return nil }
            first = false
            return r.string(of: key)
        }) {
            guard let list = PositionList(rawValue: name) else {
                extra.fields.append(JSONField(name, try stream.unit { try $0.readValue() }))
                continue
            }
            let kind = try stream.unit { try $0.peekKind() }
            if kind == .null {
                try stream.unit { try $0.readNull() }
                continue
            }
            guard kind == .array else {
                throw PositionsFormatError(message: "\"\(name)\" must be a list of position objects")
            }
            try stream.unit { try $0.beginArray() }
            var firstElement = true
            var index = 0
            var previousSymbol = ""
            while try within(
                list, index - 1, previousSymbol, after: true,
                {
                    try stream.unit { r in
                        var isFirst = firstElement
                        let more = try r.nextElement(first: &isFirst)
                        firstElement = false
                        return more
                    }
                })
            {
                guard try stream.unit({ try $0.peekKind() }) == .object else {
                    throw PositionsFormatError(
                        message:
                            "\(name)[\(index)] is \(try stream.unit { try $0.readValue() }.typeName), not a position object"
                    )
                }
                if list == .closed, let batch = prepared?(stream.base + stream.reader.position) {
                    previousSymbol = batch.records.last?.0.symbol ?? previousSymbol
                    // Moved out one by one (no copy of each record to make and free).
                    var records = batch.records
                    records.reverse()
                    while let (position, issues) = records.popLast() {
                        record(list, index, position, issues.isEmpty ? issues : issues.map { $0.at(index) })
                        index += 1
                    }
                    try stream.skip(to: batch.end)
                    continue
                }
                var found: [RecordIssue] = []
                var position = Position(symbol: "")
                try within(list, index, position.symbol, after: false) {
                    try stream.unit { r in
                        if !found.isEmpty { found = [] }
                        position = Position(symbol: "")
                        try readPosition(
                            &r, into: &position, list: list, index: index, keepSpelling: keepSpelling, shape: &shape,
                            issues: &found)
                    }
                }
                record(list, index, position, named(found, position))
                previousSymbol = position.symbol
                index += 1
            }
        }
        try stream.unit { try $0.finish() }
        return extra
    }

    /// The record's issues with its symbol.
    static func named(_ issues: [RecordIssue], _ position: Position) -> [RecordIssue] {
        guard !issues.isEmpty else { return issues }
        let symbol = position.symbol.isEmpty ? nil : position.symbol
        return issues.map {
            var issue = $0
            issue.symbol = symbol
            return issue
        }
    }

    /// Runs `body`, naming the record a syntax error is in (or after): a line and column alone
    /// do not tell the operator which trade to repair.
    private static func within<T>(
        _ list: PositionList, _ index: Int, _ symbol: @autoclosure () -> String, after: Bool, _ body: () throws -> T
    ) throws -> T {
        do {
            return try body()
        } catch var error as JSONSyntaxError {
            guard index >= 0, error.context == nil else { throw error }
            let name = symbol()
            error.context =
                (after ? "after " : "") + "\(list.rawValue)[\(index)]" + (name.isEmpty ? "" : " (\(name))")
            throw error
        }
    }

    static func readPosition(
        _ r: inout JSONReader, into p: inout Position, list: PositionList, index: Int, keepSpelling: Bool,
        shape: inout RecordShape, issues: inout [RecordIssue]
    ) throws {
        var sawSymbol = false
        func issue(_ field: String, _ message: String) {
            issues.append(RecordIssue(list: list, index: index, symbol: nil, field: field, message: message))
        }
        /// Keeps an unusable value as written, so a rewrite neither drops nor "repairs" it.
        func keepUnusable(_ name: String, _ value: JSONValue) { p.extra.fields.append(JSONField(name, value)) }
        try r.beginObject()
        var first = true
        shape.startRecord()
        let table = fieldTable
        var key = JSONReader.Key(start: 0, end: 0, decoded: nil)
        while case let field = try r.nextField(first: &first, in: table, guess: shape.guess, key: &key),
            field != JSONReader.KeyTable.end
        {
            guard field != JSONReader.KeyTable.other else {
                if p.extra.fields.isEmpty { p.extra.fields.reserveCapacity(4) }
                p.extra.fields.append(JSONField(r.string(of: key), try r.readValue()))
                continue
            }
            shape.saw(field)
            let name = fieldNames[field]
            let kind = try r.peekKind()
            if kind == .null {
                try r.readNull()
                p.extra.fields.append(JSONField(name, .null))
                continue
            }
            switch field {
            case 0, 1, 11, 12:
                guard kind == .string else {
                    let value = try r.readValue()
                    issue(name, "expected a string, found \(value.typeName) (\(value.serialized())); \(fix(name))")
                    keepUnusable(name, value)
                    continue
                }
                let start = r.position
                let token = try r.readStringToken()
                let text = r.string(of: token)
                if token.decoded != nil && r.lastStringWasLossy {
                    let literal = UnsafeBufferPointer(rebasing: r.bytes[start..<r.position])
                    p.written.fields.append(JSONField(name, .verbatimString(String(decoding: literal, as: UTF8.self))))
                }
                switch field {
                case 0:
                    p.symbol = text
                    // An ASCII byte that is not a space settles it without walking Characters.
                    sawSymbol =
                        text.utf8.contains { $0 > 0x20 && $0 < 0x80 } || !text.trimmingSpaces.isEmpty
                case 1:
                    p.direction = text
                    let exact = r.rawBytes(of: token).map { isLongOrShort($0) } ?? false
                    if !exact && p.side == nil { issue(name, "\"\(text)\" is not LONG or SHORT; \(fix(name))") }
                case 11: p.strategy = text
                default: p.botType = text
                }
            case 9, 10:
                let stamp: Timestamp
                switch kind {
                case .string:
                    let token = try r.readStringToken()
                    let raw = r.rawBytes(of: token)
                    let parsed =
                        raw.map { TimestampParser.parse(bytes: $0) } ?? TimestampParser.parse(r.string(of: token))
                    let text: String
                    if case .success = parsed, !keepSpelling { text = "" } else { text = r.string(of: token) }
                    switch parsed {
                    // The spelling matters only to a rewrite; a reader that keeps none skips the copy.
                    case .success(let instant):
                        stamp = Timestamp(instant: instant, original: keepSpelling ? .string(text) : .null)
                    case .failure(let failure):
                        issue(name, "\(failure.message); \(fix(name))")
                        keepUnusable(name, .string(text))
                        continue
                    }
                case .number:
                    let text = try r.readNumberText()
                    switch TimestampParser.fromEpoch(NumberParsing.parseDouble(text) ?? .nan) {
                    case .success(let instant): stamp = Timestamp(instant: instant, original: .number(text))
                    case .failure(let failure):
                        issue(name, "\(text): \(failure.message); \(fix(name))")
                        keepUnusable(name, .number(text))
                        continue
                    }
                default:
                    let value = try r.readValue()
                    issue(name, "expected a timestamp string or epoch number, found \(value.typeName); \(fix(name))")
                    keepUnusable(name, value)
                    continue
                }
                if field == 9 { p.openedAt = stamp } else { p.closedAt = stamp }
            default:
                let number: Double
                switch kind {
                case .number:
                    let (value, range) = try r.readNumber()
                    let literal = UnsafeBufferPointer(rebasing: r.bytes[range])
                    number = value
                    guard number.isFinite else {
                        let text = String(decoding: literal, as: UTF8.self)
                        issue(name, "is \(text), not a number that can be used; \(fix(name))")
                        keepUnusable(name, .number(text))
                        continue
                    }
                    if keepSpelling, !JSONWriter.format(number).utf8.elementsEqual(literal) {
                        p.written.fields.append(JSONField(name, .number(String(decoding: literal, as: UTF8.self))))
                    }
                case .string:
                    // Exchange APIs return prices as strings, and bots store them so.
                    let value = try r.readValue()
                    let text = value.stringValue ?? ""
                    guard let parsed = NumberParsing.parseDouble(String(text.trimmingSpaces)), parsed.isFinite else {
                        issue(name, "\(value.serialized()) is not a number that can be used; \(fix(name))")
                        keepUnusable(name, value)
                        continue
                    }
                    number = parsed
                    if keepSpelling { p.written.fields.append(JSONField(name, value)) }
                default:
                    let value = try r.readValue()
                    issue(name, "expected a number, found \(value.typeName) (\(value.serialized())); \(fix(name))")
                    keepUnusable(name, value)
                    continue
                }
                switch field {
                case 2: p.entryPrice = number
                case 3: p.exitPrice = number
                case 4: p.size = number
                case 5:
                    p.leverage = number
                    if !(1...100).contains(number) {
                        issue(name, "leverage \(JSONWriter.format(number)) is outside 1-100; \(fix(name))")
                    }
                case 6: p.marginCollateral = number
                case 7: p.pnl = number
                default: p.netPnl = number
                }
            }
        }
        // Most records have no issue: no set to build for them.
        let reported = issues.isEmpty ? [] : Set(issues.map(\.field))
        func require(_ present: Bool, _ field: String, _ why: String) {
            if !present && !reported.contains(field) { issue(field, "missing or null; \(why); \(fix(field))") }
        }
        require(sawSymbol, "symbol", "every position needs its symbol")
        switch list {
        case .open:
            require(p.openedAt != nil, "opened_at", "an open position needs the time it was opened")
            require(p.direction != nil, "direction", "an open position cannot be valued or exited without its side")
            require(p.entryPrice != nil, "entry_price", "an open position cannot be valued without its entry price")
            require(p.size != nil, "size", "an open position cannot be valued or closed without its size")
        case .closed:
            require(
                p.closedAt != nil, "closed_at",
                "a closed trade needs the time it closed to count against the wallet reset")
            require(p.exitPrice != nil, "exit_price", "a closed trade needs the price it closed at")
            if !reported.contains("pnl") {
                require(
                    p.effectiveNetPnl != nil, "net_pnl", "a closed trade needs its P&L (net_pnl or pnl) for the balance"
                )
            }
        }
    }

    /// `LONG` or `SHORT` exactly, as nearly every record spells it: no string to compare.
    private static func isLongOrShort(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        switch b.count {
        case 4: b[0] == 0x4C && b[1] == 0x4F && b[2] == 0x4E && b[3] == 0x47
        case 5: b[0] == 0x53 && b[1] == 0x48 && b[2] == 0x4F && b[3] == 0x52 && b[4] == 0x54
        default: false
        }
    }

    /// What the operator can do about an unusable field, said once per field in every message.
    static func fix(_ field: String) -> String {
        switch field {
        case "symbol": "write the exchange's symbol, e.g. \"BTCUSDT\""
        case "direction": "write \"LONG\" or \"SHORT\""
        case "entry_price", "exit_price":
            "write the fill price from the exchange's order history as a number (or remove the record)"
        case "size", "leverage", "margin_collateral":
            "write the value from the exchange's position history as a number (or remove the record)"
        case "pnl", "net_pnl":
            "write the trade's P&L from the exchange's history as a number (or remove the record)"
        case "opened_at", "closed_at":
            "write the time as ISO-8601 UTC, e.g. \"2025-12-18T09:30:00Z\", from the exchange's history"
        default: "write a string"
        }
    }
}
