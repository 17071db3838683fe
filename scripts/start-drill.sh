#!/usr/bin/env bash
# CI's drill of the README's first command, run exactly as written (`scripts/start.sh`, from the
# repository, nothing done to the machine first: where Swift packages come from a mirror root
# owns, the service user's builds must read it by themselves), then what the newcomer should
# find: the three programs RUNNING, the engine's heartbeat advancing, the dashboard answering
# and taking the printed password, the password file 0600, the guard demo's broken release
# refused while the engine trades on, and a second run that releases nothing and shows no
# password; stopped, it starts again without a release; every process of the home killed at
# once (a reboot), the printed boot line brings the same release back without a release step.
# Exit 0 when all holds. It leaves the machine as it found it: passed, it removes the home and the
# service user it made; failed, it stops the home and keeps it to be read until the next drill.
#   scripts/start-drill.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
fail() { echo "start-drill: FAILED: $*" >&2; exit 1; }
# True once supervisord says RUNNING (it says STARTING for its startsecs after a spawn, and an
# engine that beats at once can be reported started before that): polled for up to 30 s.
running_soon() {
    for _ in $(seq 1 60); do
        supervisorctl -c "$conf" status "$1" | grep -q RUNNING && return 0
        sleep 0.5
    done
    return 1
}
out=$(mktemp)
home=""
# The drill claims what it is about to make (the default home, and the service user when it
# makes one) in a file outside the home, before start.sh runs. A later drill on the same machine
# removes what a claim names (a drill killed, or one that failed and kept its home to be read);
# a home no claim names is someone's real install and is never touched.
claim="/var/tmp/tradingbot-start-drill.$(id -u).claim"
if [ "$(id -u)" -eq 0 ]; then default_home=/var/lib/tradingbot/tradingbot-home; else default_home="$HOME/tradingbot-home"; fi
# Stop and kill every process of a home: its supervisord first, then whatever names the home.
stop_home() {
    supervisorctl -c "$1/deploy/supervisord.conf" shutdown >/dev/null 2>&1 || true
    python3 - "$1" <<'EOF' || true
import os, signal, sys
home = sys.argv[1].encode()
for pid in os.listdir("/proc"):
    if pid.isdigit() and int(pid) != os.getpid():
        try:
            if any(home in w for w in open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")):
                os.kill(int(pid), signal.SIGKILL)
        except OSError:
            pass
EOF
}
# Remove what a claim names: its home, and the service user with its home directory when the
# drill made the user.
release_claim() {
    local claimed_home made_user
    claimed_home=$(sed -n 's/^home=//p' "$claim")
    made_user=$(sed -n 's/^made_user=//p' "$claim")
    if [ -n "$claimed_home" ]; then stop_home "$claimed_home"; rm -rf "$claimed_home"; fi
    if [ -n "$made_user" ] && id "$made_user" >/dev/null 2>&1; then
        pkill -KILL -u "$made_user" 2>/dev/null || true
        sleep 1
        userdel -r "$made_user" >/dev/null 2>&1 || true
    fi
    rm -f "$claim"
}
passed=0
cleanup() {
    if [ "$passed" = 1 ]; then
        release_claim
    elif [ -n "$home" ]; then
        stop_home "$home"
        echo "start-drill: the home is kept to be read: $home (the next drill removes it)" >&2
    fi
}
trap cleanup EXIT

if [ -e "$claim" ]; then
    echo "== start-drill: removing what an earlier drill left ($(tr '\n' ' ' < "$claim"))"
    release_claim
fi
# A fresh machine only: the default home of a real install is never touched.
for existing in /var/lib/tradingbot/tradingbot-home "$HOME/tradingbot-home"; do
    [ ! -e "$existing" ] || fail "$existing exists and no earlier drill made it: the drill runs start.sh as written, on a fresh machine only"
done
made_user=""
if [ "$(id -u)" -eq 0 ] && ! id tradingbot >/dev/null 2>&1; then made_user=tradingbot; fi
printf 'home=%s\nmade_user=%s\n' "$default_home" "$made_user" > "$claim"
echo "== start-drill: scripts/start.sh (the README's first command, as written)"
first=$(mktemp)
(cd "$repo" && scripts/start.sh) | tee "$first"
cp "$first" "$out"
home=$(sed -n 's/^  home       \(.*\)$/\1/p' "$out")
[ -n "$home" ] || fail "start.sh did not say where the home is"
conf="$home/deploy/supervisord.conf"
port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("dashboard", {}).get("port", 8050))' "$home/config/bot.json")
password=$(sed -n 's/^  password   \([^ ]*\)$/\1/p' "$out")
[ -n "$password" ] || fail "no password printed on the first run"
for program in tradingbot watchdog tradingbot-dashboard; do
    running_soon "$program" || fail "$program is not RUNNING"
done
[ "$(stat -c %a "$home/config/dashboard-password")" = 600 ] || fail "the password file is not mode 600"
[ "$(stat -c %a "$home/config/secrets.env")" = 600 ] || fail "secrets.env is not mode 600"
if [ "$(id -u)" -eq 0 ]; then
    [ "$(stat -c %U "$home")" = tradingbot ] || fail "run as root, the home is not the service user's"
    [ "$(stat -c %U "/proc/$(supervisorctl -c "$conf" pid tradingbot)")" = tradingbot ] \
        || fail "run as root, the engine does not run as the service user"
fi
grep -rq "$password" "$home/logs" && fail "the password is in a log"
# The product's own doctor agrees: the checks about this home and what runs it all pass (disk,
# clock and build tool depend on the machine the drill runs on).
"$home/bin/deployctl" doctor --home "$home" --json > "$out" || true
python3 - "$out" <<'EOF' || fail "deployctl doctor finds the fresh home unhealthy"
import json, sys
checks = {c["name"]: c for c in json.load(open(sys.argv[1]))["checks"]}
wanted = ["config", "slots", "guard", "engine", "heartbeat", "positions", "secrets", "dashboard", "units", "watchdog", "locks"]
bad = [f'{n}: {checks.get(n, {}).get("detail", "missing")}' for n in wanted if not checks.get(n, {}).get("ok")]
print("\n".join(bad), file=sys.stderr)
sys.exit(1 if bad else 0)
EOF

python3 - "$home" "$port" "$password" <<'EOF' || fail "the engine or the dashboard is not what the newcomer should find"
import http.cookiejar, json, re, sys, time, urllib.parse, urllib.request
home, port, password = sys.argv[1:4]
def beat():
    with open(home + "/state/heartbeat.json") as f:
        return json.load(f)["cycle"]
first = beat()
deadline = time.time() + 240
while beat() <= first and time.time() < deadline:
    time.sleep(1)
assert beat() > first, "the heartbeat's cycle does not advance"
base = "http://127.0.0.1:%s" % port
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
assert opener.open(base + "/healthz", timeout=10).status == 200
page = opener.open(base + "/login", timeout=10).read().decode()
csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
form = urllib.parse.urlencode({"csrf": csrf, "password": password}).encode()
home_page = opener.open(base + "/login", data=form, timeout=30).read().decode()
assert 'action="/login"' not in home_page, "the printed password does not log in"
print("start-drill: heartbeat advancing, /healthz 200, the printed password logs in")
EOF

echo "== start-drill: the guard demo (a broken commit released while the bot trades)"
"$repo/scripts/guard-demo.sh" --home "$home" | tee "$out"
grep -q "^== REFUSED (exit 1): still live: " "$out" || fail "the guard demo's broken release was not refused"
before=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["cycle"])' "$home/state/heartbeat.json")
python3 - "$home" "$before" <<'EOF' || fail "the engine stopped trading during the guard demo"
import json, sys, time
home, before = sys.argv[1], int(sys.argv[2])
deadline = time.time() + 240
while time.time() < deadline:
    with open(home + "/state/heartbeat.json") as f:
        if json.load(f)["cycle"] > before:
            sys.exit(0)
    time.sleep(1)
sys.exit(1)
EOF

echo "== start-drill: the second run"
# Ledger lines not written by the watchdog: on 60 s cycles it may commit the release (3 healthy
# cycles) at any moment of the drill, which is its job; start.sh and boot write nothing.
ours() { grep -vc '"by":"watchdog"' "$home/state/releases.jsonl" || true; }
releases=$(ours)
(cd "$repo" && scripts/start.sh) | tee "$out"
grep -q "nothing to release" "$out" || fail "the second run released again"
[ "$(ours)" = "$releases" ] || fail "the second run wrote the ledger"
grep -q "$password" "$out" && fail "the second run printed the password again"
grep -q "password   in $home/config/dashboard-password" "$out" || fail "the second run does not say where the password is"

echo "== start-drill: stop, then start again"
supervisorctl -c "$conf" shutdown >/dev/null
for _ in $(seq 1 90); do [ -e "$home/state/supervisord.pid" ] || break; sleep 1; done
(cd "$repo" && scripts/start.sh) | tee "$out"
grep -q "is live but stopped: starting" "$out" || fail "starting again did not just start the live release"
[ "$(ours)" = "$releases" ] || fail "starting again wrote the ledger"
for program in tradingbot watchdog tradingbot-dashboard; do
    running_soon "$program" || fail "$program is not RUNNING after starting again"
done

echo "== start-drill: a reboot (every process of the home killed at once), then the printed boot line"
# The summary's line (as root it runs the boot as the service user).
boot_line=$(sed -n 's/^  after a reboot  \(.*\)$/\1/p' "$first" | head -n 1)
[ -n "$boot_line" ] || fail "start.sh printed no boot line"
beat_before=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$home/state/heartbeat.json")
pids=$(python3 - "$home" <<'EOF'
import os, sys
home = sys.argv[1]
for pid in os.listdir("/proc"):
    if not pid.isdigit() or int(pid) == os.getpid():
        continue
    try:
        words = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
    except OSError:
        continue
    if any(home.encode() in w for w in words):
        print(pid)
EOF
)
[ -n "$pids" ] || fail "no process of the home found to kill"
kill -9 $pids 2>/dev/null || true
sleep 1
eval "$boot_line" | tee "$out" || fail "the boot line failed"
[ "$(ours)" = "$releases" ] || fail "boot wrote the ledger"
for program in tradingbot watchdog tradingbot-dashboard; do
    running_soon "$program" || fail "$program is not RUNNING after the boot"
done
beat_after=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$home/state/heartbeat.json")
[ "$beat_after" != "$beat_before" ] || fail "no new engine beats after the boot"
passed=1
echo "start-drill: OK"
