extension PositionsCodec {
    /// The file as the operator's bot writes it (one-space indent), unknown fields included.
    public static func encode(_ file: PositionsFile) -> [UInt8] {
        var writer = JSONWriter(indent: 1, reserve: (file.open.count + file.closed.count) * 480 + 64)
        writer.writeObjectStart()
        writer.writeKey(PositionList.open.rawValue, first: true, level: 1)
        writeList(file.open, into: &writer)
        writer.writeKey(PositionList.closed.rawValue, first: false, level: 1)
        writeList(file.closed, into: &writer)
        for field in file.extra.fields {
            writer.writeKey(field.key, first: false, level: 1)
            writer.write(field.value, level: 1)
        }
        writer.writeObjectEnd(empty: false, level: 0)
        writer.bytes.append(0x0A)
        return writer.bytes
    }

    private static func writeList(_ positions: [Position], into writer: inout JSONWriter) {
        if positions.isEmpty {
            writer.append("[]")
            return
        }
        writer.append("[")
        for (index, position) in positions.enumerated() {
            if index > 0 { writer.append(",") }
            writer.newline(2)
            writer.write(.object(object(for: position)), level: 2)
        }
        writer.newline(1)
        writer.append("]")
    }

    /// One position as a JSON object: modelled fields in schema order, then the rest as read.
    public static func object(for p: Position) -> JSONObject {
        var fields: [JSONField] = []
        fields.reserveCapacity(13 + p.extra.fields.count)
        func put(_ key: String, _ value: JSONValue?) {
            if let value { fields.append(JSONField(key, value)) }
        }
        /// A number as the file spelled it while its value is unchanged; a changed value keeps
        /// being a string if the file stored it as one.
        func number(_ key: String, _ value: Double?) -> JSONValue? {
            guard let value else { return nil }
            switch p.written.isEmpty ? nil : p.written[key] {
            case .number(let literal) where NumberParsing.parseDouble(literal) == value: return .number(literal)
            case .string(let text) where NumberParsing.parseDouble(String(text.trimmingSpaces)) == value:
                return .string(text)
            case .string: return .string(JSONWriter.format(value))
            default: return .double(value)
            }
        }
        func string(_ key: String, _ value: String?) -> JSONValue? {
            guard let value else { return nil }
            if !p.written.isEmpty, let original = p.written[key], original.stringValue == value { return original }
            return .string(value)
        }
        put("symbol", p.symbol.isEmpty ? nil : string("symbol", p.symbol))
        put("direction", string("direction", p.direction))
        put("entry_price", number("entry_price", p.entryPrice))
        put("exit_price", number("exit_price", p.exitPrice))
        put("size", number("size", p.size))
        put("leverage", number("leverage", p.leverage))
        put("margin_collateral", number("margin_collateral", p.marginCollateral))
        put("pnl", number("pnl", p.pnl))
        put("net_pnl", number("net_pnl", p.netPnl))
        // A record read without its spelling (`original` null) is written in the canonical one.
        put("opened_at", p.openedAt.map { $0.original.isNull ? .string($0.instant.iso8601) : $0.original })
        put("closed_at", p.closedAt.map { $0.original.isNull ? .string($0.instant.iso8601) : $0.original })
        put("strategy", string("strategy", p.strategy))
        put("bot_type", string("bot_type", p.botType))
        let written = Set(fields.map(\.key))
        for field in p.extra.fields where !written.contains(field.key) { fields.append(field) }
        return JSONObject(fields)
    }
}
