#!/bin/bash
# Boots a rendered boot guard the way a cloud VM does, in a private mount namespace where
# /var is a fresh tmpfs: the cloud-init init stage runs the boothook part (its first line
# stripped, executed as a file, as cloud-init's boothook handler does), then systemd starts the
# enabled `clover` unit, then the final stage runs the per-boot scripts in name order. Every
# `systemctl` call is recorded by the shim with the hosts the datasource named at that moment.
#
# Usage (as root, or in a user namespace that maps root):
#   unshare -m boot.sh USER_DATA WORK SCENARIO_BOOTS
# WORK holds disk/ (the data disk's tree) and state/; SANDBOX_* variables steer the shims.
# SANDBOX_NO_CLOUD_INIT=yes boots an image without cloud-init; SANDBOX_STARTUP_SCRIPT names a
# script (under /mnt) that Google's guest agent runs after the final stage.
# One line per phase goes to WORK/state/phases: "<boot> <phase> exit=<status>".
set -euo pipefail
user_data="$1"
work="$2"
boots="${3:-1}"
# WORK, and this checkout, may be under /var (a target dir in /var/tmp, a CI workspace): the
# work dir moves to /mnt and the shims into it before /var and /run are replaced.
/usr/bin/mount --bind "$work" /mnt
work=/mnt
mkdir -p "$work/sandbox"
cp -r "$(cd "$(dirname "$0")" && pwd)/shims" "$work/sandbox/"
here="$work/sandbox"
export SANDBOX_STATE="$work/state" SANDBOX_DISK="$work/disk"
mkdir -p "$SANDBOX_STATE"
# The certificate the sandbox's clover serves (the openssl shim), made here as a stock image
# makes its own at first boot.
if [ ! -f "$SANDBOX_STATE/server.pem" ]; then
  /usr/bin/openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=clover \
    -days 1 -keyout /dev/null -out "$SANDBOX_STATE/server.pem" 2>/dev/null
fi

/usr/bin/mount -t tmpfs sandbox-var /var
/usr/bin/mount -t tmpfs sandbox-run /run
mkdir -p /var/clover /var/lib/cloud/scripts/per-boot /var/lib/cloud/instances/i-sandbox/boothooks /var/tmp

run_boot() {
  local boot="$1" part=/var/lib/cloud/instances/i-sandbox/boothooks/part-001 status script
  # A reboot forgets /run (runtime drop-ins and masks), running services and loaded
  # configuration, and unmounts the data disk.
  rm -rf /run/* "$SANDBOX_STATE/masked" "$SANDBOX_STATE/active" "$SANDBOX_STATE/mount-attempts" \
    "$SANDBOX_STATE/loaded-dropins"
  if /usr/bin/mountpoint -q /var/clover; then /usr/bin/umount /var/clover; fi
  # fstab: the data disk is mounted before cloud-init when it is there early.
  if [ "${SANDBOX_FSTAB_MOUNTS:-no}" = yes ]; then /usr/bin/mount --bind "$SANDBOX_DISK" /var/clover; fi
  if [ "${SANDBOX_ACTIVE_BEFORE_GUARD:-no}" = yes ]; then
    SANDBOX_CALLER=systemd PATH="$here/shims/boot:$here/shims/common:$PATH" systemctl start clover || true
  fi
  # cloud-init init stage: the boothook part, header stripped, executed as a file (unless the
  # image has no cloud-init).
  if [ "${SANDBOX_NO_CLOUD_INIT:-no}" != yes ]; then
    tail -n +2 "$user_data" >"$part"
    chmod 0700 "$part"
    status=0
    (cd / && INSTANCE_ID=i-sandbox PATH="$here/shims/boot:$here/shims/common:$PATH" "$part") 2>>"$SANDBOX_STATE/console" || status=$?
    echo "$boot boothook exit=$status" >>"$SANDBOX_STATE/phases"
  fi
  # systemd: multi-user.target pulls in the enabled clover.service.
  status=0
  SANDBOX_CALLER=systemd PATH="$here/shims/boot:$here/shims/common:$PATH" systemctl start clover 2>/dev/null || status=$?
  echo "$boot systemd-start exit=$status" >>"$SANDBOX_STATE/phases"
  # cloud-init final stage: scripts_per_boot runs every executable, sorted by name.
  for script in $(find /var/lib/cloud/scripts/per-boot -maxdepth 1 -type f -perm -u+x | sort); do
    status=0
    (cd / && PATH="$here/shims/boot:$here/shims/common:$PATH" "$script") 2>>"$SANDBOX_STATE/console" || status=$?
    echo "$boot per-boot:$(basename "$script") exit=$status" >>"$SANDBOX_STATE/phases"
  done
  # Google's guest agent: the startup script, late in the boot.
  if [ -n "${SANDBOX_STARTUP_SCRIPT:-}" ]; then
    status=0
    (cd / && PATH="$here/shims/boot:$here/shims/common:$PATH" bash "$SANDBOX_STARTUP_SCRIPT") 2>>"$SANDBOX_STATE/console" || status=$?
    echo "$boot startup-script exit=$status" >>"$SANDBOX_STATE/phases"
  fi
  echo "$boot end" >>"$SANDBOX_STATE/calls"
}

for boot in $(seq 1 "$boots"); do
  echo "$boot boot" >>"$SANDBOX_STATE/calls"
  run_boot "$boot"
done
