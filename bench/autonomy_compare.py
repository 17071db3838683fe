#!/usr/bin/env python3
"""Side by side, in one run: the autonomy controller (capital scaling, sizing by setup health,
allocation) on and off, on the recorded market fixtures. Each pair replays the same feed with the
same bot.json but for risk.scaling.enabled, through the built `tradingbot replay --json`.

    bench/autonomy_compare.py [--bin .build/release] [--json] [FEED ...]

Prints trades, net P&L, max drawdown, profit factor and worst day for each feed, on and off.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FEEDS = ["spot-5m-2018-01", "perp-xrp-2021-11"]


def replay(binary, feed, enabled, universe):
    with tempfile.TemporaryDirectory(prefix="autonomy-bench-") as home:
        os.makedirs(os.path.join(home, "config"))
        bot = {
            "wallet_reset": {"at": "2017-01-01T00:00:00Z", "starting_capital": 10000},
            "risk": {"scaling": {"enabled": enabled}},
        }
        with open(os.path.join(home, "config", "bot.json"), "w") as f:
            json.dump(bot, f)
        if universe:
            with open(universe) as src, open(os.path.join(home, "config", "asset_universe.json"), "w") as dst:
                dst.write(src.read())
        out = subprocess.run(
            [binary, "replay", "--feed", os.path.join(ROOT, "Tests/Fixtures/market", feed), "--home", home,
             "--into", os.path.join(home, "replay"), "--json"],
            capture_output=True, text=True, timeout=3600)
        if out.returncode != 0:
            sys.exit(f"replay of {feed} failed ({out.returncode}): {out.stderr.strip() or out.stdout.strip()}")
        return json.loads(out.stdout[out.stdout.index("{"):])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", default=os.path.join(ROOT, ".build", "release"))
    parser.add_argument("--json", action="store_true")
    parser.add_argument("feeds", nargs="*", default=FEEDS)
    args = parser.parse_args()
    binary = os.path.join(args.bin, "tradingbot")
    rows = []
    for feed in args.feeds:
        universe = os.path.join(ROOT, "Tests/Fixtures/universe/spot-2018.json") if feed.startswith("spot") else None
        for enabled in (True, False):
            s = replay(binary, feed, enabled, universe)
            auto = (s.get("autonomy") or {}).get("scaling") or {}
            history = [h for h in auto.get("history", []) if h.get("reason") != "history"]
            rows.append({
                "feed": feed, "autonomy": "on" if enabled else "off", "trades": s["trades"],
                "net_pnl": s["net_pnl"], "max_drawdown": s["max_drawdown"], "profit_factor": s.get("profit_factor"),
                "worst_day": s.get("worst_day"), "end_level": auto.get("level") if enabled else None,
                "steps_down": sum(1 for h in history if h["to"] < h["from"]),
                "steps_up": sum(1 for h in history if h["to"] > h["from"]),
            })
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print("| feed | autonomy | trades | net P&L | max drawdown | profit factor | worst day | scaling at end (steps down/up) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        level = f"{r['end_level'] * 100:.0f} % ({r['steps_down']}/{r['steps_up']})" if r["end_level"] else "off"
        pf = "n/a" if r["profit_factor"] is None else f"{r['profit_factor']:.2f}"
        print(f"| {r['feed']} | {r['autonomy']} | {r['trades']} | {r['net_pnl']:.2f} | {r['max_drawdown'] * 100:.2f} % "
              f"| {pf} | {r['worst_day']:.2f} | {level} |")


if __name__ == "__main__":
    main()
