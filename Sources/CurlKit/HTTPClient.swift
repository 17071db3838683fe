import CCurl
import Foundation

/// One HTTP request: what an alert, a dead-man's-switch ping or (later) the exchange sends.
public struct HTTPRequest: Sendable {
    public var url: String
    public var method: String
    public var headers: [String]
    public var body: [UInt8]?
    /// The whole exchange, connect included, must end within this many seconds: a watchdog that
    /// waits on a dead alert hook is not watching.
    public var timeoutSeconds: Int
    /// Responses larger than this are cut off with an error: nothing we call answers with more.
    public var maxResponseBytes: Int

    public init(
        url: String, method: String = "GET", headers: [String] = [], body: [UInt8]? = nil, timeoutSeconds: Int = 10,
        maxResponseBytes: Int = 1 << 20
    ) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.timeoutSeconds = timeoutSeconds
        self.maxResponseBytes = maxResponseBytes
    }

    /// A JSON POST.
    public static func postJSON(_ url: String, _ body: [UInt8], timeoutSeconds: Int = 10) -> HTTPRequest {
        HTTPRequest(
            url: url, method: "POST", headers: ["Content-Type: application/json"], body: body,
            timeoutSeconds: timeoutSeconds)
    }

    /// The scheme and the host's last two labels only: URLs of webhooks carry their token (in
    /// the path, or in the host itself on some services), so errors and logs name this instead.
    public var redactedURL: String {
        guard let parts = URLComponents(string: url), let host = parts.host else { return "(an unparsable URL)" }
        let labels = host.split(separator: ".")
        let isAddress = host.contains(":") || labels.allSatisfy { Int($0) != nil }
        let shown = isAddress || labels.count <= 2 ? host : "…" + labels.suffix(2).joined(separator: ".")
        return "\(parts.scheme ?? "?")://\(shown)\(parts.port.map { ":\($0)" } ?? "")/…"
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var body: [UInt8]
    /// The header lines of the final response (`Name: value`), without the status line.
    public var headers: [String] = []
    /// The values of the headers named `name` (case-insensitive), in order.
    public func headers(named name: String) -> [String] {
        headers.compactMap { line in
            guard let colon = line.firstIndex(of: ":"),
                line[..<colon].lowercased() == name.lowercased()
            else { return nil }
            return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
    }
    public var text: String { String(decoding: body, as: UTF8.self) }
    public var isSuccess: Bool { (200..<300).contains(status) }
}

/// What can go wrong, worded for the operator; never contains the URL (it may hold a token).
public enum HTTPError: Error, CustomStringConvertible, Sendable {
    case invalidRequest(String)
    case transfer(target: String, code: Int, message: String)
    case responseTooLarge(target: String, limit: Int)

    public var description: String {
        switch self {
        case .invalidRequest(let why): "invalid HTTP request: \(why)"
        case .transfer(let target, let code, let message): "\(target): \(message) (libcurl error \(code))"
        case .responseTooLarge(let target, let limit): "\(target): the response is larger than \(limit) bytes"
        }
    }
}

/// The one owner of libcurl: a handle per request, TLS verification always on, only http and
/// https, no redirects, no signals (safe in threads), a deadline and a cap on the answer.
public enum HTTPClient {
    private static let initialized: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    public static func send(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        guard initialized, let handle = curl_easy_init() else {
            throw .invalidRequest("libcurl could not be initialized")
        }
        defer { curl_easy_cleanup(handle) }
        let target = request.redactedURL
        guard request.url.hasPrefix("http://") || request.url.hasPrefix("https://") else {
            throw .invalidRequest("\(target): only http:// and https:// URLs are sent")
        }
        let sink = ResponseSink(limit: request.maxResponseBytes)
        let context = Unmanaged.passRetained(sink)
        defer { context.release() }
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        for header in request.headers { headerList = curl_slist_append(headerList, header) }

        func check(_ code: CURLcode, _ what: String) throws(HTTPError) {
            guard code == CURLE_OK else {
                throw .invalidRequest("\(what): \(String(cString: curl_easy_strerror(code)))")
            }
        }
        try check(ccurl_setopt_string(handle, CURLOPT_URL, request.url), "url")
        try check(ccurl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https"), "protocols")
        try check(ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1), "nosignal")
        try check(ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1), "verify peer")
        try check(ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2), "verify host")
        try check(ccurl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0), "redirects")
        try check(ccurl_setopt_long(handle, CURLOPT_TIMEOUT, request.timeoutSeconds), "timeout")
        try check(
            ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, min(request.timeoutSeconds, 10)), "connect timeout")
        try check(ccurl_setopt_string(handle, CURLOPT_USERAGENT, "tradingbot-deployctl"), "user agent")
        if let headerList { try check(ccurl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList), "headers") }
        try check(ccurl_setopt_write(handle, writeResponse, context.toOpaque()), "write callback")
        try check(ccurl_setopt_header(handle, writeHeader, context.toOpaque()), "header callback")
        // One byte more than the body, so an empty body still has an address.
        let body = (request.body ?? []) + [0]
        let result: CURLcode = body.withUnsafeBufferPointer { bytes in
            if request.method == "POST" || request.body != nil {
                let pointer = UnsafeRawPointer(bytes.baseAddress!).assumingMemoryBound(to: CChar.self)
                let code = ccurl_setopt_post(handle, pointer, bytes.count - 1)
                if code != CURLE_OK { return code }
            }
            if request.method != "GET" && request.method != "POST" {
                let code = ccurl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
                if code != CURLE_OK { return code }
            }
            return curl_easy_perform(handle)
        }
        if sink.overflowed { throw .responseTooLarge(target: target, limit: request.maxResponseBytes) }
        guard result == CURLE_OK else {
            throw .transfer(
                target: target, code: Int(result.rawValue), message: String(cString: curl_easy_strerror(result)))
        }
        var status = 0
        _ = ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, body: sink.bytes, headers: sink.headers)
    }
}

/// Collects the response body up to its limit; libcurl calls `writeResponse` with it.
private final class ResponseSink {
    let limit: Int
    var bytes: [UInt8] = []
    var headers: [String] = []
    var headerBytes = 0
    var overflowed = false
    init(limit: Int) { self.limit = limit }
}

private func writeResponse(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?
) -> Int {
    guard let context else { return 0 }
    let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    guard sink.bytes.count + length <= sink.limit else {
        sink.overflowed = true
        return 0  // aborts the transfer
    }
    if let data, length > 0 {
        let raw = UnsafeRawBufferPointer(start: data, count: length)
        sink.bytes.append(contentsOf: raw)
    }
    return length
}

/// Keeps the header lines of the last response (a new status line starts over: an interim 100
/// Continue is not the answer), within the same cap as the body.
private func writeHeader(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?
) -> Int {
    guard let context else { return 0 }
    let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    sink.headerBytes += length
    guard sink.headerBytes <= sink.limit else {
        sink.overflowed = true
        return 0
    }
    guard let data, length > 0 else { return length }
    let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
        .trimmingCharacters(in: .whitespacesAndNewlines)
    if line.hasPrefix("HTTP/") {
        sink.headers = []
    } else if !line.isEmpty {
        sink.headers.append(line)
    }
    return length
}
