import Exchange
import TradingCore
import TradingStore

/// How the flight recorder writes what the world answered (fills, refusals, reconciliations,
/// failed writes), and how a replay reads it back into the same values and the same errors.
enum RecordedAnswers {
    /// How an order call is named in the recording; the replay finds its answer by this name.
    static func orderCall(symbol: String, buy: Bool, notional: Double) -> JSONValue {
        [.string(symbol), .bool(buy), .double(notional)]
    }

    /// How a close call is named in the recording.
    static func closeCall(symbol: String, buy: Bool, quantity: Double, onPaper: Bool) -> JSONValue {
        [.string(symbol), .bool(buy), .double(quantity), .bool(onPaper)]
    }

    static func fill(_ f: Fill) -> JSONValue {
        ["p": .double(f.price), "q": .double(f.quantity), "fee": .double(f.fee), "d": .object(f.details)]
    }

    static func fill(_ v: JSONValue?) throws(RecordingError) -> Fill {
        guard let o = v?.objectValue, let price = o["p"]?.doubleValue, let quantity = o["q"]?.doubleValue,
            let fee = o["fee"]?.doubleValue
        else { throw RecordingError("an unreadable fill") }
        return Fill(price: price, quantity: quantity, fee: fee, details: o["d"]?.objectValue ?? JSONObject())
    }

    static func reconciliation(_ r: Reconciliation) -> JSONValue {
        [
            "closed": .array(
                r.closed.map {
                    [
                        "symbol": .string($0.symbol), "price": $0.price.map { .double($0) } ?? .null,
                        "fee": .double($0.fee), "reason": .string($0.reason.rawValue),
                        "order_id": $0.orderId.map { .string($0) } ?? .null,
                    ]
                }),
            "unknown": .array(r.unknown.map { .string($0) }),
            "differences": .array(r.differences.map { .string($0) }),
        ]
    }

    static func reconciliation(_ v: JSONValue?) throws(RecordingError) -> Reconciliation {
        guard let o = v?.objectValue else { throw RecordingError("an unreadable reconciliation") }
        var r = Reconciliation()
        for item in o["closed"]?.arrayValue ?? [] {
            guard let c = item.objectValue, let symbol = c["symbol"]?.stringValue, let fee = c["fee"]?.doubleValue,
                let reason = c["reason"]?.stringValue.flatMap(ExitReason.init(rawValue:))
            else { throw RecordingError("an unreadable closed position in a reconciliation") }
            r.closed.append(
                .init(
                    symbol: symbol, price: c["price"]?.doubleValue, fee: fee, reason: reason,
                    orderId: c["order_id"]?.stringValue))
        }
        r.unknown = (o["unknown"]?.arrayValue ?? []).compactMap(\.stringValue)
        r.differences = (o["differences"]?.arrayValue ?? []).compactMap(\.stringValue)
        return r
    }

    /// An error as the engine tells them apart: an order not sent (blocked, not failed), a file
    /// that could not be written (the engine reduces), anything else (logged as text).
    static func error(_ error: any Error) -> JSONValue {
        switch error {
        case let e as OrderNotSent: ["not_sent": .string(e.rule), "reason": .string(e.reason)]
        case let e as StoreError: ["store": .string(e.path), "message": .string(e.message)]
        default: ["message": .string("\(error)")]
        }
    }

    static func error(_ v: JSONValue?) -> any Error {
        let o = v?.objectValue ?? JSONObject()
        if let rule = o["not_sent"]?.stringValue {
            return OrderNotSent(rule: rule, reason: o["reason"]?.stringValue ?? "")
        }
        if let path = o["store"]?.stringValue {
            return StoreError(path: path, message: o["message"]?.stringValue ?? "")
        }
        return RecordedFailure(message: o["message"]?.stringValue ?? "")
    }
}

/// A failure the live world gave, said again by a replay in the same words.
public struct RecordedFailure: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
