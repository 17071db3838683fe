#!/usr/bin/env python3
"""Release benchmark with real components: a git repository, deployctl (release build), a real
supervisord and the real engine (1-second cycles). Measures, in the same run:
  - release of an unchanged ref on a warm slot, per step, against the build tool's own no-op
    time (the baseline: the same build command run by hand in the slot);
  - rollback time;
  - the flip gap: the old engine's last heartbeat to the new engine's first, and missed cycles.
usage: bench/release_bench.py [--runs 5] [--bin DIR]"""
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



def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--bin", default=None)
    args = ap.parse_args()
    deployctl, tradingbot = release_binaries(ROOT, args.bin)
    work = tempfile.mkdtemp(prefix="release-bench-")
    repo, home = os.path.join(work, "repo"), os.path.join(work, "home")
    fixture_repo(ROOT, repo)
    with open(os.path.join(repo, "app.sh"), "w") as f:
        f.write(f'#!/bin/sh\nexec {tradingbot} "$@"\n')
    git = ["git", "-c", "user.email=bench@example.invalid", "-c", "user.name=bench"]
    sh(["git", "init", "-q", "-b", "main"], cwd=repo)
    sh(git + ["add", "-A"], cwd=repo)
    sh(git + ["commit", "-q", "-m", "bench"], cwd=repo)
    sh([deployctl, "init", "--home", home, "--repo", repo])
    with open(os.path.join(home, "config", "deploy.json")) as f:
        cfg = json.load(f)
    cfg.update({"binary": "bin/tradingbot", "build": {"command": "sh build.sh", "timeout_seconds": 60},
                "probation": {"healthy_cycles": 3, "timeout_seconds": 30}})
    with open(os.path.join(home, "config", "deploy.json"), "w") as f:
        json.dump(cfg, f)
    shutil.copy(os.path.join(FIXTURES, "positions", "positions_futures.json"), os.path.join(home, "logs"))

    def release(*extra):
        t = time.perf_counter()
        out = subprocess.run([deployctl, "release", "--home", home, "--json", *extra], capture_output=True, text=True)
        wall = time.perf_counter() - t
        result = json.loads(out.stdout)
        if out.returncode != 0:
            sys.exit(f"release failed: {result.get('message')}")
        steps = {s["name"]: s["seconds"] for s in result["steps"]}
        return wall, steps, result

    watcher = HeartbeatWatcher(os.path.join(home, "state", "heartbeat.json"))
    watcher.start()
    try:
        cold, _, _ = release()
        release()  # both slots now hold a build: every later release lands on a warm slot
        warm, detached, gaps, noop = [], [], [], []
        per_step = {}
        for _ in range(args.runs):
            old_release = watcher.beats[-1]["release"] if watcher.beats else None
            wall, steps, result = release()
            warm.append(wall)
            for k, v in steps.items():
                per_step.setdefault(k, []).append(v)
            slot_dir = os.path.join(home, "slots", result["slot"])
            t = time.perf_counter()
            sh(["sh", "-c", cfg["build"]["command"]], cwd=slot_dir)
            noop.append(time.perf_counter() - t)
            old = [b for b in watcher.beats if b["release"] == old_release]
            new = [b for b in watcher.beats if b["release"] == result["release"]]
            if old and new:
                last_old = max(ts(b["written_at"]) for b in old)
                first_new = min(ts(b["written_at"]) for b in new)
                old_cycle = max(ts(b["cycle_started_at"]) for b in old if b.get("cycle_started_at"))
                new_cycle = min(ts(b["cycle_started_at"]) for b in new if b.get("cycle_started_at"))
                gaps.append((first_new - last_old, max(0, int(new_cycle - old_cycle) - 1)))
        for _ in range(args.runs):
            wall, _, _ = release("--detach")
            detached.append(wall)
        rollbacks = []
        release()  # detached releases have no verdict yet: give the other slot a good one
        for _ in range(args.runs):
            release()
            t = time.perf_counter()
            out = subprocess.run([deployctl, "rollback", "--home", home, "--json"], capture_output=True, text=True)
            rollbacks.append(time.perf_counter() - t)
            if out.returncode != 0:
                sys.exit(f"rollback failed: {out.stdout}")
    finally:
        watcher.stop = True
        subprocess.run(["supervisorctl", "-c", os.path.join(home, "deploy", "supervisord.conf"), "shutdown"],
                       capture_output=True)
    med = statistics.median
    print(f"release of an unchanged ref, warm slot ({args.runs} runs, medians; engine cycle 1 s, probation 3 cycles)")
    print(f"  first release (clone)            {cold:7.3f} s")
    print(f"  warm release, wall               {med(warm):7.3f} s")
    for step in ["git", "build", "smoke", "data", "report", "roundtrip", "flip", "restart", "probation"]:
        if step in per_step:
            print(f"    {step:<12}                   {med(per_step[step]):7.3f} s")
    other = med(warm) - med(per_step.get("build", [0])) - med(per_step.get("probation", [0]))
    print(f"  build tool no-op by hand (baseline) {med(noop):7.3f} s")
    print(f"  warm release minus build and probation {other:7.3f} s")
    print(f"  warm release --detach, wall      {med(detached):7.3f} s")
    print(f"  rollback, wall                   {med(rollbacks):7.3f} s")
    if gaps:
        print(f"  flip gap (old last heartbeat -> new first)  median {med([g for g, _ in gaps]):.3f} s, max {max(g for g, _ in gaps):.3f} s")
        print(f"  missed cycles                    {max(m for _, m in gaps)}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
