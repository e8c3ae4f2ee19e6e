#!/usr/bin/env bash
# In-place CloverDX upgrade '7.0.0' -> '7.0.1' (cloverlift plan 'prod-europe-west1-war').
# Runs on the server, as root, one action at a time, in this order:
#   war-upgrade.sh stop
#   war-upgrade.sh replace WAR_URL SHA256
#   war-upgrade.sh start
# and, to go back: war-upgrade.sh stop; war-upgrade.sh rollback; war-upgrade.sh start (after
# restoring the system database and the data disk from the snapshots taken before `stop`).
# The WAR that `replace` found is kept as clover.war.before-PLAN: once per plan, so a second
# `replace` cannot overwrite it, and a backup left by an earlier upgrade is never taken for it.
# The arguments may instead come as the environment variables CLOVERLIFT_ACTION,
# CLOVERLIFT_WAR_URL and CLOVERLIFT_WAR_SHA256 (Azure run commands pass named parameters so,
# and a signed URL never appears on a command line).
set -euo pipefail

readonly webapps='/opt/clover/tomcat/webapps'
readonly service='clover'
readonly owner='clover'
readonly backup='/opt/clover/tomcat/webapps/clover.war.before-prod-europe-west1-war'
readonly health_url='https://127.0.0.1/clover/accessibilityTest.jsp'
readonly start_timeout_seconds='900'

action="${1:-${CLOVERLIFT_ACTION:-}}"
war_url="${2:-${CLOVERLIFT_WAR_URL:-}}"
war_sha256="${3:-${CLOVERLIFT_WAR_SHA256:-}}"

log() {
  printf 'war-upgrade: %s\n' "$*" >&2
}

sha256_of() {
  sha256sum "$1" | cut -d' ' -f1
}

replace() {
  [ -n "$war_url" ] || { log "replace needs the WAR URL"; exit 2; }
  case "$war_sha256" in
    *[!0-9a-f]* | '') log "replace needs the sha256 of the WAR (64 lowercase hex digits)"; exit 2 ;;
  esac
  [ "${#war_sha256}" -eq 64 ] || { log "the sha256 must have 64 hex digits"; exit 2; }
  if [ -f "$webapps/clover.war" ] && [ "$(sha256_of "$webapps/clover.war")" = "$war_sha256" ]; then
    log "clover.war already is the new WAR ($war_sha256); nothing to replace"
    return 0
  fi
  local staging
  staging="$(mktemp -d /var/tmp/cloverlift-war.XXXXXX)"
  # shellcheck disable=SC2064 # expand now: $staging is local to this function
  trap "rm -rf '$staging'" EXIT
  curl --fail --silent --show-error --location --proto '=https' --tlsv1.2 \
    --output "$staging/clover.war" "$war_url"
  if [ "$(sha256_of "$staging/clover.war")" != "$war_sha256" ]; then
    log "the downloaded WAR does not match sha256 $war_sha256; nothing was replaced"
    exit 1
  fi
  # Keep the first backup of this plan: a second replace must not overwrite the WAR to roll
  # back to.
  if [ -f "$webapps/clover.war" ] && [ ! -f "$backup" ]; then
    cp -p "$webapps/clover.war" "$backup"
  fi
  # Tomcat unpacks the WAR into webapps/clover; remove it so the new version is unpacked.
  rm -rf "$webapps/clover"
  install -m 0644 -o "$owner" -g "$owner" "$staging/clover.war" "$webapps/clover.war"
  log "clover.war replaced by $war_sha256"
}

rollback() {
  if [ ! -f "$backup" ]; then
    log "no $backup to roll back to"
    exit 1
  fi
  rm -rf "$webapps/clover"
  install -m 0644 -o "$owner" -g "$owner" "$backup" "$webapps/clover.war"
  rm -f "$backup"
  log "clover.war restored from $backup"
}

# The server answers once accessibilityTest.jsp does: 200, or 503 with the body SUSPENDED
# while it waits for the confirmation of system database patches (another 503, from a proxy
# say, is no answer from CloverDX).
start() {
  systemctl start "$service"
  local waited=0 status body
  body="$(mktemp)"
  # shellcheck disable=SC2064 # expand now: $body is local to this function
  trap "rm -f '$body'" EXIT
  while :; do
    status="$(curl --silent --insecure --output "$body" --write-out '%{http_code}' "$health_url" || true)"
    case "$status" in
      200) log "the server answers at $health_url"; return 0 ;;
      503)
        if grep -q SUSPENDED "$body"; then
          log "the server answers at $health_url but is suspended: confirm the system database patches"
          return 0
        fi
        ;;
    esac
    if [ "$waited" -ge "$start_timeout_seconds" ]; then
      log "the server did not answer at $health_url within $start_timeout_seconds s (last status $status)"
      exit 1
    fi
    sleep 5
    waited=$((waited + 5))
  done
}

case "$action" in
  stop) systemctl stop "$service" ;;
  replace) replace ;;
  start) start ;;
  rollback) rollback ;;
  *)
    log "unknown action '$action' (expected stop, replace, start or rollback)"
    exit 2
    ;;
esac
