"""The faults, each run in a thread of its own so that they overlap. Every random choice comes
from the soak's seeded generator, drawn in the scheduler's thread, so a seed replays the same
sequence of faults."""
import json
import os
import signal
import subprocess
import threading
import time

import checks
import home as fixture
import world


def _kill(pid, sig=signal.SIGKILL):
    try:
        os.kill(pid, sig)
        return True
    except OSError:
        return False


def _engine(soak):
    found = world.engines(world.processes(), soak.home)
    return found[0] if found else None


def _program(soak, word):
    """The process supervisord runs for a program, by a word of its command line."""
    procs = world.processes()
    parents = {p.pid for p in world.supervisords(procs, soak.home)}
    for p in procs:
        if p.ppid in parents and p.state != "Z" and word in p.argv:
            return p
    return None


# -- kills ---------------------------------------------------------------------------------------

def kill_engine(soak, plan):
    p = _engine(soak)
    return "pid %d" % p.pid if p and _kill(p.pid) else "no engine running"


def kill_watchdog(soak, plan):
    p = _program(soak, "--daemon")
    return "pid %d" % p.pid if p and _kill(p.pid) else "no watchdog running"


def kill_dashboard(soak, plan):
    p = _program(soak, "dashboard")
    if not p or not _kill(p.pid):
        return "no dashboard running"
    took = checks.healthz_back(soak, time.monotonic())
    return "pid %d; /healthz back in %s" % (p.pid, "%.1f s" % took if took is not None else "-")


def stop_engine(soak, plan):
    p = _engine(soak)
    if not p:
        return "no engine running"
    # The engine process itself (under a wrapper, its child).
    leaf = next((c for c in world.descendants(world.processes(), p.pid) if world.is_engine(c, soak.home)), p)
    _kill(leaf.pid, signal.SIGSTOP)
    return "SIGSTOP pid %d" % leaf.pid


# -- releases and rollbacks ----------------------------------------------------------------------

def _deploy(soak, args, kill_after=None, label=""):
    """Runs a deployctl command of the operator's; with kill_after, SIGKILLs it then and expects
    every process it started to be gone after the watchdog's next run."""
    argv = [soak.deployctl] + args + ["--home", soak.home, "--json"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    soak.track(proc)
    try:
        if kill_after is not None:
            try:
                proc.wait(timeout=kill_after)
            except subprocess.TimeoutExpired:
                kids = [c.key for c in world.descendants(world.processes(), proc.pid)]
                _kill(proc.pid)
                proc.wait()
                soak.monitor.expect_gone("the killed %s" % label, kids)
                return "SIGKILL after %.1f s (%d child process(es))" % (kill_after, len(kids))
        out, err = proc.communicate(timeout=900)
    except subprocess.TimeoutExpired:
        _kill(proc.pid)
        soak.violation("hang", "%s did not end within 900 s" % label)
        return "hung"
    finally:
        soak.untrack(proc)
    said = ""
    try:
        said = (json.loads(out).get("message") or "")[:160]
    except (ValueError, AttributeError):
        said = (err.strip().splitlines() or [""])[-1][:160]
    return "exit %d: %s" % (proc.returncode, said)


def release(soak, plan):
    variant, detach, kill_after = plan
    sha = soak.repo.commit(variant)
    args = ["release", "--ref", sha] + (["--detach"] if detach else [])
    what = "%s%s %s" % (variant, " --detach" if detach else "", sha[:8])
    return what + ": " + _deploy(soak, args, kill_after, "release " + what)


def race(soak, plan):
    shas = [soak.repo.commit("good"), soak.repo.commit("good")]
    results = [None, None]

    def one(i):
        results[i] = _deploy(soak, ["release", "--ref", shas[i]], None, "racing release")
    threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return "; ".join("%s %s" % (s[:8], r) for s, r in zip(shas, results))


def kill_rollback(soak, plan):
    return _deploy(soak, ["rollback"], plan, "rollback")


# -- the machine ---------------------------------------------------------------------------------

def full_disk(soak, plan):
    if not soak.mount:
        return "skipped: no tmpfs (not root)"
    hold = checks.Hold("full_disk", time.monotonic())
    soak.add_hold(hold)
    filler = soak.mount + "/filler"
    subprocess.run(["dd", "if=/dev/zero", "of=" + filler, "bs=1M"], capture_output=True)
    time.sleep(plan)
    os.unlink(filler)
    hold.end = time.monotonic()
    return "full for %.0f s" % plan


def reboot(soak, plan):
    """Every process of the home killed at once, then the boot path and nothing else."""
    hold = checks.Hold("reboot", time.monotonic())
    soak.add_hold(hold)
    killed = 0
    for _ in range(3):  # a supervisord may start a program between two looks
        for p in world.of_home(world.processes(), soak.home, keep=set()):
            killed += _kill(p.pid)
        time.sleep(0.05)
    time.sleep(plan)
    hold.end = time.monotonic()
    out = subprocess.run([soak.guard, "boot", "--home", soak.home, "--json"], capture_output=True, text=True,
                         timeout=600)
    return "killed %d process(es), boot after %.1f s: exit %d %s" % (killed, plan, out.returncode,
                                                                    out.stdout.strip()[-200:])


def webhook_down(soak, plan):
    soak.webhook.down = True
    time.sleep(plan)
    soak.webhook.down = False
    return "down for %.0f s" % plan


# -- torn files ----------------------------------------------------------------------------------

def _tear(path, append=None):
    try:
        if append is not None:
            with open(path, "ab") as f:
                f.write(append)
            return "appended a torn line"
        with open(path, "rb") as f:
            data = f.read()
        with open(path, "wb") as f:
            f.write(data[: max(1, len(data) // 2)])
        return "cut to %d of %d bytes" % (max(1, len(data) // 2), len(data))
    except OSError as error:
        return "could not: %s" % error


def torn_heartbeat(soak, plan):
    return _tear(soak.home + "/state/heartbeat.json")


def torn_ledger(soak, plan):
    # A writer killed mid-line: only the lock's holder writes, so not while one holds it.
    try:
        with open(soak.home + "/state/deploy.lock") as f:
            if f.read().strip():
                return "skipped: the deploy lock is held"
    except OSError:
        pass
    return _tear(soak.home + "/state/releases.jsonl", append=b'{"ts": "2026-12-0')


def torn_watchdog_state(soak, plan):
    return _tear(soak.home + "/state/watchdog.json")


# What the scheduler may pick, how often (weights), and the random part of each plan.
FAULTS = {
    "kill_engine": (3, kill_engine, lambda r: None),
    "kill_watchdog": (2, kill_watchdog, lambda r: None),
    "kill_dashboard": (2, kill_dashboard, lambda r: None),
    "stop_engine": (1, stop_engine, lambda r: None),
    "kill_release": (3, release, lambda r: ("good", r.random() < 0.3, r.uniform(0.3, 14))),
    "bad_release": (4, release, lambda r: (r.choice(fixture.BAD), r.random() < 0.4, None)),
    "good_release": (2, release, lambda r: ("good", r.random() < 0.5, None)),
    "race": (1, race, lambda r: None),
    "kill_rollback": (1, kill_rollback, lambda r: r.uniform(0.2, 8)),
    "full_disk": (1, full_disk, lambda r: r.uniform(5, 20)),
    "reboot": (1, reboot, lambda r: r.uniform(0.5, 3)),
    "webhook_down": (1, webhook_down, lambda r: r.uniform(10, 60)),
    "torn_heartbeat": (1, torn_heartbeat, lambda r: None),
    "torn_ledger": (1, torn_ledger, lambda r: None),
    "torn_watchdog_state": (1, torn_watchdog_state, lambda r: None),
}
DEPLOYS = {"kill_release", "bad_release", "good_release", "race", "kill_rollback"}
