import CurlKit
import Foundation
import TradingCore

/// BloFin's REST API over libcurl: signing, the envelope, a client-side rate limiter, retries
/// with backoff for what changes nothing, and the offset to BloFin's clock.
///
/// - Important: not Sendable; the engine's one thread (or one command) drives it.
public final class BloFinClient {

    /// Where the requests go: scheme and host, no trailing slash.
    public let baseURL: String
    let credentials: BloFinCredentials?
    public var timeoutSeconds = 10
    /// Attempts of a GET (first included) before its error is thrown.
    public var maxAttempts = 4
    /// The first retry waits this long; each later one twice the one before.
    public var backoffSeconds = 0.5
    /// The longest the client waits for its own rate limiter before it gives up on a request.
    public var maxLimiterWait = 20.0
    /// The count of what was sent, shared by every client of one process: BloFin limits by address.
    public let limits: SharedLimits
    public var limiter: RateLimiter {
        get { limits.limiter }
        set { limits.limiter = newValue }
    }
    /// Told of each retry (what failed, the wait), for the engine's log.
    public var onRetry: ((String) -> Void)?
    /// Requests sent since the client was made (every attempt counts), for the bench and the plan.
    public private(set) var requestsSent = 0
    /// BloFin's clock minus ours, in ms, from the last `syncClock()`.
    public private(set) var clockOffsetMs: Int64 = 0

    let transport: (HTTPRequest) throws(HTTPError) -> HTTPResponse
    let wallClock: () -> Instant
    let monotonic: () -> Double
    let sleep: (Double) -> Void
    var instrumentCache: [String: BloFinInstrument]?
    var instrumentsLoadedAt: Double?

    public init(
        baseURL: String, credentials: BloFinCredentials?, limits: SharedLimits = SharedLimits(),
        transport: @escaping (HTTPRequest) throws(HTTPError) -> HTTPResponse = HTTPClient.send,
        wallClock: @escaping () -> Instant, monotonic: @escaping () -> Double = BloFinClient.monotonicSeconds,
        sleep: @escaping (Double) -> Void = { if $0 > 0 { usleep(UInt32(min($0, 4000) * 1_000_000)) } }
    ) {
        var url = baseURL
        while url.hasSuffix("/") { url.removeLast() }
        self.baseURL = url
        self.credentials = credentials
        self.limits = limits
        self.transport = transport
        self.wallClock = wallClock
        self.monotonic = monotonic
        self.sleep = sleep
    }

    public static func monotonicSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    // MARK: Requests

    /// A GET: retried with backoff on 429, 5xx, timeouts and unreadable answers; a timestamp
    /// refusal resyncs the clock once and retries.
    public func get(_ path: String, query: [(String, String)] = [], signed: Bool = false) throws(BloFinError)
        -> JSONValue
    {
        var attempt = 0
        var resynced = false
        while true {
            attempt += 1
            do throws(BloFinError) {
                return try send("GET", path, query: query, body: nil, signed: signed, trade: false)
            } catch .api(let endpoint, "152405", let message) where signed && !resynced {
                resynced = true
                do { try syncClock() } catch { throw .api(endpoint: endpoint, code: "152405", message: message) }
            } catch let error where error.isTransient && attempt < maxAttempts {
                var wait = backoffSeconds * Double(1 << (attempt - 1))
                if case .rateLimited = error { wait = max(wait * 4, 1) }
                onRetry?("\(error); retry \(attempt) of \(maxAttempts - 1) in \(wait) s")
                sleep(wait)
            }
        }
    }

    /// A POST, sent once: whether to send a changed request again is the caller's decision.
    public func post(_ path: String, body: JSONObject, trade: Bool) throws(BloFinError) -> JSONValue {
        try send("POST", path, query: [], body: body, signed: true, trade: trade)
    }

    /// One attempt: limiter, signing, transfer, envelope.
    func send(_ method: String, _ path: String, query: [(String, String)], body: JSONObject?, signed: Bool, trade: Bool)
        throws(BloFinError) -> JSONValue
    {
        let requestPath = path + Self.queryString(query)
        var bodyText = ""
        if let body {
            var writer = JSONWriter()
            writer.write(.object(body))
            bodyText = String(decoding: writer.bytes, as: UTF8.self)
        }
        let wait = limiter.wait(trade: trade, at: monotonic())
        if wait > maxLimiterWait { throw .locallyThrottled(endpoint: path, waitSeconds: wait) }
        if wait > 0 { sleep(wait) }
        limiter.record(trade: trade, at: monotonic())
        var headers = ["Accept: application/json"]
        if body != nil { headers.append("Content-Type: application/json") }
        if signed {
            guard let credentials else {
                throw .api(endpoint: path, code: "152401", message: "no API key configured")
            }
            let timestamp = wallClock().microseconds / 1000 + clockOffsetMs
            headers += credentials.headers(
                path: requestPath, method: method, timestampMs: timestamp, nonce: UUID().uuidString.lowercased(),
                body: bodyText)
        }
        let request = HTTPRequest(
            url: baseURL + requestPath, method: method, headers: headers,
            body: body == nil ? nil : Array(bodyText.utf8),
            timeoutSeconds: timeoutSeconds, maxResponseBytes: 8 << 20)
        requestsSent += 1
        let response: HTTPResponse
        do {
            response = try transport(request)
        } catch {
            var timedOut = false
            if case .transfer(_, let code, _) = error { timedOut = code == 28 }
            throw .transport(endpoint: path, message: "\(error)", timedOut: timedOut)
        }
        if response.status == 429 { throw .rateLimited(endpoint: path) }
        if response.status == 403 { throw .banned(endpoint: path) }
        // A gateway's 5xx may carry a JSON body of its own: still a failure to answer, not a refusal.
        if response.status >= 500 { throw .http(endpoint: path, status: response.status) }
        guard let envelope = (try? JSONValue.parse(response.body))?.objectValue else {
            if !response.isSuccess { throw .http(endpoint: path, status: response.status) }
            throw .malformed(endpoint: path, why: "not a JSON object (\(response.body.count) bytes)")
        }
        let code = BloFinJSON.text(envelope["code"]) ?? ""
        if code != "0" {
            if code.isEmpty && !response.isSuccess { throw .http(endpoint: path, status: response.status) }
            // An order request refused as a whole still names each order's code.
            if let item = envelope["data"]?.arrayValue?.first?.objectValue,
                let itemCode = BloFinJSON.text(item["code"]),
                itemCode != "0", path.hasPrefix("/api/v1/trade/")
            {
                throw .api(endpoint: path, code: itemCode, message: BloFinJSON.text(item["msg"]) ?? "")
            }
            throw .api(endpoint: path, code: code.isEmpty ? "?" : code, message: BloFinJSON.text(envelope["msg"]) ?? "")
        }
        guard response.isSuccess else { throw .http(endpoint: path, status: response.status) }
        return envelope["data"] ?? .null
    }

    static func queryString(_ query: [(String, String)]) -> String {
        guard !query.isEmpty else { return "" }
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return "?"
            + query.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.1)" }
            .joined(separator: "&")
    }

    // MARK: Clock

    /// Reads BloFin's time and keeps the offset, so signed requests carry BloFin's idea of now.
    /// Returns the offset in ms (BloFin minus us).
    @discardableResult
    public func syncClock() throws(BloFinError) -> Int64 {
        let before = wallClock()
        let server = try serverTime()
        let after = wallClock()
        clockOffsetMs = (server.microseconds - (before.microseconds + after.microseconds) / 2) / 1000
        return clockOffsetMs
    }
}
