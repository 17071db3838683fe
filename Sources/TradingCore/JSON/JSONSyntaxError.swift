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

/// Counts lines and columns over a text read in chunks, so an error can be placed in a file
/// read through a window. Columns count characters, as Python and editors do: a UTF-8
/// continuation byte is not one, and neither is the byte order mark before line 1.
public struct TextLocator: Sendable {
    public private(set) var line = 1
    public private(set) var column = 1
    /// Bytes seen so far.
    public private(set) var offset = 0
    private var head: (UInt8, UInt8) = (0, 0)

    public init() {}

    /// The line and column of `offset` in `bytes`.
    public static func place(_ offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> (line: Int, column: Int) {
        var locator = TextLocator()
        locator.advance(through: UnsafeBufferPointer(rebasing: bytes[0..<min(offset, bytes.count)]))
        return (locator.line, locator.column)
    }

    public mutating func advance(through chunk: UnsafeBufferPointer<UInt8>) {
        for b in chunk {
            switch offset {
            case 0: head.0 = b
            case 1: head.1 = b
            case 2 where line == 1 && head == (0xEF, 0xBB) && b == 0xBF:
                column -= 1  // the mark's first byte was counted as a character; it is not one
            default: break
            }
            offset += 1
            if b == 0x0A {
                line += 1
                column = 1
            } else if b & 0xC0 != 0x80 {
                column += 1
            }
        }
    }
}
