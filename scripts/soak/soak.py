#!/usr/bin/env python3
"""The chaos soak (scripts/soak.sh): a guarded home under random, overlapping faults drawn from a
seed, with the operator's promises checked while it runs and after a quiet minute at the end.
docs/soak.md describes the faults, the invariants and the output."""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks  # noqa: E402
import faults  # noqa: E402
import home as fixture  # noqa: E402
import world  # noqa: E402

CHECKOUT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


class Soak:
    def __init__(self, args, root, mount):
        self.args, self.root, self.mount = args, root, mount
        self.repo_root = tempfile.mkdtemp(prefix="soak-repo-")
        self.seed = args.seed
        self.deployctl = os.path.join(args.bin, "deployctl")
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.ending = threading.Event()
        self.events = []  # (mono, kind, detail)
        self.holds = []
        self.outages = []  # (start, end, counted seconds or None, kinds)
        self.violations = []
        self.give_ups = []  # [mono, line, closed mono]
        self.procs = set()
        self.results = []
        self.trades_seen = self.trades_lost = 0
        cfg = fixture.DEPLOY["watchdog"]
        self.interval = cfg["interval_seconds"]
        # The bound of the issue: the stall threshold (stall_cycles of 1 s) + the interval + 5 s.
        self.dark_bound = cfg["stall_cycles"] * 1 + self.interval + 5

    def say(self, text):
        if not self.args.quiet:
            print("[%7.1f s] %s" % (time.monotonic() - self.started, text), file=sys.stderr, flush=True)

    def violation(self, kind, detail):
        with self.lock:
            self.violations.append({"at": round(time.monotonic() - self.started, 1), "kind": kind,
                                    "detail": detail, "seed": self.seed})
        self.say("VIOLATION %s: %s" % (kind, detail))

    def event(self, kind, detail):
        """A fault starts; returns its record, whose end `one` fills in."""
        record = [time.monotonic(), kind, detail, None]
        with self.lock:
            self.events.append(record)
        return record

    def faults_between(self, start, end):
        """The faults that ran at some moment between start and end (a release started before
        an outage is its cause as much as a kill during it)."""
        with self.lock:
            return sorted({k for at, k, _, done in self.events
                           if at <= end and (done is None or done >= start)}) or ["none"]

    def add_hold(self, hold):
        with self.lock:
            self.holds.append(hold)

    def holds_snapshot(self):
        with self.lock:
            return list(self.holds)

    def outage(self, start, end, counted_from):
        counted = None if counted_from is None else end - counted_from
        kinds = self.faults_between(start - 3, end)
        backoff = sum(max(0.0, min(h.end, end) - max(h.start, start)) for h in self.holds_snapshot()
                      if h.kind == "backoff" and h.end is not None and h.start < end and h.end > start)
        with self.lock:
            self.outages.append({"start": start, "seconds": end - start, "counted": counted, "backoff": backoff,
                                 "kinds": kinds})
        self.say("outage of %.1f s (counted %s, backoff wait %.0f s) after %s" % (
            end - start, "-" if counted is None else "%.1f s" % counted, backoff, ", ".join(kinds)))

    def give_up(self, at, line):
        hold = checks.Hold("give_up", at, None, line.get("action"))
        self.add_hold(hold)
        with self.lock:
            self.give_ups.append({"at": at, "line": line, "hold": hold})
        self.say("the watchdog gave up: %s" % line.get("action"))

    def close_give_ups(self, now):
        for h in self.holds_snapshot():
            if h.kind == "give_up" and h.end is None:
                h.end = now

    def track(self, proc):
        with self.lock:
            self.procs.add(proc)

    def untrack(self, proc):
        with self.lock:
            self.procs.discard(proc)

    def busy_deploys(self):
        with self.lock:
            return len(self.procs)

    # -- the run --------------------------------------------------------------------------------

    def setup(self):
        self.webhook = fixture.Webhook()
        self.say("making the home (a fixture repository, deployctl init, the first release)")
        self.repo, self.home, self.port = fixture.make_home(self.root, self.repo_root, self.args.bin, CHECKOUT, self.webhook)
        self.guard = self.home + "/bin/deployctl"
        self.monitor = checks.Monitor(self)
        threading.Thread(target=self.monitor.run, daemon=True).start()

    def pick(self, rng, last, clock):
        """The next fault by weight and its plan. The spacing rules read the soak's own clock
        (the sum of the drawn gaps), not the machine's, so a seed gives the same sequence; only
        the two rules that read the home (two deploy commands running, the restart budget) can
        skip a fault on one run and not on another, and the run says so."""
        names = sorted(faults.FAULTS)
        weights = [faults.FAULTS[n][0] for n in names]
        name = rng.choices(names, weights)[0]
        plan = faults.FAULTS[name][2](rng)
        spaced = {"reboot": 60, "full_disk": 60, "stop_engine": 240, "webhook_down": 45, "race": 30}
        if name in spaced and clock - last.get(name, -1e9) < spaced[name]:
            return None, None
        if name in ("reboot", "full_disk") and clock - max(last.get("reboot", -1e9), last.get("full_disk", -1e9)) < 45:
            return None, None
        return name, plan

    def run(self):
        rng = random.Random(self.seed)
        self.faults_started = time.monotonic()
        deadline = self.faults_started + self.args.duration
        last, threads, clock = {}, [], 0.0
        while time.monotonic() < deadline:
            gap = rng.uniform(3, 14)
            clock += gap
            time.sleep(gap)
            if time.monotonic() >= deadline:
                break
            name, plan = self.pick(rng, last, clock)
            if name is None:
                continue
            if name in faults.DEPLOYS and self.busy_deploys() >= 2:
                self.say("fault %s skipped: two deploy commands already run" % name)
                continue
            budget = fixture.DEPLOY["watchdog"]["max_restarts_per_hour"] - 4
            if name == "stop_engine" and len([t for t in self.monitor.watchdog_restarts
                                              if t > time.monotonic() - 3600]) >= budget:
                self.say("fault stop_engine skipped: the restart budget is for healing, not for the soak")
                continue
            last[name] = clock
            record = self.event(name, plan)
            t = threading.Thread(target=self.one, args=(name, plan, record), daemon=True)
            t.start()
            threads.append(t)
        self.say("faults over; waiting for the ones still running")
        self.ending.set()
        for t in threads:
            t.join(timeout=900)
        self.webhook.down = False

    def one(self, name, plan, record):
        self.say("fault %s %s" % (name, "" if plan is None else plan))
        try:
            result = faults.FAULTS[name][1](self, plan)
        except Exception as error:
            result = "the fault itself failed: %r" % error
        record[3] = time.monotonic()
        self.say("  %s: %s" % (name, result))
        with self.lock:
            self.results.append({"at": round(time.monotonic() - self.started, 1), "fault": name,
                                 "plan": plan, "result": result})

    # -- the end --------------------------------------------------------------------------------

    def quiet_minute(self):
        self.say("a quiet minute")
        time.sleep(60)

    def final(self):
        home = self.home
        procs = world.processes()
        engines, supers = world.engines(procs, home), world.supervisords(procs, home)
        if len(engines) != 1 or len(supers) != 1:
            self.violation("final", "%d engine(s) and %d supervisord(s) run at the end" % (len(engines), len(supers)))
        status = self.tool(["status"])
        try:
            with open(home + "/slots/current/.release") as f:
                live = f.read().strip()
        except OSError:
            live = None
        beat = world.read_json(home + "/state/heartbeat.json") or {}
        active = (status or {}).get("active") or {}
        if active.get("release") != live:
            self.violation("final", "deployctl status names %s live; slots/current holds %s" % (
                active.get("release"), live))
        if engines and beat.get("pid") not in [engines[0].pid] + [
                c.pid for c in world.descendants(procs, engines[0].pid)]:
            self.violation("final", "the heartbeat names pid %s; the engine running is pid %d" % (
                beat.get("pid"), engines[0].pid))
        if beat.get("release") != live:
            self.violation("final", "the heartbeat names release %s; the live one is %s" % (beat.get("release"), live))
        records = world.Ledger(home + "/state/releases.jsonl").releases()
        if live and world.state_of(records.get(live, {"states": []})) == "bad":
            self.violation("final", "the live release %s is marked bad" % live)
        doctor = self.tool(["doctor"], ok=(0, 1))
        for check in (doctor or {}).get("checks", []):
            if not check.get("ok", True) and check.get("name") not in ("boot",):
                self.violation("final", "doctor: %s: %s" % (check.get("name"), check.get("detail")))
        dry = self.tool(["watchdog", "--once", "--dry-run"], ok=(0, 1))
        if (dry or {}).get("verdict") != "healthy":
            self.violation("final", "the watchdog's dry run says %s: %s" % ((dry or {}).get("verdict"),
                                                                              (dry or {}).get("detail")))
        self.final_alerts(records)
        self.final_doctor, self.final_status, self.final_dry = doctor, status, dry

    def final_alerts(self, records):
        received = self.webhook.keys()
        keys = {k for _, k, _ in received}
        for rid, r in records.items():
            for e in r["rolled_back"]:
                if "rollback:%s" % rid not in keys:
                    self.violation("alert", "the rollback of %s (to %s, by %s) was never alerted" % (
                        rid, e.get("to"), e.get("by")))
        for g in self.give_ups:
            if not any(k and k.startswith("gave_up:") and at >= g["at"] - 1800 for at, k, _ in received):
                self.violation("alert", "the give-up at %.0f s (%s) was never alerted" % (
                    g["at"] - self.started, g["line"].get("action")))

    def tool(self, args, ok=(0,)):
        out = subprocess.run([self.deployctl] + args + ["--home", self.home, "--json"], capture_output=True,
                             text=True, timeout=300)
        try:
            data = json.loads(out.stdout)
        except ValueError:
            data = None
        if out.returncode not in ok or data is None:
            self.violation("final", "deployctl %s: exit %d %s" % (" ".join(args), out.returncode,
                                                                  (out.stderr or out.stdout)[-300:]))
        return data

    def stop(self):
        self.monitor.stop.set()
        with self.lock:
            procs = list(self.procs)
        for p in procs:
            faults._kill(p.pid)
        conf = self.home + "/deploy/supervisord.conf"
        subprocess.run(["supervisorctl", "-c", conf, "shutdown"], capture_output=True, timeout=60)
        time.sleep(1)
        for p in world.of_home(world.processes(), self.home, keep=set()):
            faults._kill(p.pid)

    # -- the report -----------------------------------------------------------------------------

    def report(self):
        kinds = sorted({r["fault"] for r in self.results})
        table = []
        for k in kinds:
            mine = [o for o in self.outages if k in o["kinds"]]
            table.append({
                "fault": k, "count": sum(1 for r in self.results if r["fault"] == k),
                "worst_outage_seconds": round(max([o["counted"] or 0 for o in mine] or [0]), 1),
                "worst_raw_seconds": round(max([o["seconds"] for o in mine] or [0]), 1),
                "backoff_wait_seconds": round(max([o["backoff"] for o in mine] or [0]), 1)})
        unexplained = [o for o in self.outages if o["kinds"] == ["none"]]
        if unexplained:
            table.append({"fault": "(none)", "count": 0,
                          "worst_outage_seconds": round(max(o["counted"] or 0 for o in unexplained), 1),
                          "worst_raw_seconds": round(max(o["seconds"] for o in unexplained), 1),
                          "backoff_wait_seconds": round(max(o["backoff"] for o in unexplained), 1)})
        return {"ok": not self.violations, "seed": self.seed, "duration_seconds": self.args.duration,
                "dark_bound_seconds": self.dark_bound, "faults": table, "trades_seen": self.trades_seen,
                "trades_lost": self.trades_lost, "give_ups": len(self.give_ups),
                "alerts_received": len(self.webhook.received), "violations": self.violations,
                "log": self.results, "home": self.home if self.args.keep else None,
                "replay": "scripts/soak.sh --duration %d --seed %d" % (self.args.duration, self.seed)}


def print_table(r):
    print("soak: seed %d, %d s of faults, dark-time bound %d s" % (r["seed"], r["duration_seconds"],
                                                                 r["dark_bound_seconds"]))
    print("%-20s %6s %13s %10s %13s" % ("fault", "count", "worst outage", "raw", "backoff wait"))
    for row in r["faults"]:
        print("%-20s %6d %12.1fs %9.1fs %12.1fs" % (row["fault"], row["count"], row["worst_outage_seconds"],
                                                   row["worst_raw_seconds"], row["backoff_wait_seconds"]))
    print("closed trades seen %d, lost %d; give-ups %d; alerts received %d" % (
        r["trades_seen"], r["trades_lost"], r["give_ups"], r["alerts_received"]))
    for v in r["violations"]:
        print("VIOLATION at %.1f s [%s] %s (replay: %s)" % (v["at"], v["kind"], v["detail"], r["replay"]))
    print("OK: no invariant broken" if r["ok"] else "FAILED: %d invariant(s) broken" % len(r["violations"]))


def default_bin():
    for folder in (".build/debug", ".build/release"):
        path = os.path.join(CHECKOUT, folder)
        if all(os.access(os.path.join(path, b), os.X_OK) for b in ("tradingbot", "deployctl")):
            return path
    return None


def main():
    parser = argparse.ArgumentParser(prog="scripts/soak.sh", description=__doc__)
    parser.add_argument("--duration", type=int, default=600, help="seconds of faults (default 600)")
    parser.add_argument("--seed", type=int, default=None, help="replays the same fault sequence")
    parser.add_argument("--bin", default=None, help="folder with tradingbot and deployctl")
    parser.add_argument("--json", action="store_true", help="the report as JSON on stdout")
    parser.add_argument("--keep", action="store_true", help="keep the home afterwards")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = parser.parse_args()
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1, 1 << 31)
    args.bin = os.path.abspath(args.bin) if args.bin else default_bin()
    if not args.bin or not all(os.access(os.path.join(args.bin, b), os.X_OK) for b in ("tradingbot", "deployctl")):
        print("soak.sh: no tradingbot and deployctl in %s; build them (swift build) or pass --bin DIR" % (
            args.bin or CHECKOUT + "/.build/debug"), file=sys.stderr)
        return 2
    for tool in ("supervisord", "supervisorctl", "git"):
        if not shutil.which(tool):
            print("soak.sh: %s is missing; run scripts/install-deps.sh" % tool, file=sys.stderr)
            return 2
    root = tempfile.mkdtemp(prefix="soak-")
    mount = None
    if os.geteuid() == 0:
        # A real tmpfs holds the home, so the full-disk fault fills a real file system.
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3g", "tmpfs", root], capture_output=True).returncode == 0:
            mount = root
    print("soak: seed %d, %d s, home under %s%s" % (args.seed, args.duration, root,
                                                   "" if mount else " (no tmpfs: no full-disk fault)"),
          file=sys.stderr, flush=True)
    soak = Soak(args, root, mount)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        try:
            soak.setup()
        except Exception as error:
            print("soak.sh: the home could not be made: %s" % error, file=sys.stderr)
            return 2
        soak.run()
        soak.quiet_minute()
        soak.final()
        result = soak.report()
    except KeyboardInterrupt:
        print("soak.sh: interrupted", file=sys.stderr)
        return 2
    finally:
        if hasattr(soak, "monitor"):
            soak.stop()
        if not args.keep:
            if mount:
                subprocess.run(["umount", "-l", mount], capture_output=True)
            shutil.rmtree(root, ignore_errors=True)
            shutil.rmtree(soak.repo_root, ignore_errors=True)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
