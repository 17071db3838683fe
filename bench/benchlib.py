"""What the release and watchdog benchmarks share: running commands, reading timestamps, and a
thread that records every heartbeat the engine writes."""
import json
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
