import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdBcrypt
import NIOCore
import TradingCore
import TradingStore

/// Each request's context, with the address it came from (for the login rate limit and the
/// loopback-only /metrics).
public struct DashboardContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }
}

/// Why the dashboard will not start, worded for the operator.
public struct DashboardError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The dashboard's routes. It only reads the home (and writes the kill switch): nothing it does
/// can stop trading, and no request path reaches the file system.
public struct DashboardServer: Sendable {
    public static let hashVariableName = "TRADINGBOT_DASHBOARD_PASSWORD_HASH"
    public let data: DashboardData
    public let sessions: SessionStore
    /// The bcrypt hash to log in with; nil means no password (loopback only, one click in).
    let passwordHash: String?
    let secureCookies: Bool
    /// The names a request's Host may carry (lowercase, without a port).
    let allowedHosts: Set<String>

    public init(data: DashboardData, passwordHash: String?, settings: DashboardSettings, bind: String? = nil) {
        self.data = data
        self.passwordHash = passwordHash
        secureCookies = settings.secureCookies
        sessions = SessionStore(lifetimeSeconds: settings.sessionHours * 3600)
        let address = (bind ?? settings.bind).lowercased()
        var hosts: Set<String> = ["127.0.0.1", "localhost", "::1"]
        if !["0.0.0.0", "::", ""].contains(address) { hosts.insert(address) }
        for name in settings.allowedHosts { hosts.insert(name.lowercased()) }
        allowedHosts = hosts
    }

    /// The host name of a Host header: without its port, IPv6 brackets removed, lowercase.
    static func hostName(_ header: String) -> String {
        var host = header.lowercased()
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            return String(host[host.index(after: host.startIndex)..<close])
        }
        if host.filter({ $0 == ":" }).count == 1, let colon = host.lastIndex(of: ":") { host = String(host[..<colon]) }
        return host
    }

    /// Refuses a hash that is not bcrypt's and a non-loopback address without a password.
    public static func check(passwordHash: String?, bind: String) throws(DashboardError) {
        if let hash = passwordHash, !(hash.hasPrefix("$2") && hash.count == 60) {
            throw DashboardError(
                "\(hashVariableName) is not a bcrypt hash (60 characters starting with $2); make one with `tradingbot hash-password`"
            )
        }
        if passwordHash == nil && !isLoopback(bind) {
            throw DashboardError(
                "no dashboard password: refusing to listen on \(bind), which other machines can reach. Run `tradingbot hash-password`, put \(hashVariableName)=<hash> in HOME/config/secrets.env (mode 0600), or bind to 127.0.0.1"
            )
        }
    }

    static func isLoopback(_ address: String) -> Bool {
        address == "localhost" || address == "::1" || address.hasPrefix("127.")
    }

    public func router() -> Router<DashboardContext> {
        let router = Router(context: DashboardContext.self)
        router.add(middleware: SecurityHeaders())
        router.add(middleware: HostCheck(allowed: allowedHosts))
        router.get("/healthz") { _, _ in healthz() }
        router.get("/static/app.css") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "max-age=300"],
                body: .init(byteBuffer: ByteBuffer(string: HTML.css)))
        }
        router.get("/static/refresh.js") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "max-age=300"],
                body: .init(byteBuffer: ByteBuffer(string: HTML.script)))
        }
        router.get("/login") { request, _ in loginPage(request, message: nil) }
        router.post("/login") { request, context in try await login(request, context: context) }
        router.post("/logout") { request, context in
            try await withSession(request, context, form: true) { session, _ in
                sessions.end(session.token)
                return redirect("/login")
            }
        }
        router.get("/") { request, context in
            try await withSession(request, context) { session, _ in
                let page = Int(request.uri.queryParameters["page"].map(String.init) ?? "1") ?? 1
                let positions = data.positions()
                let body = Pages.summary(
                    positions, lastCycle: data.lastCycle(), now: data.now, page: page,
                    prices: data.latestPrices(Set(positions.open.map(\.symbol))),
                    takerFee: (try? data.config().get())?.fees.taker ?? BotConfig.Fees().taker)
                return html(title: "Daily Summary", path: "/", body: body, session: session, positions: positions)
            }
        }
        router.get("/executive") { request, context in
            try await withSession(request, context) { session, _ in
                let positions = data.positions()
                return html(
                    title: "Executive Summary", path: "/executive",
                    body: Pages.executive(
                        positions, weights: data.weights(),
                        missed: MissedOpportunities.read(data.home, now: data.now), autonomy: data.autonomy()),
                    session: session, positions: positions)
            }
        }
        router.get("/deploys") { request, context in
            try await withSession(request, context) { session, _ in
                let (releases, unreadable) = data.releases()
                return html(
                    title: "Deploys", path: "/deploys", body: Pages.deploys(releases, unreadable: unreadable),
                    session: session, positions: data.positions())
            }
        }
        router.get("/api/releases") { request, context in
            try await withSession(request, context, api: true) { _, _ in
                let (releases, unreadable) = data.releases()
                switch releases {
                case .success(let records):
                    return json([
                        "ok": true, "releases": .array(records.reversed().prefix(100).map(\.json)),
                        "unreadable_lines": .array(unreadable.map { .int($0) }),
                    ])
                case .failure(let error):
                    return json(["ok": false, "error": .string("\(error)")], status: .serviceUnavailable)
                }
            }
        }
        router.get("/kill-switch") { request, context in
            try await withSession(request, context) { session, _ in
                html(
                    title: "Kill switch", path: "/kill-switch",
                    body: Pages.killSwitch(on: data.killSwitchOn, csrf: session.csrf), session: session,
                    positions: data.positions(), refresh: false)
            }
        }
        router.post("/kill-switch") { request, context in
            try await withSession(request, context, form: true) { _, form in
                guard form["confirm"] == "yes", let set = form["set"], set == "on" || set == "off" else {
                    return plain(.badRequest, "tick the confirmation box, then press the button again")
                }
                try data.setKillSwitch(set == "on", by: context.remoteAddress)
                return redirect("/kill-switch")
            }
        }
        router.get("/api/summary") { request, context in
            try await withSession(request, context, api: true) { _, _ in json(summaryJSON()) }
        }
        router.get("/api/positions") { request, context in
            try await withSession(request, context, api: true) { _, _ in json(positionsJSON()) }
        }
        router.get("/api/health") { request, context in
            try await withSession(request, context, api: true) { _, _ in
                json(["ok": true, "health": HealthPanel.read(data, positions: data.positions()).json])
            }
        }
        router.get("/metrics") { request, context in
            // Scrapers cannot log in: this machine may read it; others need a session. A request
            // a proxy forwarded comes from loopback too, so it needs one as well.
            let forwarded =
                request.headers[HTTPField.Name("X-Forwarded-For")!] != nil
                || request.headers[HTTPField.Name("Forwarded")!] != nil
            // Behind a TLS proxy (secure_cookies) every request is loopback: always a session then.
            if DashboardServer.isLoopback(context.remoteAddress) && !forwarded && !secureCookies { return metrics() }
            return try await withSession(request, context, api: true) { _, _ in metrics() }
        }
        return router
    }

    // MARK: - Sessions and login

    static let sessionCookie = "tb_session"
    static let loginCookie = "tb_login"

    /// Runs `body` for a logged-in request; others go to the login page (401 for the API). A
    /// form post must carry the session's CSRF token.
    func withSession(
        _ request: Request, _ context: DashboardContext, api: Bool = false, form: Bool = false,
        _ body: (Session, [String: String]) async throws -> Response
    ) async throws -> Response {
        guard let session = sessions.session(request.cookies[Self.sessionCookie]?.value, now: data.now) else {
            return api
                ? json(["ok": false, "error": "log in first: POST /login"], status: .unauthorized) : redirect("/login")
        }
        var fields: [String: String] = [:]
        if form {
            fields = try await formFields(request, context)
            guard let sent = fields["csrf"], constantTimeEqual(sent, session.csrf) else {
                return plain(
                    .forbidden,
                    "this form is out of date or did not come from the dashboard: reload the page and try again")
            }
        }
        do {
            return try await body(session, fields)
        } catch {
            return plain(.internalServerError, "the dashboard could not do that: \(error)")
        }
    }

    func loginPage(_ request: Request, message: String?, status: HTTPResponse.Status = .ok) -> Response {
        let token = randomToken()
        var response = htmlResponse(
            HTML.page(
                title: "Log in", path: "/login", health: nil,
                body: Pages.login(csrf: token, passwordSet: passwordHash != nil, message: message), csrf: nil,
                refresh: false), status: status)
        response.setCookie(cookie(Self.loginCookie, token, maxAge: 3600))
        return response
    }

    func login(_ request: Request, context: DashboardContext) async throws -> Response {
        let now = data.now
        if let wait = sessions.attempt(context.remoteAddress, now: now) {
            var response = loginPage(
                request, message: "Too many failed logins from \(context.remoteAddress): try again in \(wait) s.",
                status: .tooManyRequests)
            response.headers[.retryAfter] = "\(wait)"
            return response
        }
        let form = try await formFields(request, context)
        guard let sent = form["csrf"], let expected = request.cookies[Self.loginCookie]?.value,
            constantTimeEqual(sent, expected)
        else {
            return loginPage(request, message: "The login form expired: try again.", status: .forbidden)
        }
        if let passwordHash {
            let password = form["password"] ?? ""
            // bcrypt takes a quarter of a second: one at a time, off the threads that serve pages
            // and /healthz, so a flood of guesses cannot stall the dashboard.
            let ok = await withCheckedContinuation { done in
                Self.bcryptQueue.async { done.resume(returning: Bcrypt.verify(password, hash: passwordHash)) }
            }
            guard ok else { return loginPage(request, message: "Wrong password.", status: .unauthorized) }
        }
        sessions.clearFailures(context.remoteAddress)
        let session = sessions.create(now: now)
        var response = redirect("/")
        response.setCookie(cookie(Self.sessionCookie, session.token, maxAge: Int(sessions.lifetimeSeconds)))
        return response
    }

    static let bcryptQueue = DispatchQueue(label: "tradingbot.dashboard.bcrypt")

    func cookie(_ name: String, _ value: String, maxAge: Int) -> Cookie {
        Cookie(
            name: name, value: value, maxAge: maxAge, path: "/", secure: secureCookies, httpOnly: true,
            sameSite: .strict)
    }

    /// An `application/x-www-form-urlencoded` body, at most 16 KB.
    func formFields(_ request: Request, _ context: DashboardContext) async throws -> [String: String] {
        var request = request
        let buffer = try await request.collectBody(upTo: 16 << 10)
        var fields: [String: String] = [:]
        for pair in String(buffer: buffer).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            if let name = parts.first { fields[name] = parts.count > 1 ? parts[1] : "" }
        }
        return fields
    }

    // MARK: - Responses

    func html(
        title: String, path: String, body: String, session: Session, positions: PositionsSnapshot, refresh: Bool = true
    ) -> Response {
        let notice =
            passwordHash == nil
            ? "No dashboard password is set: anyone on this machine can open it. Set one with `tradingbot hash-password`."
            : nil
        return htmlResponse(
            HTML.page(
                title: title, path: path, health: HealthPanel.read(data, positions: positions), body: body,
                csrf: session.csrf, notice: notice, refresh: refresh))
    }

    func htmlResponse(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: value.serialized(indent: 0) + "\n")))
    }

    func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
    }

    func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }
}

/// Refuses a Host the dashboard does not answer to (421): a page on another site that points
/// its own name at 127.0.0.1 (DNS rebinding) would otherwise be same-origin with it.
struct HostCheck: RouterMiddleware {
    typealias Context = DashboardContext
    let allowed: Set<String>

    func handle(
        _ request: Request, context: DashboardContext,
        next: (Request, DashboardContext) async throws -> Response
    ) async throws -> Response {
        let host = request.head.authority ?? ""
        guard allowed.contains(DashboardServer.hostName(host)) else {
            return Response(
                status: .misdirectedRequest, headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(
                    byteBuffer: ByteBuffer(
                        string:
                            "this dashboard does not answer to the host \"\(host.prefix(100))\"; open it as http://127.0.0.1:PORT, or add the name to bot.json dashboard.allowed_hosts\n"
                    )))
        }
        return try await next(request, context)
    }
}

/// Headers on every answer: no framing, no sniffing, a CSP that allows only our own files.
struct SecurityHeaders: RouterMiddleware {
    typealias Context = DashboardContext
    func handle(
        _ request: Request, context: DashboardContext,
        next: (Request, DashboardContext) async throws -> Response
    ) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.contentSecurityPolicy] =
            "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        response.headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        return response
    }
}
