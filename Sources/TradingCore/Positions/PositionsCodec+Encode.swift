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
        put("symbol", p.symbol.isEmpty ? nil : .string(p.symbol))
        put("direction", p.direction.map { .string($0) })
        put("entry_price", p.entryPrice.map { .double($0) })
        put("exit_price", p.exitPrice.map { .double($0) })
        put("size", p.size.map { .double($0) })
        put("leverage", p.leverage.map { .double($0) })
        put("margin_collateral", p.marginCollateral.map { .double($0) })
        put("pnl", p.pnl.map { .double($0) })
        put("net_pnl", p.netPnl.map { .double($0) })
        put("opened_at", p.openedAt?.original)
        put("closed_at", p.closedAt?.original)
        put("strategy", p.strategy.map { .string($0) })
        put("bot_type", p.botType.map { .string($0) })
        let written = Set(fields.map(\.key))
        for field in p.extra.fields where !written.contains(field.key) { fields.append(field) }
        return JSONObject(fields)
    }
}
