import TradingCore

extension PositionsCodec {
    /// `scan` over the positions file at `path`, read through a window (memory stays flat, a
    /// file truncated while read is an error, not a crash), its closed trades read ahead on every
    /// core (`ParallelRecords`). The records come in file order, as one reading in order gives.
    @discardableResult
    public static func scan(
        file path: String, record: (PositionList, Int, Position, [RecordIssue]) -> Void
    ) throws -> JSONObject {
        try scan(file: path, window: 1 << 20, stretch: ParallelRecords.stretch, record: record)
    }

    /// `scan(file:)` through a window and stretches of the given sizes (tests make them small).
    static func scan(
        file path: String, window: Int, stretch: Int, record: (PositionList, Int, Position, [RecordIssue]) -> Void
    ) throws -> JSONObject {
        try MappedFile.withStream(path, window: window) { stream, source in
            try ParallelRecords.withWorkers(source, stretch: stretch) {
                try scan(stream, prepared: $0, record: record)
            }
        }
    }

    /// `scan` over bytes the caller holds (a mapped file) for as long as it runs, its closed
    /// trades read ahead on every core.
    @discardableResult
    public static func scan(
        mapped bytes: UnsafeBufferPointer<UInt8>, record: (PositionList, Int, Position, [RecordIssue]) -> Void
    ) throws -> JSONObject {
        try ParallelRecords.withWorkers(.memory(bytes)) {
            try scan(JSONStream(bytes), prepared: $0, record: record)
        }
    }
}
