import CurlKit
import Foundation
import TradingCore
import TradingStore

#if canImport(Glibc)
    import Glibc
#endif

extension Preflight {
    /// Starts the candidate's dashboard on a free loopback port against the live home and
    /// requires /healthz and the login page to answer: a release whose dashboard cannot start
    /// is refused before the flip. It only reads the home; it is stopped before the next check.
    func dashboardSmoke(_ candidate: String, release: String) -> CheckResult {
        let name = "dashboard"
        let process: ProcessRunner.Background
        do {
            process = try ProcessRunner.start(
                candidate, ["dashboard", "--home", home.root, "--bind", "127.0.0.1", "--port", "0"],
                environment: environment(release: release), without: config.secretNames,
                tracking: DeployLock.childrenFile(home))
        } catch {
            return CheckResult(name: name, ok: false, detail: "cannot start the candidate's dashboard: \(error)")
        }
        defer { process.stop() }
        var port: Int?
        let deadline = Date().addingTimeInterval(60)
        while port == nil && Date() < deadline && process.exitCode() == nil {
            port =
                process.output.split(separator: "\n").lazy.compactMap { line -> Int? in
                    guard line.hasPrefix("listening on ") else { return nil }
                    return line.split(separator: ":").last.flatMap { Int($0) }
                }.first
            if port == nil { usleep(50_000) }
        }
        guard let port else {
            let ended = process.exitCode().map { "it exited \($0)" } ?? "it did not say where it listens within 60 s"
            let said = ProcessRunner.lastLines(process.stop(), 5)
            return CheckResult(
                name: name, ok: false,
                detail: "the candidate's dashboard did not start: \(ended)" + (said.isEmpty ? "" : ": \(said)"))
        }
        for (path, needs) in [("/healthz", "\"dashboard\""), ("/login", "<form")] {
            let url = "http://127.0.0.1:\(port)\(path)"
            do {
                let answer = try HTTPClient.send(HTTPRequest(url: url, timeoutSeconds: 20))
                guard answer.status == 200, answer.text.contains(needs) else {
                    return CheckResult(
                        name: name, ok: false,
                        detail:
                            "the candidate's dashboard answered \(path) with HTTP \(answer.status): \(answer.text.prefix(300))"
                    )
                }
            } catch {
                return CheckResult(
                    name: name, ok: false, detail: "the candidate's dashboard did not answer \(path): \(error)")
            }
        }
        return CheckResult(name: name, ok: true, detail: "answered /healthz and /login on 127.0.0.1:\(port)")
    }
}
