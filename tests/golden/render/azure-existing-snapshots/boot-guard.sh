#cloud-boothook
#!/bin/bash
# cloverlift boot guard: CloverDX Server '7.0.1' next to '6.6.0' (plan 'dev-northeurope').
#
# The data disk is a copy of the old server's, so its datasource still names the OLD system
# database. cloud-init runs this file twice on every boot:
#   1. as a boothook, in its init stage, which systemd orders before sysinit.target on Ubuntu
#      and Debian images (CloverDX's are Ubuntu), so before any ordinary service: it adds a
#      runtime drop-in that lets `clover` start only once a flag in /run exists, and installs
#      itself as a per-boot script;
#   2. as that per-boot script, in the final stage: it waits for the data disk, rewrites the
#      datasource to the new database, checks that the file names the new host and none of the
#      old ones, and only then sets the flag
#      and starts `clover`.
# On any failure it exits non-zero with the reason on the console and leaves `clover` stopped.
# Once this deployment's upgrade has completed (a state file on the data disk says so), the
# guard retires: it never touches the datasource again and never holds `clover` back, so a
# later change of the datasource by an administrator stands.
set -euo pipefail

readonly service=clover
readonly data_dir=/var/clover
readonly conf_dir=/var/clover/conf
readonly fragment=/var/clover/conf/server_fragment.xml
# Written once the datasource is verified (and, where it applies, the database restored): it
# names the new host, so a later upgrade from a copy of this disk is not mistaken for done.
readonly state=/var/clover/conf/.cloverlift-datasource
readonly backup='/var/clover/conf/server_fragment.xml.cloverlift-before-dev-northeurope'
readonly per_boot=/var/lib/cloud/scripts/per-boot/cloverlift-datasource-guard
# The drop-in and its flag live in /run: both are gone at the next boot, when the guard
# decides again. A drop-in applies wherever the unit file is (/etc, /lib); a runtime mask
# would not override a unit file in /etc.
readonly dropin_dir=/run/systemd/system/clover.service.d
readonly dropin="$dropin_dir/50-cloverlift-guard.conf"
readonly flag=/run/cloverlift/datasource-verified
# Filled in by the deployment (the new database's address); checked below before any use.
readonly new_host='@CLOVERLIFT_DB_HOST@'
readonly mount_attempts='120'
readonly mount_interval=5
readonly restore_marker_url=''
readonly restore_wait_seconds='0'
readonly restore_interval=30
# to.database_patches: auto. CloverDX suspends a start that must patch the system database's
# schema behind a "backup completed" dialog unless autoapply.sys.db.patches is the new version
# or newer (admin/upgrading-server, admin/list-of-properties); the snapshot this disk and the
# database were restored from is that backup. Empty with `confirm`: a person confirms.
readonly properties=/var/clover/conf/clover.properties
readonly autoapply='7.0.1'
readonly plan='dev-northeurope'
readonly properties_backup="$properties.cloverlift-before-$plan"
# Once clover serves HTTPS here, the guard prints its certificate's SHA-256 on the console, where
# apply reads it through the cloud's API (a stock image generates the certificate at first boot).
readonly tls_port='443'
readonly report_wait_seconds='1800'
readonly report_interval=10

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

# The hosts of the jdbc:postgresql URLs in standard input, one per line, sorted.
url_hosts() {
  grep -o 'jdbc:postgresql://[^/:"?&;<>, ]*' | sed 's#^jdbc:postgresql://##' | sort -u || true
}

# The value of KEY in clover.properties, dotted or underscored, the last one as Java reads it.
property() {
  [ -f "${2:-$properties}" ] || return 0
  local pattern
  pattern="$(printf '%s' "$1" | sed 's/[.]/[._]/g')"
  sed -n -E "s/^[[:space:]]*${pattern}[[:space:]]*[=:][[:space:]]*//p" "${2:-$properties}" | tail -n 1 | tr -d '\r'
}

# The JNDI resource that holds the system database: `datasource.jndiName` in clover.properties
# (java:comp/env/ left out), jdbc/clover_server by default (admin/server-in-cloud-marketplaces).
system_resource() {
  local name
  name="$(property datasource.jndiName)"
  name="${name#java:comp/env/}"
  printf '%s' "${name:-jdbc/clover_server}"
}

# The fragment (FILE, the fragment by default) split into the system database's <Resource>
# element and the rest: `awk -v part=system` prints the former, `part=other` the latter, and
# `part=rewrite` the whole file with only that element's PostgreSQL host replaced by `host`.
# Other resources (the ones jobs use) are kept byte for byte.
resource_part() {
  awk -v part="$1" -v name="$(system_resource)" -v host="${3:-}" '
    function flush() {
      if (buf == "") return
      mine = index(buf, "name=\"" name "\"") > 0
      if (part == "rewrite" && mine) gsub(/jdbc:postgresql:\/\/[^\/:"?&;<>, ]+/, "jdbc:postgresql://" host, buf)
      if (part == "rewrite" || (part == "system") == mine) printf "%s", buf
      buf = ""
    }
    inside { buf = buf $0 "\n"; if ($0 ~ /\/>|<\/Resource>/) { inside = 0; flush() }; next }
    /<Resource([[:space:]]|$)/ { buf = $0 "\n"; inside = 1; if ($0 ~ /\/>|<\/Resource>/) { inside = 0; flush() }; next }
    { if (part != "system") printf "%s\n", $0 }
    END { flush() }
  ' "${2:-$fragment}"
}

# The hosts the old system database had: in the original fragment's system resource and the
# original clover.properties' jdbc.url (the backups, once a boot has rewritten them).
old_hosts() {
  local fragment_was="$fragment" properties_was="$properties"
  [ -f "$backup" ] && fragment_was="$backup"
  [ -f "$properties_backup" ] && properties_was="$properties_backup"
  {
    [ -f "$fragment_was" ] && resource_part system "$fragment_was" | url_hosts
    property jdbc.url "$properties_was" | url_hosts
  } | sort -u | grep -vx -- "$new_host" || true
}

# Whether FILE names `host` as a whole host name, not as part of a longer one.
names_host() {
  local pattern
  pattern="$(printf '%s' "$2" | sed 's/[.]/[.]/g')"
  grep -qE "(^|[^A-Za-z0-9.-])$pattern([^A-Za-z0-9.-]|\$)" "$1"
}

mounted() {
  mountpoint -q "$data_dir"
}

# This deployment's upgrade completed on an earlier boot.
retired() {
  mounted && [ -f "$state" ] && [ "$(cat "$state")" = "$new_host" ]
}

# Holds `clover` back until the flag exists, and proves systemd sees it. Each command is
# checked here (errexit does not apply inside a function called from a condition); if any
# fails, the caller falls back to a runtime mask and a stop.
hold_clover() {
  mkdir -p "$dropin_dir" || return 1
  printf '%s\n' '[Unit]' '# cloverlift: start only once the datasource names the new database' \
    "ConditionPathExists=$flag" >"$dropin" || return 1
  systemctl daemon-reload || return 1
  case "$(systemctl show -p DropInPaths --value "$service")" in
    *"$dropin"*) ;;
    *) return 1 ;;
  esac
  if systemctl is-active --quiet "$service"; then
    log "WARNING: clover was already running before the guard; stopping it"
    systemctl stop "$service" || return 1
  fi
}

release_clover() {
  mkdir -p "$(dirname "$flag")"
  : >"$flag"
  systemctl is-active --quiet "$service" || systemctl start "$service"
  systemctl is-active --quiet "$service" || fail "clover did not start (journalctl -u clover)"
}

guard() {
  if retired; then
    log "this upgrade completed on an earlier boot: clover starts as usual"
    return 0
  fi
  if ! hold_clover; then
    systemctl mask --runtime "$service" || true
    systemctl stop "$service" || true
    fail "could not make systemd hold clover with $dropin"
  fi
  check_new_host
  if [ "$0" != "$per_boot" ]; then
    mkdir -p "$(dirname "$per_boot")"
    install -m 0700 "$0" "$per_boot"
  fi
  log "clover is held until the datasource names $new_host"
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

# Points the system database at the new host wherever CloverDX reads it on the data disk: the
# fragment's system resource and, when clover.properties configures the database itself
# (`datasource.type=JDBC`, `jdbc.url`, which override the built-in configuration), its jdbc.url.
# Each original is kept once: a later boot must still know the old hosts.
rewrite_datasource() {
  local url jdbc
  jdbc="$(property datasource.type | tr '[:upper:]' '[:lower:]')"
  url="$(property jdbc.url)"
  case "$url" in
    enc#*) fail "$properties sets jdbc.url encrypted (enc#…): the guard cannot read which database it names; decrypt it or point it at $new_host by hand" ;;
  esac
  if [ "$jdbc" = jdbc ] && [ -z "$url" ]; then
    fail "$properties sets datasource.type=JDBC without a readable jdbc.url"
  fi
  if [ -n "$url" ]; then
    rewrite_property_url "$url"
  fi
  rewrite_fragment "$url"
  check_rewrite
}

rewrite_property_url() {
  local hosts
  case "$1" in
    jdbc:postgresql://*,*) fail "$properties names several hosts in jdbc.url; point it at $new_host by hand" ;;
    jdbc:postgresql://*) ;;
    *) fail "$properties sets jdbc.url to a database that is not PostgreSQL ($1)" ;;
  esac
  hosts="$(printf '%s\n' "$1" | url_hosts)"
  [ "$hosts" = "$new_host" ] && return 0
  [ -f "$properties_backup" ] || cp -p "$properties" "$properties_backup"
  sed -i -E "/^[[:space:]]*jdbc[._]url[[:space:]]*[=:]/s#(jdbc:postgresql://)[^/:\"?&;<>, ]+#\\1$new_host#" "$properties" ||
    fail "could not rewrite $properties"
  log "$properties: jdbc.url now names $new_host instead of $hosts"
}

rewrite_fragment() {
  local hosts tmp
  if [ ! -f "$fragment" ]; then
    [ -n "$1" ] && return 0
    fail "$fragment is missing on the data disk"
  fi
  hosts="$(resource_part system | url_hosts)"
  if [ -z "$hosts" ]; then
    [ -n "$1" ] && return 0
    fail "$fragment names no jdbc:postgresql:// database in its $(system_resource) resource"
  fi
  if resource_part system | grep -q 'jdbc:postgresql://[^/"]*,'; then
    fail "$fragment names several hosts in one jdbc:postgresql URL; point it at $new_host by hand"
  fi
  [ "$hosts" = "$new_host" ] && return 0
  [ -f "$backup" ] || cp -p "$fragment" "$backup"
  tmp="$fragment.cloverlift-tmp"
  if ! resource_part rewrite "$fragment" "$new_host" >"$tmp" || ! cat "$tmp" >"$fragment"; then
    fail "could not rewrite $fragment"
  fi
  rm -f "$tmp"
  log "$fragment: $(system_resource) now names $new_host instead of $(printf '%s' "$hosts" | tr '\n' ' ')"
}

# The system database names the new host, and no file CloverDX reads its configuration from
# (everything in /var/clover/conf but the guard's own copies) names an old one: another JNDI
# resource, setenv_custom.sh's -Dclover.jdbc.url, a properties file it includes.
check_rewrite() {
  local old file
  if [ -f "$fragment" ] && [ -n "$(resource_part system | url_hosts)" ] &&
    [ "$(resource_part system | url_hosts)" != "$new_host" ]; then
    fail "after the rewrite the $(system_resource) resource in $fragment names '$(resource_part system | url_hosts | tr '\n' ' ')', not only $new_host"
  fi
  while IFS= read -r old; do
    [ -n "$old" ] || continue
    for file in "$conf_dir"/*; do
      [ -f "$file" ] || continue
      case "$file" in *.cloverlift-before-* | "$state") continue ;; esac
      if names_host "$file" "$old"; then
        fail "after the rewrite $file still names the old database host $old"
      fi
    done
  done <<<"$(old_hosts)"
}

# Sets autoapply.sys.db.patches in the new disk's clover.properties (the administrator's file,
# which overrides the built-in configuration), replacing any earlier value of the key in its
# dotted or underscored spelling and keeping every other line.
allow_schema_patches() {
  [ -n "$autoapply" ] || return 0
  local key='^[[:space:]]*autoapply[._]sys[._]db[._]patches[[:space:]]*[=:]'
  if [ -f "$properties" ] && grep -qE "$key" "$properties"; then
    sed -i -E "s#${key}.*#autoapply.sys.db.patches=${autoapply}#" "$properties" ||
      fail "could not rewrite $properties"
  else
    [ -f "$properties" ] || install -m 0644 /dev/null "$properties" || fail "could not create $properties"
    printf '%s\n' "# cloverlift: this disk and its database were restored from the snapshots of plan $plan" \
      "autoapply.sys.db.patches=$autoapply" >>"$properties" || fail "could not write $properties"
  fi
  if [ "$(grep -cE "$key" "$properties")" != 1 ] ||
    ! grep -qx "autoapply.sys.db.patches=$autoapply" "$properties"; then
    fail "$properties does not set autoapply.sys.db.patches=$autoapply once"
  fi
  log "the new version may patch its restored system database (autoapply.sys.db.patches=$autoapply)"
}

# The certificate clover presents on 127.0.0.1 (read on the instance itself, so no one on the
# network can stand in for it), as `plan NAME tls-sha256 AB:CD:…` on the console. Not fatal:
# without it apply says so, and a spec can name the certificate itself (to.server.tls).
report_certificate() {
  local waited=0 fingerprint
  if ! command -v openssl >/dev/null 2>&1; then
    log "WARNING: no openssl on this image: the server's certificate is not reported (set to.server.tls)"
    return 0
  fi
  while :; do
    fingerprint="$(timeout 20 openssl s_client -connect "127.0.0.1:$tls_port" </dev/null 2>/dev/null |
      openssl x509 -noout -fingerprint -sha256 2>/dev/null |
      sed -n 's/^[Ss][Hh][Aa]256 [Ff]ingerprint=\([0-9A-Fa-f:]*\)$/\1/p')" || true
    if [ -n "$fingerprint" ]; then
      log "plan $plan tls-sha256 $fingerprint"
      return 0
    fi
    if [ "$waited" -ge "$report_wait_seconds" ]; then
      log "WARNING: nothing served TLS on 127.0.0.1:$tls_port within $report_wait_seconds s: the certificate is not reported (set to.server.tls)"
      return 0
    fi
    sleep "$report_interval"
    waited=$((waited + report_interval))
  done
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
  wait_for_data_disk
  if retired; then
    # Release only what this boot's guard held; an administrator's stopped clover stays so.
    if [ -f "$dropin" ]; then
      release_clover
    fi
    rm -f "$per_boot"
    log "this upgrade completed on an earlier boot; the guard retires"
    # The first boot after the upgrade (the address move reboots) may bring a new certificate.
    report_certificate
    return 0
  fi
  check_new_host
  rewrite_datasource
  allow_schema_patches
  wait_for_restore
  printf '%s\n' "$new_host" >"$state"
  release_clover
  log "clover started against $new_host"
  report_certificate
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
