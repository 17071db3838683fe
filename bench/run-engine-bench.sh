#!/usr/bin/env bash
# Engine benchmark in a release build: cycle time over 50 symbols vs the feed alone, replay
# throughput, peak memory.  usage: bench/run-engine-bench.sh [--cycles N]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product engine-bench
"$(swift build -c release --show-bin-path)/engine-bench" Tests/Fixtures "$@"
