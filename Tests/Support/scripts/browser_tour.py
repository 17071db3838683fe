#!/usr/bin/env python3
"""Drives Debian's chromium (headless, through chromedriver's WebDriver API, stdlib only) the
way the operator would: logs in to the dashboard, opens every tab, saves each as a PNG, and
prints what the Daily Summary shows as one JSON object on stdout.

usage: browser_tour.py --base http://127.0.0.1:PORT --password PW --out DIR
"""
import argparse
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Driver:
    def __init__(self, port):
        self.root = f"http://127.0.0.1:{port}"
        self.session = None

    def call(self, method, path, body=None, timeout=60):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.root + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                return json.loads(answer.read() or b"{}").get("value")
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"{method} {path}: HTTP {error.code}: {error.read()[:500]!r}")

    def s(self, method, path, body=None):
        return self.call(method, f"/session/{self.session}{path}", body)

    def find(self, css):
        return self.s("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]

    def text(self, css):
        return self.s("GET", f"/element/{self.find(css)}/text")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    port = free_port()
    driver_process = subprocess.Popen([args.chromedriver, f"--port={port}"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    profile = tempfile.mkdtemp(prefix="tour-profile-")
    driver = Driver(port)
    try:
        deadline = time.time() + 60
        while True:
            try:
                if driver.call("GET", "/status", timeout=5).get("ready"):
                    break
            except Exception:
                pass
            if time.time() > deadline:
                raise RuntimeError("chromedriver did not become ready within 60 s")
            time.sleep(0.2)
        options = {"binary": args.chromium,
                   "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                            "--window-size=1400,1100", f"--user-data-dir={profile}"]}
        created = driver.call("POST", "/session", {"capabilities": {"alwaysMatch": {
            "browserName": "chrome", "goog:chromeOptions": options}}}, timeout=120)
        driver.session = created["sessionId"]
        driver.s("POST", "/url", {"url": args.base + "/login"})
        field = driver.find("input[name=password]")
        driver.s("POST", f"/element/{field}/value", {"text": args.password})
        driver.s("POST", f"/element/{driver.find('button[type=submit]')}/click", {})
        # The login is a bcrypt check (cost 12), slow on a busy machine: going on before it
        # answered would leave the POST unfinished and every page at the login form.
        deadline = time.time() + 120
        while "/login" in driver.s("GET", "/url"):
            if time.time() > deadline:
                raise RuntimeError("the login did not complete within 120 s")
            time.sleep(0.2)
        result = {"tabs": {}}
        for name, path in [("daily", "/"), ("executive", "/executive"), ("deploys", "/deploys"),
                           ("kill-switch", "/kill-switch")]:
            driver.s("POST", "/url", {"url": args.base + path})
            title = driver.s("GET", "/title")
            png = base64.b64decode(driver.s("GET", "/screenshot"))
            file = os.path.join(args.out, f"{name}.png")
            with open(file, "wb") as f:
                f.write(png)
            result["tabs"][name] = {"title": title, "png": file, "bytes": len(png)}
            if name == "daily":
                result["balance"] = driver.text("#balance .value")
                result["closed_trades"] = driver.text("#closed-trades .value")
                result["open_count"] = driver.text("#open-count .value")
                result["health"] = driver.text("#health")
            if name == "executive":
                result["bot_health"] = driver.text("#health-score .value")
                result["scaling_step"] = driver.text("#scaling-step .value")
        print(json.dumps(result))
    finally:
        if driver.session:
            try:
                driver.s("DELETE", "")
            except Exception:
                pass
        driver_process.terminate()
        try:
            driver_process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            driver_process.kill()


if __name__ == "__main__":
    try:
        main()
    except Exception as error:
        print(f"browser_tour: {error}", file=sys.stderr)
        sys.exit(1)
