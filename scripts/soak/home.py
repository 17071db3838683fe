"""The soak's world: a fixture repository whose commits misbehave on purpose, a home made the
way scripts/start.sh makes one (supervisord, the supervised watchdog, the dashboard), and a
local webhook receiver that can be taken down."""
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Heartbeats a shell release writes: fresh, from a living process, but not trading.
def _loop(phase, symbols, errors, last_error):
    beat = ("printf '{\"pid\": %d, \"release\": \"%s\", \"cycle\": %d, \"phase\": \"" + phase + "\", "
            "\"written_at\": \"%s\", \"started_at\": \"%s\", \"symbols_evaluated\": " + str(symbols) + ", "
            "\"signals_evaluated\": 0, \"consecutive_errors\": %d, \"last_error\": " + last_error + ", "
            "\"last_signals_at\": null, \"last_price_change_at\": null}' $$ \"$(cat \"$3/slots/current/.release\")\" "
            "$n \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\" \"$start\" " + errors + " > \"$3/state/heartbeat.json.tmp\"; "
            "mv \"$3/state/heartbeat.json.tmp\" \"$3/state/heartbeat.json\"")
    return ('if [ "$1" = run ]; then start=$(date -u +%Y-%m-%dT%H:%M:%SZ); n=0; '
            "while true; do n=$((n+1)); " + beat + "; sleep 1; done; fi\n")


# The commits a release can bring: one good, the rest each bad in its own way.
VARIANTS = {
    "good": "",
    "crash": "if [ \"$1\" = run ]; then echo 'fatal: crashed on start' >&2; exit 1; fi\n",
    "hang_start": "if [ \"$1\" = run ]; then exec sleep 3600; fi\n",
    "hang_later": "if [ \"$1\" = run ]; then \"$REAL\" \"$@\" --max-cycles 4; exec sleep 3600; fi\n",
    "errors": _loop("error", 0, "$n", '"exchange down"'),
    "no_signals": _loop("idle", 16, "0", "null"),
    "no_build": "",
}
BAD = [v for v in VARIANTS if v != "good"]


class Fixture:
    """A git repository in the shape the release drills use: its build installs app.sh (which
    runs the real tradingbot, or misbehaves) as bin/tradingbot in a couple of seconds."""

    def __init__(self, path, real, universe):
        self.path, self.real, self.count = path, real, 0
        self.lock = threading.Lock()
        os.makedirs(path + "/config")
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.email", "soak@localhost")
        self.git("config", "user.name", "soak")
        # Entries at a low score, no daily cap on them, and exits within a minute: trades close
        # all through the soak,
        # so "no trade lost" is tested while the faults run, not only on the sample's history.
        bot = {"wallet_reset": {"at": "2025-12-18T00:00:00Z", "starting_capital": 10000}, "cycle_seconds": 1,
               "strategy": {"entry_threshold": 0.05}, "exits": {"min_hold_seconds": 0, "max_hold_seconds": 30},
               "risk": {"max_positions_per_day": 10000}}
        self.write("config/bot.json", json.dumps(bot, indent=2) + "\n")
        shutil.copy(universe, path + "/config/asset_universe.json")

    def git(self, *args):
        subprocess.run(["git", "-C", self.path] + list(args), check=True, capture_output=True)

    def write(self, name, text, mode=0o644):
        with open(os.path.join(self.path, name), "w") as f:
            f.write(text)
        os.chmod(os.path.join(self.path, name), mode)

    def commit(self, variant):
        """A new commit of `variant` (a new sha each time: a bad sha is refused without --force)."""
        with self.lock:
            self.count += 1
            app = "#!/bin/sh\nREAL=%s\n%sexec \"$REAL\" \"$@\"\n" % (self.real, VARIANTS[variant])
            self.write("app.sh", app, 0o755)
            build = "set -e\nsleep 2\nmkdir -p bin\ncp app.sh bin/tradingbot\nchmod +x bin/tradingbot\n"
            if variant == "no_build":
                build = "sleep 1\necho 'error: expected expression' >&2\nexit 1\n"
            self.write("build.sh", build + "# %s %d\n" % (variant, self.count))
            self.git("add", "-A")
            self.git("commit", "-q", "-m", "%s %d" % (variant, self.count))
            out = subprocess.run(["git", "-C", self.path, "rev-parse", "HEAD"], check=True, capture_output=True,
                                 text=True)
            return out.stdout.strip()


class Webhook:
    """The alert receiver: records each alert; while `down`, it answers 503 and keeps nothing."""

    def __init__(self):
        self.received, self.down, self.lock = [], False, threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if outer.down:
                    self.send_response(503)
                    self.end_headers()
                    return
                try:
                    alert = json.loads(body)
                except ValueError:
                    alert = {"raw": body.decode("utf-8", "replace")}
                with outer.lock:
                    outer.received.append((time.monotonic(), alert))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}')

            do_GET = do_POST

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/alert/SOAK" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def keys(self):
        with self.lock:
            return [(at, a.get("key"), a) for at, a in self.received]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def edit_json(path, change):
    with open(path) as f:
        data = json.load(f)
    change(data)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


# The home's limits (docs/soak.md says why each): 1 s cycles, the watchdog's shortest interval.
DEPLOY = {
    "binary": "bin/tradingbot",
    "build": {"command": "sh build.sh", "timeout_seconds": 120},
    "probation": {"healthy_cycles": 8, "timeout_seconds": 90, "start_grace_seconds": 10},
    "watchdog": {"supervised": True, "interval_seconds": 5, "stall_cycles": 10, "trading_stall_cycles": 15,
                 "max_restarts_per_hour": 20, "max_rollbacks_per_hour": 10, "min_free_disk_mb": 50},
}


def make_home(root, repo_root, bin_dir, checkout, webhook):
    """The home, its fixture repository and the first release (good, blocking). The repository
    is the operator's remote: it sits outside the home's file system, which may be filled."""
    repo = Fixture(repo_root + "/repo", os.path.join(bin_dir, "tradingbot"),
                   os.path.join(checkout, "config", "asset_universe.json"))
    first = repo.commit("good")
    home = root + "/home"
    deployctl = os.path.join(bin_dir, "deployctl")
    subprocess.run([deployctl, "init", "--home", home, "--repo", repo.path, "--service-manager", "supervisor"],
                   check=True, capture_output=True)

    def deploy(d):
        for key, value in DEPLOY.items():
            if isinstance(value, dict):
                d.setdefault(key, {}).update(value)
            else:
                d[key] = value
    edit_json(home + "/config/deploy.json", deploy)
    port = free_port()
    edit_json(home + "/config/bot.json", lambda b: b.setdefault("dashboard", {}).update({"port": port}))
    shutil.copy(os.path.join(checkout, "Tests/Fixtures/positions/positions_futures.json"),
                home + "/logs/positions_futures.json")
    secrets = home + "/config/secrets.env"
    fd = os.open(secrets, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(fd, ("TRADINGBOT_ALERT_WEBHOOK=%s\n" % webhook.url).encode())
    os.close(fd)
    out = subprocess.run([deployctl, "release", "--home", home, "--ref", first, "--json"], capture_output=True,
                         text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError("the first release failed (exit %d): %s %s" % (out.returncode, out.stdout[-2000:],
                                                                           out.stderr[-2000:]))
    subprocess.run([deployctl, "install-units", "--supervisor", "--home", home], check=True, capture_output=True)
    return repo, home, port
