import Foundation
import GitKit
import TestSupport
import Testing

@testable import Deploy
@testable import TradingCore
@testable import TradingStore

/// A private repository over ssh with a deploy key, the way most operators reach theirs: a real
/// sshd (Debian's openssh-server) on 127.0.0.1, started by the test with its own host key.
final class SSHServer {
    let root: String
    let port: Int
    let process: Process
    let clientKey: String
    let knownHosts: String
    let bare: String

    init() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd") else {
            throw FixtureError("/usr/sbin/sshd is missing: apt-get install openssh-server (scripts/install-deps.sh)")
        }
        root = try Fixtures.temporaryDirectory("sshd")
        for name in ["host", "client", "impostor"] {
            let out = try CommandRunnerLite.run(
                "/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", root + "/\(name)_key"])
            guard out.status == 0 else { throw FixtureError("ssh-keygen: \(out.output)") }
        }
        clientKey = root + "/client_key"
        try FileManager.default.copyItem(atPath: root + "/client_key.pub", toPath: root + "/authorized_keys")
        port = try Self.freePort()
        let hostPublic = try String(contentsOfFile: root + "/host_key.pub", encoding: .utf8)
        knownHosts = root + "/known_hosts"
        try Fixtures.write("[127.0.0.1]:\(port) \(hostPublic)", to: knownHosts)
        let user = ProcessInfo.processInfo.environment["USER"] ?? NSUserName()
        try Fixtures.write(
            """
            ListenAddress 127.0.0.1
            Port \(port)
            HostKey \(root)/host_key
            AuthorizedKeysFile \(root)/authorized_keys
            PidFile \(root)/sshd.pid
            StrictModes no
            UsePAM no
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            PubkeyAuthentication yes
            PermitRootLogin prohibit-password
            AllowUsers \(user)

            """, to: root + "/sshd_config")
        if getuid() == 0 {
            try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        }
        let origin = try GitFixture(root + "/origin")
        try origin.write("a.txt", "over ssh\n")
        try origin.commit("first")
        bare = root + "/bot.git"
        try origin.git("clone", "-q", "--bare", origin.path, bare)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/sshd")
        process.arguments = ["-D", "-e", "-f", root + "/sshd_config"]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        FileManager.default.createFile(atPath: root + "/sshd.log", contents: nil)
        process.standardError = FileHandle(forWritingAtPath: root + "/sshd.log")
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline && !Self.accepts(port) { usleep(100_000) }
        guard Self.accepts(port) else {
            throw FixtureError(
                "sshd did not listen: \((try? String(contentsOfFile: root + "/sshd.log", encoding: .utf8)) ?? "")")
        }
    }

    var url: String { "ssh://\(ProcessInfo.processInfo.environment["USER"] ?? NSUserName())@127.0.0.1:\(port)\(bare)" }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }

    static func freePort() throws -> Int {
        let out = try CommandRunnerLite.run(
            "/usr/bin/env",
            ["python3", "-c", "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"])
        guard let port = Int(out.output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw FixtureError("no free port: \(out.output)")
        }
        return port
    }

    static func accepts(_ port: Int) -> Bool {
        (try? CommandRunnerLite.run(
            "/usr/bin/env",
            [
                "python3", "-c", "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1)",
                "\(port)",
            ]))?
            .status == 0
    }
}

/// Runs a helper tool and captures its output (stdout and stderr together).
enum CommandRunnerLite {
    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let out = try ProcessRunner.run(executable, arguments, timeout: 60)
        return (out.status, out.output)
    }
}

@Suite(.serialized) struct SSHRemoteTests {
    @Test(.timeLimit(.minutes(20))) func aDeployKeyOverSSHWithTheHostKeyChecked() throws {
        #expect(GitFeatures.ssh, "libgit2 is built with ssh")
        let server = try SSHServer()
        defer { server.stop() }
        let home = Home(root: server.root + "/home")
        try home.createDirectories()
        var config = DeployConfig()
        config.repo = server.url
        config.gitSSHKey = server.clientKey
        config.gitKnownHosts = server.knownHosts
        #expect(SSHHostKeys.endpoint(of: server.url)?.port == server.port)
        #expect(SSHHostKeys.endpoint(of: "git@github.com:me/bot.git")! == ("github.com", 22))
        #expect(SSHHostKeys.keys(for: server.url, knownHosts: server.knownHosts).count == 1)

        // The slot is cloned and fetched over ssh with the deploy key, as a release does.
        let repo = try SlotCheckout(home: home, config: config).open("A")
        let sha = try repo.resolve("main")
        #expect(sha.count == 40)
        let again = try SlotCheckout(home: home, config: config).open("A")
        #expect(try again.resolve("main") == sha)

        // A server whose host key is not the known one is refused before any key is offered.
        let impostor = try String(contentsOfFile: server.root + "/impostor_key.pub", encoding: .utf8)
        try Fixtures.write("[127.0.0.1]:\(server.port) \(impostor)", to: server.knownHosts)
        config.gitKnownHosts = server.knownHosts
        let refused = #expect(throws: GitError.self) {
            _ = try GitRepository.clone(
                url: server.url, into: server.root + "/impostor", credentials: config.gitCredentials(home: home))
        }
        #expect(refused?.message.contains("is not in \(server.knownHosts)") == true, "\(String(describing: refused))")

        // Without the deploy key the server says no.
        let hostPublic = try String(contentsOfFile: server.root + "/host_key.pub", encoding: .utf8)
        try Fixtures.write("[127.0.0.1]:\(server.port) \(hostPublic)", to: server.knownHosts)
        var keyless = config
        keyless.gitSSHKey = server.root + "/impostor_key"
        #expect(throws: GitError.self) {
            _ = try GitRepository.clone(
                url: server.url, into: server.root + "/keyless", credentials: keyless.gitCredentials(home: home))
        }
    }
}
