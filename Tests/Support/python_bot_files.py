#!/usr/bin/env python3
"""Writes positions files the way the operator's Python bot (and a hand edit) did, with Python's
own json module, and computes Python's own numbers for them, so the Swift readers are checked
against an independent implementation.

  python_bot_files.py write SAMPLE OUT_DIR RESET_ISO   -> files in OUT_DIR, expectations as JSON on stdout
  python_bot_files.py compare BEFORE AFTER             -> exit 0 when AFTER keeps every value and type of BEFORE
  python_bot_files.py syntax FILE                      -> Python's own line and column of the first syntax error
"""
import copy
import json
import math
import os
import sys
from datetime import datetime, timezone


def instant(text):
    """closed_at as Python reads it: ISO-8601 (Z, offsets, naive = UTC) or epoch seconds."""
    if isinstance(text, (int, float)):
        return datetime.fromtimestamp(text, timezone.utc)
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def number(value):
    """What the bot stored as a number or a numeric string; None when it cannot be used."""
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def balance(data, reset, capital=10000.0):
    total, counted, left_out = capital, 0, 0
    for p in data["closed_positions"]:
        try:
            closed = instant(p["closed_at"])
        except (KeyError, TypeError, ValueError):
            left_out += 1
            continue
        if closed < reset:
            continue
        net = number(p.get("net_pnl"))
        if net is None:
            left_out += 1
            continue
        total += net
        counted += 1
    return {"balance": round(total, 2), "closed_trades": counted, "left_out": left_out}


def messy(sample, reset):
    """The sample as the old bot and the operator's hand edits left it."""
    data = copy.deepcopy(sample)
    closed = data["closed_positions"]
    counted = [i for i, p in enumerate(closed) if instant(p["closed_at"]) >= reset]
    old = [i for i, p in enumerate(closed) if instant(p["closed_at"]) < reset]
    # Prices and P&L stored as the exchange API returned them: strings.
    for i in counted[:5]:
        closed[i]["net_pnl"] = repr(closed[i]["net_pnl"])
        closed[i]["entry_price"] = repr(closed[i]["entry_price"])
    # Integers written as floats, directions in other letter cases.
    for i in counted[5:10]:
        closed[i]["leverage"] = float(closed[i]["leverage"])
        closed[i]["direction"] = closed[i]["direction"].lower()
    closed[counted[10]]["direction"] = closed[counted[10]]["direction"].capitalize()
    # What strict JSON forbids: NaN and infinities in an extra field of a counted trade ...
    closed[counted[11]]["signal_ctx"] = {"ofi": float("nan"), "hurst": float("inf"), "vol": float("-inf")}
    # ... a lone surrogate (undecodable bytes kept with surrogateescape) ...
    closed[counted[12]]["strategy"] = "Alpha-\udc80"
    closed[counted[12]]["note"] = "broken \udcff byte"
    # ... non-ASCII text ...
    closed[counted[13]]["note"] = "réglage manuel 🚀"
    # ... and, in trades closed before the reset, values that cannot be used.
    closed[old[0]]["net_pnl"] = float("nan")
    closed[old[1]]["exit_price"] = float("inf")
    del closed[old[2]]["exit_price"]
    data["open_positions"][0]["entry_price"] = repr(data["open_positions"][0]["entry_price"])
    data["meta"] = {"writer": "python", "score": float("nan")}
    return data, {"nan_old": old[0], "inf_old": old[1], "missing_old": old[2], "counted": counted}


def write(sample_path, out, reset_text):
    reset = instant(reset_text)
    with open(sample_path) as f:
        sample = json.load(f)
    data, where = messy(sample, reset)
    os.makedirs(out, exist_ok=True)
    files = {}

    def dump(name, obj, **kw):
        path = os.path.join(out, name)
        encoding = kw.pop("encoding", "utf-8")
        newline = kw.pop("newline", None)
        with open(path, "w", encoding=encoding, newline=newline, errors="surrogatepass") as f:
            json.dump(obj, f, **kw)
        files[name] = path

    dump("python-default.json", data, indent=1)                       # ensure_ascii: escapes
    raw = copy.deepcopy(data)                                         # ensure_ascii=False cannot
    for p in raw["closed_positions"]:                                 # write lone surrogates to UTF-8
        for k, v in list(p.items()):
            if isinstance(v, str) and any(0xD800 <= ord(c) <= 0xDFFF for c in v):
                p[k] = v.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    dump("python-raw-utf8.json", raw, indent=2, ensure_ascii=False)
    dump("bom-crlf.json", data, indent=4, encoding="utf-8-sig", newline="\r\n")
    dump("compact.json", data, separators=(",", ":"))
    # A trade that counts with a P&L nobody can use: the balance cannot be trusted.
    bad = copy.deepcopy(data)
    bad["closed_positions"][where["counted"][14]]["net_pnl"] = float("nan")
    dump("counted-nan.json", bad, indent=1)
    # An open position that cannot be valued.
    unvalued = copy.deepcopy(data)
    unvalued["open_positions"][1]["entry_price"] = float("nan")
    dump("open-nan.json", unvalued, indent=1)
    expected = {
        "files": files,
        "numbers": balance(data, reset),
        "counted_nan": balance(bad, reset),
        "counted_nan_index": where["counted"][14],
        "nan_old_index": where["nan_old"],
        "inf_old_index": where["inf_old"],
        "missing_old_index": where["missing_old"],
        "symbols": {str(i): p["symbol"] for i, p in enumerate(data["closed_positions"])},
    }
    json.dump(expected, sys.stdout)


def same(a, b, path="$"):
    """Equal values of equal types (a string stays a string, 5.0 stays a float); NaN equals NaN."""
    if type(a) is not type(b):
        return f"{path}: {type(a).__name__} {a!r} became {type(b).__name__} {b!r}"
    if isinstance(a, dict):
        if set(a) != set(b):
            return f"{path}: keys {sorted(set(a) ^ set(b))} differ"
        for k in a:
            d = same(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items became {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            d = same(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    if isinstance(a, float) and math.isnan(a) and math.isnan(b):
        return None
    return None if a == b else f"{path}: {a!r} became {b!r}"


def load(path):
    with open(path, encoding="utf-8-sig", errors="surrogatepass") as f:
        return json.load(f)


def main():
    command = sys.argv[1]
    if command == "write":
        write(sys.argv[2], sys.argv[3], sys.argv[4])
    elif command == "compare":
        difference = same(load(sys.argv[2]), load(sys.argv[3]))
        if difference:
            print(difference)
            sys.exit(1)
    elif command == "syntax":
        try:
            load(sys.argv[2])
        except json.JSONDecodeError as e:
            print(json.dumps({"line": e.lineno, "column": e.colno}))
            return
        sys.exit("no syntax error")


if __name__ == "__main__":
    main()
