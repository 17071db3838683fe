import Foundation
import TradingStore

/// The known_hosts keys of a repository's ssh server, looked up with `ssh-keygen -F` (which
/// understands hashed host names), so libgit2 can refuse any other server.
enum SSHHostKeys {
    /// Host and port of an ssh remote (`ssh://[user@]host[:port]/path` or `user@host:path`),
    /// or nil for any other kind of remote.
    static func endpoint(of url: String) -> (host: String, port: Int)? {
        if url.hasPrefix("ssh://") {
            var rest = url.dropFirst(6)
            if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
            if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
            if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
                let host = String(rest[rest.index(after: rest.startIndex)..<close])
                let after = rest[rest.index(after: close)...]
                return (host, after.hasPrefix(":") ? Int(after.dropFirst()) ?? 22 : 22)
            }
            let parts = rest.split(separator: ":", maxSplits: 1)
            guard let host = parts.first else { return nil }
            return (String(host), parts.count == 2 ? Int(parts[1]) ?? 22 : 22)
        }
        // scp-like: [user@]host:path (no scheme, no slash before the first colon, as git reads it).
        guard !url.contains("://"), !url.hasPrefix("/"), let colon = url.firstIndex(of: ":"),
            !url[..<colon].contains("/")
        else { return nil }
        let before = url[..<colon]
        let host = before.lastIndex(of: "@").map { before[before.index(after: $0)...] } ?? before
        return host.isEmpty ? nil : (String(host), 22)
    }

    /// The base64 keys `file` holds for the remote's host and port.
    static func keys(for url: String, knownHosts file: String) -> [String] {
        guard let (host, port) = endpoint(of: url), FileIO.exists(file) else { return [] }
        let name = port == 22 ? host : "[\(host)]:\(port)"
        guard let out = try? ProcessRunner.run("/usr/bin/ssh-keygen", ["-F", name, "-f", file], timeout: 30),
            out.status == 0
        else { return [] }
        return out.output.split(separator: "\n").compactMap { line -> String? in
            var fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.first?.hasPrefix("#") == true { return nil }
            if fields.first?.hasPrefix("@") == true {
                // @revoked and @cert-authority lines are not plain host keys.
                return nil
            }
            fields = Array(fields.dropFirst())
            return fields.count >= 2 ? String(fields[1]) : nil
        }
    }
}
