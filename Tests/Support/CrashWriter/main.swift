import TradingCore
import TradingStore

#if canImport(Glibc)
    import Glibc
#endif

// Test helper for the crash-safety test: appends one closed trade per rewrite of the positions
// file at argv[1] and prints "committed N" after each rewrite returns, until killed.
let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    printErr("usage: positions-crash-writer POSITIONS LOCK")
    exit(2)
}
let store = PositionsStore(path: arguments[1], lockPath: arguments[2])
// Continue the sequence from the last trade this helper wrote (earlier runs were killed).
var n =
    (try? store.load(missingIsEmpty: true).closed.compactMap { $0.extra["seq"]?.doubleValue }.max()).flatMap { $0 }
    .map { Int($0) } ?? 0
while true {
    n += 1
    let count = n
    do {
        try store.update { file in
            let opened = Instant(microseconds: 1_766_000_000_000_000 + Int64(count) * 1_000_000)
            file.closed.append(
                Position(
                    symbol: "BTCUSDT", direction: "LONG", entryPrice: 100, exitPrice: 101, size: 1, leverage: 5,
                    marginCollateral: 20, pnl: 1, netPnl: 0.9, openedAt: Timestamp(opened),
                    closedAt: Timestamp(opened.adding(seconds: 60)), strategy: "Crash",
                    extra: ["seq": .int(count), "note": "unknown field that must survive"]))
        }
    } catch {
        printErr("write failed: \(error)")
        exit(1)
    }
    printOut("committed \(count)")
}

func printOut(_ s: String) {
    var line = Array((s + "\n").utf8)
    _ = line.withUnsafeMutableBytes { write(1, $0.baseAddress, $0.count) }
}

func printErr(_ s: String) {
    var line = Array((s + "\n").utf8)
    _ = line.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
}
