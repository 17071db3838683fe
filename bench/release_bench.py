#!/usr/bin/env python3
"""Release benchmark with real components: a git repository, deployctl (release build), a real
supervisord and the real engine (1-second cycles). Measures, in the same run:
  - release of an unchanged ref on a warm slot, per step, against the build tool's own no-op
    time (the baseline: the same build command run by hand in the build workspace);
  - rollback time;
  - the flip gap: the old engine's last heartbeat to the new engine's first, and missed cycles.
With --real-build, instead: this repository released with its real `swift build -c release`
(about 15 minutes here): the first release, a README-only commit and a one-line TradingCore
change, each into a slot never built (cold) and one built before (warm); then the same changes
built by hand in a plain checkout of its own, in the same order (the baseline: incremental builds).
usage: bench/release_bench.py [--runs 5] [--bin DIR] [--real-build] [--json]"""
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


def real_build(deployctl, as_json):
    """The build step of real releases of this repository against a plain incremental build of
    the same change (medians would need hours: each case runs once, both sides in this run)."""
    work = tempfile.mkdtemp(prefix="release-bench-real-")
    repo, plain, home = (os.path.join(work, n) for n in ("repo", "plain", "home"))
    git = ["git", "-c", "user.email=bench@example.invalid", "-c", "user.name=bench"]
    sh(["git", "clone", "-q", "--no-local", ROOT, repo])
    sh(["git", "clone", "-q", "--no-local", ROOT, plain])
    sh([deployctl, "init", "--home", home, "--repo", repo])
    with open(os.path.join(home, "config", "bot.json")) as f:
        bot = json.load(f)
    bot["cycle_seconds"] = 1
    bot.setdefault("dashboard", {})["port"] = free_port()
    with open(os.path.join(home, "config", "bot.json"), "w") as f:
        json.dump(bot, f)
    with open(os.path.join(home, "config", "deploy.json")) as f:
        cfg = json.load(f)
    cfg["probation"] = {"healthy_cycles": 3, "timeout_seconds": 120}
    with open(os.path.join(home, "config", "deploy.json"), "w") as f:
        json.dump(cfg, f)
    shutil.copy(os.path.join(FIXTURES, "positions", "positions_futures.json"), os.path.join(home, "logs"))
    progress = sys.stderr

    def plain_build():
        t = time.perf_counter()
        sh(["swift", "build", "-c", "release"], cwd=plain)
        return time.perf_counter() - t

    def change(kind, n, root):
        """One change: in the release repository a commit, in the plain checkout a file edit."""
        if kind == "readme":
            name, text = "README.md", f"\n<!-- release bench {n} -->\n"
        else:
            name, text = "Sources/TradingCore/Strategy/Gates.swift", f"\nlet releaseBenchLine{n} = {n}\n"
        with open(os.path.join(root, name), "a") as f:
            f.write(text)
        if root == repo:
            sh(git + ["commit", "-q", "-am", f"bench {kind} {n}"], cwd=repo)

    def release():
        t = time.perf_counter()
        out = subprocess.run([deployctl, "release", "--home", home, "--json"], capture_output=True, text=True)
        wall = time.perf_counter() - t
        result = json.loads(out.stdout)
        if out.returncode != 0:
            sys.exit(f"release failed: {result.get('message')}")
        build = next(s for s in result["steps"] if s["name"] == "build")
        return result["slot"], build["seconds"], wall

    # The releases first, then the same changes in the same order built by hand: SwiftPM loads
    # every package manifest again (about 9 s) when the build before it ran in another folder, so
    # interleaving the two sides would charge each with the other's switch.
    cases = [("readme", "cold"), ("source", "warm"), ("readme", "warm"), ("source", "cold")]
    rows = []
    try:
        print("the first release (a new workspace)", file=progress)
        slot, build, wall = release()
        rows.append(["first release", slot, "new", build, 0.0, wall])
        for n, (kind, slot_state) in enumerate(cases, start=1):
            live = os.path.realpath(os.path.join(home, "slots", "current"))
            other = os.path.join(home, "slots", "B" if live.endswith("/A") else "A")
            if slot_state == "cold" and os.path.exists(other):
                shutil.rmtree(other)  # the slot was never built: its first release clones it
            change(kind, n, repo)
            print(f"{kind} change into a {slot_state} slot", file=progress)
            slot, build, wall = release()
            rows.append([f"{kind} change", slot, slot_state, build, 0.0, wall])
    finally:
        subprocess.run(["supervisorctl", "-c", os.path.join(home, "deploy", "supervisord.conf"), "shutdown"],
                       capture_output=True)
    print("plain checkout: a build from scratch, then the same changes (baseline)", file=progress)
    rows[0][4] = plain_build()
    for n, (kind, _) in enumerate(cases, start=1):
        change(kind, n, plain)
        rows[n][4] = plain_build()
    if as_json:
        print(json.dumps([{"case": c, "slot": s, "slot_state": st, "build_step_seconds": round(b, 1),
                           "plain_build_seconds": round(p, 1), "release_seconds": round(w, 1)}
                          for c, s, st, b, p, w in rows], indent=2))
    else:
        print("real release builds of this repository (swift build -c release), one run each")
        print(f"  {'case':<16}{'slot':<11}{'build step':>11}{'plain build':>13}{'ratio':>7}{'release':>10}")
        for c, s, st, b, p, w in rows:
            print(f"  {c:<16}{s + ' (' + st + ')':<11}{b:10.1f}s{p:12.1f}s{b / p:7.2f}{w:9.1f}s")
    shutil.rmtree(work, ignore_errors=True)


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--bin", default=None)
    ap.add_argument("--real-build", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    deployctl, tradingbot = release_binaries(ROOT, args.bin)
    if args.real_build:
        return real_build(deployctl, args.json)
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
            # Every release builds in the home's build workspace: the by-hand no-op runs there.
            t = time.perf_counter()
            sh(["sh", "-c", cfg["build"]["command"]], cwd=os.path.join(home, "workspace"))
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
