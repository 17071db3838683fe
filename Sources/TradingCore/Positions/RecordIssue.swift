/// Which list of the positions file a record is in.
public enum PositionList: String, Sendable {
    case open = "open_positions"
    case closed = "closed_positions"
}

/// A field of one record that cannot be used, named so the operator can find and fix it.
public struct RecordIssue: Error, Sendable, Equatable, CustomStringConvertible {
    public var list: PositionList
    public var index: Int
    public var symbol: String?
    public var field: String
    public var message: String

    public var location: String {
        "\(list.rawValue)[\(index)]" + (symbol.map { " (\($0))" } ?? "")
    }

    public var description: String { "\(location) field \"\(field)\": \(message)" }
}

/// A positions file whose structure (not just a record) is broken.
public struct PositionsFormatError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

extension RecordIssue {
    /// The same issue placed at `index` (a record of a batch read elsewhere, numbered from 0).
    func at(_ index: Int) -> RecordIssue {
        var moved = self
        moved.index = index
        return moved
    }
}
