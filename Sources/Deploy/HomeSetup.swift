import Foundation
import GitKit
import TradingCore
import TradingStore

/// `deployctl init`: the folders of a home, deploy.json pointing at the repository (other fields
/// kept when it exists), and the repository's default bot.json and asset universe when missing.
public enum HomeSetup {
    public static func initialize(home: Home, repo: String, serviceManager: String) throws -> (
        written: [String], next: [String]
    ) {
        try home.createDirectories()
        try FileManager.default.createDirectory(atPath: home.configDir, withIntermediateDirectories: true)
        var written: [String] = []
        var deploy =
            FileIO.exists(home.deployConfig)
            ? try ConfigFiles.json(home.deployConfig).objectValue ?? JSONObject() : JSONObject()
        deploy["repo"] = .string(repo)
        deploy["service_manager"] = .string(serviceManager)
        let deployValue = JSONValue.object(deploy)
        _ = try DeployConfig.parse(deployValue, file: home.deployConfig)
        try FileIO.writeJSON(home.deployConfig, deployValue)
        written.append(home.deployConfig)
        // The guard: the deployctl units and timers call, outside the slots.
        try GuardCopy.installSelf(home: home)
        written.append(GuardCopy.path(home))
        let missing = [home.botConfig, home.assetUniverse].filter { !FileIO.exists($0) }
        if !missing.isEmpty {
            let temp = NSTemporaryDirectory() + "deployctl-init-\(UUID().uuidString.prefix(8))"
            defer { try? FileManager.default.removeItem(atPath: temp) }
            let config = try DeployConfig.parse(deployValue, file: home.deployConfig)
            let repository = try GitRepository.clone(
                url: repo, into: temp, credentials: config.gitCredentials(home: home))
            try repository.checkoutHard(try repository.resolve(config.defaultRef)) { _ in true }
            for target in missing {
                let name = String(target.split(separator: "/").last ?? "")
                let source = temp + "/config/" + name
                guard FileIO.exists(source) else {
                    throw StoreError(
                        path: target,
                        message: "missing, and the repository has no config/\(name) to start from; create it")
                }
                try FileIO.copy(source, to: target)
                written.append(target)
            }
        }
        return (
            written,
            [
                "edit \(shellWord(home.botConfig)): wallet_reset.at and starting_capital (check the YEAR)",
                "deployctl install-units --home \(shellWord(home.root)) --\(serviceManager)",
                "deployctl release --home \(shellWord(home.root))",
            ]
        )
    }
}

extension DeployConfig {
    /// Credentials for the repository: the token from the environment variable deploy.json
    /// names, else from the home's secrets.env (read by deployctl itself, never put in an
    /// environment).
    public func gitCredentials(home: Home) -> GitCredentials {
        let environment = ProcessInfo.processInfo.environment
        let token = SecretsFile.value(gitTokenEnv, home: home, environment: environment)
        let knownHosts =
            gitKnownHosts.isEmpty ? (environment["HOME"] ?? NSHomeDirectory()) + "/.ssh/known_hosts" : gitKnownHosts
        return GitCredentials(
            token: token, username: gitUsername.isEmpty ? nil : gitUsername,
            sshKeyPath: gitSSHKey.isEmpty ? nil : gitSSHKey, allowTokenOverHTTP: allowTokenOverHTTP,
            sshHostKeys: SSHHostKeys.keys(for: repo, knownHosts: knownHosts), sshHostKeysSource: knownHosts)
    }
}
