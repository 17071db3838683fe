#!/usr/bin/env bash
# Rewrites the reference units in deploy/ as `deployctl install-units` writes them for the default
# home /srv/tradingbot and the service user tradingbot (ReferenceUnitsTests keeps them in step).
# usage: scripts/refresh-deploy-units.sh [PATH_TO_DEPLOYCTL [OUT_DIR]]
#        (defaults: .build/debug/deployctl, deploy)
set -euo pipefail
cd "$(dirname "$0")/.."
deployctl="${1:-.build/debug/deployctl}"
out="${2:-deploy}"
home="$(mktemp -d)/home"
mkdir -p "$home/config"
cp config/bot.json config/asset_universe.json config/deploy.json "$home/config/"
# install-units needs an existing user: write for "nobody", then name the service user.
"$deployctl" install-units --systemd --user nobody --home "$home" >/dev/null
"$deployctl" install-units --supervisor --user nobody --home "$home" >/dev/null
for f in "$home"/deploy/*; do
    name="$(basename "$f" | sed 's/nobody/tradingbot/')"
    sed -e "s#$home#/srv/tradingbot#g" -e 's/nobody/tradingbot/g' "$f" > "$out/$name"
done
rm -rf "$(dirname "$home")"
ls "$out"
