#!/usr/bin/env bash
# From a fresh Debian machine to a running, guarded bot: installs what is missing, builds
# deployctl, makes a home, releases this checkout's HEAD into a slot with `deployctl release`
# (libgit2 clone, release build, checks against the sample positions copied into the home),
# which starts the engine (paper trading on the simulated market), the watchdog and the
# dashboard under the home's own supervisord; then sets a dashboard password (shown once) and
# prints what runs and how to stop and start it. Run again, it only does what is missing.
#
#   scripts/start.sh [--home DIR] [--port N] [--cycle-seconds N]
#
# As root it installs the packages, then runs the bot as the unprivileged user `tradingbot`
# (created when missing), from its own clone of this checkout; the default home is then
# /var/lib/tradingbot/tradingbot-home. As another user it says what to run as root.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
home=""
port=""
cycle=""
while [ $# -gt 0 ]; do
    case "$1" in
        --home) home=$2; shift 2 ;;
        --port) port=$2; shift 2 ;;
        --cycle-seconds) cycle=$2; shift 2 ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "start.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

say() { printf '== %s\n' "$*"; }

if [ "$(id -u)" -eq 0 ] && [ "${TRADINGBOT_START_AS_USER:-}" != "1" ]; then
    "$repo/scripts/install-deps.sh"
    user=tradingbot
    if ! id "$user" >/dev/null 2>&1; then
        say "creating the service user $user"
        useradd --system --create-home --home-dir /var/lib/tradingbot --shell /usr/sbin/nologin "$user"
    fi
    user_home=$(getent passwd "$user" | cut -d: -f6)
    source="$user_home/source"
    # The user's own clone of this checkout's HEAD: it may not read a checkout under /root.
    if [ ! -d "$source/.git" ]; then
        say "cloning this checkout into $source"
        git clone -q --no-local "$repo" "$source"
    else
        # Root updates the user's clone (then gives it back): an exception for this one repository.
        git -c safe.directory="$source" -C "$source" fetch -q "$repo" HEAD
        git -c safe.directory="$source" -C "$source" reset -q --hard FETCH_HEAD
    fi
    chown -R "$user:" "$source"
    [ -n "$home" ] || home="$user_home/tradingbot-home"
    mkdir -p "$home"
    chown "$user:" "$home"
    # Where git reads Swift packages through a mirror root owns (an insteadOf in /etc/gitconfig),
    # the service user's builds (this one, and every release's in its slot) may read those
    # repositories: safe.directory entries in the user's own ~/.gitconfig, never in /etc.
    as_user_git() { runuser -u "$user" -- env HOME="$user_home" git "$@"; }
    trusted=$(as_user_git config --global --get-all safe.directory 2>/dev/null || true)
    { git config --system --get-regexp '^url\..*\.insteadof$' 2>/dev/null || true; } | sed 's/^url\.\(.*\)\.insteadof .*/\1/' | sort -u |
        while read -r mirror; do
            [ -d "$mirror" ] || continue
            find "$mirror" -maxdepth 3 -name '*.git' -type d | while read -r repository; do
                grep -qxF "$repository" <<< "$trusted" || as_user_git config --global --add safe.directory "$repository"
            done
        done
    args=(--home "$home")
    [ -z "$port" ] || args+=(--port "$port")
    [ -z "$cycle" ] || args+=(--cycle-seconds "$cycle")
    runuser -u "$user" -- env HOME="$user_home" USER="$user" PATH="$PATH" TRADINGBOT_START_AS_USER=1 \
        TRADINGBOT_START_COMMAND="$repo/scripts/start.sh" \
        bash "$source/scripts/start.sh" "${args[@]}"
    home=$(cd "$home" && pwd)
    # What brings the bot back after a reboot: a boot unit where systemd runs the machine, else
    # the one line for whatever starts this machine or container.
    echo
    if [ -d /run/systemd/system ]; then
        cp "$home/deploy/tradingbot-boot.service" /etc/systemd/system/tradingbot-boot.service
        systemctl daemon-reload
        systemctl enable tradingbot-boot.service >/dev/null 2>&1
        say "after a reboot: systemd runs tradingbot-boot.service (deployctl boot) as $user"
    else
        say "after a reboot: nothing here starts it (PID 1 is $(cat /proc/1/comm), not systemd); put this line in the container's start command or the host's restart policy:"
        echo "  runuser -u $user -- $home/bin/deployctl boot --home $home"
    fi
    exit 0
fi

[ -n "$home" ] || home="$HOME/tradingbot-home"
if [ "$(id -u)" -ne 0 ]; then
    # Lists what is missing and exits 1 with the command to run as root.
    "$repo/scripts/install-deps.sh"
fi
if [ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ]; then
    echo "note: this checkout has uncommitted changes; a release takes the committed HEAD only" >&2
fi
head_sha=$(git -C "$repo" rev-parse HEAD)

mkdir -p "$home"
home=$(cd "$home" && pwd)
# The deployctl that makes the home and releases: the package is built once. On a new home it is
# built in the home's build workspace, where every release builds (for either slot), so the first
# release's build finds it done; when this checkout's HEAD is already live, the live release's own.
current="$home/slots/current"
workspace="$home/workspace"
if [ -f "$current/.release" ] && [ -x "$current/.build/release/deployctl" ] &&
    [ "$(git -C "$current" rev-parse HEAD 2>/dev/null || true)" = "$head_sha" ]; then
    deployctl="$current/.build/release/deployctl"
elif [ ! -e "$current" ]; then
    say "building the package (release) in $workspace, where every release is built"
    if [ ! -f "$workspace/Package.swift" ]; then
        mkdir -p "$workspace"
        git -C "$repo" archive HEAD | tar -x -C "$workspace"
    fi
    (cd "$workspace" && swift build -c release 2>&1 | tail -n 1)
    # A copy: the release rebuilds the workspace while this deployctl runs.
    bin=$(mktemp -d)
    trap 'rm -rf "$bin"' EXIT
    cp "$workspace/.build/release/deployctl" "$bin/deployctl"
    deployctl="$bin/deployctl"
else
    say "building deployctl (release)"
    (cd "$repo" && swift build -c release --product deployctl 2>&1 | tail -n 1)
    deployctl="$(cd "$repo" && swift build -c release --show-bin-path)/deployctl"
fi
conf="$home/deploy/supervisord.conf"
if [ ! -f "$home/config/deploy.json" ]; then
    say "making the home $home"
    "$deployctl" init --home "$home" --repo "$repo" --service-manager supervisor >/dev/null
    # The real-shaped sample positions, so the release's checks run against real data.
    cp "$repo/Tests/Fixtures/positions/positions_futures.json" "$home/logs/positions_futures.json"
fi
if [ -n "$port$cycle" ]; then
    python3 - "$home/config/bot.json" "$port" "$cycle" <<'EOF'
import json, os, sys
path, port, cycle = sys.argv[1:4]
with open(path) as f:
    bot = json.load(f)
if port:
    bot.setdefault("dashboard", {})["port"] = int(port)
if cycle:
    bot["cycle_seconds"] = int(cycle)
with open(path + ".tmp", "w") as f:
    json.dump(bot, f, indent=2)
    f.write("\n")
    f.flush()
    os.fsync(f.fileno())
os.replace(path + ".tmp", path)
EOF
fi

live_sha=$("$deployctl" status --home "$home" --json 2>/dev/null \
    | python3 -c 'import json,sys; print((json.load(sys.stdin).get("active") or {}).get("sha") or "")' 2>/dev/null || true)
running=$( { supervisorctl -c "$conf" status tradingbot 2>/dev/null || true; } | grep -c RUNNING || true)
if [ "$live_sha" = "$head_sha" ] && [ "$running" = "1" ]; then
    say "release of $head_sha already live and running: nothing to release"
elif [ "$live_sha" = "$head_sha" ]; then
    # Stopped (a shutdown, a reboot): start the home's supervisord on the live slot, no release.
    say "release of $head_sha is live but stopped: starting the home's supervisord"
    # What a reboot runs too: the home's supervisord and its programs, no release.
    "$deployctl" boot --home "$home" || echo "note: deployctl boot says the bot did not come up (above)" >&2
else
    say "releasing $head_sha into a slot (clone, release build, checks; several minutes the first time)"
    # --detach: back after the first healthy cycle; the watchdog ends the probation (3 healthy
    # cycles) and marks the release good, or rolls it back.
    "$deployctl" release --home "$home" --ref "$head_sha" --detach
fi

# An older home gets what later versions added: the guard copy, and the boot unit beside the
# supervisord config (written again only when it changed).
"$deployctl" install-units --supervisor --home "$home" >/dev/null

binary="$home/slots/current/.build/release/tradingbot"
secrets="$home/config/secrets.env"
password_file="$home/config/dashboard-password"
shown=""
if ! grep -q '^TRADINGBOT_DASHBOARD_PASSWORD_HASH=' "$secrets" 2>/dev/null; then
    say "setting a dashboard password"
    password=$(python3 -c 'import secrets; print(secrets.token_urlsafe(15))')
    hash=$(printf '%s\n' "$password" | "$binary" hash-password)
    umask 077
    touch "$secrets" "$password_file"
    chmod 600 "$secrets" "$password_file"
    printf 'TRADINGBOT_DASHBOARD_PASSWORD_HASH=%s\n' "$hash" >> "$secrets"
    printf '%s\n' "$password" > "$password_file"
    supervisorctl -c "$conf" restart tradingbot-dashboard >/dev/null
    shown=$password
fi

bind=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])).get("dashboard",{}); print(d.get("bind","127.0.0.1"), d.get("port",8050))' "$home/config/bot.json")
address="http://${bind% *}:${bind#* }"
python3 - "$address/healthz" <<'EOF' || echo "note: the dashboard does not answer yet: $home/logs/dashboard.err.log" >&2
import sys, time, urllib.request
for _ in range(60):
    try:
        urllib.request.urlopen(sys.argv[1], timeout=2)
        sys.exit(0)
    except Exception:
        time.sleep(1)
sys.exit(1)
EOF

echo
say "tradingbot is running: paper trading on the simulated market, guarded by the watchdog"
echo "  home       $home"
{ supervisorctl -c "$conf" status || true; } | sed 's/^/  /'
echo "  dashboard  $address"
if [ -n "$shown" ]; then
    echo "  password   $shown"
    echo "             (shown this once; kept in $password_file, mode 0600)"
else
    echo "  password   in $password_file (mode 0600)"
fi
echo
echo "  status       $home/bin/deployctl status --home $home"
echo "  the journal  supervisorctl -c $conf tail -f tradingbot"
echo "  stop         supervisorctl -c $conf shutdown"
echo "  start again  ${TRADINGBOT_START_COMMAND:-$0} --home $home"
if [ "${TRADINGBOT_START_AS_USER:-}" = "1" ]; then
    echo "  after a reboot  runuser -u $(id -un) -- $home/bin/deployctl boot --home $home"
else
    echo "  after a reboot  $home/bin/deployctl boot --home $home"
fi
if [ "${TRADINGBOT_START_AS_USER:-}" != "1" ]; then
    if [ -d /run/systemd/system ]; then
        echo "  at boot      as root: cp $home/deploy/tradingbot-boot.service /etc/systemd/system/ && systemctl daemon-reload && systemctl enable tradingbot-boot.service"
    else
        echo "  at boot      nothing here starts it (PID 1 is $(cat /proc/1/comm), not systemd): put the 'after a reboot' line in the container's start or the host's restart policy"
    fi
fi
