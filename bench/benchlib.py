"""What the release and watchdog benchmarks share: running commands, reading timestamps, and a
thread that records every heartbeat the engine writes."""
import json
import os
import shutil
import subprocess
import threading
import time
from datetime import datetime


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def ts(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


class HeartbeatWatcher(threading.Thread):
    """Polls the heartbeat file every 2 ms and keeps every distinct beat."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path, self.beats, self.stop = path, [], False

    def run(self):
        last = None
        while not self.stop:
            try:
                with open(self.path) as f:
                    beat = json.load(f)
                key = (beat["release"], beat["written_at"], beat["phase"])
                if key != last:
                    self.beats.append(beat)
                    last = key
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.002)


def release_binaries(root, given):
    """deployctl and tradingbot of a release build: `given` (a bin folder), else built now."""
    if given is None:
        subprocess.run(["swift", "build", "-c", "release"], cwd=root, check=True, stdout=subprocess.DEVNULL)
        given = sh(["swift", "build", "-c", "release", "--show-bin-path"], cwd=root).stdout.strip()
    given = os.path.abspath(given)
    return os.path.join(given, "deployctl"), os.path.join(given, "tradingbot")


def fixture_repo(root, repo):
    """A fixture bot's repository: 1-second cycles, and a build that installs app.sh as
    bin/tradingbot (the caller writes app.sh and commits)."""
    os.makedirs(os.path.join(repo, "config"))
    shutil.copy(os.path.join(root, "config", "asset_universe.json"), os.path.join(repo, "config"))
    with open(os.path.join(repo, "config", "bot.json"), "w") as f:
        json.dump({"wallet_reset": {"at": "2025-12-18T00:00:00Z", "starting_capital": 10000}, "cycle_seconds": 1}, f)
    with open(os.path.join(repo, "build.sh"), "w") as f:
        f.write("set -e\nmkdir -p bin\ncp app.sh bin/tradingbot\nchmod +x bin/tradingbot\n")
