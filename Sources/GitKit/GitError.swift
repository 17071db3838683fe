import CGit2

/// A libgit2 call that failed: the function, its return code and libgit2's own message.
public struct GitError: Error, Sendable, CustomStringConvertible {
    public var function: String
    public var code: Int32
    public var message: String

    public var description: String { "\(function) failed (\(code)): \(message)" }

    /// Throws when `code` is negative, reading libgit2's per-thread last error right away.
    @discardableResult
    static func check(_ code: Int32, _ function: String) throws(GitError) -> Int32 {
        guard code < 0 else { return code }
        let message = git_error_last().map { String(cString: $0.pointee.message) } ?? "no message from libgit2"
        throw GitError(function: function, code: code, message: message)
    }
}
