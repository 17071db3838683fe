/// Runs named checks in order: a body returns its detail, and a thrown error becomes a failed
/// check carrying the error's message. Shared by selfcheck and doctor.
public struct CheckList: Sendable {
    public private(set) var results: [CheckResult] = []

    public init() {}

    /// Thrown by a check body that passes with something the operator should look at.
    public struct Warning: Error {
        public var detail: String
        public init(_ detail: String) { self.detail = detail }
    }

    public mutating func run(_ name: String, _ body: () throws -> String) {
        do {
            results.append(CheckResult(name: name, ok: true, detail: try body()))
        } catch let warning as Warning {
            results.append(CheckResult(name: name, ok: true, warning: true, detail: warning.detail))
        } catch {
            results.append(CheckResult(name: name, ok: false, detail: "\(error)"))
        }
    }

    /// Adds a result decided by the caller (a warning, say).
    public mutating func append(_ result: CheckResult) { results.append(result) }
}
