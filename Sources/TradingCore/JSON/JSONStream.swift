/// A `JSONReader` over text read in pieces: a window of the text that slides on as the reader
/// moves, so a reader of a 400 MB positions file holds about a megabyte of it, and a file
/// another program truncates while it is read ends the read with an error, not the process.
///
/// Readers work in units (`unit`): a value, a key, a record. A unit that fails because the
/// window ended inside it is run again over a window that starts where the unit started and
/// reaches further; only an error the whole text gives is thrown. A unit's body must therefore
/// change nothing outside itself until it returns.
public final class JSONStream {
    /// Fills the buffer from the text's bytes at an offset; returns how many (0 at the end).
    public typealias Read = (UnsafeMutableBufferPointer<UInt8>, _ offset: Int) throws -> Int
    /// The line and column of a byte of the text (reading it again from its start).
    public typealias Locate = (Int) throws -> (line: Int, column: Int)

    // One access a unit, from one thread: the runtime's exclusivity check is not worth its cost.
    @exclusivity(unchecked) public private(set) var reader: JSONReader
    /// The text's offset of the window's first byte.
    public private(set) var base = 0
    private let read: Read?
    private let locate: Locate?
    private var storage: UnsafeMutableBufferPointer<UInt8>?
    private var count = 0
    private var atEnd: Bool

    /// A stream over text already in memory: one window, the whole of it.
    public init(_ bytes: UnsafeBufferPointer<UInt8>) {
        reader = JSONReader(bytes)
        read = nil
        locate = nil
        atEnd = true
    }

    /// A stream over text `read` supplies, through a window of `window` bytes (grown when one
    /// unit is longer).
    public init(window: Int = 1 << 20, read: @escaping Read, locate: @escaping Locate) throws {
        self.read = read
        self.locate = locate
        // At least the byte order mark's three bytes and one more.
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(window, 4))
        storage = buffer
        atEnd = false
        reader = JSONReader(UnsafeBufferPointer(start: buffer.baseAddress, count: 0))
        try fill()
        reader = JSONReader(window: self.window, position: 0, depth: 0, isFinal: atEnd)
        // A byte order mark an editor put at the start of the file.
        if count >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF { reader.position = 3 }
    }

    deinit { storage?.deallocate() }

    /// Runs `body` over the reader; when it fails for want of the bytes past the window, reads
    /// on and runs it again from where it started.
    @inline(__always)
    public func unit<T>(_ body: (inout JSONReader) throws -> T) throws -> T {
        while true {
            let start = reader.position
            let depth = reader.depth
            reader.ranOut = false
            do {
                return try body(&reader)
            } catch let error as JSONSyntaxError {
                guard !atEnd, reader.ranOut || error.offset >= reader.bytes.count else { throw try placed(error) }
                try slide(to: start, depth: depth)
            }
        }
    }

    /// The error with the text's offset, line and column rather than the window's.
    private func placed(_ error: JSONSyntaxError) throws -> JSONSyntaxError {
        var placed = error
        placed.offset += base
        if base > 0, let locate {
            (placed.line, placed.column) = try locate(placed.offset)
        } else {
            (placed.line, placed.column) = TextLocator.place(error.offset, in: reader.bytes)
        }
        return placed
    }

    /// Moves the window to start at `start` (a window offset) and fills the rest of it, doubling
    /// it when `start` is its beginning and it is full (a unit longer than the window).
    private func slide(to start: Int, depth: Int) throws {
        guard let buffer = storage, let first = buffer.baseAddress else { return }
        let kept = count - start
        if start > 0 {
            first.update(from: first + start, count: kept)  // regions may overlap
            base += start
        } else if kept == buffer.count {
            let larger = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: buffer.count * 2)
            larger.baseAddress!.initialize(from: first, count: kept)
            storage = larger
            // Never left over the freed buffer, even when the read below fails.
            reader = JSONReader(window: window, position: 0, depth: depth, isFinal: false)
            buffer.deallocate()
        }
        count = kept
        try fill()
        reader = JSONReader(window: window, position: 0, depth: depth, isFinal: atEnd)
    }

    private var window: UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: storage?.baseAddress, count: count)
    }

    /// Moves the reader to the text's `offset`, a place between values at the reader's depth
    /// (past records read elsewhere), reading from there when it lies past the window.
    public func skip(to offset: Int) throws {
        let local = offset - base
        if local >= 0 && local <= reader.bytes.count {
            reader.position = local
            return
        }
        precondition(read != nil && local > count, "skipped back, or past the end of text in memory")
        base = offset
        count = 0
        atEnd = false
        // What follows a skip is mostly the next skip's start: read a little, more when needed.
        try fill(upTo: Self.afterSkip)
        reader = JSONReader(window: window, position: 0, depth: reader.depth, isFinal: atEnd)
    }

    /// How much a skip past the window reads at first.
    static let afterSkip = 16 << 10

    private func fill(upTo limit: Int = .max) throws {
        guard let read, let buffer = storage else { return }
        let wanted = min(limit, buffer.count)
        while count < wanted {
            let n = try read(UnsafeMutableBufferPointer(rebasing: buffer[count..<wanted]), base + count)
            if n == 0 {
                atEnd = true
                return
            }
            count += n
        }
    }
}
