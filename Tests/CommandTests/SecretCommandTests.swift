import CurlKit
import Foundation
import TestSupport
import Testing

@testable import TradingStore

/// `deployctl secret`, and the RUNBOOK's rotation of the dashboard password done with it against
/// the real dashboard process.
@Suite struct SecretCommandTests {
    func mode(_ path: String) -> mode_t {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & 0o777 : 0
    }

    @Test func setReplacesInPlaceKeepsTheRestAndNeverPrintsTheValue() throws {
        let home = try CommandRunner.makeHome()
        let path = home + "/config/secrets.env"
        try Fixtures.write(
            "# exchange keys, made 2026-01-02\nBLOFIN_API_KEY=old-key\nexport BLOFIN_PASSPHRASE=\"pass phrase\"\nBLOFIN_API_KEY=stale-duplicate\n",
            to: path)
        chmod(path, 0o644)
        let set = try CommandRunner.run(
            "deployctl", ["secret", "set", "BLOFIN_API_KEY", "--home", home], stdin: "new-key-XYZ\n")
        #expect(set.status == 0, "\(set.stderr)")
        #expect(!set.stdout.contains("new-key-XYZ") && !set.stderr.contains("new-key-XYZ"))
        #expect(set.stdout.contains("replaced") && set.stdout.contains("tradingbot exchange ping --private"))
        #expect(
            try String(contentsOfFile: path, encoding: .utf8)
                == "# exchange keys, made 2026-01-02\nBLOFIN_API_KEY=new-key-XYZ\nexport BLOFIN_PASSPHRASE=\"pass phrase\"\n"
        )
        #expect(mode(path) == 0o600, "a secrets file is the owner's alone, whatever it was")

        // Values read back exactly as given: a bcrypt hash's `$`, spaces at the ends.
        for value in ["$2b$12$abcdefghijklmnopqrstuv", "  spaced out  ", "it's"] {
            let out = try CommandRunner.run(
                "deployctl", ["secret", "set", "TRADINGBOT_GIT_TOKEN", "--home", home], stdin: value + "\n")
            #expect(out.status == 0, "\(out.stderr)")
            #expect(try SecretsFile.read(path)["TRADINGBOT_GIT_TOKEN"] == value)
        }
        let list = try CommandRunner.run("deployctl", ["secret", "list", "--home", home])
        #expect(list.stdout.contains("BLOFIN_API_KEY") && list.stdout.contains("TRADINGBOT_GIT_TOKEN"))
        #expect(!list.stdout.contains("new-key-XYZ") && !list.stdout.contains("it's"))

        let badName = try CommandRunner.run("deployctl", ["secret", "set", "blofin key", "--home", home], stdin: "x\n")
        #expect(badName.status == 2 && badName.stderr.contains("not a variable name"))
        let empty = try CommandRunner.run(
            "deployctl", ["secret", "set", "BLOFIN_API_KEY", "--home", home], stdin: "\n")
        #expect(empty.status == 2 && empty.stderr.contains("empty value"))
        let plain = try CommandRunner.run(
            "deployctl", ["secret", "set", "TRADINGBOT_DASHBOARD_PASSWORD_HASH", "--home", home],
            stdin: "my password\n")
        #expect(plain.status == 2 && plain.stderr.contains("tradingbot hash-password |"), "\(plain.stderr)")
        #expect(try SecretsFile.read(path)["BLOFIN_API_KEY"] == "new-key-XYZ", "refusals change nothing")

        #expect(try CommandRunner.run("deployctl", ["secret", "unset", "BLOFIN_API_KEY", "--home", home]).status == 0)
        #expect(try SecretsFile.read(path)["BLOFIN_API_KEY"] == nil)
        let again = try CommandRunner.run("deployctl", ["secret", "unset", "BLOFIN_API_KEY", "--home", home])
        #expect(again.stdout.contains("was not in"))
        // A mistyped --home grows no new home.
        let typo = home + "-typo"
        let wrong = try CommandRunner.run(
            "deployctl", ["secret", "set", "BLOFIN_API_KEY", "--home", typo], stdin: "k\n")
        #expect(wrong.status == 2 && wrong.stderr.contains("is --home right?"), "\(wrong.stderr)")
        #expect(!FileManager.default.fileExists(atPath: typo))
    }

    /// The RUNBOOK's "Rotate the dashboard password": hash-password piped into secret set, then a
    /// restart of the dashboard; the old password no longer logs in, the new one does.
    @Test(.timeLimit(.minutes(20))) func theDashboardPasswordIsRotated() throws {
        let home = try CommandRunner.makeHome()
        func rotate(to password: String) throws {
            let hash = try CommandRunner.run("tradingbot", ["hash-password"], stdin: password + "\n")
            #expect(hash.status == 0, "\(hash.stderr)")
            let set = try CommandRunner.run(
                "deployctl", ["secret", "set", "TRADINGBOT_DASHBOARD_PASSWORD_HASH", "--home", home], stdin: hash.stdout
            )
            #expect(
                set.status == 0 && set.stdout.contains("restart tradingbot-dashboard"), "\(set.stdout)\(set.stderr)")
        }
        try rotate(to: "the first long password")
        var dashboard = try DashboardProcess(home: home)
        #expect(try Browser(port: dashboard.port).logsIn("the first long password"))
        try rotate(to: "the second long password")
        #expect(dashboard.stop().ended)
        dashboard = try DashboardProcess(home: home)
        #expect(try !Browser(port: dashboard.port).logsIn("the first long password"), "the old password is refused")
        #expect(try Browser(port: dashboard.port).logsIn("the second long password"))
        #expect(dashboard.stop().ended)
    }
}

/// Just enough of a browser for the login form: cookies kept, the form's CSRF token sent back.
final class Browser {
    let port: Int
    var cookies: [String: String] = [:]

    init(port: Int) { self.port = port }

    func send(_ path: String, form: [String: String]? = nil) throws -> CurlKit.HTTPResponse {
        var headers =
            cookies.isEmpty ? [] : ["Cookie: " + cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")]
        var body: [UInt8]?
        if let form {
            headers.append("Content-Type: application/x-www-form-urlencoded")
            body = Array(
                form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
                    .joined(separator: "&").utf8)
        }
        let response = try HTTPClient.send(
            HTTPRequest(
                url: "http://127.0.0.1:\(port)\(path)", method: form == nil ? "GET" : "POST", headers: headers,
                body: body, timeoutSeconds: 30))
        for line in response.headers(named: "Set-Cookie") {
            guard let pair = line.split(separator: ";").first, let equals = pair.firstIndex(of: "=") else { continue }
            cookies[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        return response
    }

    /// Whether `password` opens the dashboard's front page.
    func logsIn(_ password: String) throws -> Bool {
        let page = try send("/login")
        guard let range = page.text.range(of: #"name="csrf" value=""#) else { return false }
        let csrf = String(page.text[range.upperBound...].prefix { $0 != "\"" })
        _ = try send("/login", form: ["csrf": csrf, "password": password])
        return try send("/").status == 200
    }
}
