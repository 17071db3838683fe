/// Runs named checks in order: a body returns its detail, and a thrown error becomes a failed
/// check carrying the error's message. Shared by selfcheck and doctor.
public struct CheckList: Sendable {
    public private(set) var results: [CheckResult] = []

    public init() {}

    public mutating func run(_ name: String, _ body: () throws -> String) {
        do {
            results.append(CheckResult(name: name, ok: true, detail: try body()))
        } catch {
            results.append(CheckResult(name: name, ok: false, detail: "\(error)"))
        }
    }

    /// Adds a result decided by the caller (a warning, say).
    public mutating func append(_ result: CheckResult) { results.append(result) }
}
