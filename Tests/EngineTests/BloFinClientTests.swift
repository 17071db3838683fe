import Foundation
import TestSupport
import Testing

@testable import Exchange
@testable import TradingCore

/// The BloFin client against a local server that speaks BloFin's documented format and checks
/// every signature with Python's own hmac.
@Suite(.serialized) struct BloFinClientTests {
    let credentials = BloFinCredentials(
        key: BloFinServer.key, secret: BloFinServer.secret, passphrase: BloFinServer.passphrase)

    func client(_ server: BloFinServer, credentials: BloFinCredentials? = nil) -> BloFinClient {
        let c = BloFinClient(
            baseURL: server.baseURL, credentials: credentials,
            wallClock: { Instant(seconds: Date().timeIntervalSince1970) })
        c.backoffSeconds = 0.05
        c.timeoutSeconds = 2
        return c
    }

    func requests(_ server: BloFinServer, _ path: String) -> [BloFinServer.Request] {
        server.requests().filter { $0.path.hasPrefix(path) }
    }

    /// Python's hmac, as BloFin's own documentation computes it.
    func pythonSignature(secret: String, prehash: String) throws -> String {
        let script = """
            import base64, hashlib, hmac, sys
            digest = hmac.new(sys.argv[1].encode(), sys.argv[2].encode(), hashlib.sha256).hexdigest().encode()
            print(base64.b64encode(digest).decode(), end="")
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script, secret, prehash]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    @Test func signaturesMatchAnIndependentImplementation() throws {
        let get = BloFinSigner.prehash(
            path: "/api/v1/asset/balances?accountType=futures", method: "GET", timestamp: "1597026383085",
            nonce: "0b5cbe4c-4f1d-4a2b-8d0e-1c2f3a4b5c6d", body: "")
        let post = BloFinSigner.prehash(
            path: "/api/v1/trade/order", method: "post", timestamp: "1597026383085",
            nonce: "9f8e7d6c-5b4a-3928-1706-f5e4d3c2b1a0",
            body:
                #"{"instId":"BTC-USDT","marginMode":"isolated","side":"buy","orderType":"limit","price":"35000","size":"0.1"}"#
        )
        #expect(post.contains("POST1597026383085"))
        for (secret, prehash) in [("YOUR_SECRET", get), ("an0ther-s3cret", post), ("", get)] {
            let ours = BloFinSigner.sign(secret: secret, prehash: prehash)
            #expect(ours == (try pythonSignature(secret: secret, prehash: prehash)))
            #expect(ours.count == 88)
        }
        #expect(!"\(credentials)".contains(BloFinServer.secret) && !"\(credentials)".contains(BloFinServer.key))
    }

    @Test func publicEndpointsReadTheDocumentedShapes() throws {
        let server = try BloFinServer(symbols: 4)
        let c = client(server)
        let instruments = try c.instruments()
        #expect(instruments.count == 4)
        let btc = try #require(instruments.first { $0.symbol == "BTCUSDT" })
        #expect(btc.instId == "BTC-USDT" && btc.contractValue == 0.001 && btc.lotSize == 0.1 && btc.isLive)
        // 250 USDT at 60 000 is 4.16 contracts of 0.001 BTC: 4.1 after rounding down to the lot.
        #expect(btc.contracts(notional: 250, price: 60_000) == 4.1)
        #expect(btc.contracts(notional: 5, price: 60_000) == nil)
        let tickers = try c.tickers()
        #expect(tickers.count == 4 && tickers.allSatisfy { ($0.bid ?? 0) < ($0.ask ?? 0) && $0.last > 0 })
        let candles = try c.candles(instId: "ETH-USDT", bar: "1m", limit: 30)
        #expect(candles.count == 30)
        #expect(zip(candles, candles.dropFirst()).allSatisfy { $0.candle.ts < $1.candle.ts })
        #expect(candles.last?.confirmed == false && candles.dropLast().allSatisfy(\.confirmed))
        #expect(try c.fundingRates().count == 4)
        let book = try #require(try c.orderBook(instId: "BTC-USDT"))
        #expect(book.bid < book.ask)
        let marks = try c.markPrices()
        #expect(marks.count == 4 && (marks["BTC-USDT"] ?? 0) > 50_000)
        let skew = try c.syncClock()
        #expect(abs(skew) < 5_000)
    }

    @Test func signedRequestsPassTheServersChecks() throws {
        let server = try BloFinServer()
        let c = client(server, credentials: credentials)
        for _ in 0..<4 { #expect(try c.balance().totalEquity == 10000.5) }
        #expect(try c.positions().isEmpty)
        // An operator's way out: BloFin's close-position call closes the whole position.
        _ = try c.placeOrder(BloFinOrderRequest(instId: "ETH-USDT", buy: false, contracts: "2", clientOrderId: "s1"))
        #expect(try c.positions().first?.contracts == -2)
        try c.closePosition(instId: "ETH-USDT", marginMode: "isolated", clientOrderId: "c1")
        #expect(try c.positions().isEmpty)
        #expect(try c.order(instId: "ETH-USDT", clientOrderId: "c1")?.reduceOnly == true)
        let signed = server.requests().filter(\.signed)
        #expect(signed.count == 11)
        #expect(signed.allSatisfy { $0.code == "0" && $0.signLength == 88 })
        #expect(Set(signed.compactMap(\.nonce)).count == 11)
    }

    @Test func refusedCredentialsAreExplainedWithoutTheSecret() throws {
        let server = try BloFinServer()
        let wrongSecret = BloFinCredentials(
            key: BloFinServer.key, secret: "not-the-secret", passphrase: BloFinServer.passphrase)
        do {
            _ = try client(server, credentials: wrongSecret).balance()
            Issue.record("a wrong secret was accepted")
        } catch {
            #expect("\(error)".contains("signature is wrong") && "\(error)".contains("BLOFIN_API_SECRET"))
            #expect(!"\(error)".contains("not-the-secret"))
        }
        let wrongPassphrase = BloFinCredentials(
            key: BloFinServer.key, secret: BloFinServer.secret, passphrase: "nope-pass")
        do {
            _ = try client(server, credentials: wrongPassphrase).balance()
            Issue.record("a wrong passphrase was accepted")
        } catch {
            #expect("\(error)".contains("passphrase is wrong") && !"\(error)".contains("nope-pass"))
        }
        // A refusal that is not transient is not retried.
        try server.inject([["path": "/api/v1/account/balance", "kind": "code", "code": "152406", "msg": "IP"]])
        let before = requests(server, "/api/v1/account/balance").count
        #expect {
            try client(server, credentials: credentials).balance()
        } throws: { "\($0)".contains("not on the API key's whitelist") }
        #expect(requests(server, "/api/v1/account/balance").count == before + 1)
    }

    @Test func aSkewedClockIsCorrectedFromTheServersTime() throws {
        let server = try BloFinServer(clockSkewMs: 120_000)
        let c = client(server, credentials: credentials)
        #expect(try c.balance().totalEquity == 10000.5)
        let balance = requests(server, "/api/v1/account/balance")
        #expect(balance.map(\.code) == ["152405", "0"])
        #expect(c.clockOffsetMs > 100_000)
        #expect(BloFinError.api(endpoint: "/x", code: "152405", message: "").description.contains("timedatectl"))
    }

    @Test func transientFailuresAreRetriedWithBackoff() throws {
        let server = try BloFinServer()
        let c = client(server)
        var retries: [String] = []
        c.onRetry = { retries.append($0) }
        c.backoffSeconds = 0.01
        try server.inject([
            ["path": "/api/v1/market/tickers", "kind": "status", "status": 429, "times": 2],
            ["path": "/api/v1/market/funding-rate", "kind": "status", "status": 502],
            ["path": "/api/v1/market/instruments", "kind": "malformed"],
            ["path": "/api/v1/public/time", "kind": "timeout", "seconds": 4],
        ])
        c.timeoutSeconds = 1
        #expect(try c.tickers().count == 3)
        #expect(requests(server, "/api/v1/market/tickers").count == 3)
        #expect(try c.fundingRates().count == 3)
        #expect(try c.instruments().count == 3)
        _ = try c.syncClock()
        #expect(requests(server, "/api/v1/public/time").count == 2)
        #expect(retries.count == 5 && retries[0].contains("rate limited"))
        // Past the attempts, the error says what happened; a ban is not hammered.
        try server.inject([["path": "/api/v1/market/tickers", "kind": "status", "status": 500, "times": 10]])
        let before = requests(server, "/api/v1/market/tickers").count
        #expect {
            try c.tickers()
        } throws: { "\($0)".contains("HTTP 500") }
        #expect(requests(server, "/api/v1/market/tickers").count == before + c.maxAttempts)
        try server.inject([["path": "/api/v1/market/tickers", "kind": "status", "status": 403, "times": 10]])
        #expect {
            try c.tickers()
        } throws: { "\($0)".contains("five minutes") }
        #expect(requests(server, "/api/v1/market/tickers").count == before + c.maxAttempts + 1)
    }

    @Test func aRefusedOrderIsNeverResent() throws {
        let server = try BloFinServer()
        let c = client(server, credentials: credentials)
        for kind in ["item_code", "batch_code"] {
            try server.inject([
                ["path": "/api/v1/trade/order", "kind": kind, "code": "102014", "msg": "Insufficient margin"]
            ])
            let before = requests(server, "/api/v1/trade/").count
            #expect {
                try c.placeOrder(
                    BloFinOrderRequest(instId: "BTC-USDT", buy: true, contracts: "1", clientOrderId: "r\(kind.count)"))
            } throws: { error in
                guard case BloFinError.orderRejected(_, "102014", let message)? = error as? BloFinError else {
                    return false
                }
                return message == "Insufficient margin"
            }
            // One POST, no lookup, nothing resent.
            #expect(requests(server, "/api/v1/trade/").count == before + 1)
        }
        // Below the exchange's lot: the server's own refusal comes back the same way.
        #expect(throws: BloFinError.self) {
            try c.placeOrder(
                BloFinOrderRequest(instId: "BTC-USDT", buy: true, contracts: "0.05", clientOrderId: "small1"))
        }
        #expect(try server.orders().isEmpty)
    }

    @Test func anOrderWhoseAnswerIsLostIsLookedUpNotSentTwice() throws {
        let server = try BloFinServer()
        let c = client(server, credentials: credentials)
        c.timeoutSeconds = 1
        // The exchange takes the order, and the answer never arrives.
        try server.inject([["path": "/api/v1/trade/order", "kind": "timeout", "seconds": 4, "apply": true]])
        let id = try c.placeOrder(
            BloFinOrderRequest(instId: "ETH-USDT", buy: true, contracts: "1", clientOrderId: "lost1"))
        var orders = try server.orders()
        #expect(
            orders.count == 1 && orders[0]["clientOrderId"] as? String == "lost1"
                && orders[0]["orderId"] as? String == id)
        #expect(requests(server, "/api/v1/trade/order").filter { $0.method == "POST" }.count == 1)
        // The same, with a 5xx after the exchange took it.
        try server.inject([["path": "/api/v1/trade/order", "kind": "status", "status": 500, "apply": true]])
        _ = try c.placeOrder(BloFinOrderRequest(instId: "ETH-USDT", buy: false, contracts: "1", clientOrderId: "lost2"))
        orders = try server.orders()
        #expect(orders.count == 2)
        #expect(requests(server, "/api/v1/trade/order").filter { $0.method == "POST" }.count == 2)
    }

    @Test func anOrderTheExchangeNeverSawIsSentAgainOnlyOnce() throws {
        let server = try BloFinServer()
        let c = client(server, credentials: credentials)
        try server.inject([["path": "/api/v1/trade/order", "kind": "status", "status": 502]])
        _ = try c.placeOrder(BloFinOrderRequest(instId: "ETH-USDT", buy: true, contracts: "1", clientOrderId: "again1"))
        #expect(try server.orders().count == 1)
        #expect(requests(server, "/api/v1/trade/order").filter { $0.method == "POST" }.count == 2)
        // Failing twice: nothing more is sent, and the error says the outcome is unknown.
        try server.inject([["path": "/api/v1/trade/order", "kind": "status", "status": 502, "times": 5]])
        #expect {
            try c.placeOrder(BloFinOrderRequest(instId: "ETH-USDT", buy: true, contracts: "1", clientOrderId: "again2"))
        } throws: { "\($0)".contains("unknown outcome") && "\($0)".contains("not resent") }
        #expect(requests(server, "/api/v1/trade/order").filter { $0.method == "POST" }.count == 4)
        // A lookup that fails too: the order is not resent blind.
        try server.inject([
            ["path": "/api/v1/trade/order", "kind": "status", "status": 500, "apply": true],
            ["path": "/api/v1/trade/orders-pending", "kind": "status", "status": 500, "times": 10],
        ])
        #expect(throws: BloFinError.self) {
            try c.placeOrder(BloFinOrderRequest(instId: "ETH-USDT", buy: true, contracts: "1", clientOrderId: "again3"))
        }
        #expect(requests(server, "/api/v1/trade/order").filter { $0.method == "POST" }.count == 5)
        let ids = try server.orders().compactMap { $0["clientOrderId"] as? String }
        #expect(ids == ["again1", "again3"])
    }

    @Test func aDuplicateIdOnTheResendMeansTheFirstOrderWentThrough() throws {
        let server = try BloFinServer()
        let c = client(server, credentials: credentials)
        c.timeoutSeconds = 1
        // BloFin took the order, the answer was lost, and its lists do not show it yet.
        try server.inject([
            ["path": "/api/v1/trade/order", "kind": "timeout", "seconds": 4, "apply": true],
            ["path": "/api/v1/trade/orders-history", "kind": "empty"],
        ])
        let id = try c.placeOrder(
            BloFinOrderRequest(instId: "ETH-USDT", buy: true, contracts: "1", clientOrderId: "dup1"))
        let orders = try server.orders()
        #expect(orders.count == 1 && orders[0]["orderId"] as? String == id)
        // The resend was refused as a duplicate; nothing else was sent.
        #expect(requests(server, "/api/v1/trade/order").filter { $0.method == "POST" }.count == 2)
        // A gateway's 5xx with a JSON body after the exchange took the order: looked up, not refused.
        try server.inject([
            ["path": "/api/v1/trade/order", "kind": "status", "status": 504, "json": true, "apply": true]
        ])
        _ = try c.placeOrder(BloFinOrderRequest(instId: "ETH-USDT", buy: true, contracts: "1", clientOrderId: "dup2"))
        #expect(try server.orders().count == 2)
        #expect(requests(server, "/api/v1/trade/order").filter { $0.method == "POST" }.count == 3)
    }

    @Test func numbersAndHostsFromOutsideAreReadSafely() {
        #expect(BloFinJSON.decimal(0.75, step: 0.25) == "0.75")
        #expect(BloFinJSON.decimal(58_800.1, step: 0.1) == "58800.1")
        #expect(BloFinJSON.decimal(41, step: 1) == "41")
        #expect(BloFinJSON.decimal(0.000123, step: 0.000001) == "0.000123")
        #expect(BloFinJSON.int64(.string("NaN")) == nil && BloFinJSON.int64(.string("1e30")) == nil)
        #expect(BloFinJSON.instant(.string("9223372036854775807")) == nil)
        #expect(BloFinJSON.int64(.string("1597026383085")) == 1_597_026_383_085)
        for url in ["https://openapi.blofin.com", "https://openapi.blofin.com./", "https://u@OpenAPI.blofin.com:443/x"]
        {
            #expect(ExchangeSettings.isProductionHost(url), "\(url)")
        }
        for url in [
            "https://demo-trading-openapi.blofin.com", "http://127.0.0.1:8080", "https://openapi.blofin.com.evil",
        ] {
            #expect(!ExchangeSettings.isProductionHost(url), "\(url)")
        }
    }

    @Test func theLimiterHoldsRequestsUnderBloFinsLimits() {
        var limiter = RateLimiter(address: [.init(limit: 3, seconds: 10)], trade: [.init(limit: 1, seconds: 5)])
        for t in [0.0, 1, 2] {
            #expect(limiter.wait(trade: false, at: t) == 0)
            limiter.record(trade: false, at: t)
        }
        #expect(limiter.wait(trade: false, at: 3) == 7)
        #expect(limiter.wait(trade: false, at: 10.5) == 0)
        limiter.record(trade: true, at: 11)
        #expect(limiter.wait(trade: true, at: 12) == 4)
        // The defaults stop at 90 % of BloFin's 500 a minute, 1500 in 5 minutes, 30 trades in 10 s.
        let defaults = RateLimiter()
        #expect(defaults.address.map(\.limit) == [450, 1350] && defaults.trade.map(\.limit) == [27])
    }

    @Test func theClientWaitsForItsLimiterAndGivesUpPastItsPatience() throws {
        let server = try BloFinServer()
        var slept: [Double] = []
        var now = 100.0
        let c = BloFinClient(
            baseURL: server.baseURL, credentials: nil, wallClock: { Instant(seconds: Date().timeIntervalSince1970) },
            monotonic: { now },
            sleep: {
                slept.append($0); now += $0
            })
        c.limiter = RateLimiter(address: [.init(limit: 2, seconds: 10)], trade: [])
        for _ in 0..<3 { _ = try c.serverTime() }
        #expect(slept == [10])
        c.maxLimiterWait = 1
        #expect {
            _ = try c.serverTime()
            _ = try c.serverTime()
        } throws: { "\($0)".contains("client's own rate limit") }
    }
}
