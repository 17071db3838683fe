import CGit2
import Foundation

/// A git checkout driven through libgit2: clone or open, fetch, resolve a ref, hard checkout.
/// The only Swift type that touches libgit2 pointers; it frees them in `deinit`.
///
/// - Important: not Sendable (libgit2 repositories are not thread-safe); use from one thread.
public final class GitRepository {
    private let pointer: OpaquePointer
    public let path: String

    private static let initialized: Bool = {
        git_libgit2_init()
        return true
    }()

    private init(pointer: OpaquePointer, path: String) {
        self.pointer = pointer
        self.path = path
    }

    deinit { git_repository_free(pointer) }

    /// Opens the repository at `path`.
    public static func open(_ path: String) throws(GitError) -> GitRepository {
        _ = initialized
        var repo: OpaquePointer?
        try GitError.check(git_repository_open(&repo, path), "git_repository_open(\(path))")
        guard let repo else { throw GitError(function: "git_repository_open", code: -1, message: "no repository") }
        return GitRepository(pointer: repo, path: path)
    }

    /// Clones `url` (a path, file://, https:// or ssh:// URL) into `path`.
    public static func clone(
        url: String, into path: String, credentials: GitCredentials = GitCredentials()
    ) throws(GitError) -> GitRepository {
        _ = initialized
        var options = git_clone_options()
        try GitError.check(
            git_clone_options_init(&options, UInt32(GIT_CLONE_OPTIONS_VERSION)), "git_clone_options_init")
        // Checkout happens explicitly after resolving the ref.
        options.checkout_opts.checkout_strategy = GIT_CHECKOUT_NONE.rawValue
        let box = CredentialBox(credentials)
        options.fetch_opts.callbacks.credentials = credentialCallback
        options.fetch_opts.callbacks.certificate_check = certificateCallback
        options.fetch_opts.callbacks.payload = Unmanaged.passUnretained(box).toOpaque()
        var repo: OpaquePointer?
        let code = git_clone(&repo, url, path, &options)
        withExtendedLifetime(box) {}
        try GitError.check(code, "git_clone(\(url))")
        guard let repo else { throw GitError(function: "git_clone", code: -1, message: "no repository") }
        return GitRepository(pointer: repo, path: path)
    }

    /// Points `origin` at `url`: each release fetches from the repository deploy.json names now,
    /// not the one the slot was first cloned from.
    public func setRemoteURL(_ url: String, remote name: String = "origin") throws(GitError) {
        try GitError.check(git_remote_set_url(pointer, name, url), "git_remote_set_url(\(name), \(url))")
    }

    /// The URL of `origin`.
    public func remoteURL(remote name: String = "origin") -> String? {
        var remote: OpaquePointer?
        guard git_remote_lookup(&remote, pointer, name) == 0, let remote else { return nil }
        defer { git_remote_free(remote) }
        return git_remote_url(remote).map { String(cString: $0) }
    }

    /// Fetches every branch and tag of `origin` (force-updating remote-tracking refs).
    public func fetch(remote name: String = "origin", credentials: GitCredentials = GitCredentials()) throws(GitError) {
        var remote: OpaquePointer?
        try GitError.check(git_remote_lookup(&remote, pointer, name), "git_remote_lookup(\(name))")
        defer { git_remote_free(remote) }
        var options = git_fetch_options()
        try GitError.check(
            git_fetch_options_init(&options, UInt32(GIT_FETCH_OPTIONS_VERSION)), "git_fetch_options_init")
        options.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_ALL
        options.prune = GIT_FETCH_PRUNE
        let box = CredentialBox(credentials)
        options.callbacks.credentials = credentialCallback
        options.callbacks.certificate_check = certificateCallback
        options.callbacks.payload = Unmanaged.passUnretained(box).toOpaque()
        defer { withExtendedLifetime(box) {} }
        let specs = ["+refs/heads/*:refs/remotes/\(name)/*", "+refs/tags/*:refs/tags/*"]
        var cStrings = specs.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        let code = cStrings.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var array = git_strarray(strings: buffer.baseAddress, count: buffer.count)
            return git_remote_fetch(remote, &array, &options, "deployctl fetch")
        }
        try GitError.check(code, "git_remote_fetch(\(name))")
    }

    /// The commit a ref names: a branch of origin, a tag, or a (short) sha. Never a local branch
    /// of the checkout: a slot's stale `main` must not stand in for the remote's.
    public func resolve(_ ref: String) throws(GitError) -> String {
        let looksLikeSha = (4...40).contains(ref.count) && ref.allSatisfy { $0.isHexDigit }
        var candidates = ["refs/remotes/origin/\(ref)", "refs/tags/\(ref)"]
        if looksLikeSha { candidates.append(ref) }
        for candidate in candidates {
            var object: OpaquePointer?
            if git_revparse_single(&object, pointer, candidate + "^{commit}") == 0, let object {
                defer { git_object_free(object) }
                return Self.hex(git_object_id(object))
            }
        }
        throw GitError(
            function: "resolve", code: -3,
            message:
                "\(ref) is not a branch or tag of \(remoteURL() ?? "origin") (deleted there, or never pushed) nor a commit sha; check the name or push it first"
        )
    }

    /// The subject line of a commit.
    public func subject(of sha: String) throws(GitError) -> String {
        var oid = git_oid()
        try GitError.check(git_oid_fromstr(&oid, sha), "git_oid_fromstr(\(sha))")
        var commit: OpaquePointer?
        try GitError.check(git_commit_lookup(&commit, pointer, &oid), "git_commit_lookup(\(sha))")
        defer { git_commit_free(commit) }
        return git_commit_summary(commit).map { String(cString: $0) } ?? ""
    }

    /// The messages of the commits `sha` has and `base` has not (newest first, at most `limit`):
    /// what a release brings over the live one. A `base` this repository does not hold (or
    /// empty) leaves only `sha`'s own message.
    public func messages(of sha: String, since base: String, limit: Int = 1000) throws(GitError) -> [String] {
        var walk: OpaquePointer?
        try GitError.check(git_revwalk_new(&walk, pointer), "git_revwalk_new")
        defer { git_revwalk_free(walk) }
        var tip = git_oid()
        try GitError.check(git_oid_fromstr(&tip, sha), "git_oid_fromstr(\(sha))")
        try GitError.check(git_revwalk_push(walk, &tip), "git_revwalk_push(\(sha))")
        var hidden = git_oid()
        let baseKnown = !base.isEmpty && git_oid_fromstr(&hidden, base) == 0 && git_revwalk_hide(walk, &hidden) == 0
        var out: [String] = []
        var oid = git_oid()
        while out.count < (baseKnown ? limit : 1), git_revwalk_next(&oid, walk) == 0 {
            var commit: OpaquePointer?
            guard git_commit_lookup(&commit, pointer, &oid) == 0 else { continue }
            out.append(git_commit_message(commit).map { String(cString: $0) } ?? "")
            git_commit_free(commit)
        }
        return out
    }

    /// The commit HEAD points at.
    public func head() throws(GitError) -> String {
        var oid = git_oid()
        try GitError.check(git_reference_name_to_id(&oid, pointer, "HEAD"), "git_reference_name_to_id(HEAD)")
        return Self.hex(&oid)
    }

    /// Checks `sha` out hard (detached HEAD), then removes untracked files except those whose
    /// top-level folder `keep` accepts (the slot's own build folder, so builds stay incremental).
    /// - Returns: the untracked paths removed.
    @discardableResult
    public func checkoutHard(_ sha: String, keep: (String) -> Bool) throws(GitError) -> [String] {
        var oid = git_oid()
        try GitError.check(git_oid_fromstr(&oid, sha), "git_oid_fromstr(\(sha))")
        var commit: OpaquePointer?
        try GitError.check(git_object_lookup(&commit, pointer, &oid, GIT_OBJECT_COMMIT), "git_object_lookup(\(sha))")
        defer { git_object_free(commit) }
        var options = git_checkout_options()
        try GitError.check(
            git_checkout_options_init(&options, UInt32(GIT_CHECKOUT_OPTIONS_VERSION)), "git_checkout_options_init")
        options.checkout_strategy = GIT_CHECKOUT_FORCE.rawValue
        try GitError.check(git_checkout_tree(pointer, commit, &options), "git_checkout_tree(\(sha))")
        try GitError.check(git_repository_set_head_detached(pointer, &oid), "git_repository_set_head_detached(\(sha))")
        return try removeUntracked(keep: keep)
    }

    private func removeUntracked(keep: (String) -> Bool) throws(GitError) -> [String] {
        var options = git_status_options()
        try GitError.check(
            git_status_options_init(&options, UInt32(GIT_STATUS_OPTIONS_VERSION)), "git_status_options_init")
        options.show = GIT_STATUS_SHOW_WORKDIR_ONLY
        // Ignored files too (a stale Package.resolved would make two slots build one sha against
        // different dependencies); folders come as one entry, so `keep` sees their top level.
        options.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED.rawValue | GIT_STATUS_OPT_INCLUDE_IGNORED.rawValue
        var list: OpaquePointer?
        try GitError.check(git_status_list_new(&list, pointer, &options), "git_status_list_new")
        defer { git_status_list_free(list) }
        var removed: [String] = []
        for i in 0..<git_status_list_entrycount(list) {
            guard let entry = git_status_byindex(list, i),
                entry.pointee.status.rawValue & (GIT_STATUS_WT_NEW.rawValue | GIT_STATUS_IGNORED.rawValue) != 0,
                let delta = entry.pointee.index_to_workdir, let cPath = delta.pointee.new_file.path
            else { continue }
            let relative = String(cString: cPath)
            let top = String(relative.split(separator: "/").first ?? "")
            if keep(top) { continue }
            let file = path + "/" + (relative.hasSuffix("/") ? String(relative.dropLast()) : relative)
            try? FileManager.default.removeItem(atPath: file)
            removed.append(relative)
        }
        return removed
    }

    static func hex(_ oid: UnsafePointer<git_oid>?) -> String {
        guard let oid else { return "" }
        var buffer = [CChar](repeating: 0, count: Int(GIT_OID_HEXSZ) + 1)
        git_oid_tostr(&buffer, buffer.count, oid)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// What the linked libgit2 can do: https and ssh remotes need it built with those transports.
public enum GitFeatures {
    public static var https: Bool { git_libgit2_features() & Int32(GIT_FEATURE_HTTPS.rawValue) != 0 }
    public static var ssh: Bool { git_libgit2_features() & Int32(GIT_FEATURE_SSH.rawValue) != 0 }

    public static var version: String {
        var major: Int32 = 0
        var minor: Int32 = 0
        var patch: Int32 = 0
        git_libgit2_version(&major, &minor, &patch)
        return "\(major).\(minor).\(patch)"
    }
}
