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
