import TradingCore

#if canImport(Glibc)
    import Glibc
#endif

extension PositionsCodec {
    /// `scan` over the positions file at `path`, read through a window (memory stays flat, a
    /// file truncated while read is an error, not a crash), its closed trades read ahead on every
    /// core (`ParallelRecords`). The records come in file order, as one reading in order gives.
    @discardableResult
    public static func scan(
        file path: String, keepSpelling: Bool = false, window: Int = 1 << 20, stretch: Int = 2 << 20,
        record: (PositionList, Int, Position, [RecordIssue]) -> Void
    ) throws -> JSONObject {
        let (fd, size) = try FileIO.openForReading(path)
        defer { close(fd) }
        let stream = try MappedFile.stream(fd: fd, path: path, window: window)
        return try ParallelRecords.withWorkers(.file(fd: fd, size: size), keepSpelling: keepSpelling, stretch: stretch)
        {
            try scan(stream, keepSpelling: keepSpelling, prepared: $0, record: record)
        }
    }

    /// `scan` over bytes the caller holds (a mapped file) for as long as it runs, its closed
    /// trades read ahead on every core.
    @discardableResult
    public static func scan(
        mapped bytes: UnsafeBufferPointer<UInt8>, keepSpelling: Bool = false, stretch: Int = 2 << 20,
        record: (PositionList, Int, Position, [RecordIssue]) -> Void
    ) throws -> JSONObject {
        try ParallelRecords.withWorkers(.memory(bytes), keepSpelling: keepSpelling, stretch: stretch) {
            try scan(JSONStream(bytes), keepSpelling: keepSpelling, prepared: $0, record: record)
        }
    }
}
