#!/usr/bin/env python3
"""Benchmark: deployctl check data and tradingbot report (release build) against the Python
baseline (json.load + the same scan) on generated files of 1k, 100k and 1M closed trades, in
the same run. Prints median wall time, ratio and peak RSS per size; checks both agree on the
trade count and balance (a fast wrong answer is worth nothing).

usage: bench/data_check_bench.py [--sizes 1000,100000,1000000] [--runs 5] [--bin DIR]"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESET, NOW = "2025-12-18T00:00:00Z", "2025-12-20T00:00:00Z"


def measure(cmd):
    """Wall seconds, peak RSS (MiB) and stdout of one run, via wait4 on that child alone."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        sys.exit(f"{cmd[0]} exited {proc.returncode}: {err.decode()[:500]}")
    return elapsed, usage.ru_maxrss / 1024, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,100000,1000000")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--bin", default=None)
    args = ap.parse_args()
    if args.bin is None:
        subprocess.run(["swift", "build", "-c", "release"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        args.bin = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, check=True,
                                  capture_output=True, text=True).stdout.strip()
    out_dir = os.path.join(HERE, "out")
    os.makedirs(out_dir, exist_ok=True)
    config = os.path.join(out_dir, "bot.json")
    with open(config, "w") as f:
        json.dump({"wallet_reset": {"at": RESET, "starting_capital": 10000}}, f)

    results = []
    print(f"{'trades':>9} {'tool':<22} {'median s':>9} {'ratio':>7} {'peak MiB':>9}")
    for n in [int(s) for s in args.sizes.split(",")]:
        path = os.path.join(out_dir, f"positions_{n}.json")
        if not os.path.exists(path):
            subprocess.run([sys.executable, os.path.join(HERE, "gen_positions.py"), str(n), path], check=True)
        tools = {
            "python json.load scan": [sys.executable, os.path.join(HERE, "baseline_check.py"), path, RESET, NOW],
            "deployctl check data": [os.path.join(args.bin, "deployctl"), "check", "data", "--positions", path,
                                     "--config", config, "--now", NOW, "--json"],
            "tradingbot report": [os.path.join(args.bin, "tradingbot"), "report", "--positions", path,
                                  "--config", config, "--json"],
        }
        runs = args.runs if n < 1_000_000 else max(3, args.runs // 2)
        timings = {name: [] for name in tools}
        peaks = {name: 0.0 for name in tools}
        answers = {}
        for _ in range(runs):  # interleaved, so drift hits every tool alike
            for name, cmd in tools.items():
                t, rss, out = measure(cmd)
                timings[name].append(t)
                peaks[name] = max(peaks[name], rss)
                answers[name] = json.loads(out)
        base = statistics.median(timings["python json.load scan"])
        py = answers["python json.load scan"]
        for name in tools:
            med = statistics.median(timings[name])
            a = answers[name]
            summary = a.get("summary", a)
            agree = summary["closed_trades"] == py["closed_trades"] and abs(summary["balance"] - py["balance"]) < 0.01
            if not agree:
                sys.exit(f"{name} disagrees with the baseline on {n} trades: {summary} vs {py}")
            print(f"{n:>9} {name:<22} {med:>9.3f} {base / med:>6.1f}x {peaks[name]:>9.1f}")
            results.append({"trades": n, "tool": name, "median_s": round(med, 4), "speedup_vs_python": round(base / med, 2),
                            "peak_mib": round(peaks[name], 1), "runs": runs, "closed_trades_counted": summary["closed_trades"]})
    with open(os.path.join(out_dir, "data_check_results.json"), "w") as f:
        json.dump(results, f, indent=1)
    print(f"results: {os.path.join(out_dir, 'data_check_results.json')}")


if __name__ == "__main__":
    main()
