#!/bin/bash
# cloverlift war upgrade '7.0.0' -> '7.0.1' on Google Cloud (plan 'prod-europe-west1-war').
# Compute Engine has no run command, and cloverlift holds no SSH key: `cloverlift apply` puts
# this script in the old instance's `startup-script` metadata key (keeping the instance's own
# script in `cloverlift-before-startup-script`) and restarts the instance. Google's guest agent
# runs it once the instance has booted, as root. It
#   1. runs the instance's own startup script first, so the boot is the one it always was;
#   2. runs war-upgrade.sh (metadata key `cloverlift-war-upgrade`) once per action listed in
#      `cloverlift-war-actions`, in order, stopping at the first that fails;
#   3. reports each action's exit status and the tail of its stderr as the guest attribute
#      cloverlift/RUN-ACTION, and how the run ended as cloverlift/RUN-end, which apply reads
#      with instances.getGuestAttributes (values stay under Compute Engine's size limit).
# A run that completed is remembered on the instance, so a later boot before apply puts the
# metadata back runs only the instance's own script. Every action is idempotent: a run cut
# short by a crash or a reset starts over on the next boot.
set -uo pipefail

readonly metadata=http://metadata.google.internal/computeMetadata/v1/instance
readonly state_dir=/var/lib/cloverlift/war-runs
readonly work_dir=/run/cloverlift
readonly tail_bytes='200'

log() {
  printf 'cloverlift-war: %s\n' "$*" >&2
}

# A metadata attribute of this instance; fails when it is not set.
attribute() {
  curl --fail --silent --show-error --header 'Metadata-Flavor: Google' \
    "$metadata/attributes/$1"
}

# A guest attribute in the `cloverlift` namespace. A report that cannot be written is logged:
# apply then times out waiting for it and says so, rather than the upgrade stopping here.
report() {
  curl --fail --silent --show-error --request PUT --header 'Metadata-Flavor: Google' \
    --data-binary "$2" "$metadata/guest-attributes/cloverlift/$1" >/dev/null ||
    log "could not report $1=$2 as a guest attribute (is enable-guest-attributes TRUE?)"
}

# The last bytes of a file on one line, printable, for a report.
tail_of() {
  tail --bytes="$tail_bytes" "$1" | tr -c '[:print:]' ' ' | sed 's/ *$//'
}

run_own_startup_script() {
  local own="$work_dir/own-startup-script"
  if attribute cloverlift-before-startup-script >"$own" 2>/dev/null; then
    chmod 0700 "$own"
    log "running the instance's own startup script first"
    # As the guest agent does: a script without a `#!` line runs with bash.
    if [ "$(head --bytes=2 "$own")" = '#!' ]; then
      "$own" || log "the instance's own startup script exited $?"
    else
      bash "$own" || log "the instance's own startup script exited $?"
    fi
  fi
}

main() {
  mkdir -p "$work_dir" "$state_dir"
  chmod 0700 "$work_dir"
  run_own_startup_script
  local run actions action stderr_tail status=0 last=none
  if ! run="$(attribute cloverlift-war-run 2>/dev/null)"; then
    log "no cloverlift-war-run in the metadata: nothing to do"
    return 0
  fi
  case "$run" in
    *[!a-z0-9-]* | '') log "cloverlift-war-run '$run' is not a run name"; return 2 ;;
  esac
  if [ -e "$state_dir/$run" ]; then
    log "run $run completed on an earlier boot: nothing to do"
    return 0
  fi
  actions="$(attribute cloverlift-war-actions)" || { log "no cloverlift-war-actions"; return 2; }
  attribute cloverlift-war-upgrade >"$work_dir/war-upgrade.sh" || { log "no cloverlift-war-upgrade"; return 2; }
  chmod 0700 "$work_dir/war-upgrade.sh"
  for action in $actions; do
    case "$action" in
      stop | replace | start) ;;
      *) log "unknown action '$action'"; status=2; last="$action"; break ;;
    esac
    local url='' sha256=''
    if [ "$action" = replace ]; then
      url="$(attribute cloverlift-war-url)" || url=''
      sha256="$(attribute cloverlift-war-sha256)" || sha256=''
    fi
    log "war-upgrade.sh $action (run $run)"
    status=0
    CLOVERLIFT_ACTION="$action" CLOVERLIFT_WAR_URL="$url" CLOVERLIFT_WAR_SHA256="$sha256" \
      "$work_dir/war-upgrade.sh" 2>"$work_dir/$action.stderr" || status=$?
    # The guest agent logs stderr to the serial console and the journal.
    cat "$work_dir/$action.stderr" >&2
    last="$action"
    stderr_tail="$(tail_of "$work_dir/$action.stderr")"
    report "$run-$action" "$status${stderr_tail:+ $stderr_tail}"
    [ "$status" -eq 0 ] || break
  done
  touch "$state_dir/$run"
  report "$run-end" "$last $status"
  return "$status"
}

main
