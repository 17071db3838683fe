import TradingCore

/// A word for a POSIX shell (and for supervisord's shlex): as is when plain, else single-quoted.
public func shellWord(_ text: String) -> String {
    let plain = !text.isEmpty && text.allSatisfy { $0.isLetter || $0.isNumber || "/._-+=:,@".contains($0) }
    return plain ? text : "'" + text.replacingOccurrences(of: "'", with: "'\"'\"'") + "'"
}

extension Home {
    /// The command that restarts `program` (`tradingbot`, `tradingbot-dashboard`) under the
    /// home's service manager (deploy.json's `service_manager`), for what a person runs next.
    public func restartCommand(_ program: String) -> String {
        let config = (try? ConfigFiles.deploy(deployConfig)) ?? DeployConfig()
        return config.serviceManager == "systemd"
            ? "sudo systemctl restart \(program).service"
            : "supervisorctl -c \(shellWord(root + "/deploy/supervisord.conf")) restart \(program)"
    }
}
