import CGit2
import Foundation

/// How to authenticate to a remote: a token for https (from the environment, never stored)
/// and an ssh private key, or the ssh agent when no key is given.
public struct GitCredentials: Sendable {
    public var token: String?
    public var username: String?
    public var sshKeyPath: String?
    /// Offer the token to a plain http:// remote too (deploy.json allow_token_over_http).
    public var allowTokenOverHTTP: Bool
    /// The ssh host keys (base64, as in known_hosts) this remote may present; an ssh server
    /// with any other key is refused, so a deploy key is never offered to an impostor.
    public var sshHostKeys: [String]
    /// Where the keys came from, for the message when the server's is not among them.
    public var sshHostKeysSource: String

    public init(
        token: String? = nil, username: String? = nil, sshKeyPath: String? = nil, allowTokenOverHTTP: Bool = false,
        sshHostKeys: [String] = [], sshHostKeysSource: String = "known_hosts"
    ) {
        self.token = token
        self.username = username
        self.sshKeyPath = sshKeyPath
        self.allowTokenOverHTTP = allowTokenOverHTTP
        self.sshHostKeys = sshHostKeys
        self.sshHostKeysSource = sshHostKeysSource
    }
}

/// Passed to libgit2's credential callback; counts attempts so a wrong token fails instead of
/// being offered for ever.
final class CredentialBox {
    let credentials: GitCredentials
    var attempts = 0
    init(_ credentials: GitCredentials) { self.credentials = credentials }
}

let credentialCallback: git_credential_acquire_cb = { out, url, usernameFromURL, allowed, payload in
    guard let out, let payload else { return GIT_PASSTHROUGH.rawValue }
    let box = Unmanaged<CredentialBox>.fromOpaque(payload).takeUnretainedValue()
    box.attempts += 1
    guard box.attempts <= 3 else { return GIT_EAUTH.rawValue }
    let fromURL = usernameFromURL.map { String(cString: $0) }
    let c = box.credentials
    if allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT.rawValue != 0, let token = c.token {
        // A token sent over plain http can be read by anyone on the path.
        let address = url.map { String(cString: $0) } ?? ""
        if address.lowercased().hasPrefix("http://") && !c.allowTokenOverHTTP {
            git_error_set_str(
                Int32(GIT_ERROR_CALLBACK.rawValue),
                "refusing to send the git token over plain http to \(address); use https, or set \"allow_token_over_http\": true in deploy.json on a private network"
            )
            return GIT_EAUTH.rawValue
        }
        return git_credential_userpass_plaintext_new(out, c.username ?? fromURL ?? "x-access-token", token)
    }
    // ssh://host/path with no user: libgit2 first asks for the user name alone.
    if allowed & GIT_CREDENTIAL_USERNAME.rawValue != 0 {
        return git_credential_username_new(out, c.username ?? fromURL ?? "git")
    }
    if allowed & GIT_CREDENTIAL_SSH_KEY.rawValue != 0 {
        let user = c.username ?? fromURL ?? "git"
        if let key = c.sshKeyPath { return git_credential_ssh_key_new(out, user, nil, key, nil) }
        return git_credential_ssh_key_from_agent(out, user)
    }
    return GIT_PASSTHROUGH.rawValue
}

/// Checks an ssh server's host key against the known ones; TLS certificates are left to
/// libgit2's own verification.
let certificateCallback: git_transport_certificate_check_cb = { cert, _, host, payload in
    guard let cert, let payload else { return GIT_PASSTHROUGH.rawValue }
    guard cert.pointee.cert_type == GIT_CERT_HOSTKEY_LIBSSH2 else { return GIT_PASSTHROUGH.rawValue }
    let box = Unmanaged<CredentialBox>.fromOpaque(payload).takeUnretainedValue()
    let hostkey = UnsafeRawPointer(cert).assumingMemoryBound(to: git_cert_hostkey.self).pointee
    let name = host.map { String(cString: $0) } ?? "the server"
    guard hostkey.type.rawValue & GIT_CERT_SSH_RAW.rawValue != 0, let raw = hostkey.hostkey else {
        git_error_set_str(Int32(GIT_ERROR_CALLBACK.rawValue), "the ssh server \(name) did not present a host key")
        return GIT_ECERTIFICATE.rawValue
    }
    let presented = Data(bytes: raw, count: hostkey.hostkey_len).base64EncodedString()
    if box.credentials.sshHostKeys.contains(presented) { return 0 }
    git_error_set_str(
        Int32(GIT_ERROR_CALLBACK.rawValue),
        "the ssh host key of \(name) is not in \(box.credentials.sshHostKeysSource) (or differs from it): refusing to connect. Check the server's fingerprint, then add it: ssh-keyscan -p PORT \(name) >> \(box.credentials.sshHostKeysSource)"
    )
    return GIT_ECERTIFICATE.rawValue
}
