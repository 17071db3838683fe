"""The soak's own checks must be able to fail: each invariant is fed a home that breaks it.
Run: python3 -m unittest discover -s scripts/soak -p 'test_*.py' (SoakScriptTests runs it)."""
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import checks
import soak
import world


class FakeSoak:
    def __init__(self, home):
        self.home, self.dark_bound, self.interval, self.deployctl = home, 20, 5, "/bin/false"
        self.found, self.holds, self.outages = [], [], []
        self.trades_seen = self.trades_lost = 0

    def violation(self, kind, detail):
        self.found.append((kind, detail))

    def holds_snapshot(self):
        return list(self.holds)

    def outage(self, start, end, counted_from):
        self.outages.append((start, end, counted_from))

    def faults_between(self, start, end):
        return ["none"]

    def close_give_ups(self, now):
        pass

    def kinds(self):
        return [k for k, _ in self.found]


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(data if isinstance(data, str) else json.dumps(data))


class SoakChecks(unittest.TestCase):
    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="soak-test-")
        self.soak = FakeSoak(self.home)
        self.monitor = checks.Monitor(self.soak)

    def tearDown(self):
        shutil.rmtree(self.home, ignore_errors=True)

    def test_a_closed_trade_that_disappears_is_lost(self):
        trade = {"symbol": "BTCUSDT", "net_pnl": 1.5, "closed_at": "2026-12-07T00:00:00Z"}
        other = dict(trade, symbol="ETHUSDT")
        path = self.home + "/logs/positions_futures.json"
        write(path, {"open_positions": [], "closed_positions": [trade, other, other]})
        self.monitor.positions()
        self.assertEqual(self.soak.kinds(), [])
        write(path, {"open_positions": [], "closed_positions": [trade, other, dict(trade, extra=1)]})
        self.monitor.positions()
        self.assertEqual(self.soak.kinds(), ["trade_lost"], "one of two equal records went")
        self.assertEqual(self.soak.trades_lost, 1)

    def test_a_slot_may_name_only_a_release_that_passed_its_checks(self):
        ledger = [{"release": "r1", "event": "check", "name": "selfcheck", "ok": True},
                  {"release": "r2", "event": "check", "name": "selfcheck", "ok": False}]
        write(self.home + "/state/releases.jsonl", "\n".join(json.dumps(e) for e in ledger) + "\n{\"torn")
        write(self.home + "/slots/A/.release", "r1\n")
        write(self.home + "/slots/B/.release", "r2\n")
        self.monitor.slots()
        self.assertEqual(self.soak.kinds(), ["slot"])
        self.assertIn("slot B names r2", self.soak.found[0][1])

    def test_dark_time_counts_from_the_end_of_a_hold(self):
        now = time.monotonic()
        self.soak.holds = [checks.Hold("reboot", now - 30, now - 10)]
        self.assertEqual(self.monitor.counted_from(now - 40, now), now - 10)
        self.soak.holds.append(checks.Hold("full_disk", now - 5, None))
        self.assertIsNone(self.monitor.counted_from(now - 40, now), "a hold still on counts nothing yet")

    def test_no_trading_beat_past_the_bound_is_a_violation(self):
        beat = {"pid": os.getpid(), "phase": "idle", "consecutive_errors": 0, "signals_evaluated": 0,
                "written_at": "2026-12-07T00:00:00Z"}
        write(self.home + "/state/heartbeat.json", beat)
        self.monitor.last_beat = time.monotonic() - 25
        self.monitor.heartbeat()
        self.assertEqual(self.soak.kinds(), ["dark"], "a beat that evaluated no signal is not trading")
        write(self.home + "/state/heartbeat.json", dict(beat, signals_evaluated=40, written_at="2026-12-07T00:00:01Z"))
        self.monitor.heartbeat()
        self.assertEqual(len(self.soak.outages), 1)

    def test_a_wrapper_and_its_engine_are_one_engine_two_engines_are_two(self):
        home = self.home
        wrapper = world.Proc(10, 1, "S", 1, ["/bin/sh", home + "/slots/current/bin/tradingbot", "run", "--home", home], "")
        real = world.Proc(11, 10, "S", 2, ["/x/tradingbot", "run", "--home", home], "")
        other = world.Proc(20, 1, "S", 3, ["/y/tradingbot", "run", "--home", home], "")
        selfcheck = world.Proc(30, 1, "S", 4, ["/x/tradingbot", "selfcheck", "--home", home], "")
        self.assertEqual([p.pid for p in world.engines([wrapper, real, selfcheck], home)], [10])
        self.assertEqual(len(world.engines([wrapper, real, other], home)), 2)

    def test_a_process_a_killed_release_left_is_a_leftover(self):
        child = subprocess.Popen(["sleep", "60"])
        try:
            key = next(p.key for p in world.processes() if p.pid == child.pid)
            self.monitor.leftovers.append((time.monotonic() - 100, "the killed release", [key]))
            self.monitor.check_leftovers()
            self.assertEqual(self.soak.kinds(), ["leftover"])
        finally:
            child.kill()
            child.wait()

    def test_a_rollback_never_alerted_is_a_violation(self):
        s = soak.Soak.__new__(soak.Soak)
        s.found, s.give_ups, s.started = [], [], time.monotonic()
        s.violation = lambda kind, detail: s.found.append(kind)

        class Hook:
            def keys(self):
                return [(time.monotonic(), "rollback:r1", {})]
        s.webhook = Hook()
        records = {"r1": {"rolled_back": [{"to": "r0"}]}, "r2": {"rolled_back": [{"to": "r1", "by": "watchdog"}]}}
        s.final_alerts(records)
        self.assertEqual(s.found, ["alert"])


if __name__ == "__main__":
    unittest.main()
