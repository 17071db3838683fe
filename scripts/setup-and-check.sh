#!/usr/bin/env bash
# The main job at this stage: install what is missing, build, then run the numbers and the
# data-date checks on a positions file (default: the real-shaped sample in Tests/Fixtures).
#   scripts/setup-and-check.sh [POSITIONS_FILE [BOT_JSON]]
set -euo pipefail
cd "$(dirname "$0")/.."
positions=${1:-Tests/Fixtures/positions/positions_futures.json}
config=${2:-config/bot.json}
scripts/install-deps.sh
echo "== building (release)"
swift build -c release
bin=$(swift build -c release --show-bin-path)
echo "== tradingbot report --positions $positions --config $config"
"$bin/tradingbot" report --positions "$positions" --config "$config"
echo
echo "== deployctl check data --positions $positions --config $config"
"$bin/deployctl" check data --positions "$positions" --config "$config"
echo
echo "== tradingbot selfcheck --home . (the committed config)"
"$bin/tradingbot" selfcheck --home .
echo
echo "== tradingbot replay --feed Tests/Fixtures/market/spot-5m-2018-01"
"$bin/tradingbot" replay --feed Tests/Fixtures/market/spot-5m-2018-01 --home .
