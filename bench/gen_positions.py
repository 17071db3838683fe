#!/usr/bin/env python3
"""Writes a positions file of N closed trades in the spellings the operator's Python bot writes
(Z, +00:00, naive with microseconds), with extra fields on a third of the records, shaped like
Tests/Fixtures/positions/positions_futures.json.  usage: gen_positions.py N OUT"""
import datetime as dt
import json
import random
import sys

n, out = int(sys.argv[1]), sys.argv[2]
rng = random.Random(42)
symbols = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT", "BNBUSDT", "ARBUSDT", "AAVEUSDT"]
start = dt.datetime(2025, 12, 19, tzinfo=dt.timezone.utc) - dt.timedelta(seconds=90 * n)


def stamp(t, i):
    k = i % 3
    if k == 0:
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")
    if k == 1:
        return t.isoformat(timespec="seconds")
    return t.replace(tzinfo=None).isoformat(timespec="microseconds")


closed = []
for i in range(n):
    opened = start + dt.timedelta(seconds=90 * i, microseconds=rng.randrange(1_000_000))
    closed_at = opened + dt.timedelta(seconds=rng.randrange(60, 7200))
    entry = round(rng.uniform(0.1, 60000), 8)
    pnl = round(rng.uniform(-20, 20), 4)
    rec = {"symbol": rng.choice(symbols), "direction": rng.choice(["LONG", "SHORT"]), "entry_price": entry,
           "exit_price": round(entry * rng.uniform(0.98, 1.02), 8), "size": round(rng.uniform(0.001, 3000), 6),
           "leverage": rng.choice([1, 2, 3, 5, 10, 20]), "margin_collateral": round(rng.uniform(20, 200), 2),
           "pnl": pnl, "net_pnl": round(pnl - rng.uniform(0, 2), 4), "opened_at": stamp(opened, i),
           "closed_at": stamp(closed_at, i + 1), "strategy": rng.choice(["Alpha", "Alpha-OFI", "Beta-MeanRev"]),
           "bot_type": "alpha"}
    if i % 3 == 0:
        rec.update({"exit_reason": "trailing_stop", "fees": 0.5, "signal_ctx": {"ofi": 0.5, "hurst": 0.4}})
    closed.append(rec)
opened = [{"symbol": "XRPUSDT", "direction": "LONG", "entry_price": 0.62, "size": 1000.0, "leverage": 5,
           "margin_collateral": 124.0, "opened_at": "2025-12-19T08:59:06Z", "strategy": "Alpha", "bot_type": "alpha"}]
with open(out, "w") as f:
    json.dump({"open_positions": opened, "closed_positions": closed}, f, indent=1)
