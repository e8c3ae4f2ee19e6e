#!/usr/bin/env bash
# In-place CloverDX upgrade '7.0.0' -> '7.0.1' (cloverlift plan 'prod-westeurope-war').
# Runs on the server, as root, one action at a time, in this order:
#   war-upgrade.sh stop
#   war-upgrade.sh replace WAR_URL SHA256
#   war-upgrade.sh start
# Rollback: stop, restore the system database and the data disk from the snapshots taken before
# `stop`, move clover.war.previous back to clover.war, start.
set -euo pipefail

readonly webapps='/opt/clover/tomcat/webapps'
readonly service='clover'
readonly owner='clover'

action="${1:?usage: war-upgrade.sh stop|replace|start [WAR_URL SHA256]}"

case "$action" in
  stop)
    systemctl stop "$service"
    ;;
  replace)
    url="${2:?replace needs the WAR URL}"
    sha256="${3:?replace needs the sha256 of the WAR}"
    staging="$(mktemp -d /var/tmp/cloverlift-war.XXXXXX)"
    trap 'rm -rf "$staging"' EXIT
    curl --fail --silent --show-error --location --proto '=https' --tlsv1.2 \
      --output "$staging/clover.war" "$url"
    if ! echo "$sha256  $staging/clover.war" | sha256sum --check --status; then
      echo "clover.war from $url does not match sha256 $sha256; nothing was replaced" >&2
      exit 1
    fi
    if [ -f "$webapps/clover.war" ]; then
      cp -p "$webapps/clover.war" "$webapps/clover.war.previous"
    fi
    # Tomcat unpacks the WAR into webapps/clover; remove it so the new version is unpacked.
    rm -rf "$webapps/clover"
    install -m 0644 -o "$owner" -g "$owner" "$staging/clover.war" "$webapps/clover.war"
    ;;
  start)
    systemctl start "$service"
    ;;
  *)
    echo "unknown action: $action (expected stop, replace or start)" >&2
    exit 2
    ;;
esac
