#!/bin/bash
# Runs rendered war-upgrade invocations on a sandboxed "server": a private mount and network
# namespace where /opt, /var and /run are fresh tmpfs, /opt/clover/tomcat/webapps starts as
# WORK/webapps-initial, and an HTTPS server on 127.0.0.1:443 (https_server.py) serves
# WORK/www/files/* (the WAR) and CloverDX's health page. `systemctl` and `install` are shims.
#
# Usage (as root): unshare -mn war.sh WORK
# WORK/invocations/NN/argv holds one argument per line, WORK/invocations/NN/env one NAME=VALUE
# per line (optional); they run in name order, and "NN exit=<status>" goes to
# WORK/state/results. Afterwards WORK/webapps-final is a copy of the webapps directory.
set -euo pipefail
work="$1"
# WORK, and this checkout, may be under /var or /opt: the work dir moves to /mnt and the
# shims and server into it before /opt and /var are replaced.
/usr/bin/mount --bind "$work" /mnt
work=/mnt
mkdir -p "$work/sandbox"
cp -r "$(cd "$(dirname "$0")" && pwd)/shims" "$(cd "$(dirname "$0")" && pwd)/https_server.py" "$work/sandbox/"
here="$work/sandbox"
export SANDBOX_STATE="$work/state" SANDBOX_STARTED_FLAG="$work/state/started"
mkdir -p "$SANDBOX_STATE"

ip link set lo up
/usr/bin/mount -t tmpfs sandbox-opt /opt
/usr/bin/mount -t tmpfs sandbox-var /var
# A private /run too: Google's startup script keeps its files there, per test.
/usr/bin/mount -t tmpfs sandbox-run /run
mkdir -p /opt/clover/tomcat/webapps /var/tmp
cp -a "$work/webapps-initial/." /opt/clover/tomcat/webapps/

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
python3 "$here/https_server.py" "$work/www" "$work/cert.pem" "$work/key.pem" \
  "$SANDBOX_STARTED_FLAG" "$SANDBOX_STATE/requests" >"$SANDBOX_STATE/server.out" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  grep -q ready "$SANDBOX_STATE/server.out" 2>/dev/null && break
  /usr/bin/sleep 0.1
done

for dir in $(find "$work/invocations" -mindepth 1 -maxdepth 1 -type d | sort); do
  mapfile -t argv <"$dir/argv"
  envs=()
  if [ -f "$dir/env" ]; then mapfile -t envs <"$dir/env"; fi
  status=0
  (cd / && env CURL_CA_BUNDLE="$work/cert.pem" PATH="$here/shims/war:$here/shims/common:$PATH" \
    "${envs[@]}" "${argv[@]}") >>"$SANDBOX_STATE/output" 2>&1 || status=$?
  echo "$(basename "$dir") exit=$status" >>"$SANDBOX_STATE/results"
done
cp -a /opt/clover/tomcat/webapps "$work/webapps-final"
