/// Reads and writes `positions_futures.json`. Reading is tolerant of what real files contain and
/// reports each unusable field as a `RecordIssue` rather than skipping it or guessing; writing
/// keeps unknown fields and the original spelling of timestamps.
public enum PositionsCodec {
    /// The field names this program models, in the order it writes them.
    static let fieldNames = [
        "symbol", "direction", "entry_price", "exit_price", "size", "leverage", "margin_collateral",
        "pnl", "net_pnl", "opened_at", "closed_at", "strategy", "bot_type",
    ]
    private static let fieldTable: [[UInt8]] = fieldNames.map { Array($0.utf8) }

    /// The result of reading a file: every record, plus the fields that could not be used.
    public struct Decoded: Sendable {
        public var file: PositionsFile
        public var issues: [RecordIssue]

        public init(file: PositionsFile, issues: [RecordIssue]) {
            self.file = file
            self.issues = issues
        }
    }

    /// Reads a whole file into memory.
    public static func decode(_ bytes: [UInt8]) throws -> Decoded {
        var file = PositionsFile()
        var issues: [RecordIssue] = []
        file.extra = try scan(bytes, issues: { issues.append($0) }) { list, _, position in
            switch list {
            case .open: file.open.append(position)
            case .closed: file.closed.append(position)
            }
        }
        return Decoded(file: file, issues: issues)
    }

    /// Streams the records of a file to `record` without keeping them, so checks and bounded
    /// readers use memory for what they keep, not for the whole history.
    /// - Returns: the top-level fields other than the two lists.
    /// - Throws: `JSONSyntaxError` or `PositionsFormatError` when the file's structure is broken.
    @discardableResult
    public static func scan(
        _ bytes: [UInt8], issues: (RecordIssue) -> Void, record: (PositionList, Int, Position) -> Void
    ) throws -> JSONObject {
        try bytes.withUnsafeBufferPointer { buffer in
            var reader = JSONReader(buffer)
            guard try reader.peekKind() == .object else {
                throw PositionsFormatError(
                    message: "the top level must be an object with \"open_positions\" and \"closed_positions\" lists")
            }
            try reader.beginObject()
            var extra = JSONObject()
            var first = true
            while let key = try reader.nextKey(first: &first) {
                let name = reader.string(of: key)
                guard let list = PositionList(rawValue: name) else {
                    extra.fields.append(JSONField(name, try reader.readValue()))
                    continue
                }
                if try reader.peekKind() == .null {
                    try reader.readNull()
                    continue
                }
                guard try reader.peekKind() == .array else {
                    throw PositionsFormatError(message: "\"\(name)\" must be a list of position objects")
                }
                try reader.beginArray()
                var firstElement = true
                var index = 0
                while try reader.nextElement(first: &firstElement) {
                    guard try reader.peekKind() == .object else {
                        throw PositionsFormatError(
                            message: "\(name)[\(index)] is \(try reader.readValue().typeName), not a position object")
                    }
                    var found: [RecordIssue] = []
                    let position = try readPosition(&reader, list: list, index: index, issues: &found)
                    for var issue in found {
                        issue.symbol = position.symbol.isEmpty ? nil : position.symbol
                        issues(issue)
                    }
                    record(list, index, position)
                    index += 1
                }
            }
            try reader.finish()
            return extra
        }
    }

    private static func readPosition(
        _ r: inout JSONReader, list: PositionList, index: Int, issues: inout [RecordIssue]
    ) throws -> Position {
        var p = Position(symbol: "")
        var sawSymbol = false
        func issue(_ field: String, _ message: String) {
            issues.append(RecordIssue(list: list, index: index, symbol: nil, field: field, message: message))
        }
        try r.beginObject()
        var first = true
        while let key = try r.nextKey(first: &first) {
            guard let field = r.match(key, in: fieldTable) else {
                p.extra.fields.append(JSONField(r.string(of: key), try r.readValue()))
                continue
            }
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
                    issue(name, "expected a string, found \(value.typeName)")
                    p.extra.fields.append(JSONField(name, value))
                    continue
                }
                let text = try r.readString()
                switch field {
                case 0:
                    p.symbol = text
                    sawSymbol = !text.isEmpty
                case 1:
                    p.direction = text
                    if p.side == nil { issue(name, "\"\(text)\" is not LONG or SHORT") }
                case 11: p.strategy = text
                default: p.botType = text
                }
            case 9, 10:
                let stamp: Timestamp
                switch kind {
                case .string:
                    let token = try r.readStringToken()
                    let text = r.string(of: token)
                    let parsed =
                        if let raw = r.rawBytes(of: token) { TimestampParser.parse(bytes: raw) } else {
                            TimestampParser.parse(text)
                        }
                    switch parsed {
                    case .success(let instant): stamp = Timestamp(instant: instant, original: .string(text))
                    case .failure(let failure):
                        issue(name, failure.message)
                        p.extra.fields.append(JSONField(name, .string(text)))
                        continue
                    }
                case .number:
                    let text = try r.readNumberText()
                    switch TimestampParser.fromEpoch(Double(text) ?? .nan) {
                    case .success(let instant): stamp = Timestamp(instant: instant, original: .number(text))
                    case .failure(let failure):
                        issue(name, failure.message)
                        p.extra.fields.append(JSONField(name, .number(text)))
                        continue
                    }
                default:
                    let value = try r.readValue()
                    issue(name, "expected a timestamp string or epoch number, found \(value.typeName)")
                    p.extra.fields.append(JSONField(name, value))
                    continue
                }
                if field == 9 { p.openedAt = stamp } else { p.closedAt = stamp }
            default:
                let number: Double
                switch kind {
                case .number: number = try r.readDouble()
                case .string:
                    let text = try r.readString()
                    guard let parsed = NumberParsing.parseDouble(text) else {
                        issue(name, "\"\(text)\" is not a number")
                        p.extra.fields.append(JSONField(name, .string(text)))
                        continue
                    }
                    number = parsed
                default:
                    let value = try r.readValue()
                    issue(name, "expected a number, found \(value.typeName)")
                    p.extra.fields.append(JSONField(name, value))
                    continue
                }
                guard number.isFinite else {
                    issue(name, "not a finite number")
                    continue
                }
                switch field {
                case 2: p.entryPrice = number
                case 3: p.exitPrice = number
                case 4: p.size = number
                case 5:
                    p.leverage = number
                    if !(1...100).contains(number) {
                        issue(name, "leverage \(JSONWriter.format(number)) is outside 1-100")
                    }
                case 6: p.marginCollateral = number
                case 7: p.pnl = number
                default: p.netPnl = number
                }
            }
        }
        let reported = Set(issues.map(\.field))
        func require(_ present: Bool, _ field: String, _ why: String) {
            if !present && !reported.contains(field) { issue(field, "missing or null; \(why)") }
        }
        require(sawSymbol, "symbol", "every position needs its symbol")
        switch list {
        case .open:
            require(p.openedAt != nil, "opened_at", "an open position needs the time it was opened")
        case .closed:
            require(
                p.closedAt != nil, "closed_at",
                "a closed trade needs the time it closed to count against the wallet reset")
            if !reported.contains("pnl") {
                require(
                    p.effectiveNetPnl != nil, "net_pnl", "a closed trade needs its P&L (net_pnl or pnl) for the balance"
                )
            }
        }
        return p
    }
}
