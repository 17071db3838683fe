/// A JSON text that does not parse, located by line and column so the operator can open the file there.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public var offset: Int
    public var line: Int
    public var column: Int
    public var message: String
    /// The record the error is in, when a reader knows it: `closed_positions[12] (BTCUSDT)`.
    public var context: String? = nil

    public var description: String {
        "invalid JSON at line \(line), column \(column) (byte \(offset))"
            + (context.map { " in \($0)" } ?? "") + ": \(message)"
    }
}
