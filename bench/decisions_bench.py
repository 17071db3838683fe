#!/usr/bin/env python3
"""The decision diff's whole step, as a release runs it, with release binaries: `deployctl check
decisions --slot B` on a home whose recording holds the last day (1440 one-minute cycles in
BloFin's shape, written by `engine-bench --record-home`), at 16 and at 400 symbols. The
candidate is the same build (an identity: 0 changed). Beside it a live engine (the simulated
market at the same number of symbols, 2-second cycles) keeps trading: its cycle starts before
and during the step are compared (the baseline: the same engine in the same run before the
step), so a late cycle shows as a gap past the cycle time.
usage: bench/decisions_bench.py [--bin DIR] [--symbols 16,400] [--cycles 1440]"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from benchlib import release_binaries, sh, ts  # noqa: E402

LIVE_CYCLE = 2
# Runs argv, passes its output through, and prints its peak RSS (the child's own; the replays it
# starts are its children, not counted) on stderr.
PEAK = """
import os, resource, subprocess, sys
p = subprocess.run(sys.argv[1:])
print("peak_rss_mib %.0f" % (resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024), file=sys.stderr)
sys.exit(p.returncode)
"""


def slot_home(home, tradingbot):
    """Slots A (live) and B (the candidate) holding the same build; A named as the recording's release."""
    for slot, release in (("A", "dev"), ("B", "r-candidate")):
        os.makedirs(os.path.join(home, "slots", slot, "bin"))
        os.symlink(tradingbot, os.path.join(home, "slots", slot, "bin", "tradingbot"))
        with open(os.path.join(home, "slots", slot, ".release"), "w") as f:
            f.write(release + "\n")
    os.symlink("A", os.path.join(home, "slots", "current"))
    with open(os.path.join(home, "config", "deploy.json"), "w") as f:
        json.dump({"repo": "", "binary": "bin/tradingbot", "watchdog": {"min_free_disk_mb": 0}}, f)


def live_engine(work, home, tradingbot):
    """A live engine on the recorded home's universe and 2-second cycles, in a home of its own."""
    live = os.path.join(work, "live-" + os.path.basename(home))
    os.makedirs(os.path.join(live, "config"))
    shutil.copy(os.path.join(home, "config", "asset_universe.json"), os.path.join(live, "config"))
    with open(os.path.join(home, "config", "bot.json")) as f:
        bot = json.load(f)
    bot["cycle_seconds"] = LIVE_CYCLE
    with open(os.path.join(live, "config", "bot.json"), "w") as f:
        json.dump(bot, f)
    with open(os.path.join(live, "config", "recording.json"), "w") as f:
        json.dump({"max_mb": 50}, f)
    proc = subprocess.Popen([tradingbot, "run", "--home", live], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return live, proc


def cycle_starts(live):
    out = []
    path = os.path.join(live, "logs", "enriched_decisions.jsonl")
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                try:
                    out.append(ts(json.loads(line)["ts"]))
                except (ValueError, KeyError):
                    pass
    return out


def lateness(starts, since, until):
    gaps = [b - a for a, b in zip(starts, starts[1:]) if a >= since and b <= until]
    if not gaps:
        return "no cycles"
    late = [g for g in gaps if g > LIVE_CYCLE * 1.5]
    return "%d cycles, gap median %.2f s, max %.2f s, late %d" % (len(gaps), statistics.median(gaps), max(gaps), len(late))


def run(symbols, cycles, deployctl, tradingbot, bench_bin, work):
    home = os.path.join(work, "home-%d" % symbols)
    t = time.time()
    made = sh([bench_bin, "--record-home", home, str(symbols), "--cycles", str(cycles)]).stdout.strip()
    print("%d symbols: %s (%.0f s)" % (symbols, made, time.time() - t), flush=True)
    slot_home(home, tradingbot)
    live, proc = live_engine(work, home, tradingbot)
    try:
        time.sleep(LIVE_CYCLE * 16)
        before_start = time.time() - LIVE_CYCLE * 12
        before_end = time.time()
        t0 = time.time()
        # The step's own peak memory (deployctl: the comparison), apart from the replays it runs.
        out = subprocess.run([sys.executable, "-c", PEAK, deployctl, "check", "decisions", "--home", home,
                              "--slot", "B", "--json"], capture_output=True, text=True)
        seconds = time.time() - t0
        time.sleep(LIVE_CYCLE * 2)
        starts = cycle_starts(live)
    finally:
        proc.terminate()
        proc.wait()
    report = json.loads(out.stdout) if out.stdout.strip().startswith("{") else {}
    ab = report.get("ab") or {}
    print("  check decisions --slot B: %.1f s whole (exit %d), verdict %s, A/A %s, changed %s of %s lines, "
          "replays %s s (live build) and %s s (candidate)" % (
              seconds, out.returncode, report.get("verdict"), (report.get("aa") or {}).get("verdict"),
              ab.get("changed"), ab.get("compared_lines"), (ab.get("seconds") or {}).get("current"),
              (ab.get("seconds") or {}).get("candidate")))
    peak = [l for l in out.stderr.splitlines() if l.startswith("peak_rss_mib")]
    print("  peak RSS of the largest process of the step (deployctl or a replay): %s MiB" % (
        peak[0].split()[1] if peak else "?"))
    print("  live engine (%d symbols, %d s cycles) before the step (baseline): %s" % (
        symbols, LIVE_CYCLE, lateness(starts, before_start, before_end)))
    print("  live engine during the step: %s" % lateness(starts, t0, t0 + seconds))
    if out.returncode != 0:
        print(out.stderr[-2000:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=None)
    ap.add_argument("--symbols", default="16,400")
    ap.add_argument("--cycles", type=int, default=1440)
    args = ap.parse_args()
    deployctl, tradingbot = release_binaries(ROOT, args.bin)
    subprocess.run(["swift", "build", "-c", "release", "--product", "engine-bench"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    bench_bin = os.path.join(sh(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT).stdout.strip(),
                             "engine-bench")
    work = tempfile.mkdtemp(prefix="decisions-bench-")
    try:
        for symbols in [int(s) for s in args.symbols.split(",")]:
            run(symbols, args.cycles, deployctl, tradingbot, bench_bin, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
