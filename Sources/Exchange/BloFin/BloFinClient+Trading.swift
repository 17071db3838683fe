import Foundation
import TradingCore

/// The futures account's USDT.
public struct BloFinBalance: Sendable, Equatable {
    public var totalEquity: Double
    public var available: Double?
}

/// A position on the exchange. `contracts` is signed in net mode (negative: short).
public struct BloFinPosition: Sendable, Equatable {
    public var instId: String
    public var positionSide: String
    public var contracts: Double
    public var averagePrice: Double
    public var markPrice: Double?
    public var leverage: Double?
    public var createdAt: Instant?

    public var isLong: Bool { positionSide == "long" || (positionSide != "short" && contracts > 0) }
}

/// An order as BloFin reports it (detail or history).
public struct BloFinOrder: Sendable, Equatable {
    public var orderId: String
    public var clientOrderId: String
    public var instId: String
    public var side: String
    public var state: String
    public var filledSize: Double
    public var averagePrice: Double?
    /// What the order cost in fees (BloFin reports fees as negative amounts).
    public var fee: Double
    public var pnl: Double?
    /// `normal`, `tp`, `sl`, `full_liquidation`, `partial_liquidation`, `adl`.
    public var category: String
    public var reduceOnly: Bool
    public var updatedAt: Instant?

    public var isFinal: Bool { ["filled", "canceled", "partially_canceled"].contains(state) }
}

/// A market order: its size in contracts and the stop (and take-profit) it carries to BloFin.
public struct BloFinOrderRequest: Sendable {
    public var instId: String
    public var buy: Bool
    public var contracts: String
    public var clientOrderId: String
    public var marginMode = "isolated"
    public var reduceOnly = false
    public var stopLossTrigger: String?
    public var takeProfitTrigger: String?

    public init(instId: String, buy: Bool, contracts: String, clientOrderId: String) {
        self.instId = instId
        self.buy = buy
        self.contracts = contracts
        self.clientOrderId = clientOrderId
    }

    var body: JSONObject {
        var o = JSONObject([
            JSONField("instId", .string(instId)), JSONField("marginMode", .string(marginMode)),
            JSONField("positionSide", "net"), JSONField("side", .string(buy ? "buy" : "sell")),
            JSONField("orderType", "market"), JSONField("size", .string(contracts)),
            JSONField("clientOrderId", .string(clientOrderId)),
        ])
        if reduceOnly { o["reduceOnly"] = "true" }
        if let stopLossTrigger {
            o["slTriggerPrice"] = .string(stopLossTrigger)
            o["slOrderPrice"] = "-1"
        }
        if let takeProfitTrigger {
            o["tpTriggerPrice"] = .string(takeProfitTrigger)
            o["tpOrderPrice"] = "-1"
        }
        return o
    }
}

/// The private endpoints (signed).
extension BloFinClient {
    public func balance() throws(BloFinError) -> BloFinBalance {
        let endpoint = "/api/v1/account/balance"
        guard let o = try get(endpoint, signed: true).objectValue else {
            throw .malformed(endpoint: endpoint, why: "data is not an object")
        }
        let usdt = o["details"]?.arrayValue?.compactMap(\.objectValue).first {
            BloFinJSON.text($0["currency"]) == "USDT"
        }
        return BloFinBalance(
            totalEquity: try BloFinJSON.require(o, "totalEquity", endpoint),
            available: usdt.flatMap { BloFinJSON.double($0["available"]) })
    }

    public func positions() throws(BloFinError) -> [BloFinPosition] {
        let endpoint = "/api/v1/account/positions"
        guard let rows = try get(endpoint, signed: true).arrayValue else {
            throw .malformed(endpoint: endpoint, why: "data is not a list")
        }
        var out: [BloFinPosition] = []
        for row in rows {
            guard let o = row.objectValue, let instId = BloFinJSON.text(o["instId"]) else {
                throw .malformed(endpoint: endpoint, why: "a position without instId")
            }
            let contracts = try BloFinJSON.require(o, "positions", endpoint)
            guard contracts != 0 else { continue }
            out.append(
                BloFinPosition(
                    instId: instId, positionSide: BloFinJSON.text(o["positionSide"]) ?? "net", contracts: contracts,
                    averagePrice: try BloFinJSON.require(o, "averagePrice", endpoint),
                    markPrice: BloFinJSON.double(o["markPrice"]), leverage: BloFinJSON.double(o["leverage"]),
                    createdAt: BloFinJSON.instant(o["createTime"])))
        }
        return out
    }

    public func setLeverage(instId: String, leverage: Int, marginMode: String) throws(BloFinError) {
        _ = try post(
            "/api/v1/account/set-leverage",
            body: JSONObject([
                JSONField("instId", .string(instId)), JSONField("leverage", .string(String(leverage))),
                JSONField("marginMode", .string(marginMode)),
            ]), trade: true)
    }

    /// Closes the whole position of an instrument at market (BloFin's close-position call): the
    /// operator's way out; the engine closes with reduce-only orders of its own size instead.
    public func closePosition(instId: String, marginMode: String, clientOrderId: String) throws(BloFinError) {
        _ = try post(
            "/api/v1/trade/close-position",
            body: JSONObject([
                JSONField("instId", .string(instId)), JSONField("marginMode", .string(marginMode)),
                JSONField("positionSide", "net"), JSONField("clientOrderId", .string(clientOrderId)),
            ]), trade: true)
    }

    /// The order with this client order id among the instrument's active orders and its latest
    /// 100 finished ones, or nil when neither list has it. Both are plain lists, so "not there" is
    /// an empty answer, never an error code that might mean something else.
    public func order(instId: String, clientOrderId: String) throws(BloFinError) -> BloFinOrder? {
        let pending = "/api/v1/trade/orders-pending"
        guard let active = try get(pending, query: [("instId", instId)], signed: true).arrayValue else {
            throw .malformed(endpoint: pending, why: "data is not a list")
        }
        for o in active.compactMap(\.objectValue) where BloFinJSON.text(o["clientOrderId"]) == clientOrderId {
            return try Self.order(o, pending)
        }
        return try orderHistory(instId: instId).first { $0.clientOrderId == clientOrderId }
    }

    /// The order by BloFin's id (for its fill); an error when BloFin cannot say.
    public func order(instId: String, orderId: String) throws(BloFinError) -> BloFinOrder? {
        let endpoint = "/api/v1/trade/order-detail"
        let data = try get(endpoint, query: [("instId", instId), ("orderId", orderId)], signed: true)
        guard let o = data.objectValue ?? data.arrayValue?.first?.objectValue else { return nil }
        return try Self.order(o, endpoint)
    }

    /// Finished orders of an instrument, newest first (at most 100).
    public func orderHistory(instId: String, limit: Int = 100) throws(BloFinError) -> [BloFinOrder] {
        let endpoint = "/api/v1/trade/orders-history"
        guard
            let rows = try get(endpoint, query: [("instId", instId), ("limit", String(min(100, limit)))], signed: true)
                .arrayValue
        else { throw .malformed(endpoint: endpoint, why: "data is not a list") }
        var out: [BloFinOrder] = []
        for o in rows.compactMap(\.objectValue) { out.append(try Self.order(o, endpoint)) }
        return out
    }

    static func order(_ o: JSONObject, _ endpoint: String) throws(BloFinError) -> BloFinOrder {
        guard let orderId = BloFinJSON.text(o["orderId"]), let instId = BloFinJSON.text(o["instId"]) else {
            throw .malformed(endpoint: endpoint, why: "an order without orderId or instId")
        }
        let average = BloFinJSON.double(o["averagePrice"])
        return BloFinOrder(
            orderId: orderId, clientOrderId: BloFinJSON.text(o["clientOrderId"]) ?? "", instId: instId,
            side: BloFinJSON.text(o["side"]) ?? "", state: BloFinJSON.text(o["state"]) ?? "",
            filledSize: BloFinJSON.double(o["filledSize"]) ?? 0, averagePrice: average == 0 ? nil : average,
            fee: abs(BloFinJSON.double(o["fee"]) ?? 0), pnl: BloFinJSON.double(o["pnl"]),
            category: BloFinJSON.text(o["orderCategory"]) ?? "normal",
            reduceOnly: BloFinJSON.text(o["reduceOnly"]) == "true", updatedAt: BloFinJSON.instant(o["updateTime"]))
    }

    /// Places a market order and returns its order id. Sent once; when its outcome is unknown (no
    /// answer, a 5xx, an unreadable answer, a 429) it is looked up by its client order id, and only
    /// an order neither BloFin's active nor its finished orders hold is sent again, once, with the
    /// same id (BloFin refuses a duplicate id with 102002, which then means the first one went
    /// through). A refused order is never resent.
    public func placeOrder(_ order: BloFinOrderRequest) throws(BloFinError) -> String {
        let endpoint = "/api/v1/trade/order"
        var lastProblem = ""
        for attempt in 1...2 {
            do throws(BloFinError) {
                let data = try post(endpoint, body: order.body, trade: true)
                guard let item = data.arrayValue?.first?.objectValue ?? data.objectValue else {
                    throw BloFinError.malformed(endpoint: endpoint, why: "no order in the answer")
                }
                let code = BloFinJSON.text(item["code"]) ?? "0"
                guard code == "0" else {
                    throw BloFinError.api(endpoint: endpoint, code: code, message: BloFinJSON.text(item["msg"]) ?? "")
                }
                if let id = BloFinJSON.text(item["orderId"]), !id.isEmpty { return id }
                lastProblem = "the answer names no order id"
            } catch .api(_, "102002", _) where attempt == 2 {
                lastProblem = "BloFin already has an order with this client order id"
            } catch .api(_, let code, let message) {
                throw .orderRejected(symbol: order.instId, code: code, message: message)
            } catch .locallyThrottled(let endpoint, let wait) {
                throw .locallyThrottled(endpoint: endpoint, waitSeconds: wait)
            } catch let error {
                lastProblem = "\(error)"
            }
            onRetry?(
                "order \(order.clientOrderId) for \(order.instId): \(lastProblem); looking it up by its client order id"
            )
            // BloFin's lists may take a moment to show an order it just took.
            sleep(backoffSeconds)
            do throws(BloFinError) {
                if let found = try self.order(instId: order.instId, clientOrderId: order.clientOrderId) {
                    return found.orderId
                }
            } catch {
                throw .orderUnknown(
                    symbol: order.instId, clientOrderId: order.clientOrderId,
                    why: "\(lastProblem), and the lookup failed: \(error)")
            }
        }
        throw .orderUnknown(
            symbol: order.instId, clientOrderId: order.clientOrderId,
            why: "\(lastProblem) on the second try, and BloFin lists no such order")
    }

    /// The order once BloFin reports it finished (market orders finish at once; a few polls
    /// cover the exchange's bookkeeping), or the last state seen.
    public func finishedOrder(instId: String, orderId: String, polls: Int = 5) throws(BloFinError) -> BloFinOrder? {
        var last: BloFinOrder?
        for poll in 0..<polls {
            last = try order(instId: instId, orderId: orderId)
            if let last, last.isFinal || last.filledSize > 0 && last.averagePrice != nil { return last }
            if poll < polls - 1 { sleep(backoffSeconds / 2) }
        }
        return last
    }
}
