import Foundation
import TradingCore

/// Reads the closed trades of a long positions file on every core. The file is cut into
/// stretches; workers read the trades of a stretch (`PositionsCodec.readRecords`) from the first
/// place that looks like a trade's start, while the calling thread reads the file in order and
/// takes a stretch's trades only where its own reading arrives exactly at their start
/// (`scan(_:prepared:)`). A wrong guess costs only speed: those trades are read again in order.
/// What the caller is given is what one reading in order gives, record for record.
///
/// The calling thread is one of the readers: it reads in order the stretches no worker has
/// taken, and while it would wait for a worker's stretch it reads the next free one ahead.
/// So a machine of N cores runs N threads, none idle while there is a stretch to read.
enum ParallelRecords {
    /// Where stretches are read from.
    enum Source: @unchecked Sendable {
        /// An open file: each reader reads its stretch into a buffer of its own.
        case file(fd: Int32, size: Int)
        /// Bytes the caller holds (a mapping) for as long as the scan runs.
        case memory(UnsafeBufferPointer<UInt8>)

        var size: Int {
            switch self {
            case .file(_, let size): size
            case .memory(let bytes): bytes.count
            }
        }
    }

    /// The cores to read on; 1 reads in order only.
    static let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
    /// How much of the file one batch covers.
    static let stretch = 2 << 20

    /// Runs `body` with a `prepared` source of batches for `scan`, `cores - 1` workers reading
    /// ahead while it runs; they are stopped and gone when it returns. A file of few stretches,
    /// and a machine of one core, is read in order.
    static func withWorkers<T>(
        _ source: Source, stretch: Int = stretch, margin: Int = 64 << 10,
        cores: Int = cores, _ body: (((Int) -> RecordBatch?)?) throws -> T
    ) rethrows -> T {
        let stretches = (source.size + stretch - 1) / stretch
        guard cores > 1, stretches > 2 else { return try body(nil) }
        let reader = StretchReader(source: source, stretch: stretch, margin: margin)
        let shared = Shared(stretches: stretches, ahead: 2 * cores)
        for _ in 1..<cores {
            shared.started()
            let thread = Thread {
                var worker = reader
                while let k = shared.nextStretch() { shared.done(k, worker.read(k)) }
                worker.release()
                shared.left()
            }
            // As deep as the calling thread's: a trade's extra field may nest 512 levels.
            thread.stackSize = 8 << 20
            thread.start()
        }
        var own = reader
        defer {
            shared.stop()
            own.release()
            // The workers' batches were freed in their own arenas: give those pages back, so a
            // long-running reader (the dashboard) keeps no more than it did before.
            _ = trimMallocArenas(0)
        }
        return try body { offset in shared.batch(startingAt: offset, helping: &own) }
    }

    /// Reads one stretch into a batch, with a buffer of its own for a file.
    struct StretchReader: @unchecked Sendable {
        let source: Source
        let stretch: Int
        let margin: Int
        private var buffer: UnsafeMutableBufferPointer<UInt8>?

        init(source: Source, stretch: Int, margin: Int) {
            self.source = source
            self.stretch = stretch
            self.margin = margin
        }

        mutating func read(_ k: Int) -> RecordBatch? {
            let start = k * stretch
            let length = min(source.size - start, stretch + margin)
            switch source {
            case .memory(let bytes):
                return batch(UnsafeBufferPointer(rebasing: bytes[start..<start + length]), start)
            case .file(let fd, _):
                if buffer == nil { buffer = .allocate(capacity: stretch + margin) }
                let into = buffer!
                var filled = 0
                while filled < length {
                    let n = pread(fd, into.baseAddress! + filled, length - filled, off_t(start + filled))
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { break }  // shorter now, or unreadable: the reading in order will say
                    filled += n
                }
                return batch(UnsafeBufferPointer(rebasing: into[0..<filled]), start)
            }
        }

        private func batch(_ bytes: UnsafeBufferPointer<UInt8>, _ offset: Int) -> RecordBatch? {
            guard let first = PositionsCodec.likelyRecordStart(in: bytes, from: 0, before: stretch) else { return nil }
            return PositionsCodec.readRecords(in: bytes, from: first, until: stretch, offset: offset)
        }

        mutating func release() {
            buffer?.deallocate()
            buffer = nil
        }
    }

    /// The stretches' state, under one lock.
    private final class Shared: @unchecked Sendable {
        private let condition = NSCondition()
        private let stretches: Int
        /// How many stretches may be read ahead of the one the reading in order is in.
        private let ahead: Int
        private var next = 1  // stretch 0 holds the file's start: the reading in order's own
        private var passed = 1  // stretches below this one are behind the reading in order
        private var own = 0  // the stretch the reading in order took for itself
        private var batches: [Int: RecordBatch] = [:]
        private var read: Set<Int> = []  // stretches whose reading is over
        private var stopped = false
        private var running = 0

        init(stretches: Int, ahead: Int) {
            self.stretches = stretches
            self.ahead = ahead
        }

        func started() { locked { running += 1 } }

        func left() {
            locked {
                running -= 1
                condition.broadcast()
            }
        }

        func nextStretch() -> Int? {
            locked {
                while !stopped && next < stretches && next - passed >= ahead { condition.wait() }
                return takeNext()
            }
        }

        private func takeNext() -> Int? {
            guard !stopped && next < stretches && next - passed < ahead else { return nil }
            next += 1
            return next - 1
        }

        func done(_ k: Int, _ batch: RecordBatch?) { locked { store(k, batch) } }

        /// Keeps stretch `k`'s batch (unless the reading in order has passed it); the lock is held.
        private func store(_ k: Int, _ batch: RecordBatch?) {
            if k >= passed, let batch { batches[k] = batch }
            read.insert(k)
            condition.broadcast()
        }

        /// The batch that starts exactly at `offset`. A stretch no one has taken becomes the
        /// reading in order's own (nil: read it in order); while a worker reads it, the caller
        /// reads the next free stretch ahead with `helper` instead of waiting.
        func batch(startingAt offset: Int, helping helper: inout StretchReader) -> RecordBatch? {
            let k = offset / helper.stretch
            condition.lock()
            defer { condition.unlock() }
            guard k >= 1 && k < stretches && k != own else { return nil }
            if k > passed {
                for j in passed..<k {
                    batches[j] = nil
                    read.remove(j)
                }
                passed = k
                condition.broadcast()
            }
            if k >= next {
                next = k + 1
                own = k
                return nil
            }
            while !read.contains(k) && !stopped {
                if let j = takeNext() {
                    condition.unlock()
                    let batch = helper.read(j)
                    condition.lock()
                    store(j, batch)
                } else {
                    condition.wait()
                }
            }
            guard let batch = batches[k], batch.start == offset else { return nil }
            batches[k] = nil
            return batch
        }

        /// Ends the reading ahead and waits for the workers to leave (they hold the source).
        func stop() {
            locked {
                stopped = true
                condition.broadcast()
                while running > 0 { condition.wait() }
            }
        }

        private func locked<T>(_ body: () throws -> T) rethrows -> T {
            condition.lock()
            defer { condition.unlock() }
            return try body()
        }
    }
}

/// glibc's `malloc_trim` (its header is not in the Glibc module).
@_silgen_name("malloc_trim")
private func trimMallocArenas(_ pad: Int) -> Int32
