import Foundation
import GitKit
import TestSupport
import Testing

@Suite struct GitKitTests {
    @Test func cloneResolveFetchAndHardCheckout() throws {
        let root = try Fixtures.temporaryDirectory("git")
        let origin = try GitFixture(root + "/origin")
        try origin.write("a.txt", "one\n")
        let first = try origin.commit("first")
        try origin.git("tag", "v1")

        let repo = try GitRepository.clone(url: origin.path, into: root + "/slot")
        #expect(try repo.resolve("main") == first)
        #expect(try repo.resolve("v1") == first)
        #expect(try repo.resolve(String(first.prefix(8))) == first)
        #expect(try repo.subject(of: first) == "first")
        try repo.checkoutHard(first) { $0.hasPrefix(".build") }
        #expect(try String(contentsOfFile: root + "/slot/a.txt", encoding: .utf8) == "one\n")
        #expect(try repo.head() == first)

        // New commits and tags arrive with fetch; local edits and untracked files go, .build stays.
        try origin.write("a.txt", "two\n")
        try origin.write("b.txt", "new\n")
        let second = try origin.commit("second")
        try origin.git("tag", "v2")
        try Data("edited".utf8).write(to: URL(fileURLWithPath: root + "/slot/a.txt"))
        try FileManager.default.createDirectory(atPath: root + "/slot/.build/debug", withIntermediateDirectories: true)
        try Data("cache".utf8).write(to: URL(fileURLWithPath: root + "/slot/.build/debug/obj"))
        try Data("junk".utf8).write(to: URL(fileURLWithPath: root + "/slot/junk.txt"))
        let reopened = try GitRepository.open(root + "/slot")
        #expect(try reopened.resolve("main") == first, "not fetched yet")
        try reopened.fetch()
        #expect(try reopened.resolve("main") == second)
        #expect(try reopened.resolve("v2") == second)
        let removed = try reopened.checkoutHard(second) { $0.hasPrefix(".build") }
        #expect(removed == ["junk.txt"])
        #expect(try String(contentsOfFile: root + "/slot/a.txt", encoding: .utf8) == "two\n")
        #expect(FileManager.default.fileExists(atPath: root + "/slot/b.txt"))
        #expect(FileManager.default.fileExists(atPath: root + "/slot/.build/debug/obj"), "the build folder survives")
        #expect(!FileManager.default.fileExists(atPath: root + "/slot/junk.txt"))
        // Back to an older commit: files it does not have disappear.
        try reopened.checkoutHard(first) { $0.hasPrefix(".build") }
        #expect(!FileManager.default.fileExists(atPath: root + "/slot/b.txt"))
    }

    @Test func linkedLibgit2SpeaksHttpsAndSsh() {
        // Remotes on GitHub or a private server need these transports; Debian's libgit2 has both.
        #expect(GitFeatures.https, "libgit2 \(GitFeatures.version) without https")
        #expect(GitFeatures.ssh, "libgit2 \(GitFeatures.version) without ssh")
    }

    @Test func errorsCarryLibgit2sMessage() throws {
        let root = try Fixtures.temporaryDirectory("git")
        #expect {
            _ = try GitRepository.clone(url: root + "/does-not-exist", into: root + "/slot")
        } throws: { error in
            guard let e = error as? GitError else { return false }
            return e.function.hasPrefix("git_clone") && !e.message.isEmpty && e.code < 0
        }
        let origin = try GitFixture(root + "/origin")
        try origin.write("a", "a")
        try origin.commit("a")
        let repo = try GitRepository.clone(url: origin.path, into: root + "/clone")
        #expect { _ = try repo.resolve("no-such-branch") } throws: { "\($0)".contains("no-such-branch") }
    }
}

/// Private repositories: libgit2 asks for credentials and gets the token from GitCredentials.
@Suite struct GitCredentialTests {
    @Test(.timeLimit(.minutes(20))) func cloneAndFetchOverHttpWithAToken() throws {
        let root = try Fixtures.temporaryDirectory("githttp")
        let origin = try GitFixture(root + "/work")
        try origin.write("a.txt", "one\n")
        let first = try origin.commit("first")
        try origin.git("clone", "-q", "--bare", origin.path, root + "/served/origin.git")
        let token = UUID().uuidString  // made up per run; nothing secret is stored
        let portFile = root + "/port"
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.arguments = [
            "python3", Fixtures.repoRoot + "/Tests/Support/git_http_server.py", root + "/served", "bot", token,
            portFile,
        ]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { server.terminate() }
        var port = ""
        for _ in 0..<100 where port.isEmpty {
            port = (try? String(contentsOfFile: portFile, encoding: .utf8)) ?? ""
            if port.isEmpty { usleep(50_000) }
        }
        #expect(!port.isEmpty, "the test git server started")
        let url = "http://127.0.0.1:\(port)/origin.git"

        #expect(throws: GitError.self, "no token: refused") {
            _ = try GitRepository.clone(url: url, into: root + "/anonymous")
        }
        #expect(throws: GitError.self, "wrong token: refused after a few attempts, not for ever") {
            _ = try GitRepository.clone(
                url: url, into: root + "/wrong",
                credentials: GitCredentials(token: "nope", username: "bot", allowTokenOverHTTP: true))
        }
        // Plain http: the token is not offered unless deploy.json allows it.
        let refused = #expect(throws: GitError.self) {
            _ = try GitRepository.clone(
                url: url, into: root + "/plain", credentials: GitCredentials(token: token, username: "bot"))
        }
        #expect(
            refused?.message.contains("refusing to send the git token over plain http") == true,
            "\(String(describing: refused))")
        let credentials = GitCredentials(token: token, username: "bot", allowTokenOverHTTP: true)
        let repo = try GitRepository.clone(url: url, into: root + "/slot", credentials: credentials)
        #expect(try repo.resolve("main") == first)
        try origin.write("a.txt", "two\n")
        let second = try origin.commit("second")
        try origin.git("push", "-q", root + "/served/origin.git", "main")
        try repo.fetch(credentials: credentials)
        #expect(try repo.resolve("main") == second)
    }
}
