#!/usr/bin/env python3
"""A local server speaking BloFin's documented REST format, for the exchange client's tests.

Usage: blofin-server.py DIR. Reads DIR/config.json at start:
  key, secret, passphrase   the credentials it accepts (checked with Python's own hmac)
  symbols                   number of instruments to list (BTC-USDT, ETH-USDT, then C001-USDT, ...)
  clock_skew_ms             added to the server's clock
Writes its port to DIR/port, appends every request to DIR/requests.jsonl, and reads DIR/faults.json
before each request: a list of rules {"path", "kind", "times", ...} it consumes in order:
  status   answer HTTP `status` (429, 403, 500, ...); with "apply": true an order is taken first
  timeout  sleep `seconds` before answering; with "apply": true an order is taken first
  malformed  answer 200 with a body that is not JSON
  empty    answer 200 with an empty list (a list that lags behind)
  code     answer 200 with envelope code `code` and `msg`
  item_code  (orders) answer code 0 with the order item carrying `code` and `msg`
  batch_code (orders) answer envelope code 1 with the order item carrying `code` and `msg`
Test controls (unsigned): POST /test/trigger-stop {"instId"}, POST /test/open-position
{"instId", "contracts", "price"}, POST /test/vanish {"instId"} (gone with no order), GET /test/state.
"""
import base64
import hashlib
import hmac
import json
import math
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

DIR = sys.argv[1]
with open(os.path.join(DIR, "config.json")) as f:
    CONFIG = json.load(f)
LOCK = threading.Lock()
NONCES = set()
ORDERS = []          # every order taken, oldest first
POSITIONS = {}       # instId -> {"contracts", "average", "created", "sl", "tp"}
NEXT_ID = [1000]
FEE = 0.0006


def now_ms():
    return int(time.time() * 1000) + int(CONFIG.get("clock_skew_ms", 0))


def instruments():
    count = int(CONFIG.get("symbols", 3))
    out = []
    for i in range(count):
        if i == 0:
            inst, base, cv, lot, tick, p0 = "BTC-USDT", "BTC", "0.001", "0.1", "0.1", 60000.0
        elif i == 1:
            inst, base, cv, lot, tick, p0 = "ETH-USDT", "ETH", "0.01", "0.1", "0.01", 3000.0
        else:
            base = "C%03d" % i
            inst, cv, lot, tick, p0 = base + "-USDT", "1", "1", "0.0001", 1.0 + i * 0.37
        out.append({"instId": inst, "baseCurrency": base, "quoteCurrency": "USDT", "contractValue": cv,
                    "listTime": "1638333031000", "expireTime": "4102444800000", "maxLeverage": "50",
                    "minSize": lot, "lotSize": lot, "tickSize": tick, "instType": "SWAP",
                    "contractType": "linear", "maxLimitSize": "100000000", "maxMarketSize": "1000000",
                    "state": "live", "settleCurrency": "USDT", "_p0": p0, "_i": i})
    return out


INSTRUMENTS = {i["instId"]: i for i in instruments()}


def price(inst, minute):
    i = inst["_i"]
    return inst["_p0"] * math.exp(0.004 * math.sin(minute / 5.0 + i) + 0.002 * math.sin(minute / 1.7 + 2 * i))


def candle(inst, minute):
    o, c = price(inst, minute), price(inst, minute + 1)
    return [str(minute * 60000), "%.6f" % o, "%.6f" % (max(o, c) * 1.0005), "%.6f" % (min(o, c) * 0.9995),
            "%.6f" % c, str(100 + (minute * 7 + inst["_i"]) % 50), "1", "1", "1"]


def last_price(inst):
    t = now_ms() / 60000.0
    m = int(t)
    return price(inst, m) + (price(inst, m + 1) - price(inst, m)) * (t - m)


def envelope(data, code="0", msg="success"):
    return {"code": code, "msg": msg, "data": data}


def take_fault(path):
    fpath = os.path.join(DIR, "faults.json")
    try:
        with open(fpath) as f:
            rules = json.load(f)
    except (OSError, ValueError):
        return None
    for rule in rules:
        if rule.get("path") == path and rule.get("times", 1) > 0:
            rule["times"] = rule.get("times", 1) - 1
            with open(fpath + ".tmp", "w") as f:
                json.dump(rules, f)
            os.rename(fpath + ".tmp", fpath)
            return rule
    return None


def fill(inst_id, side, size, reduce_only, client_id, category="normal", at_price=None, sl=None, tp=None):
    inst = INSTRUMENTS[inst_id]
    cv = float(inst["contractValue"])
    px = at_price if at_price is not None else last_price(inst) * (1.0001 if side == "buy" else 0.9999)
    pos = POSITIONS.get(inst_id)
    signed = size if side == "buy" else -size
    pnl = 0.0
    if reduce_only:
        if not pos:
            return None, ("102022", "reduce-only order with no position")
        signed = max(-abs(pos["contracts"]), min(abs(pos["contracts"]), signed))
        if (pos["contracts"] > 0) == (signed > 0):
            return None, ("102022", "reduce-only order would increase the position")
    if pos:
        if (pos["contracts"] > 0) != (signed > 0):
            closed = min(abs(signed), abs(pos["contracts"]))
            pnl = (px - pos["average"]) * closed * cv * (1 if pos["contracts"] > 0 else -1)
        total = pos["contracts"] + signed
        if abs(total) < 1e-12:
            del POSITIONS[inst_id]
        else:
            if (pos["contracts"] > 0) == (signed > 0):
                pos["average"] = (pos["average"] * abs(pos["contracts"]) + px * abs(signed)) / abs(total)
            pos["contracts"] = total
    else:
        POSITIONS[inst_id] = {"contracts": signed, "average": px, "created": now_ms(), "sl": sl, "tp": tp}
    if sl and inst_id in POSITIONS:
        POSITIONS[inst_id]["sl"] = sl
    NEXT_ID[0] += 1
    order = {"orderId": str(NEXT_ID[0]), "clientOrderId": client_id, "instId": inst_id, "marginMode": "isolated",
             "positionSide": "net", "side": side, "orderType": "market", "price": "0",
             "size": "%g" % abs(size), "reduceOnly": "true" if reduce_only else "false", "leverage": "3",
             "state": "filled", "filledSize": "%g" % abs(signed), "averagePrice": "%.8f" % px,
             "fee": "%.8f" % -(abs(signed) * cv * px * FEE), "pnl": "%.8f" % pnl,
             "createTime": str(now_ms()), "updateTime": str(now_ms()), "orderCategory": category,
             "tpTriggerPrice": tp, "tpOrderPrice": "-1" if tp else None,
             "slTriggerPrice": sl, "slOrderPrice": "-1" if sl else None}
    ORDERS.append(order)
    return order, None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, status, payload, raw=None):
        body = raw if raw is not None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def record(self, **fields):
        with open(os.path.join(DIR, "requests.jsonl"), "a") as f:
            f.write(json.dumps(fields) + "\n")

    def verify(self, raw_body):
        """BloFin's checks, in its order; returns an error code and message or None."""
        h = self.headers
        if h.get("ACCESS-KEY") != CONFIG["key"]:
            return "152401", "Access key does not exist"
        ts = h.get("ACCESS-TIMESTAMP") or ""
        if not ts.isdigit() or abs(int(ts) - now_ms()) > 60000:
            return "152405", "Timestamp request expired"
        if h.get("ACCESS-PASSPHRASE") != CONFIG["passphrase"]:
            return "152408", "Passphrase error"
        nonce = h.get("ACCESS-NONCE") or ""
        prehash = self.path + self.command + ts + nonce + raw_body
        digest = hmac.new(CONFIG["secret"].encode(), prehash.encode(), hashlib.sha256).hexdigest().encode()
        if h.get("ACCESS-SIGN") != base64.b64encode(digest).decode():
            return "152409", "Signature verification failed"
        with LOCK:
            if not nonce or nonce in NONCES:
                return "152407", "Nonce reused"
            NONCES.add(nonce)
        return None

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        url = urlsplit(self.path)
        path = url.path
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        signed = path.startswith("/api/v1/account/") or path.startswith("/api/v1/trade/")
        problem = self.verify(raw) if signed else None
        self.record(method=self.command, path=self.path, body=raw, signed=signed,
                    code=problem[0] if problem else "0", nonce=self.headers.get("ACCESS-NONCE"),
                    sign_length=len(self.headers.get("ACCESS-SIGN") or ""))
        if path.startswith("/test/"):
            return self.test_control(path, raw)
        fault = take_fault(path)
        if problem:
            return self.reply(200, envelope(None, problem[0], problem[1]))
        if fault:
            kind = fault["kind"]
            if fault.get("apply") and path == "/api/v1/trade/order":
                with LOCK:
                    self.place(json.loads(raw))
            if kind == "status":
                status = int(fault["status"])
                if status >= 500 and fault.get("json"):
                    return self.reply(status, envelope(None, str(status), "gateway error"))
                if status >= 500:
                    return self.reply(status, None, raw=b"<html>upstream error</html>")
                return self.reply(status, envelope(None, str(status), "refused"))
            if kind == "timeout":
                time.sleep(float(fault.get("seconds", 3)))
                if fault.get("apply"):
                    return self.reply(200, envelope([]))
            elif kind == "empty":
                return self.reply(200, envelope([]))
            elif kind == "malformed":
                return self.reply(200, None, raw=b'{"code":"0","data":[{"instId"')
            elif kind == "code":
                return self.reply(200, envelope(None, fault["code"], fault.get("msg", "")))
            elif kind in ("item_code", "batch_code"):
                body = json.loads(raw)
                item = {"orderId": "", "clientOrderId": body.get("clientOrderId", ""),
                        "code": fault["code"], "msg": fault.get("msg", "")}
                return self.reply(200, envelope([item], "0" if kind == "item_code" else "1",
                                                "" if kind == "item_code" else "All operations failed"))
        return self.route(path, query, raw)

    def route(self, path, query, raw):
        insts = list(INSTRUMENTS.values())
        if path == "/api/v1/public/time":
            return self.reply(200, envelope({"ts": str(now_ms())}))
        if path == "/api/v1/market/instruments":
            return self.reply(200, envelope([{k: v for k, v in i.items() if not k.startswith("_")} for i in insts]))
        if path == "/api/v1/market/tickers":
            out = []
            for i in insts:
                p, tick = last_price(i), float(i["tickSize"])
                out.append({"instId": i["instId"], "last": "%.6f" % p, "lastSize": "1",
                            "askPrice": "%.6f" % (p + tick), "askSize": "20", "bidPrice": "%.6f" % (p - tick),
                            "bidSize": "25", "high24h": "%.6f" % (p * 1.02), "open24h": "%.6f" % p,
                            "low24h": "%.6f" % (p * 0.98), "volCurrency24h": "1000", "vol24h": "100000",
                            "ts": str(now_ms())})
            return self.reply(200, envelope(out))
        if path == "/api/v1/market/funding-rate":
            return self.reply(200, envelope([{"instId": i["instId"], "fundingRate": "0.0001",
                                              "fundingTime": str((now_ms() // 28800000 + 1) * 28800000)}
                                             for i in insts]))
        if path == "/api/v1/market/candles":
            inst = INSTRUMENTS.get(query.get("instId"))
            if not inst:
                return self.reply(200, envelope(None, "152002", "Instrument ID does not exist"))
            limit = min(1440, int(query.get("limit", "500")))
            current = now_ms() // 60000
            rows = []
            for k in range(limit):
                row = candle(inst, current - k)
                if k == 0:
                    row[8] = "0"
                rows.append(row)
            return self.reply(200, envelope(rows))
        if path == "/api/v1/market/mark-price":
            return self.reply(200, envelope([{"instId": i["instId"], "indexPrice": "%.6f" % last_price(i),
                                              "markPrice": "%.6f" % last_price(i), "ts": str(now_ms())}
                                             for i in insts]))
        if path == "/api/v1/market/books":
            inst = INSTRUMENTS[query["instId"]]
            p, tick = last_price(inst), float(inst["tickSize"])
            return self.reply(200, envelope([{"asks": [["%.6f" % (p + tick), "20"]],
                                               "bids": [["%.6f" % (p - tick), "25"]], "ts": str(now_ms())}]))
        if path == "/api/v1/account/balance":
            return self.reply(200, envelope({"ts": str(now_ms()), "totalEquity": "10000.5", "isolatedEquity": "0",
                                             "details": [{"currency": "USDT", "equity": "10000.5",
                                                          "balance": "10000.5", "available": "9000.25"}]}))
        if path == "/api/v1/account/positions":
            with LOCK:
                out = [{"positionId": str(n), "instId": k, "instType": "SWAP", "marginMode": "isolated",
                        "positionSide": "net", "positions": "%g" % v["contracts"],
                        "availablePositions": "%g" % v["contracts"], "averagePrice": "%.8f" % v["average"],
                        "markPrice": "%.6f" % last_price(INSTRUMENTS[k]), "leverage": "3",
                        "createTime": str(v["created"]), "updateTime": str(v["created"])}
                       for n, (k, v) in enumerate(sorted(POSITIONS.items()))]
            return self.reply(200, envelope(out))
        if path == "/api/v1/account/set-leverage":
            body = json.loads(raw)
            return self.reply(200, envelope({"instId": body["instId"], "leverage": body["leverage"],
                                             "marginMode": body["marginMode"], "positionSide": "net"}))
        if path == "/api/v1/trade/order":
            with LOCK:
                order, err = self.place(json.loads(raw))
            if err:
                return self.reply(200, envelope([{"orderId": "", "clientOrderId": json.loads(raw).get("clientOrderId"),
                                                  "code": err[0], "msg": err[1]}], "1", "All operations failed"))
            return self.reply(200, envelope([{"orderId": order["orderId"], "clientOrderId": order["clientOrderId"],
                                              "msg": "", "code": "0"}], "0", ""))
        if path == "/api/v1/trade/close-position":
            body = json.loads(raw)
            with LOCK:
                pos = POSITIONS.get(body["instId"])
                if not pos:
                    return self.reply(200, envelope(None, "102005", "Position had been closed"))
                fill(body["instId"], "sell" if pos["contracts"] > 0 else "buy", abs(pos["contracts"]), True,
                     body.get("clientOrderId", ""))
            return self.reply(200, envelope({"instId": body["instId"], "positionSide": "net",
                                             "clientOrderId": body.get("clientOrderId", "")}))
        if path == "/api/v1/trade/order-detail":
            with LOCK:
                found = [o for o in ORDERS if o["instId"] == query.get("instId") and (
                    ("orderId" in query and o["orderId"] == query["orderId"]) or
                    ("orderId" not in query and o["clientOrderId"] == query.get("clientOrderId")))]
            if not found:
                return self.reply(200, envelope(None, "102005", "Order does not exist"))
            return self.reply(200, envelope(found[-1]))
        if path == "/api/v1/trade/orders-pending":
            return self.reply(200, envelope([]))  # market orders fill at once
        if path == "/api/v1/trade/orders-history":
            with LOCK:
                out = [o for o in reversed(ORDERS) if o["instId"] == query.get("instId")]
            return self.reply(200, envelope(out[:int(query.get("limit", "20"))]))
        return self.reply(404, envelope(None, "404", "no such endpoint"))

    def place(self, body):
        inst_id = body.get("instId")
        client_id = body.get("clientOrderId", "")
        if client_id and any(o["clientOrderId"] == client_id for o in ORDERS):
            return None, ("102002", "Duplicate customized order ID")
        if inst_id not in INSTRUMENTS:
            return None, ("152002", "Instrument ID does not exist")
        inst = INSTRUMENTS[inst_id]
        size = float(body.get("size", "0"))
        lot = float(inst["lotSize"])
        if size < float(inst["minSize"]) or abs(size / lot - round(size / lot)) > 1e-9:
            return None, ("102015", "Order size is invalid")
        return fill(inst_id, body["side"], size, body.get("reduceOnly") == "true", body.get("clientOrderId", ""),
                    sl=body.get("slTriggerPrice"), tp=body.get("tpTriggerPrice"))

    def test_control(self, path, raw):
        body = json.loads(raw) if raw else {}
        with LOCK:
            if path == "/test/trigger-stop":
                pos = POSITIONS.get(body["instId"])
                if not pos or not pos.get("sl"):
                    return self.reply(409, {"error": "no position with a stop"})
                side = "sell" if pos["contracts"] > 0 else "buy"
                order, _ = fill(body["instId"], side, abs(pos["contracts"]), True, "", category="sl",
                                at_price=float(pos["sl"]))
                return self.reply(200, order)
            if path == "/test/vanish":
                POSITIONS.pop(body["instId"], None)
                return self.reply(200, {"ok": True})
            if path == "/test/open-position":
                POSITIONS[body["instId"]] = {"contracts": float(body["contracts"]), "average": float(body["price"]),
                                             "created": now_ms(), "sl": None, "tp": None}
                return self.reply(200, {"ok": True})
            if path == "/test/state":
                return self.reply(200, {"orders": ORDERS, "positions": POSITIONS})
        return self.reply(404, {"error": "no such control"})

    do_GET = handle_any
    do_POST = handle_any

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
with open(os.path.join(DIR, "port.tmp"), "w") as f:
    f.write(str(server.server_address[1]))
os.rename(os.path.join(DIR, "port.tmp"), os.path.join(DIR, "port"))
server.serve_forever()
