#!/usr/bin/env bash
# The chaos soak: a guarded home under random, overlapping faults from a seed, with the
# operator's promises checked all along (no trade lost, never two engines, bounded dark time,
# the dashboard back, the ledger true, no leftovers, every rollback alerted) and at the end.
#   scripts/soak.sh [--duration SECONDS] [--seed N] [--bin DIR] [--json] [--keep]
# --bin: the folder holding tradingbot and deployctl (default: this checkout's .build/debug,
# else .build/release). Run as root for the full-disk fault (a real tmpfs holds the home).
# Exit 0: no invariant broken; 1: some were (each with the seed that replays the faults);
# 2: the soak could not run. Details: docs/soak.md; when to run it: RUNBOOK.md.
set -euo pipefail
exec python3 "$(dirname "$0")/soak/soak.py" "$@"
