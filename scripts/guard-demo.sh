#!/usr/bin/env bash
# The guard at work: makes a deliberately broken commit on a temporary branch of the home's
# repository (its Package.swift no longer parses), releases it with deployctl, and shows that
# the release is refused while the live slot trades on. The branch is deleted at the end; the
# working tree is never touched.
#   scripts/guard-demo.sh [--home DIR]     (default: ~/tradingbot-home, as scripts/start.sh)
set -euo pipefail
home=""
while [ $# -gt 0 ]; do
    case "$1" in
        --home) home=$2; shift 2 ;;
        -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
        *) echo "guard-demo.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
[ -n "$home" ] || home="$HOME/tradingbot-home"
[ -f "$home/config/deploy.json" ] || { echo "guard-demo.sh: $home is not a home; run scripts/start.sh first" >&2; exit 2; }
owner=$(stat -c %U "$home")
if [ "$(id -un)" != "$owner" ]; then
    # The home's owner runs the bot (scripts/start.sh as root made it the user tradingbot).
    [ "$(id -u)" -eq 0 ] || { echo "guard-demo.sh: run as $owner (or root)" >&2; exit 2; }
    # The script comes on stdin: the user may not read a checkout under /root.
    exec runuser -u "$owner" -- env HOME="$(getent passwd "$owner" | cut -d: -f6)" PATH="$PATH" \
        bash -s -- --home "$home" < "$0"
fi
deployctl="$home/bin/deployctl"
repo=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["repo"])' "$home/config/deploy.json")
live() { "$deployctl" status --home "$home" --json | python3 -c 'import json,sys; a=json.load(sys.stdin).get("active") or {}; print(a.get("release"), a.get("sha"))'; }
cycle() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["cycle"])' "$home/state/heartbeat.json"; }

before=$(live)
echo "== live now: $before (engine at cycle $(cycle))"
branch="guard-demo-$(date +%s)"
index=$(mktemp)
trap 'rm -f "$index"; git -C "$repo" branch -q -D "$branch" 2>/dev/null || true' EXIT
broken=$(printf 'this is not a Swift package manifest\n' | git -C "$repo" hash-object -w --stdin)
GIT_INDEX_FILE=$index git -C "$repo" read-tree HEAD
GIT_INDEX_FILE=$index git -C "$repo" update-index --cacheinfo "100644,$broken,Package.swift"
tree=$(GIT_INDEX_FILE=$index git -C "$repo" write-tree)
commit=$(GIT_AUTHOR_NAME="guard demo" GIT_AUTHOR_EMAIL=guard-demo@localhost GIT_COMMITTER_NAME="guard demo" \
    GIT_COMMITTER_EMAIL=guard-demo@localhost git -C "$repo" commit-tree "$tree" -p HEAD -m "guard demo: a broken Package.swift")
git -C "$repo" branch -q "$branch" "$commit"
echo "== releasing the broken commit ${commit:0:12} (branch $branch)"
set +e
"$deployctl" release --home "$home" --ref "$branch"
status=$?
set -e
after=$(live)
echo
if [ "$status" -ne 0 ] && [ "$after" = "$before" ]; then
    echo "== REFUSED (exit $status): still live: $after; the engine is at cycle $(cycle) and trades on"
else
    echo "== unexpected: exit $status, live before: $before, after: $after" >&2
    exit 1
fi
