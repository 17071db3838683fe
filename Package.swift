// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "tradingbot",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tradingbot", targets: ["tradingbot"]),
        .executable(name: "deployctl", targets: ["deployctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        // Pure domain: positions, timestamps, P&L, wallet reset, data checks, config rules. No I/O, no clock.
        .target(name: "TradingCore"),
        // Every file the bot owns: the home layout, positions store, JSONL logs, SQLite analytics, heartbeat, locks.
        .target(
            name: "TradingStore",
            dependencies: ["TradingCore", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // libgit2 through pkg-config; only GitKit imports it.
        .systemLibrary(name: "CGit2", pkgConfig: "libgit2", providers: [.apt(["libgit2-dev"])]),
        // The owning Swift wrapper over libgit2: clone, fetch, resolve, hard checkout.
        .target(name: "GitKit", dependencies: ["CGit2"]),
        // libcurl through pkg-config, with a shim for its variadic calls; only CurlKit imports it.
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // The owning Swift wrapper over libcurl: one request, TLS verified, deadline, capped answer.
        .target(name: "CurlKit", dependencies: ["CCurl"]),
        // OpenSSL's libcrypto through pkg-config; only OpenSSLKit imports it.
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // The owning Swift wrapper over OpenSSL: HMAC-SHA256 for the exchange's request signing.
        .target(name: "OpenSSLKit", dependencies: ["COpenSSL"]),
        // Market data and order execution: MarketFeed/Broker, the simulated and replay feeds, the paper
        // broker, and BloFin's REST client, feed and broker (libcurl + HMAC).
        .target(name: "Exchange", dependencies: ["TradingCore", "CurlKit", "OpenSSLKit"]),
        // The cycle loop that wires feed, signals, risk, execution, exits and persistence; lock and signals.
        .target(name: "Engine", dependencies: ["TradingCore", "TradingStore", "Exchange"]),
        // Releases: slots and flip, git via GitKit, build, checks, ledger, service managers, probation, rollback.
        .target(name: "Deploy", dependencies: ["TradingCore", "TradingStore", "GitKit", "CurlKit"]),
        // The operator's web dashboard (its own process, port 8050): pages, login, /healthz, /api, /metrics.
        .target(
            name: "Dashboard",
            dependencies: [
                "TradingCore", "TradingStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        // What both command lines share: the exit-code contract, error and JSON printing.
        .target(
            name: "CLISupport",
            dependencies: [
                "TradingCore", "TradingStore", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The trading service's command line (thin: argument parsing and printing).
        .executableTarget(
            name: "tradingbot",
            dependencies: [
                "TradingCore", "TradingStore", "Exchange", "Engine", "CLISupport", "Dashboard",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
            ]
        ),
        // The deploy toolkit's command line (thin).
        .executableTarget(
            name: "deployctl",
            dependencies: [
                "TradingCore", "TradingStore", "Deploy", "CLISupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Test helper: rewrites a positions file in a loop so a test can SIGKILL it mid-write.
        .executableTarget(
            name: "positions-crash-writer",
            dependencies: ["TradingCore", "TradingStore"],
            path: "Tests/Support/CrashWriter"
        ),
        // Benchmark of the engine cycle and replay throughput (run by bench/run-engine-bench.sh, release).
        .executableTarget(
            name: "engine-bench",
            dependencies: ["TradingCore", "TradingStore", "Exchange", "Engine"],
            path: "bench/EngineBench"
        ),
        // Benchmark of one cycle's market-data pull from BloFin (run by bench/blofin_pull_bench.py).
        .executableTarget(
            name: "blofin-bench", dependencies: ["TradingCore", "Exchange"], path: "bench/BloFinBench"),
        // Fixtures used by the test targets and the benchmarks: data paths, generated files.
        .target(name: "TestSupport", dependencies: ["TradingCore"], path: "Tests/Support/TestSupport"),
        .testTarget(name: "TradingCoreTests", dependencies: ["TradingCore", "TestSupport"]),
        .testTarget(name: "TradingStoreTests", dependencies: ["TradingCore", "TradingStore", "TestSupport"]),
        .testTarget(
            name: "EngineTests",
            dependencies: ["TradingCore", "TradingStore", "Exchange", "Engine", "TestSupport"]
        ),
        .testTarget(
            name: "DashboardTests",
            dependencies: [
                "TradingCore", "TradingStore", "Dashboard", "CurlKit", "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "DeployTests",
            dependencies: ["TradingCore", "TradingStore", "GitKit", "CurlKit", "Deploy", "TestSupport"]
        ),
        // Runs the built executables the way the operator does and checks output and exit codes.
        .testTarget(
            name: "CommandTests",
            dependencies: [
                "TradingCore", "TradingStore", "Deploy", "CurlKit", "TestSupport", "tradingbot", "deployctl",
                "positions-crash-writer",
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
