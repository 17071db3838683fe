#!/usr/bin/env python3
"""One cycle's market-data pull from BloFin's REST API for 50 and 400 symbols, against the local
server in BloFin's format (Tests/Support/scripts/blofin-server.py): the feed's plan beside the
naive pull (ticker, candles and funding per symbol), in the same run. Requests per cycle, time,
and the share of BloFin's 500 requests a minute at one cycle a minute.

usage: bench/blofin_pull_bench.py [--cycles N] [--bar 1m] [--bin PATH]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def server(symbols):
    d = tempfile.mkdtemp(prefix="blofin-bench-")
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump({"key": "k", "secret": "s", "passphrase": "p", "symbols": symbols}, f)
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "Tests/Support/scripts/blofin-server.py"), d])
    for _ in range(200):
        if os.path.exists(os.path.join(d, "port")):
            return proc, open(os.path.join(d, "port")).read().strip()
        time.sleep(0.05)
    proc.kill()
    sys.exit("the local BloFin server did not start")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cycles", type=int, default=5)
    ap.add_argument("--bar", default="1m")
    ap.add_argument("--bin")
    a = ap.parse_args()
    binary = a.bin
    if not binary:
        subprocess.run(["swift", "build", "-c", "release", "--product", "blofin-bench"], cwd=ROOT, check=True)
        out = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout.strip()
        binary = os.path.join(out, "blofin-bench")
    rows = []
    for n in (50, 400):
        proc, port = server(n)
        try:
            res = subprocess.run([binary, "http://127.0.0.1:" + port, str(n), "--cycles", str(a.cycles),
                                  "--bar", a.bar], check=True, capture_output=True, text=True)
            rows.append(json.loads(res.stdout))
        finally:
            proc.kill()
    print(json.dumps(rows, indent=1))
    print()
    print("symbols | plan: req/cycle at a bar turn (deferred) | ms | % of 500/min | inside a bar | naive: req | ms | % of 500/min | naive/plan req, ms")
    for r in rows:
        p, b = r["plan"], r["naive"]
        print("%7d | %6d (%d) | %6d | %5.1f | %d req %d ms | %6d | %6d | %6.1f | %.2f, %.2f" % (
            r["symbols"], p["bar_turn_requests_median"], p["bar_turn_deferred_median"], p["bar_turn_ms_median"],
            p["bar_turn_share_of_limit_pct"], p["inside_bar_requests_median"], p["inside_bar_ms_median"],
            b["requests_median"], b["ms_median"], b["share_of_limit_pct"], r["ratio_naive_to_plan_requests"],
            r["ratio_naive_to_plan_ms"]))


if __name__ == "__main__":
    main()
