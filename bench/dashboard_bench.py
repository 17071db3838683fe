#!/usr/bin/env python3
"""Dashboard page and API latency and peak memory at 1k, 100k and 1M closed trades, side by
side with `tradingbot report` on the same file (the baseline: one full scan).

usage: python3 bench/dashboard_bench.py [--bin DIR] [--sizes 1000,100000,1000000] [--requests 60]

For each size: a home with a generated positions file (gen_positions.py), the release
`tradingbot dashboard --port 0` (no password: loopback, one-click login), then
- warm: p50 and p99 of --requests loads each of /, /executive, /api/summary, /healthz,
- changed: after the positions file is replaced (the cache is keyed by inode, size and
  modification time), the first page (served from the previous numbers at once) and the time
  until the background recompute's numbers are served (/api/summary's computed_at), median of 3,
- baseline: `tradingbot report --json` wall time (median of 3) and its peak RSS,
- the dashboard's peak RSS (VmHWM) after all of it.
Results: bench/out/dashboard_results.json (git-ignored)."""
import argparse
import http.cookiejar
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
sys.path.insert(0, here)
from benchlib import release_binaries  # noqa: E402


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def peak_rss_of_run(cmd):
    start = time.perf_counter()
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"{cmd[0]} failed: {status}")
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin")
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    _, tradingbot = release_binaries(root, args.bin)
    results = []
    for n in [int(s) for s in args.sizes.split(",")]:
        home = tempfile.mkdtemp(prefix=f"dash-bench-{n}-")
        for d in ["config", "logs", "state"]:
            os.makedirs(os.path.join(home, d))
        shutil.copy(os.path.join(root, "config", "bot.json"), os.path.join(home, "config"))
        positions = os.path.join(home, "logs", "positions_futures.json")
        subprocess.run([sys.executable, os.path.join(here, "gen_positions.py"), str(n), positions], check=True)
        size_mb = os.path.getsize(positions) / 1e6

        report_runs = [peak_rss_of_run([tradingbot, "report", "--home", home, "--json"]) for _ in range(3)]
        report_s = statistics.median(r[0] for r in report_runs)
        report_rss = max(r[1] for r in report_runs)

        dash = subprocess.Popen([tradingbot, "dashboard", "--home", home, "--port", "0"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            line = dash.stdout.readline()
            port = int(line.strip().rsplit(":", 1)[1])
            base = f"http://127.0.0.1:{port}"
            jar = http.cookiejar.CookieJar()
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
            page = opener.open(base + "/login", timeout=600).read().decode()
            token = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
            opener.open(base + "/login", data=f"csrf={token}".encode(), timeout=600).read()

            def load(path):
                start = time.perf_counter()
                body = opener.open(base + path, timeout=600).read()
                return time.perf_counter() - start, body

            _, body = load("/")  # the login's redirect computed the numbers already
            assert b'id="balance"' in body, "not logged in"
            warm = {}
            for path in ["/", "/executive", "/api/summary", "/healthz"]:
                times = [load(path)[0] for _ in range(args.requests)]
                warm[path] = {"p50_ms": percentile(times, 50) * 1000, "p99_ms": percentile(times, 99) * 1000}
            # After a change: the first page answers from the previous numbers at once, and a
            # background recompute replaces them; measured until /api/summary's computed_at moves.
            changed, stale_page = [], []
            for _ in range(3):
                before = json.loads(load("/api/summary")[1])["computed_at"]
                copy = positions + ".new"
                shutil.copy(positions, copy)
                os.replace(copy, positions)  # a new inode, as the engine's atomic save makes
                start = time.perf_counter()
                stale_page.append(load("/")[0])
                while json.loads(load("/api/summary")[1])["computed_at"] == before:
                    time.sleep(0.005)
                changed.append(time.perf_counter() - start)
            with open(f"/proc/{dash.pid}/status") as f:
                status = f.read()
            hwm = int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024
            anon = int(re.search(r"RssAnon:\s+(\d+)", status).group(1)) / 1024
        finally:
            dash.terminate()
            dash.wait(timeout=30)
        row = {"trades": n, "file_mb": round(size_mb, 1), "report_s": report_s, "report_rss_mb": report_rss,
               "changed_page_s": statistics.median(changed), "page_during_recompute_s": statistics.median(stale_page),
               "warm": warm,
               "dashboard_rss_mb": hwm, "dashboard_anon_mb_after": anon}
        results.append(row)
        shutil.rmtree(home)
        print(f"{n:>9,} trades ({size_mb:,.1f} MB): report {report_s * 1000:,.0f} ms / {report_rss:,.0f} MB | "
              f"dashboard: a page during the recompute {row['page_during_recompute_s'] * 1000:,.1f} ms, "
              f"new numbers after {row['changed_page_s'] * 1000:,.0f} ms "
              f"({row['changed_page_s'] / report_s:.2f}x report), peak RSS {hwm:,.0f} MB "
              f"(anonymous after: {anon:,.0f} MB)", flush=True)
        for path, w in warm.items():
            print(f"            warm {path:<13} p50 {w['p50_ms']:7.2f} ms  p99 {w['p99_ms']:7.2f} ms", flush=True)
    os.makedirs(os.path.join(here, "out"), exist_ok=True)
    with open(os.path.join(here, "out", "dashboard_results.json"), "w") as f:
        json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
