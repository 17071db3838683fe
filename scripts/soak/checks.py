"""The invariants, checked continuously by one monitor thread while the faults run."""
import collections
import json
import os
import subprocess
import threading
import time
import urllib.request

import world


class Hold:
    """A period in which the engine is down by design (a reboot, a full disk), by the documented
    backoff, or by a give-up: dark time is counted from its end."""

    def __init__(self, kind, start, end=None, detail=""):
        self.kind, self.start, self.end, self.detail = kind, start, end, detail


class Monitor:
    def __init__(self, soak):
        self.soak = soak
        self.home = soak.home
        self.stop = threading.Event()
        self.last_beat = None  # monotonic time of the last new trading heartbeat
        self.last_written = None
        self.flagged_dark = False
        self.seen = collections.Counter()  # every closed trade ever seen, canonical JSON
        self.unreadable_positions = 0
        self.multi = {}  # "engines"/"supervisords" -> (keys, first seen)
        self.reported_multi = set()
        self.reported_slots = set()
        self.leftovers = []  # (kill mono, description, [keys])
        self.watchdog_log = world.Tail(self.home + "/logs/watchdog.jsonl")
        self.watchdog_restarts = []
        self.next = collections.defaultdict(float)

    # -- the loop -------------------------------------------------------------------------------

    def run(self):
        while not self.stop.is_set():
            now = time.monotonic()
            for name, every, step in (("heartbeat", 0.25, self.heartbeat), ("processes", 0.5, self.processes),
                                      ("positions", 1.0, self.positions), ("watchdog", 1.0, self.watchdog),
                                      ("slots", 3.0, self.slots), ("history", 20.0, self.history),
                                      ("leftovers", 1.0, self.check_leftovers)):
                if now >= self.next[name]:
                    self.next[name] = now + every
                    try:
                        step()
                    except Exception as error:  # a check that cannot run is itself a finding
                        self.soak.violation("monitor", "the %s check failed: %r" % (name, error))
            time.sleep(0.1)

    # -- dark time ------------------------------------------------------------------------------

    @staticmethod
    def trading(beat):
        """A beat of an engine that trades: a finished cycle, no errors, signals evaluated."""
        return (isinstance(beat, dict) and beat.get("phase") in ("idle", "cycle")
                and beat.get("consecutive_errors") == 0 and (beat.get("signals_evaluated") or 0) > 0)

    def counted_from(self, start, now):
        """Where an outage that began at `start` starts to count: after every hold over it. None
        while a hold is still on (a reboot or a full disk in progress, a backoff wait, a give-up)."""
        at = start
        for h in self.soak.holds_snapshot():
            if h.start <= now and (h.end is None or h.end > at):
                if h.end is None or h.end > now:
                    return None
                at = max(at, h.end)
        return at

    def heartbeat(self):
        now = time.monotonic()
        beat = world.read_json(self.home + "/state/heartbeat.json")
        if self.trading(beat) and beat.get("written_at") != self.last_written and self.pid_alive(beat.get("pid")):
            self.last_written = beat.get("written_at")
            if self.last_beat is not None and now - self.last_beat > 3:
                self.soak.outage(self.last_beat, now, self.counted_from(self.last_beat, now))
            self.last_beat, self.flagged_dark = now, False
            self.soak.close_give_ups(now)
            return
        if self.last_beat is None or self.flagged_dark:
            return
        start = self.counted_from(self.last_beat, now)
        if start is not None and now - start > self.soak.dark_bound:
            self.flagged_dark = True
            self.soak.violation(
                "dark", "no trading heartbeat for %.0f s (bound %.0f s: stall threshold + watchdog interval + 5 s); "
                "faults since the last beat: %s" % (now - start, self.soak.dark_bound,
                                                     self.soak.faults_between(self.last_beat - 3, now)))

    @staticmethod
    def pid_alive(pid):
        return isinstance(pid, int) and os.path.exists("/proc/%d" % pid)

    # -- never two ------------------------------------------------------------------------------

    def processes(self):
        procs = world.processes()
        now = time.monotonic()
        for name, found in (("engines", world.engines(procs, self.home)),
                            ("supervisords", world.supervisords(procs, self.home))):
            keys = frozenset(p.key for p in found)
            if len(keys) < 2:
                self.multi.pop(name, None)
                continue
            before = self.multi.get(name)
            if before is None or not (before[0] & keys) or len(before[0] & keys) < 2:
                self.multi[name] = (keys, now)
                continue
            # The same two processes, both alive, for two seconds: not a restart's hand-over.
            if now - before[1] >= 2 and keys not in self.reported_multi:
                self.reported_multi.add(keys)
                self.soak.violation("two_%s" % name, "%d %s for the home at once: %s" % (
                    len(keys), name, "; ".join("pid %d %s" % (p.pid, " ".join(p.argv[:4])) for p in found)))

    # -- no trade lost --------------------------------------------------------------------------

    def positions(self):
        data = world.read_json(self.home + "/logs/positions_futures.json")
        if not isinstance(data, dict) or not isinstance(data.get("closed_positions"), list):
            self.unreadable_positions += 1
            if self.unreadable_positions == 20:
                self.soak.violation("positions", "the positions file has been unreadable for 20 s")
            return
        self.unreadable_positions = 0
        now = collections.Counter(json.dumps(r, sort_keys=True) for r in data["closed_positions"])
        lost = [(k, n - now[k]) for k, n in self.seen.items() if now[k] < n]
        for record, missing in lost:
            self.soak.violation("trade_lost", "%d closed trade(s) seen before are gone: %s" % (missing, record[:300]))
        self.seen |= now
        self.soak.trades_seen = sum(self.seen.values())
        self.soak.trades_lost += sum(m for _, m in lost)

    # -- the ledger and the slots ---------------------------------------------------------------

    def slots(self):
        records = world.Ledger(self.home + "/state/releases.jsonl").releases()
        for slot in ("A", "B"):
            try:
                with open("%s/slots/%s/.release" % (self.home, slot)) as f:
                    rid = f.read().strip()
            except OSError:
                continue
            if not rid or (slot, rid) in self.reported_slots:
                continue
            checks = records.get(rid, {}).get("checks", [])
            if not checks or not all(ok for _, ok in checks):
                # The id is written after the checks are appended: look once more before calling it.
                time.sleep(0.5)
                checks = world.Ledger(self.home + "/state/releases.jsonl").releases().get(rid, {}).get("checks", [])
                if not checks or not all(ok for _, ok in checks):
                    self.reported_slots.add((slot, rid))
                    self.soak.violation("slot", "slot %s names %s, which did not pass its checks (%s)" % (
                        slot, rid, checks or "no checks in the ledger"))

    def history(self):
        out = subprocess.run([self.soak.deployctl, "history", "--home", self.home, "--json"], capture_output=True,
                             text=True, timeout=60)
        try:
            json.loads(out.stdout)
        except ValueError:
            self.soak.violation("ledger", "deployctl history --json does not read the ledger (exit %d): %s" % (
                out.returncode, (out.stderr or out.stdout)[-400:]))

    # -- the watchdog's words -------------------------------------------------------------------

    def watchdog(self):
        for line in self.watchdog_log.lines():
            action = line.get("action") or ""
            at = world.wall_to_mono(line.get("ts")) or time.monotonic()
            if "backing off" in action:
                # "backing off: the next restart comes W s after the last (ISO)"
                try:
                    wait = float(action.split("comes ")[1].split(" s")[0])
                    last = world.wall_to_mono(action.rsplit("(", 1)[1].rstrip(")"))
                except (IndexError, ValueError):
                    continue
                if last is not None:
                    self.soak.add_hold(Hold("backoff", last, last + wait, action))
            if action.startswith("restarted the engine"):
                self.watchdog_restarts.append(at)
            if "NEEDS THE OPERATOR" in action:
                self.soak.give_up(at, line)

    # -- no leftovers ---------------------------------------------------------------------------

    def expect_gone(self, description, keys):
        if keys:
            self.leftovers.append((time.monotonic(), description, keys))

    def check_leftovers(self):
        state = world.read_json(self.home + "/state/watchdog.json") or {}
        last_run = world.wall_to_mono(state.get("last_run")) if isinstance(state, dict) else None
        now = time.monotonic()
        keep = []
        for killed, what, keys in self.leftovers:
            # The watchdog's next run after the kill has ended (it saved its state), or two
            # intervals and a margin have passed whatever happened to the watchdog meanwhile.
            due = (last_run is not None and last_run > killed + 1 and now - killed > 3) or \
                now - killed > 2 * self.soak.interval + 20
            if not due:
                keep.append((killed, what, keys))
                continue
            for k in keys:
                if not world.alive(k):
                    continue
                try:
                    with open("/proc/%d/cmdline" % k[0], "rb") as f:
                        argv = f.read().replace(b"\0", b" ").decode()[:200]
                except OSError:
                    continue
                self.soak.violation("leftover", "pid %d of %s outlived the watchdog's next run: %s" % (
                    k[0], what, argv))
        self.leftovers = keep


def healthz_back(soak, since, limit=10.0):
    """The dashboard answers /healthz within `limit` s of a fault's end (a hold pushes it later)."""
    url = "http://127.0.0.1:%d/healthz" % soak.port
    while True:
        now = time.monotonic()
        start = soak.monitor.counted_from(since, now)
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return now - since
        except Exception:
            pass
        if start is not None and time.monotonic() - start > limit:
            soak.violation("healthz", "/healthz did not answer within %.0f s of the dashboard fault" % limit)
            return None
        if soak.ending.is_set() and time.monotonic() - since > 120:
            return None
        time.sleep(0.5)
