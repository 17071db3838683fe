#!/usr/bin/env python3
"""How fast the watchdog ends a bad release, with real components: a git repository of a
fixture bot, deployctl (release build), a real supervisord and the real engine on 1-second
cycles, stall threshold 3 cycles. The watchdog runs once a second (a 1 s timer; the systemd
timer's 30 s adds up to 30 s to every detection). For each drill, per run:
  - hang: a release that stops beating after 10 cycles. Detection = its last heartbeat to the
    ledger marking it bad; the baseline is the stall threshold itself (no detector can be sure
    sooner). Recovery = marked bad to the good release's first healthy (idle) heartbeat.
  - crash: a release (on probation, released with --detach) whose engine is killed and then
    exits on every start (a crash loop; supervisord gives up after 3 tries). Detection = the kill
    to the ledger marking it bad; recovery as above. (A release that crashes on its first start
    never reaches the watchdog: `release` itself sees it and rolls back.)
usage: bench/watchdog_latency_bench.py [--runs 3] [--bin .build/release]"""
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
FIXTURES = os.path.join(ROOT, "Tests", "Fixtures")
sys.path.insert(0, HERE)
from benchlib import HeartbeatWatcher, fixture_repo, release_binaries, sh, ts  # noqa: E402

STALL_CYCLES = 3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--bin", default=None)
    args = ap.parse_args()
    deployctl, tradingbot = release_binaries(ROOT, args.bin)
    work = tempfile.mkdtemp(prefix="watchdog-latency-")
    repo, home = os.path.join(work, "repo"), os.path.join(work, "home")
    fixture_repo(ROOT, repo)
    git = ["git", "-c", "user.email=bench@example.invalid", "-c", "user.name=bench"]
    sh(["git", "init", "-q", "-b", "main"], cwd=repo)
    apps = {
        "good": f'#!/bin/sh\nexec {tradingbot} "$@"\n',
        "hang": f'#!/bin/sh\nif [ "$1" = run ]; then {tradingbot} "$@" --max-cycles 10; exec sleep 3600; fi\nexec {tradingbot} "$@"\n',
        "crash": f'#!/bin/sh\nif [ "$1" = run ] && [ -e "$3/state/crash" ]; then echo crashed >&2; exit 1; fi\nexec {tradingbot} "$@"\n',
    }
    counter = [0]

    def commit(variant):
        counter[0] += 1
        with open(os.path.join(repo, "app.sh"), "w") as f:
            f.write(apps[variant] + f"# {counter[0]}\n")
        sh(git + ["add", "-A"], cwd=repo)
        sh(git + ["commit", "-q", "-m", f"{variant} {counter[0]}"], cwd=repo)

    commit("good")
    sh([deployctl, "init", "--home", home, "--repo", repo])
    with open(os.path.join(home, "config", "deploy.json")) as f:
        cfg = json.load(f)
    cfg.update({"binary": "bin/tradingbot", "build": {"command": "sh build.sh", "timeout_seconds": 60},
                "probation": {"healthy_cycles": 20, "timeout_seconds": 60},
                "watchdog": {"supervised": False, "stall_cycles": STALL_CYCLES, "max_rollbacks_per_hour": 100,
                             "max_restarts_per_hour": 100}})
    with open(os.path.join(home, "config", "deploy.json"), "w") as f:
        json.dump(cfg, f)
    shutil.copy(os.path.join(FIXTURES, "positions", "positions_futures.json"), os.path.join(home, "logs"))
    guard = os.path.join(home, "bin", "deployctl")

    def release(*extra):
        out = subprocess.run([deployctl, "release", "--home", home, "--json", *extra], capture_output=True, text=True)
        result = json.loads(out.stdout)
        if out.returncode != 0:
            sys.exit(f"release failed: {result.get('message')}")
        return result["release"]

    def ledger():
        with open(os.path.join(home, "state", "releases.jsonl")) as f:
            return [json.loads(line) for line in f if line.strip()]

    def event_time(release_id, predicate):
        for e in ledger():
            if e.get("release") == release_id and predicate(e):
                return ts(e["ts"])
        return None

    watcher = HeartbeatWatcher(os.path.join(home, "state", "heartbeat.json"))
    watcher.start()
    results = {"hang": [], "crash": []}
    try:
        good = release()
        for _ in range(args.runs):
            for drill in ["hang", "crash"]:
                commit(drill)
                bad = release("--detach")
                deadline = time.time() + 120
                if drill == "crash":
                    beats = [b for b in watcher.beats if b["release"] == bad and b["phase"] == "idle"]
                    open(os.path.join(home, "state", "crash"), "w").close()
                    crashed_at = time.time()
                    os.kill(beats[-1]["pid"], 9)
                while time.time() < deadline and event_time(bad, lambda e: e.get("state") == "bad") is None:
                    subprocess.run([guard, "watchdog", "--once", "--home", home], capture_output=True)
                    time.sleep(1)
                marked = event_time(bad, lambda e: e.get("state") == "bad")
                if marked is None:
                    sys.exit(f"{drill}: the watchdog never marked {bad} bad")
                while time.time() < deadline:
                    healthy = [b for b in watcher.beats if b["release"] == good and b["phase"] == "idle"
                               and ts(b["written_at"]) > marked]
                    if healthy:
                        break
                    subprocess.run([guard, "watchdog", "--once", "--home", home], capture_output=True)
                    time.sleep(0.2)
                else:
                    sys.exit(f"{drill}: {good} never came back")
                back = min(ts(b["written_at"]) for b in healthy)
                if drill == "hang":
                    start = max(ts(b["written_at"]) for b in watcher.beats if b["release"] == bad)
                else:
                    start = crashed_at
                    os.unlink(os.path.join(home, "state", "crash"))
                results[drill].append((marked - start, back - marked))
    finally:
        watcher.stop = True
        subprocess.run(["supervisorctl", "-c", os.path.join(home, "deploy", "supervisord.conf"), "shutdown"],
                       capture_output=True)
    med = statistics.median
    print(f"watchdog detection and recovery ({args.runs} runs each, medians; cycle 1 s, stall threshold "
          f"{STALL_CYCLES} s, watchdog every 1 s)")
    for drill, label in [("hang", "last heartbeat"), ("crash", "kill")]:
        rows = results[drill]
        det, rec = med([d for d, _ in rows]), med([r for _, r in rows])
        print(f"  {drill:<6} detection ({label} -> marked bad)   {det:6.2f} s   max {max(d for d, _ in rows):6.2f} s")
        print(f"  {drill:<6} recovery (marked bad -> good release healthy) {rec:6.2f} s")
        print(f"  {drill:<6} total                                  {det + rec:6.2f} s   (goal: stall threshold + 5 s = {STALL_CYCLES + 5} s)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
