#cloud-boothook
#!/bin/bash
# cloverlift boot guard: CloverDX Server '7.0.1' next to '6.4.2' (plan 'qa-europe-west1').
#
# The data disk is a copy of the old server's, so its datasource still names the OLD system
# database. cloud-init runs this file twice on every boot:
#   1. as a boothook, in its init stage, which systemd orders before sysinit.target, so before
#      any ordinary service: it masks `clover` (until the next reboot only) and installs itself
#      as a per-boot script;
#   2. as that per-boot script, in the final stage: it waits for the data disk, rewrites the
#      datasource to the new database, checks that the file names the new host and no longer
#      the old one, waits until the system database backup is restored, and only then unmasks
#      and starts `clover`.
# On any failure it exits non-zero with the reason on the console and leaves `clover` stopped.
# A server that already runs against the new database is never stopped.
set -euo pipefail

readonly service=clover
readonly data_dir=/var/clover
readonly fragment=/var/clover/conf/server_fragment.xml
# Written once the datasource is verified (and, where it applies, the database restored).
readonly state=/var/clover/conf/.cloverlift-datasource
readonly backup='/var/clover/conf/server_fragment.xml.cloverlift-before-qa-europe-west1'
readonly per_boot=/var/lib/cloud/scripts/per-boot/cloverlift-datasource-guard
# Filled in by the deployment (the new database's address); checked below before any use.
readonly new_host='@CLOVERLIFT_DB_HOST@'
readonly mount_attempts='120'
readonly mount_interval=5
readonly restore_marker_url='http://metadata.google.internal/computeMetadata/v1/instance/attributes/cloverlift-database-restored'
readonly restore_wait_seconds='21600'
readonly restore_interval=30

log() {
  # cloud-init copies its children's output to the console (serial log) and its log file.
  printf 'cloverlift-guard: %s\n' "$*" >&2
}

fail() {
  log "FAILED: $*"
  log "clover stays stopped; fix the cause and reboot, or run $per_boot finish"
  exit 1
}

check_new_host() {
  case "$new_host" in
    '' | *[!A-Za-z0-9.-]*) fail "the new database address '$new_host' is not a host name or IPv4 address" ;;
  esac
}

# Every host named by a jdbc:postgresql URL in a file (the fragment by default), one per line,
# sorted.
fragment_hosts() {
  grep -o 'jdbc:postgresql://[^/:"?&;<> ]*' "${1:-$fragment}" | sed 's#^jdbc:postgresql://##' | sort -u || true
}

mounted() {
  mountpoint -q "$data_dir"
}

# The datasource names the new database, and nothing else finished here is pending.
verified() {
  mounted && [ -f "$fragment" ] && [ -f "$state" ] &&
    [ "$(cat "$state")" = "$new_host" ] && [ "$(fragment_hosts)" = "$new_host" ]
}

guard() {
  check_new_host
  if [ "$0" != "$per_boot" ]; then
    mkdir -p "$(dirname "$per_boot")"
    install -m 0700 "$0" "$per_boot"
  fi
  if verified; then
    log "the datasource already names $new_host: clover starts as usual"
    return 0
  fi
  # A runtime mask lives in /run: gone at the next boot, when this guard decides again.
  systemctl mask --runtime "$service"
  if systemctl is-active --quiet "$service"; then
    log "WARNING: clover was already running before the guard; stopping it"
    systemctl stop "$service"
  fi
  log "clover is masked until the datasource names $new_host"
}

wait_for_data_disk() {
  local attempt
  for attempt in $(seq 1 "$mount_attempts"); do
    mounted && return 0
    mount "$data_dir" 2>/dev/null || true
    mounted && return 0
    log "waiting for the data disk at $data_dir (attempt $attempt of $mount_attempts)"
    sleep "$mount_interval"
  done
  fail "the data disk never mounted at $data_dir (tried $mount_attempts times, $mount_interval s apart)"
}

rewrite_datasource() {
  local hosts
  hosts="$(fragment_hosts)"
  [ -n "$hosts" ] || fail "$fragment names no jdbc:postgresql:// database"
  if [ "$hosts" != "$new_host" ]; then
    # The original is kept once: a later boot must still know which hosts were the old ones.
    if [ ! -f "$backup" ]; then
      cp -p "$fragment" "$backup"
    fi
    sed -i -E "s#(jdbc:postgresql://)[^/:\"?&;<> ]+#\\1$new_host#g" "$fragment" ||
      fail "could not rewrite $fragment"
    log "the datasource now names $new_host instead of $(printf '%s' "$hosts" | tr '\n' ' ')"
  fi
  check_rewrite
}

# The fragment names the new host and nothing of the old datasource's hosts, on every boot.
check_rewrite() {
  local old
  [ "$(fragment_hosts)" = "$new_host" ] ||
    fail "after the rewrite $fragment names '$(fragment_hosts | tr '\n' ' ')', not only $new_host"
  [ -f "$backup" ] || return 0
  while IFS= read -r old; do
    if [ -n "$old" ] && [ "$old" != "$new_host" ] && grep -qF "$old" "$fragment"; then
      fail "after the rewrite $fragment still names the old database host $old"
    fi
  done <<<"$(fragment_hosts "$backup")"
}

wait_for_restore() {
  [ -n "$restore_marker_url" ] || return 0
  local waited=0
  until [ "$(curl -sf -H 'Metadata-Flavor: Google' "$restore_marker_url" 2>/dev/null || true)" = true ]; do
    if [ "$waited" -ge "$restore_wait_seconds" ]; then
      fail "the system database was not marked restored within $restore_wait_seconds s ($restore_marker_url)"
    fi
    if [ $((waited % 300)) -eq 0 ]; then
      log "waiting for the system database restore ($waited s of $restore_wait_seconds s)"
    fi
    sleep "$restore_interval"
    waited=$((waited + restore_interval))
  done
  log "the system database is restored"
}

finish() {
  check_new_host
  if verified; then
    systemctl unmask --runtime "$service"
    systemctl is-active --quiet "$service" || systemctl start "$service"
    log "clover runs against $new_host"
    return 0
  fi
  wait_for_data_disk
  [ -f "$fragment" ] || fail "$fragment is missing on the data disk"
  rewrite_datasource
  wait_for_restore
  printf '%s\n' "$new_host" >"$state"
  verified || fail "$fragment did not verify after the rewrite"
  systemctl unmask --runtime "$service"
  systemctl start "$service"
  log "clover started against $new_host"
}

# cloud-init runs the boothook and the per-boot copy without arguments; by hand, name the phase.
phase="${1:-}"
if [ -z "$phase" ]; then
  if [ "$0" = "$per_boot" ]; then phase=finish; else phase=guard; fi
fi
case "$phase" in
  guard) guard ;;
  finish) finish ;;
  *) fail "unknown phase '$phase' (expected guard or finish)" ;;
esac
