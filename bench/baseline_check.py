#!/usr/bin/env python3
"""The Python baseline: json.load, then the same scan deployctl's data check makes (every
timestamp parsed and range-checked, closed >= opened, trades and balance since the reset).
usage: baseline_check.py POSITIONS RESET_ISO NOW_ISO  -> prints one JSON line"""
import datetime as dt
import json
import sys

UTC = dt.timezone.utc
EARLIEST = dt.datetime(2009, 1, 1, tzinfo=UTC)


def parse(v):
    if isinstance(v, (int, float)):
        v = float(v)
        return dt.datetime.fromtimestamp(v / 1000 if v >= 1e11 else v, UTC)
    t = dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=UTC)


path, reset, now = sys.argv[1], parse(sys.argv[2]), parse(sys.argv[3])
latest = now + dt.timedelta(seconds=300)
with open(path) as f:
    data = json.load(f)
bad = reversed_ = counted = 0
balance = 10000.0
for lst in ("open_positions", "closed_positions"):
    for p in data.get(lst) or []:
        o = parse(p["opened_at"]) if p.get("opened_at") is not None else None
        c = parse(p["closed_at"]) if p.get("closed_at") is not None else None
        for t in (o, c):
            if t is not None and (t < EARLIEST or t > latest):
                bad += 1
        if o is not None and c is not None and c < o:
            reversed_ += 1
        if lst == "closed_positions" and c is not None and c >= reset:
            counted += 1
            balance += p.get("net_pnl", 0.0)
print(json.dumps({"ok": bad == 0 and reversed_ == 0 and counted > 0, "closed_trades": counted,
                  "balance": round(balance, 2), "closed_trades_total": len(data.get("closed_positions") or [])}))
