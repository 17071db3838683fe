#!/usr/bin/env python3
"""Cost of one `deployctl watchdog --once` on a healthy home, the way the systemd timer runs it
twice a minute for ever, next to the cost of starting deployctl at all (`deployctl --help`, the
baseline) in the same run. The home has a 100 MB logs/bot.jsonl that gains a few lines before each
run (the watchdog reads them by cursor), a fresh heartbeat from a living process, a live slot and
a ledger. No webhook or dead-man's URL is set: a healthy run sends nothing. Medians of interleaved runs; peak memory is each child's own
ru_maxrss (wait4).
usage: bench/watchdog_bench.py [--runs 30] [--bin .build/release] [--log-mb 100]"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run(argv):
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--bin", default=os.path.join(ROOT, ".build", "release"))
    ap.add_argument("--log-mb", type=int, default=100)
    args = ap.parse_args()
    deployctl = os.path.join(args.bin, "deployctl")
    home = tempfile.mkdtemp(prefix="watchdog-bench-")
    for d in ["config", "logs", "state", "data", "slots/A"]:
        os.makedirs(os.path.join(home, d), exist_ok=True)
    for name in ["bot.json", "asset_universe.json", "deploy.json"]:
        with open(os.path.join(ROOT, "config", name)) as src, open(os.path.join(home, "config", name), "w") as dst:
            dst.write(src.read())
    with open(os.path.join(home, "slots/A/.release"), "w") as f:
        f.write("r1\n")
    os.symlink("A", os.path.join(home, "slots/current"))
    with open(os.path.join(home, "state/releases.jsonl"), "w") as f:
        f.write(json.dumps({"ts": "2026-01-01T00:00:00Z", "release": "r1", "event": "started", "slot": "A"}) + "\n")
        f.write(json.dumps({"ts": "2026-01-01T00:00:01Z", "release": "r1", "event": "state", "state": "good"}) + "\n")
    line = json.dumps({"ts": "2026-01-01T00:00:00Z", "level": "info", "event": "cycle", "cycle": 1, "pad": "x" * 200}) + "\n"
    with open(os.path.join(home, "logs/bot.jsonl"), "w") as f:
        for _ in range(args.log_mb * 1024 * 1024 // len(line)):
            f.write(line)

    def beat():
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        with open(os.path.join(home, "state/heartbeat.json"), "w") as f:
            json.dump({"pid": os.getpid(), "release": "r1", "cycle": 5, "phase": "idle", "written_at": now,
                       "symbols_evaluated": 10, "signals_evaluated": 100, "consecutive_errors": 0}, f)

    watchdog, baseline, rss, base_rss = [], [], [], []
    fresh = json.dumps({"ts": "2026-01-01T00:00:00Z", "level": "info", "event": "cycle", "cycle": 2}) + "\n"
    for _ in range(args.runs):
        beat()
        # What half a minute of 60 s cycles adds: the watchdog reads only these, never the 100 MB.
        with open(os.path.join(home, "logs/bot.jsonl"), "a") as f:
            f.write(fresh * 5)
        t, m, code = run([deployctl, "watchdog", "--once", "--home", home, "--json"])
        if code != 0:
            raise SystemExit(f"watchdog said {code} on a healthy home")
        watchdog.append(t)
        rss.append(m)
        t, m, _ = run([deployctl, "--help"])
        baseline.append(t)
        base_rss.append(m)
    w, b = statistics.median(watchdog), statistics.median(baseline)
    print(f"watchdog --once on a healthy home ({args.runs} runs, {args.log_mb} MB bot.jsonl, medians)")
    print(f"  watchdog --once          {w * 1000:7.1f} ms   peak RSS {statistics.median(rss):.1f} MB")
    print(f"  deployctl --help (base)  {b * 1000:7.1f} ms   peak RSS {statistics.median(base_rss):.1f} MB")
    print(f"  watchdog minus baseline  {(w - b) * 1000:7.1f} ms   (goal < 20 ms)")


if __name__ == "__main__":
    main()
