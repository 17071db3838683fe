"""What the soak reads of the world: processes, the home's files, the ledger. Nothing here
changes anything."""
import json
import os
import time


def read_json(path):
    """A file's JSON, or None when it is missing or torn."""
    try:
        with open(path, "rb") as f:
            return json.loads(f.read())
    except (OSError, ValueError):
        return None


def wall_to_mono(iso):
    """An ISO-8601 UTC time (the engine's and the tools') as this process's monotonic clock."""
    from datetime import datetime
    try:
        text = iso.replace("Z", "+00:00")
        at = datetime.fromisoformat(text).timestamp()
    except (AttributeError, ValueError):
        return None
    return time.monotonic() - (time.time() - at)


class Proc:
    __slots__ = ("pid", "ppid", "state", "start", "argv", "cwd")

    def __init__(self, pid, ppid, state, start, argv, cwd):
        self.pid, self.ppid, self.state, self.start, self.argv, self.cwd = pid, ppid, state, start, argv, cwd

    @property
    def key(self):
        """A process's identity across pid reuse."""
        return (self.pid, self.start)


def processes():
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name, "rb") as f:
                stat = f.read().decode("utf-8", "replace")
            with open("/proc/%s/cmdline" % name, "rb") as f:
                argv = [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
        except OSError:
            continue
        # The command name may hold spaces and parentheses: the fields start after the last ')'.
        fields = stat[stat.rfind(")") + 2:].split()
        try:
            cwd = os.readlink("/proc/%s/cwd" % name)
        except OSError:
            cwd = ""
        out.append(Proc(int(name), int(fields[1]), fields[0], int(fields[19]), argv, cwd))
    return out


def alive(key):
    """Whether the process (pid, start time) still runs (a zombie does not count)."""
    pid, start = key
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            stat = f.read().decode("utf-8", "replace")
    except OSError:
        return False
    fields = stat[stat.rfind(")") + 2:].split()
    return int(fields[19]) == start and fields[0] != "Z"


def descendants(procs, pid):
    children = {}
    for p in procs:
        children.setdefault(p.ppid, []).append(p)
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c.pid)
    return out


def _command(argv):
    """The program and its arguments, past an interpreter (`sh script`, `python3 script`)."""
    if len(argv) >= 2 and os.path.basename(argv[0]) in ("sh", "bash", "dash", "python3", "python"):
        return argv[1:]
    return argv


def is_engine(p, home):
    c = _command(p.argv)
    return (len(c) >= 2 and os.path.basename(c[0]) == "tradingbot" and c[1] == "run" and home in c
            and p.state != "Z")


def engines(procs, home):
    """Engine process trees (a wrapper and the engine it runs are one engine)."""
    found = [p for p in procs if is_engine(p, home)]
    pids = {p.pid for p in found}
    return [p for p in found if p.ppid not in pids]


def supervisords(procs, home):
    conf = os.path.join(home, "deploy", "supervisord.conf")
    return [p for p in procs if p.state != "Z" and any(os.path.basename(a) == "supervisord" for a in p.argv[:2])
            and conf in p.argv]


def of_home(procs, home, keep):
    """Every process a reboot would end: named with the home, or working in it."""
    me = os.getpid()
    return [p for p in procs if p.pid != me and p.pid not in keep and p.state != "Z"
            and (any(home in a for a in p.argv) or p.cwd == home or p.cwd.startswith(home + "/"))]


class Ledger:
    """state/releases.jsonl as the soak sees it: torn lines skipped, as the tools do."""

    def __init__(self, path):
        self.path = path

    def events(self):
        try:
            with open(self.path, "rb") as f:
                return json_lines(f.read().split(b"\n"))
        except OSError:
            return []

    def releases(self):
        """Per release id: checks (name, ok), states, rolled_back events, sha."""
        rel = {}
        for e in self.events():
            r = rel.setdefault(e.get("release"), {"checks": [], "states": [], "rolled_back": [], "sha": None})
            kind = e.get("event")
            if kind == "check":
                r["checks"].append((e.get("name"), e.get("ok")))
            elif kind == "state":
                r["states"].append(e.get("state"))
            elif kind == "rolled_back":
                r["rolled_back"].append(e)
            elif kind == "resolved":
                r["sha"] = e.get("sha")
        return rel


def state_of(record):
    """A release's state by the ledger's rule: the last state, but bad and failed are final."""
    for s in record["states"]:
        if s in ("bad", "failed"):
            return s
    return record["states"][-1] if record["states"] else None


class Tail:
    """New complete lines of a growing JSONL file (rotation starts it over)."""

    def __init__(self, path):
        self.path, self.offset, self.rest = path, 0, b""

    def lines(self):
        try:
            size = os.path.getsize(self.path)
            if size < self.offset:
                self.offset, self.rest = 0, b""
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:
            return []
        self.offset += len(data)
        parts = (self.rest + data).split(b"\n")
        self.rest = parts.pop()
        return json_lines(parts)


def json_lines(lines):
    """The JSON objects among `lines`; a torn or foreign line is skipped, as the tools do."""
    out = []
    for line in lines:
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if isinstance(e, dict):
            out.append(e)
    return out
