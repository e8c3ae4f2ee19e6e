"""A local Google Cloud double for the Google Cloud apply tests. No emulator covers Compute
Engine, Cloud SQL Admin or Infrastructure Manager, so this follows their discovery documents
(compute.v1, sqladmin.v1, config.v1, storage.v1, secretmanager.v1, as shipped with
google-api-python-client) and the paths, methods and query parameters of Google's Rust clients
(the crates' `transport.rs`), and is as strict as the services where apply could go wrong:

- OAuth: POST /token exchanges the `authorized_user` refresh token of the tests' Application
  Default Credentials file (JSON body, as google-cloud-auth sends it) for an access token; every
  API request needs `Authorization: Bearer gcp-token-for-tests` (401 UNAUTHENTICATED otherwise).
- Only the routes below exist (404 NOT_FOUND for other paths; 405 with `Allow` for another
  method). Errors are Google's `{"error":{"code","message","status","errors"|"details"}}`.
- Compute operations (zonal, regional, global) and Cloud SQL operations go PENDING -> RUNNING ->
  DONE over `polls` GETs; the change they make happens at DONE; a failure is DONE with `error`.
  Infrastructure Manager answers `google.longrunning.Operation`s (`done` after `polls` GETs, then
  `response` with its `@type`, or `error`).
- What the services refuse, this refuses: a snapshot name that exists (409 alreadyExists), a
  stale metadata fingerprint (412 conditionNotMet), a second access config on an interface or a
  NAT IP in use by another instance (400), deleting an address in use (400
  resourceInUseByAnotherResource), restoring a backup that is not SUCCESSFUL, not of the named
  source instance, or into an instance of another database version (400), a deployment run as
  an unknown service account (400), a blueprint that names a missing snapshot, leaves a variable
  without a value or gives an undeclared one (the deployment FAILS with Terraform errors).
- Cloud Storage takes the single-shot `uploadType=multipart` upload google-cloud-storage sends
  for a small object (a multipart body: JSON metadata, then the bytes) and keeps the bytes.
- Infrastructure Manager applies the uploaded `main.tf.json`: it resolves the references the
  blueprint uses and creates its disk (from the snapshot), address, firewall rules, Cloud SQL
  instance and VM in this world; the revision's outputs are read from it.

Test control (not Google's): GET /__test__/state (requests, instances, disks, snapshots,
addresses, firewalls, sql_instances, backup_runs, restores, deployments, previews, objects,
throttled); POST /__test__/configure sets `polls`, `throttle` (the next N API requests get 429
RESOURCE_EXHAUSTED), `fail_backup`, `fail_restore`, `fail_snapshot`, `fail_resource` (a
Terraform address whose creation fails), `drop_restore_reply` (the next restore starts but its
answer is lost: the connection closes unanswered), `requests` (to clear the log).

Usage: gcp_server.py --new-server-url URL; prints `listening PORT`.
"""
import argparse
import base64
import hashlib
import itertools
import json
import re
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

TOKEN = "gcp-token-for-tests"
PROJECT = "acme-clover-prod"
PROJECT_NUMBER = "123456789012"
REGION = "europe-west1"
ZONE = "europe-west1-b"
BUCKET = "acme-clover-prod-cloverlift"
SERVICE_ACCOUNTS = {"cloverlift-deployer@acme-clover-prod.iam.gserviceaccount.com"}
COMPUTE = "https://www.googleapis.com/compute/v1"
SQLADMIN = "https://sqladmin.googleapis.com/v1"

LOCK = threading.Lock()
IDS = itertools.count(1)
NEW_IPS = itertools.count(1)

STATE = {}


def fp(text):
    """Fingerprints are discovery `format: byte`: base64url (RFC 4648), padded."""
    return base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()[:8]).decode()


def now_iso():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def link(*parts):
    return "/".join([COMPUTE, "projects", PROJECT] + list(parts))


def seed(new_server_url, new_server_fingerprint=""):
    vm = link("zones", ZONE, "instances", "clover-vm")
    STATE.clear()
    STATE.update({
        "requests": [], "throttle": 0, "throttled": 0, "polls": 2,
        "fail_backup": False, "fail_restore": False, "drop_restore_reply": False, "fail_snapshot": False, "fail_resource": None,
        # The war strategy: what the old instance's boots ran (war-startup.sh as the startup
        # script), the guest attributes they wrote, the modelled server, and per-action
        # outcomes to inject ({"replace": [1, "stderr text"]}).
        "boots": [], "guest_attributes": {}, "war_done": [], "war_outcomes": {},
        "server": {"service": "running", "war": "sha-of-7.0.0", "booted_with": None},
        "new_server_url": new_server_url, "new_server_fingerprint": new_server_fingerprint, "operations": {}, "restores": [], "objects": {},
        "deployments": {}, "previews": {}, "revisions": {}, "backup_runs": {"clover-pg": []},
        "secrets": {"clover-password": {"latest": "s3cret-pw", "1": "s3cret-pw"},
                    "cloverdx-7-license": {"3": "CLOVERDX-LICENSE-7"}},
        # compute.instances.get (Instance)
        "instances": {"clover-vm": {
            "kind": "compute#instance", "id": "7001", "name": "clover-vm", "status": "RUNNING",
            "zone": link("zones", ZONE), "selfLink": vm,
            "machineType": link("zones", ZONE, "machineTypes", "n2-standard-4"),
            "networkInterfaces": [{
                "kind": "compute#networkInterface", "name": "nic0", "fingerprint": fp("nic0"),
                "network": link("global", "networks", "default"),
                "subnetwork": link("regions", REGION, "subnetworks", "default"), "networkIP": "10.132.0.2",
                "accessConfigs": [{"kind": "compute#accessConfig", "type": "ONE_TO_ONE_NAT", "name": "External NAT",
                                   "natIP": "34.76.10.20", "networkTier": "PREMIUM"}]}],
            "disks": [{"kind": "compute#attachedDisk", "boot": True, "deviceName": "clover-vm", "index": 0,
                       "source": link("zones", ZONE, "disks", "clover-vm"), "type": "PERSISTENT", "mode": "READ_WRITE"},
                      {"kind": "compute#attachedDisk", "boot": False, "deviceName": "clover-data", "index": 1,
                       "source": link("zones", ZONE, "disks", "clover-data"), "type": "PERSISTENT", "mode": "READ_WRITE"}],
            "metadata": {"kind": "compute#metadata", "fingerprint": fp("metadata-clover-vm"),
                         "items": [{"key": "startup-script", "value": "#!/bin/sh\nsystemctl start clover\n"}]},
            "tags": {"items": ["clover"], "fingerprint": fp("tags-clover-vm")}, "labels": {"app": "clover"}}},
        # compute.disks.get (Disk)
        "disks": {
            "clover-vm": {"kind": "compute#disk", "id": "7101", "name": "clover-vm", "sizeGb": "20", "status": "READY",
                          "zone": link("zones", ZONE), "selfLink": link("zones", ZONE, "disks", "clover-vm"), "users": [vm]},
            "clover-data": {"kind": "compute#disk", "id": "7102", "name": "clover-data", "sizeGb": "200", "status": "READY",
                            "zone": link("zones", ZONE), "selfLink": link("zones", ZONE, "disks", "clover-data"), "users": [vm],
                            "type": link("zones", ZONE, "diskTypes", "pd-ssd")}},
        "snapshots": {},
        # compute.addresses.get (Address)
        "addresses": {"clover-ip": {"kind": "compute#address", "id": "7201", "name": "clover-ip", "address": "34.76.10.20",
                                    "status": "IN_USE", "users": [vm], "addressType": "EXTERNAL", "networkTier": "PREMIUM",
                                    "region": link("regions", REGION), "selfLink": link("regions", REGION, "addresses", "clover-ip")}},
        # compute.firewalls.list (FirewallList)
        "firewalls": {
            "clover-web": {"kind": "compute#firewall", "id": "7301", "name": "clover-web", "network": link("global", "networks", "default"),
                           "direction": "INGRESS", "priority": 1000, "sourceRanges": ["203.0.113.0/24"], "targetTags": ["clover"],
                           "allowed": [{"IPProtocol": "tcp", "ports": ["443"]}], "disabled": False,
                           "selfLink": link("global", "firewalls", "clover-web")},
            "default-allow-ssh": {"kind": "compute#firewall", "id": "7302", "name": "default-allow-ssh",
                                  "network": link("global", "networks", "default"), "direction": "INGRESS", "priority": 65534,
                                  "sourceRanges": ["0.0.0.0/0"], "allowed": [{"IPProtocol": "tcp", "ports": ["22"]}],
                                  "disabled": False, "selfLink": link("global", "firewalls", "default-allow-ssh")}},
        # sqladmin.instances.get (DatabaseInstance)
        "sql_instances": {"clover-pg": sql_instance("clover-pg", "POSTGRES_15", "35.205.1.2",
                                                    [{"kind": "sql#aclEntry", "name": "clover-server", "value": "34.76.10.20"}])},
    })


def sql_instance(name, version, ip, networks):
    return {"kind": "sql#instance", "name": name, "project": PROJECT, "databaseVersion": version, "state": "RUNNABLE",
            "region": REGION, "instanceType": "CLOUD_SQL_INSTANCE", "backendType": "SECOND_GEN",
            "connectionName": f"{PROJECT}:{REGION}:{name}", "selfLink": f"{SQLADMIN}/projects/{PROJECT}/instances/{name}",
            "ipAddresses": [{"type": "PRIMARY", "ipAddress": ip}],
            "settings": {"kind": "sql#settings", "tier": "db-custom-2-7680", "edition": "ENTERPRISE", "settingsVersion": "1",
                         "backupConfiguration": {"enabled": True, "pointInTimeRecoveryEnabled": True},
                         "ipConfiguration": {"ipv4Enabled": True, "authorizedNetworks": networks}}}


class ApiError(Exception):
    def __init__(self, status, code, message, reason=None, headers=None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.reason = reason
        self.headers = headers or {}


def not_found(what):
    return ApiError(404, "NOT_FOUND", f"The resource '{what}' was not found", "notFound")


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


# --- operations -------------------------------------------------------------------------------

def new_op(kind, scope, op_type, target, then=None, error=None, extra=None):
    """kind: compute | sql | lro. `then` runs when the operation reaches DONE; it may return an
    error (a dict) that the operation ends with."""
    n = next(IDS)
    name = f"operation-{int(time.time() * 1000)}-{n}"
    op = {"kind": kind, "scope": scope, "type": op_type, "target": target, "polls": STATE["polls"], "then": then,
          "error": error, "extra": extra or {}, "done": False, "name": name, "response": None, "insert": now_iso()}
    STATE["operations"][name] = op
    if STATE["polls"] <= 0:
        finish(op)
    return op


def finish(op):
    if op["done"]:
        return
    op["done"] = True
    if op["error"] is None and op["then"]:
        result = op["then"]()
        if isinstance(result, dict) and "error" in result:
            op["error"] = result["error"]
        elif result is not None:
            op["response"] = result


def advance(op):
    if not op["done"]:
        op["polls"] -= 1
        if op["polls"] <= 0:
            finish(op)


def compute_view(op):
    scope_kind, scope_name = op["scope"]
    status = "DONE" if op["done"] else ("RUNNING" if op["polls"] < STATE["polls"] else "PENDING")
    v = {"kind": "compute#operation", "id": str(abs(hash(op["name"])) % 10**18), "name": op["name"],
         "operationType": op["type"], "targetLink": op["target"], "status": status, "progress": 100 if op["done"] else 0,
         "insertTime": op["insert"], "user": "tests@example.com"}
    if scope_kind == "zone":
        v["zone"] = link("zones", scope_name)
        v["selfLink"] = link("zones", scope_name, "operations", op["name"])
    elif scope_kind == "region":
        v["region"] = link("regions", scope_name)
        v["selfLink"] = link("regions", scope_name, "operations", op["name"])
    else:
        v["selfLink"] = link("global", "operations", op["name"])
    if op["done"] and op["error"]:
        v["error"] = {"errors": [{"code": op["error"]["code"], "message": op["error"]["message"]}]}
        v["httpErrorStatusCode"] = op["error"].get("http", 400)
        v["httpErrorMessage"] = "BAD REQUEST"
    return v


def sql_view(op):
    status = "DONE" if op["done"] else ("RUNNING" if op["polls"] < STATE["polls"] else "PENDING")
    v = {"kind": "sql#operation", "name": op["name"], "status": status, "operationType": op["type"],
         "targetId": op["target"], "targetProject": PROJECT, "insertTime": op["insert"], "user": "tests@example.com",
         "targetLink": f"{SQLADMIN}/projects/{PROJECT}/instances/{op['target']}",
         "selfLink": f"{SQLADMIN}/projects/{PROJECT}/operations/{op['name']}"}
    v.update(op["extra"])
    if op["done"] and op["error"]:
        v["error"] = {"kind": "sql#operationErrors",
                      "errors": [{"kind": "sql#operationError", "code": op["error"]["code"], "message": op["error"]["message"]}]}
    return v


def lro_view(op):
    name = f"projects/{PROJECT}/locations/{REGION}/operations/{op['name']}"
    v = {"name": name, "done": op["done"],
         "metadata": {"@type": "type.googleapis.com/google.cloud.config.v1.OperationMetadata", "createTime": op["insert"],
                      "target": op["target"], "verb": op["type"], "apiVersion": "v1",
                      "deploymentMetadata": {"step": "APPLYING_DEPLOYMENT" if not op["done"] else "SUCCEEDED"}}}
    if op["done"]:
        if op["error"]:
            v["error"] = {"code": op["error"].get("grpc", 9), "message": op["error"]["message"]}
        else:
            v["response"] = op["response"] or {}
    return v


# --- the blueprint engine ---------------------------------------------------------------------

REF = re.compile(r"(?<!\$)\$\{([^}]+)\}")


def apply_blueprint(dep_name, body, fail):
    """Runs the uploaded main.tf.json as Terraform would here; gives (outputs, tf_errors)."""
    src = body.get("terraformBlueprint", {}).get("gcsSource", "")
    m = re.match(r"^gs://([^/]+)/(.+?)/?$", src)
    if not m:
        return None, [tf_error("", 400, f"Error: invalid gcsSource {src!r}")]
    key = f"{m.group(1)}/{m.group(2)}"
    text = STATE["objects"].get(key) or STATE["objects"].get(key + "/main.tf.json")
    if text is None:
        return None, [tf_error("", 404, f"Error: no Terraform configuration at {src}")]
    try:
        tf = json.loads(text)
    except ValueError as e:
        return None, [tf_error("", 400, f"Error: Invalid JSON: {e}")]
    inputs = {k: v.get("inputValue") for k, v in body["terraformBlueprint"].get("inputValues", {}).items()}
    declared = tf.get("variable", {})
    for name in inputs:
        if name not in declared:
            return None, [tf_error("", 400, f'Error: Value for undeclared variable "{name}"')]
    for name, decl in declared.items():
        if name not in inputs and "default" not in decl:
            return None, [tf_error("", 400, f'Error: No value for required variable "{name}"')]
    res = tf.get("resource", {})
    new_ip = f"34.76.99.{next(NEW_IPS)}"
    db_name = res["google_sql_database_instance"]["database"]["name"]
    db_ip = f"35.205.9.{next(NEW_IPS)}"
    vm_name = res["google_compute_instance"]["server"]["name"]
    refs = {
        "google_compute_address.server.address": new_ip,
        "google_compute_disk.data.self_link": link("zones", ZONE, "disks", res["google_compute_disk"]["data"]["name"]),
        "google_compute_instance.server.self_link": link("zones", ZONE, "instances", vm_name),
        "google_sql_database_instance.database.public_ip_address": db_ip,
        "google_sql_database_instance.database.connection_name": f"{PROJECT}:{REGION}:{db_name}",
    }
    for name, value in inputs.items():
        refs[f"var.{name}"] = value
    old = tf.get("data", {}).get("google_compute_address", {}).get("old")
    if old:
        found = STATE["addresses"].get(old["name"])
        if not found:
            return None, [tf_error("data.google_compute_address.old", 404, f"Error: address {old['name']} not found")]
        refs["data.google_compute_address.old.address"] = found["address"]

    def resolve(v):
        if isinstance(v, str):
            whole = REF.fullmatch(v)
            if whole:
                if whole.group(1) not in refs:
                    raise ApiError(400, "INVALID_ARGUMENT", f"Reference to undeclared resource {whole.group(1)}")
                return refs[whole.group(1)]

            def one(mm):
                if mm.group(1) not in refs:
                    raise ApiError(400, "INVALID_ARGUMENT", f"Reference to undeclared resource {mm.group(1)}")
                return str(refs[mm.group(1)])
            return REF.sub(one, v).replace("$${", "${").replace("%%{", "%{")
        if isinstance(v, list):
            return [resolve(x) for x in v]
        if isinstance(v, dict):
            return {k: resolve(x) for k, x in v.items()}
        return v
    try:
        res = resolve(res)
        outputs = {k: resolve(v["value"]) for k, v in tf.get("output", {}).items()}
    except ApiError as e:
        return None, [tf_error("", 400, f"Error: {e.message}")]
    if fail:
        return None, [tf_error(fail, 400, f"Error, failed to create {fail}: googleapi: Error 400: Invalid request: "
                                          "the tier is not available in this region., invalid")]
    disk = res["google_compute_disk"]["data"]
    snap_name = disk["snapshot"].rsplit("/", 1)[-1]
    snap = STATE["snapshots"].get(snap_name)
    if not snap or snap["status"] != "READY":
        return None, [tf_error("google_compute_disk.data", 400,
                               f"Error creating Disk: googleapi: Error 400: The resource '{disk['snapshot']}' is not ready, resourceNotReady")]
    labels = disk.get("labels", {})
    STATE["disks"][disk["name"]] = {"kind": "compute#disk", "name": disk["name"], "status": "READY", "sizeGb": "200",
                                    "sourceSnapshot": link("global", "snapshots", snap_name), "labels": labels,
                                    "zone": link("zones", ZONE), "selfLink": link("zones", ZONE, "disks", disk["name"])}
    addr = res["google_compute_address"]["server"]
    vm_link = link("zones", ZONE, "instances", vm_name)
    STATE["addresses"][addr["name"]] = {"kind": "compute#address", "name": addr["name"], "address": new_ip, "status": "IN_USE",
                                        "users": [vm_link], "addressType": "EXTERNAL", "networkTier": "PREMIUM",
                                        "region": link("regions", REGION), "selfLink": link("regions", REGION, "addresses", addr["name"])}
    for key_, fw in res.get("google_compute_firewall", {}).items():
        # compute#firewall: an INGRESS rule has sourceRanges, an EGRESS one destinationRanges;
        # a rule either allows or denies (exactly one of `allow`/`deny`).
        if ("allow" in fw) == ("deny" in fw):
            raise ApiError(400, "INVALID_ARGUMENT", f"firewall {fw['name']}: exactly one of allow and deny", "invalid")
        rule = {"kind": "compute#firewall", "name": fw["name"], "direction": fw["direction"],
                "network": link("global", "networks", fw["network"]), "targetTags": fw["target_tags"],
                "priority": fw.get("priority", 1000), "selfLink": link("global", "firewalls", fw["name"])}
        if fw["direction"] == "EGRESS":
            rule["destinationRanges"] = fw["destination_ranges"]
        else:
            rule["sourceRanges"] = fw["source_ranges"]
        for key, out in (("allow", "allowed"), ("deny", "denied")):
            if key in fw:
                rule[out] = [{"IPProtocol": a["protocol"], "ports": a["ports"]} for a in fw[key]]
        STATE["firewalls"][fw["name"]] = rule
    db = res["google_sql_database_instance"]["database"]
    networks = [{"kind": "sql#aclEntry", "name": n["name"], "value": n["value"]}
                for n in db["settings"]["ip_configuration"]["authorized_networks"]]
    STATE["sql_instances"][db_name] = sql_instance(db_name, db["database_version"], db_ip, networks)
    STATE["sql_instances"][db_name]["settings"]["tier"] = db["settings"]["tier"]
    STATE["backup_runs"].setdefault(db_name, [])
    inst = res["google_compute_instance"]["server"]
    STATE["instances"][vm_name] = {
        "kind": "compute#instance", "name": vm_name, "status": "RUNNING", "zone": link("zones", ZONE), "selfLink": vm_link,
        "machineType": link("zones", ZONE, "machineTypes", inst["machine_type"]),
        "networkInterfaces": [{"kind": "compute#networkInterface", "name": "nic0", "networkIP": "10.132.0.9",
                               "network": link("global", "networks", inst["network_interface"][0]["network"]),
                               "accessConfigs": [{"kind": "compute#accessConfig", "type": "ONE_TO_ONE_NAT", "name": "external-nat",
                                                  "natIP": new_ip, "networkTier": "PREMIUM"}]}],
        "disks": [{"boot": True, "deviceName": "persistent-disk-0", "index": 0, "source": link("zones", ZONE, "disks", vm_name)},
                  {"boot": False, "deviceName": inst["attached_disk"][0]["device_name"], "index": 1,
                   "source": link("zones", ZONE, "disks", disk["name"])}],
        "metadata": {"kind": "compute#metadata", "fingerprint": fp(f"metadata-{vm_name}"),
                     "items": [{"key": k, "value": v} for k, v in sorted(inst["metadata"].items())]},
        "labels": inst.get("labels", {}), "tags": {"items": inst.get("tags", [])}}
    outputs["server_url"] = STATE["new_server_url"]
    return outputs, []


def metadata_of(inst):
    return {i["key"]: i["value"] for i in inst["metadata"].get("items", [])}


def boot(inst):
    """The old instance boots: systemd starts clover with the WAR it has; then Google's guest
    agent runs the startup script. When that is war-startup.sh with a run it has not completed,
    the run's actions happen in order (outcomes as configured), each reported as a guest
    attribute, as the script does; the sandbox test runs the real script."""
    md = metadata_of(inst)
    server = STATE["server"]
    server["service"] = "running"
    script = md.get("startup-script")
    STATE["boots"].append({"startup_script": script, "metadata": md})
    run = md.get("cloverlift-war-run")
    if not script or not run or run in STATE["war_done"] or "cloverlift-war-upgrade" not in md:
        return
    writable = md.get("enable-guest-attributes", "").upper() == "TRUE"
    reports = STATE["guest_attributes"].setdefault(inst["name"], {}).setdefault("cloverlift", {})

    def report(key, value):
        if writable:
            reports[key] = value[:256]
    last, status = "none", 0
    for action in md.get("cloverlift-war-actions", "").split():
        status, stderr = STATE["war_outcomes"].get(action, [0, f"war-upgrade: {action} done"])
        last = action
        if status == 0:
            if action == "stop":
                server["service"] = "stopped"
            elif action == "replace":
                server["war"] = "sha-of-" + md.get("cloverlift-war-sha256", "?")
                server["war_url"] = md.get("cloverlift-war-url")
            elif action == "start":
                server["service"] = "running"
        report(f"{run}-{action}", f"{status} {stderr}")
        if status != 0:
            break
    STATE["war_done"].append(run)
    report(f"{run}-end", f"{last} {status}")


def tf_error(address, http, text):
    return {"resourceAddress": address, "httpResponseCode": http, "errorDescription": text,
            "error": {"code": 3, "message": text}}


def resource_changes(tf_text, existing):
    tf = json.loads(tf_text)
    changes = []
    for rtype, items in tf.get("resource", {}).items():
        for name in items:
            changes.append({"address": f"{rtype}.{name}", "mode": "managed", "type": rtype, "name": name,
                            "change": {"actions": ["no-op"] if existing else ["create"]}})
    return {"format_version": "1.2", "terraform_version": "1.5.7", "resource_changes": changes}


# --- HTTP ------------------------------------------------------------------------------------

S = r"[^/]+"
CP = rf"/compute/v1/projects/({S})"
LOC = rf"/v1/projects/({S})/locations/({S})"
ROUTES = [
    (rf"^{CP}/zones/({S})/instances/({S})$", {"GET", "DELETE"}, "instance"),
    (rf"^{CP}/zones/({S})/instances/({S})/(setMetadata|deleteAccessConfig|addAccessConfig|stop|start)$", {"POST"}, "instance_action"),
    (rf"^{CP}/zones/({S})/instances/({S})/getGuestAttributes$", {"GET"}, "guest_attributes"),
    (rf"^{CP}/zones/({S})/instances/({S})/serialPort$", {"GET"}, "serial_port"),
    (rf"^{CP}/zones/({S})/disks/({S})$", {"GET"}, "disk"),
    (rf"^{CP}/zones/({S})/disks/({S})/createSnapshot$", {"POST"}, "create_snapshot"),
    (rf"^{CP}/global/snapshots/({S})$", {"GET", "DELETE"}, "snapshot"),
    (rf"^{CP}/global/firewalls$", {"GET"}, "firewalls"),
    (rf"^{CP}/global/firewalls/({S})$", {"GET", "DELETE"}, "firewall"),
    (rf"^{CP}/regions/({S})/addresses/({S})$", {"GET", "DELETE"}, "address"),
    (rf"^{CP}/(zones|regions)/({S})/operations/({S})$", {"GET"}, "compute_operation"),
    (rf"^{CP}/global/operations/({S})$", {"GET"}, "compute_global_operation"),
    (rf"^/v1/projects/({S})/instances/({S})$", {"GET", "PATCH"}, "sql_instance"),
    (rf"^/v1/projects/({S})/instances/({S})/backupRuns$", {"GET", "POST"}, "backup_runs"),
    (rf"^/v1/projects/({S})/instances/({S})/backupRuns/({S})$", {"GET"}, "backup_run"),
    (rf"^/v1/projects/({S})/instances/({S})/restoreBackup$", {"POST"}, "restore_backup"),
    (rf"^/v1/projects/({S})/operations$", {"GET"}, "sql_operations"),
    (rf"^/v1/projects/({S})/operations/({S})$", {"GET"}, "sql_operation"),
    (rf"^{LOC}/deployments$", {"POST"}, "deployments"),
    (rf"^{LOC}/deployments/({S})$", {"GET", "PATCH", "DELETE"}, "deployment"),
    (rf"^{LOC}/deployments/({S})/revisions/({S})$", {"GET"}, "revision"),
    (rf"^{LOC}/previews$", {"POST"}, "previews"),
    (rf"^{LOC}/previews/([^/:]+)$", {"GET", "DELETE"}, "preview"),
    (rf"^{LOC}/previews/({S}):export$", {"POST"}, "preview_export"),
    (rf"^{LOC}/operations/({S})$", {"GET"}, "lro"),
    (rf"^/v1/projects/({S})/secrets/({S})/versions/([^/:]+):access$", {"GET"}, "secret"),
    (rf"^/upload/storage/v1/b/({S})/o$", {"POST"}, "upload"),
]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=None, headers=None, raw=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def fail(self, e, compute):
        err = {"code": e.status, "message": e.message, "status": e.code}
        if compute:
            err["errors"] = [{"message": e.message, "domain": "global", "reason": e.reason or e.code.lower()}]
        self.reply(e.status, {"error": err}, e.headers)

    def handle_any(self, method):
        url = urlparse(self.path)
        raw = self.read_body()
        path, query = url.path, {k: v[0] for k, v in parse_qs(url.query).items()}
        if path.startswith("/__test__/"):
            return self.test_control(method, path, raw)
        if path.startswith("/__signed__/previews/"):
            return self.signed(method, path)
        compute = path.startswith("/compute/")
        with LOCK:
            body = None
            if raw and "multipart" not in (self.headers.get("Content-Type") or ""):
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw.decode(errors="replace")
            STATE["requests"].append({"method": method, "path": path, "query": query,
                                      "body": body if path != "/token" else None})
            try:
                if path == "/token":
                    return self.token(method, body)
                self.authenticate()
                if STATE["throttle"] > 0:
                    STATE["throttle"] -= 1
                    STATE["throttled"] += 1
                    raise ApiError(429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Queries' and limit "
                                   "'Queries per minute' of service; retry later.", "rateLimitExceeded",
                                   {"Retry-After": "0"})
                for pattern, methods, name in ROUTES:
                    m = re.match(pattern, path)
                    if m:
                        if method not in methods:
                            raise ApiError(405, "METHOD_NOT_ALLOWED", f"{method} is not allowed on {path}", "methodNotAllowed",
                                           {"Allow": ", ".join(sorted(methods))})
                        if m.group(1) != PROJECT and name not in ("upload",):
                            raise ApiError(403, "PERMISSION_DENIED", f"The caller does not have access to project {m.group(1)}", "forbidden")
                        return getattr(self, "h_" + name)(method, m.groups(), query, body, raw)
                raise ApiError(404, "NOT_FOUND", f"The requested URL {path} was not found on this server.", "notFound")
            except ApiError as e:
                return self.fail(e, compute)

    def read_body(self):
        # Streamed bodies (the storage client's multipart upload) come chunked.
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def token(self, method, body):
        # google-cloud-auth's authorized_user refresh: a JSON body.
        if method != "POST":
            return self.reply(405, {"error": "invalid_request"}, {"Allow": "POST"})
        ok = isinstance(body, dict) and body.get("grant_type") == "refresh_token" and \
            body.get("client_id") == "client-id-for-tests" and body.get("client_secret") == "client-secret-for-tests" and \
            body.get("refresh_token") == "refresh-token-for-tests"
        if not ok:
            return self.reply(400, {"error": "invalid_grant", "error_description": "Bad Request"})
        return self.reply(200, {"access_token": TOKEN, "expires_in": 3599, "token_type": "Bearer",
                                "scope": "https://www.googleapis.com/auth/cloud-platform"})

    def authenticate(self):
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            raise ApiError(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token.",
                           "authError", {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'})

    # compute ------------------------------------------------------------------------------------

    def zone_op(self, zone, op_type, target, then=None, error=None):
        return self.reply(200, compute_view(new_op("compute", ("zone", zone), op_type, target, then, error)))

    def instance_of(self, zone, name):
        inst = STATE["instances"].get(name)
        if zone != ZONE or not inst:
            raise not_found(f"projects/{PROJECT}/zones/{zone}/instances/{name}")
        return inst

    def h_instance(self, method, g, query, body, raw):  # compute.instances.get / delete
        _, zone, name = g
        inst = self.instance_of(zone, name)
        if method == "GET":
            return self.reply(200, inst)

        def gone():
            STATE["instances"].pop(name, None)
            self.free_ips(inst)
        return self.zone_op(zone, "delete", inst["selfLink"], gone)

    def free_ips(self, inst):
        for nic in inst.get("networkInterfaces", []):
            for c in nic.get("accessConfigs", []):
                for a in STATE["addresses"].values():
                    if a["address"] == c.get("natIP"):
                        a["status"], a["users"] = "RESERVED", []

    def h_instance_action(self, method, g, query, body, raw):
        _, zone, name, action = g
        inst = self.instance_of(zone, name)
        nic = inst["networkInterfaces"][0]
        if action == "setMetadata":  # compute.instances.setMetadata
            if not isinstance(body, dict):
                raise ApiError(400, "INVALID_ARGUMENT", "Required field 'resource' not specified", "required")
            if body.get("fingerprint") != inst["metadata"]["fingerprint"]:
                raise ApiError(412, "FAILED_PRECONDITION", "Supplied fingerprint does not match current metadata fingerprint.",
                               "conditionNotMet")

            def set_md():
                inst["metadata"] = {"kind": "compute#metadata", "items": body.get("items", []),
                                    "fingerprint": fp(f"metadata-{name}-{next(IDS)}")}
            return self.zone_op(zone, "setMetadata", inst["selfLink"], set_md)
        if action == "deleteAccessConfig":  # compute.instances.deleteAccessConfig
            if query.get("networkInterface") != nic["name"]:
                raise ApiError(400, "INVALID_ARGUMENT", f"Invalid value for field 'networkInterface': '{query.get('networkInterface')}'", "invalid")
            config = next((c for c in nic.get("accessConfigs", []) if c["name"] == query.get("accessConfig")), None)
            if not config:
                raise ApiError(400, "INVALID_ARGUMENT", f"Invalid value for field 'accessConfig': '{query.get('accessConfig')}'", "invalid")

            def delete():
                nic["accessConfigs"] = [c for c in nic["accessConfigs"] if c is not config]
                for a in STATE["addresses"].values():
                    if a["address"] == config.get("natIP"):
                        a["status"], a["users"] = "RESERVED", []
            return self.zone_op(zone, "deleteAccessConfig", inst["selfLink"], delete)
        if action == "addAccessConfig":  # compute.instances.addAccessConfig
            if query.get("networkInterface") != nic["name"]:
                raise ApiError(400, "INVALID_ARGUMENT", f"Invalid value for field 'networkInterface': '{query.get('networkInterface')}'", "invalid")
            if not isinstance(body, dict) or body.get("type") != "ONE_TO_ONE_NAT":
                raise ApiError(400, "INVALID_ARGUMENT", "Invalid value for field 'resource.type'", "invalid")
            if nic.get("accessConfigs"):
                raise ApiError(400, "INVALID_ARGUMENT", "At most one access config currently supported.", "invalid")
            ip = body.get("natIP")
            address = next((a for a in STATE["addresses"].values() if a["address"] == ip), None)
            if ip and address and address["status"] == "IN_USE" and address["users"] != [inst["selfLink"]]:
                raise ApiError(400, "INVALID_ARGUMENT", f"The IP address '{ip}' is already being used by another resource.",
                               "invalid")

            def add():
                config = {"kind": "compute#accessConfig", "type": "ONE_TO_ONE_NAT", "name": body.get("name", "External NAT"),
                          "natIP": ip or f"34.76.200.{next(NEW_IPS)}", "networkTier": body.get("networkTier", "PREMIUM")}
                nic.setdefault("accessConfigs", []).append(config)
                if address:
                    address["status"], address["users"] = "IN_USE", [inst["selfLink"]]
            return self.zone_op(zone, "addAccessConfig", inst["selfLink"], add)
        # compute.instances.stop / start: stopping or starting an instance already in that
        # state succeeds and changes nothing, as Compute Engine's do.

        def power():
            was = inst["status"]
            inst["status"] = "TERMINATED" if action == "stop" else "RUNNING"
            if name == "clover-vm" and action == "stop":
                STATE["server"]["service"] = "stopped"
            if name == "clover-vm" and action == "start" and was != "RUNNING":
                boot(inst)
        return self.zone_op(zone, action, inst["selfLink"], power)

    def h_serial_port(self, method, g, query, body, raw):  # compute.instances.getSerialPortOutput
        """`port` 1-4 (default 1) and `start` (a byte offset) as the discovery document
        describes them; the answer is a `compute#serialPortOutput` with `contents`, `start` and
        `next`. No emulator runs the instance, so an instance that carries cloverlift's boot
        guard in its `user-data` shows what that guard prints on a real boot: once the restore
        marker lets clover start, the certificate the new CloverDX double serves."""
        _, zone, name = g
        inst = self.instance_of(zone, name)
        port = query.get("port", "1")
        if port not in ("1", "2", "3", "4"):
            raise ApiError(400, "INVALID_ARGUMENT", f"Invalid value for field 'port': '{port}'", "invalid")
        md = metadata_of(inst)
        text = "[    0.000000] Linux version 6.1.0-28-cloud-amd64\r\n" if port == "1" else ""
        plan = re.search(r"cloverlift boot guard: .*\(plan '?([a-z0-9-]+)'?\)", md.get("user-data", ""))
        if port == "1" and plan and md.get("cloverlift-database-restored") == "true" and STATE["new_server_fingerprint"]:
            text += (f"[   61.402115] cloud-init[1101]: cloverlift-guard: plan {plan.group(1)} "
                     f"tls-sha256 {STATE['new_server_fingerprint']}\r\n")
        start = int(query.get("start", "0") or 0)
        return self.reply(200, {"kind": "compute#serialPortOutput", "contents": text[start:], "start": str(start),
                                "next": str(len(text)), "selfLink": inst["selfLink"] + "/serialPort"})

    def h_guest_attributes(self, method, g, query, body, raw):  # compute.instances.getGuestAttributes
        _, zone, name = g
        inst = self.instance_of(zone, name)
        path = query.get("queryPath")
        if not path or not path.endswith("/") or path.count("/") != 1:
            raise ApiError(400, "INVALID_ARGUMENT", f"Invalid value for field 'queryPath': '{path}'", "invalid")
        namespace = path[:-1]
        found = [{"namespace": namespace, "key": k, "value": v}
                 for k, v in sorted(STATE["guest_attributes"].get(name, {}).get(namespace, {}).items())]
        if not found:
            raise not_found(f"projects/{PROJECT}/zones/{zone}/instances/{name}/guestAttributes/{path}")
        return self.reply(200, {"kind": "compute#guestAttributes", "queryPath": path,
                                "queryValue": {"items": found}, "selfLink": inst["selfLink"] + "/guestAttributes/" + path})

    def h_disk(self, method, g, query, body, raw):  # compute.disks.get
        _, zone, name = g
        disk = STATE["disks"].get(name)
        if zone != ZONE or not disk:
            raise not_found(f"projects/{PROJECT}/zones/{zone}/disks/{name}")
        return self.reply(200, disk)

    def h_create_snapshot(self, method, g, query, body, raw):  # compute.disks.createSnapshot
        _, zone, disk_name = g
        disk = STATE["disks"].get(disk_name)
        if zone != ZONE or not disk:
            raise not_found(f"projects/{PROJECT}/zones/{zone}/disks/{disk_name}")
        if not isinstance(body, dict) or not body.get("name"):
            raise ApiError(400, "INVALID_ARGUMENT", "Required field 'resource.name' not specified", "required")
        name = body["name"]
        if name in STATE["snapshots"]:
            raise ApiError(409, "ALREADY_EXISTS", f"The resource 'projects/{PROJECT}/global/snapshots/{name}' already exists",
                           "alreadyExists")
        snap = {"kind": "compute#snapshot", "id": str(next(IDS)), "name": name, "status": "CREATING",
                "sourceDisk": disk["selfLink"], "diskSizeGb": disk["sizeGb"], "labels": body.get("labels", {}),
                "description": body.get("description", ""), "creationTimestamp": now_iso(), "_polls": STATE["polls"],
                "selfLink": link("global", "snapshots", name), "storageBytes": "0"}
        STATE["snapshots"][name] = snap
        error = {"code": "INTERNAL_ERROR", "message": "Internal error. Please try again or contact Google Support.",
                 "http": 500} if STATE["fail_snapshot"] else None

        def uploading():
            snap["status"] = "UPLOADING"
        if error:
            snap["status"] = "FAILED"
        return self.zone_op(zone, "createSnapshot", disk["selfLink"], uploading, error)

    def h_snapshot(self, method, g, query, body, raw):  # compute.snapshots.get / delete
        _, name = g
        snap = STATE["snapshots"].get(name)
        if not snap:
            raise not_found(f"projects/{PROJECT}/global/snapshots/{name}")
        if method == "DELETE":
            return self.reply(200, compute_view(new_op("compute", ("global", ""), "delete", snap["selfLink"],
                                                       lambda: STATE["snapshots"].pop(name, None) and None)))
        if snap["status"] == "UPLOADING":
            snap["_polls"] -= 1
            if snap["_polls"] <= 0:
                snap["status"] = "READY"
                snap["storageBytes"] = "1073741824"
        return self.reply(200, public(snap))

    def h_firewalls(self, method, g, query, body, raw):  # compute.firewalls.list
        return self.reply(200, {"kind": "compute#firewallList", "id": f"projects/{PROJECT}/global/firewalls",
                                "items": list(STATE["firewalls"].values()), "selfLink": link("global", "firewalls")})

    def h_firewall(self, method, g, query, body, raw):  # compute.firewalls.get / delete
        _, name = g
        fw = STATE["firewalls"].get(name)
        if not fw:
            raise not_found(f"projects/{PROJECT}/global/firewalls/{name}")
        if method == "GET":
            return self.reply(200, fw)
        return self.reply(200, compute_view(new_op("compute", ("global", ""), "delete", fw["selfLink"],
                                                   lambda: STATE["firewalls"].pop(name, None) and None)))

    def h_address(self, method, g, query, body, raw):  # compute.addresses.get / delete
        _, region, name = g
        address = STATE["addresses"].get(name)
        if region != REGION or not address:
            raise not_found(f"projects/{PROJECT}/regions/{region}/addresses/{name}")
        if method == "GET":
            return self.reply(200, address)
        if address["status"] == "IN_USE":
            raise ApiError(400, "FAILED_PRECONDITION", f"The address resource 'projects/{PROJECT}/regions/{region}/addresses/{name}' "
                           f"is already being used by '{address['users'][0]}'", "resourceInUseByAnotherResource")
        return self.reply(200, compute_view(new_op("compute", ("region", region), "delete", address["selfLink"],
                                                   lambda: STATE["addresses"].pop(name, None) and None)))

    def h_compute_operation(self, method, g, query, body, raw):  # compute.zoneOperations.get / regionOperations.get
        _, kind, scope, name = g
        op = STATE["operations"].get(name)
        if not op or op["kind"] != "compute" or op["scope"] != (kind[:-1], scope):
            raise not_found(f"projects/{PROJECT}/{kind}/{scope}/operations/{name}")
        advance(op)
        return self.reply(200, compute_view(op))

    def h_compute_global_operation(self, method, g, query, body, raw):  # compute.globalOperations.get
        _, name = g
        op = STATE["operations"].get(name)
        if not op or op["kind"] != "compute" or op["scope"][0] != "global":
            raise not_found(f"projects/{PROJECT}/global/operations/{name}")
        advance(op)
        return self.reply(200, compute_view(op))

    # Cloud SQL -----------------------------------------------------------------------------------

    def sql_of(self, name):
        inst = STATE["sql_instances"].get(name)
        if not inst:
            raise ApiError(404, "NOT_FOUND", "The Cloud SQL instance does not exist.", "instanceDoesNotExist")
        return inst

    def sql_op(self, op_type, target, then=None, error=None, extra=None):
        return self.reply(200, sql_view(new_op("sql", None, op_type, target, then, error, extra)))

    def h_sql_instance(self, method, g, query, body, raw):  # sqladmin.instances.get / patch
        _, name = g
        inst = self.sql_of(name)
        if method == "GET":
            return self.reply(200, inst)
        networks = (body or {}).get("settings", {}).get("ipConfiguration", {}).get("authorizedNetworks")
        if not isinstance(body, dict) or set(body) - {"settings"}:
            raise ApiError(400, "INVALID_ARGUMENT", "Invalid request: only settings may be patched here.", "invalid")

        def patch():
            if networks is not None:
                inst["settings"]["ipConfiguration"]["authorizedNetworks"] = [
                    {"kind": "sql#aclEntry", "name": n.get("name", ""), "value": n["value"]} for n in networks]
        return self.sql_op("UPDATE", name, patch)

    def h_backup_runs(self, method, g, query, body, raw):  # sqladmin.backupRuns.list / insert
        _, name = g
        inst = self.sql_of(name)
        runs = STATE["backup_runs"].setdefault(name, [])
        if method == "GET":
            return self.reply(200, {"kind": "sql#backupRunsList", "items": [public(r) for r in runs]})
        run_id = str(int(time.time() * 1000) * 10 + next(IDS) % 10)
        run = {"kind": "sql#backupRun", "id": run_id, "status": "ENQUEUED", "type": "ON_DEMAND", "instance": name,
               "description": (body or {}).get("description", ""), "enqueuedTime": now_iso(), "location": REGION,
               "databaseVersion": inst["databaseVersion"], "backupKind": "SNAPSHOT", "_polls": STATE["polls"] + 1,
               "selfLink": f"{SQLADMIN}/projects/{PROJECT}/instances/{name}/backupRuns/{run_id}"}
        runs.append(run)
        failed = STATE["fail_backup"]

        def done():
            run["status"] = "FAILED" if failed else "SUCCESSFUL"
            run["endTime"] = now_iso()
            if failed:
                run["error"] = {"kind": "sql#operationError", "code": "BACKUP_FAILED", "message": "Backup failed: disk snapshot error."}
                return {"error": {"code": "BACKUP_FAILED", "message": "Backup failed: disk snapshot error."}}
        return self.sql_op("BACKUP_VOLUME", name, done,
                           extra={"backupContext": {"kind": "sql#backupContext", "backupId": run_id}})

    def h_backup_run(self, method, g, query, body, raw):  # sqladmin.backupRuns.get
        _, name, run_id = g
        self.sql_of(name)
        run = next((r for r in STATE["backup_runs"].get(name, []) if r["id"] == run_id), None)
        if not run:
            raise ApiError(404, "NOT_FOUND", "The backup run does not exist.", "backupRunDoesNotExist")
        if run["status"] in ("ENQUEUED", "RUNNING"):
            run["_polls"] -= 1
            if run["_polls"] <= 1 and run["status"] == "ENQUEUED":
                run["status"], run["startTime"] = "RUNNING", now_iso()
            op = next((o for o in STATE["operations"].values() if o["extra"].get("backupContext", {}).get("backupId") == run_id), None)
            if run["_polls"] <= 0 and op:
                finish(op)
        return self.reply(200, public(run))

    def h_restore_backup(self, method, g, query, body, raw):  # sqladmin.instances.restoreBackup
        _, target = g
        inst = self.sql_of(target)
        ctx = (body or {}).get("restoreBackupContext") or {}
        source, run_id = ctx.get("instanceId"), str(ctx.get("backupRunId", ""))
        if not source or not run_id:
            raise ApiError(400, "INVALID_ARGUMENT", "Invalid request: restoreBackupContext needs backupRunId and instanceId.", "invalid")
        if source == target:
            raise ApiError(400, "INVALID_ARGUMENT", "Invalid request: test refuses restoring an instance over itself.", "invalid")
        run = next((r for r in STATE["backup_runs"].get(source, []) if r["id"] == run_id), None)
        if not run:
            raise ApiError(400, "INVALID_ARGUMENT", f"Invalid request: backup run {run_id} does not belong to {source}.", "invalid")
        if run["status"] != "SUCCESSFUL":
            raise ApiError(400, "FAILED_PRECONDITION", f"Invalid request: backup run {run_id} is {run['status']}.", "invalid")
        if inst["state"] != "RUNNABLE":
            raise ApiError(409, "FAILED_PRECONDITION", "The instance is not running.", "invalidState")
        if run["databaseVersion"] != inst["databaseVersion"]:
            raise ApiError(400, "INVALID_ARGUMENT", "Invalid request: the backup's database version does not match the target instance's.",
                           "invalid")
        STATE["restores"].append({"target": target, "source": source, "backupRunId": run_id, "at": time.time()})
        error = {"code": "INTERNAL_ERROR", "message": "An internal error occurred while restoring the backup."} \
            if STATE["fail_restore"] else None
        if STATE["drop_restore_reply"]:
            # The restore starts and its answer is lost, as a client killed after sending (or a
            # dropped connection) leaves it: Cloud SQL runs it all the same.
            STATE["drop_restore_reply"] = False
            new_op("sql", None, "RESTORE_VOLUME", target, None, error)
            self.close_connection = True
            return None
        return self.sql_op("RESTORE_VOLUME", target, None, error)

    def h_sql_operations(self, method, g, query, body, raw):  # sqladmin.operations.list
        # The instance's operations, newest first ("in the reverse chronological order of the
        # start time"), one page; a read, so no operation advances.
        instance = query.get("instance", "")
        if instance:
            self.sql_of(instance)
        ops = [o for o in STATE["operations"].values()
               if o["kind"] == "sql" and (not instance or o["target"] == instance)]
        ops.sort(key=lambda o: int(o["name"].rsplit("-", 1)[1]), reverse=True)
        return self.reply(200, {"kind": "sql#operationsList", "items": [sql_view(o) for o in ops]})

    def h_sql_operation(self, method, g, query, body, raw):  # sqladmin.operations.get
        _, name = g
        op = STATE["operations"].get(name)
        if not op or op["kind"] != "sql":
            raise ApiError(404, "NOT_FOUND", "The operation does not exist.", "operationDoesNotExist")
        if op["type"] == "BACKUP_VOLUME":
            # The backup run's own progress decides when its operation is done.
            run_id = op["extra"]["backupContext"]["backupId"]
            run = next(r for r in STATE["backup_runs"][op["target"]] if r["id"] == run_id)
            run["_polls"] -= 1
            if run["_polls"] <= 0:
                finish(op)
        else:
            advance(op)
        return self.reply(200, sql_view(op))

    # Infrastructure Manager -------------------------------------------------------------------

    def dep_name(self, loc, name):
        return f"projects/{PROJECT}/locations/{loc}/deployments/{name}"

    def check_blueprint(self, body):
        if not isinstance(body, dict) or "gcsSource" not in body.get("terraformBlueprint", {}):
            raise ApiError(400, "INVALID_ARGUMENT", "terraform_blueprint.gcs_source is required", "invalid")
        sa = body.get("serviceAccount", "")
        m = re.match(rf"^projects/{PROJECT}/serviceAccounts/(.+)$", sa)
        if not m or m.group(1) not in SERVICE_ACCOUNTS:
            raise ApiError(400, "INVALID_ARGUMENT", f"service account {sa!r} does not exist or cannot be used", "invalid")

    def lro(self, verb, target, then):
        return self.reply(200, lro_view(new_op("lro", None, verb, target, then)))

    def deployment_view(self, d):
        return {k: v for k, v in public(d).items() if k != "body"}

    def run_apply(self, d, body):
        outputs, errors = apply_blueprint(d["name"], body, STATE["fail_resource"])
        rev_no = d.get("_revisions", 0)
        d["_revisions"] = rev_no + 1
        rev = f"{d['name']}/revisions/r-{rev_no}"
        d["latestRevision"] = rev
        d["updateTime"] = now_iso()
        revision = {"name": rev, "action": "CREATE" if rev_no == 0 else "UPDATE", "createTime": now_iso(),
                    "terraformBlueprint": body["terraformBlueprint"], "serviceAccount": body["serviceAccount"],
                    "tfVersion": "1.5.7", "build": f"build-{next(IDS)}"}
        if errors:
            d.update({"state": "FAILED", "tfErrors": errors, "errorCode": "REVISION_FAILED",
                      "stateDetail": "Revision failed: an error occurred during the Terraform apply",
                      "errorLogs": f"gs://{PROJECT_NUMBER}-{REGION}-blueprint-config/{d['name'].rsplit('/', 1)[1]}/logs"})
            revision.update({"state": "FAILED", "tfErrors": errors, "errorCode": "APPLY_BUILD_RUN_FAILED"})
            STATE["revisions"][rev] = revision
            return {"error": {"grpc": 9, "message": "deployment failed: the Terraform apply reported errors, see tf_errors"}}
        d.update({"state": "ACTIVE", "tfErrors": [], "body": body,
                  "terraformBlueprint": body["terraformBlueprint"], "serviceAccount": body["serviceAccount"]})
        d.pop("errorCode", None)
        d.pop("stateDetail", None)
        revision.update({"state": "APPLIED", "applyResults": {
            "content": body["terraformBlueprint"]["gcsSource"], "artifacts": f"gs://{PROJECT_NUMBER}-{REGION}-blueprint-config/{rev}",
            "outputs": {k: {"sensitive": False, "value": v} for k, v in sorted(outputs.items())}}})
        STATE["revisions"][rev] = revision
        return dict(self.deployment_view(d), **{"@type": "type.googleapis.com/google.cloud.config.v1.Deployment"})

    def h_deployments(self, method, g, query, body, raw):  # config.projects.locations.deployments.create
        _, loc = g
        dep_id = query.get("deploymentId")
        if not dep_id or not re.match(r"^[a-z][a-z0-9-]{0,62}$", dep_id):
            raise ApiError(400, "INVALID_ARGUMENT", "deployment_id is required and must match [a-z][a-z0-9-]*", "invalid")
        name = self.dep_name(loc, dep_id)
        if dep_id in STATE["deployments"]:
            raise ApiError(409, "ALREADY_EXISTS", f"Resource '{name}' already exists", "alreadyExists")
        self.check_blueprint(body)
        d = {"name": name, "createTime": now_iso(), "updateTime": now_iso(), "labels": body.get("labels", {}),
             "state": "CREATING", "lockState": "UNLOCKED", "body": body, "terraformBlueprint": body["terraformBlueprint"],
             "serviceAccount": body["serviceAccount"]}
        STATE["deployments"][dep_id] = d
        return self.lro("create", name, lambda: self.run_apply(d, body))

    def h_deployment(self, method, g, query, body, raw):  # deployments.get / patch / delete
        _, loc, dep_id = g
        d = STATE["deployments"].get(dep_id)
        if not d:
            raise ApiError(404, "NOT_FOUND", f"Resource '{self.dep_name(loc, dep_id)}' was not found", "notFound")
        if method == "GET":
            return self.reply(200, self.deployment_view(d))
        if method == "DELETE":
            return self.lro("delete", d["name"], lambda: STATE["deployments"].pop(dep_id, None) and None)
        if d["state"] in ("CREATING", "UPDATING", "DELETING"):
            raise ApiError(409, "FAILED_PRECONDITION", f"deployment is {d['state']}", "invalidState")
        self.check_blueprint(body)
        if body.get("name") not in (None, d["name"]):
            raise ApiError(400, "INVALID_ARGUMENT", "deployment.name does not match the URL", "invalid")
        d["state"] = "UPDATING"
        d["labels"] = body.get("labels", d["labels"])
        return self.lro("update", d["name"], lambda: self.run_apply(d, body))

    def h_revision(self, method, g, query, body, raw):  # deployments.revisions.get
        name = f"projects/{g[0]}/locations/{g[1]}/deployments/{g[2]}/revisions/{g[3]}"
        rev = STATE["revisions"].get(name)
        if not rev:
            raise ApiError(404, "NOT_FOUND", f"Resource '{name}' was not found", "notFound")
        return self.reply(200, rev)

    def h_previews(self, method, g, query, body, raw):  # previews.create
        _, loc = g
        pid = query.get("previewId")
        if not pid:
            raise ApiError(400, "INVALID_ARGUMENT", "preview_id is required", "invalid")
        if pid in STATE["previews"]:
            raise ApiError(409, "ALREADY_EXISTS", f"preview {pid} already exists", "alreadyExists")
        self.check_blueprint(body)
        name = f"projects/{PROJECT}/locations/{loc}/previews/{pid}"
        dep = (body.get("deployment") or "").rsplit("/", 1)[-1]
        if body.get("deployment") and dep not in STATE["deployments"]:
            raise ApiError(400, "INVALID_ARGUMENT", f"deployment {body['deployment']} does not exist", "invalid")
        p = {"name": name, "state": "CREATING", "createTime": now_iso(), "previewMode": body.get("previewMode", "DEFAULT"),
             "serviceAccount": body["serviceAccount"], "terraformBlueprint": body["terraformBlueprint"],
             "labels": body.get("labels", {}), "deployment": body.get("deployment", "")}
        STATE["previews"][pid] = p

        def done():
            p["state"] = "SUCCEEDED"
            return dict(p, **{"@type": "type.googleapis.com/google.cloud.config.v1.Preview"})
        return self.lro("create", name, done)

    def h_preview(self, method, g, query, body, raw):  # previews.get / delete
        _, loc, pid = g
        p = STATE["previews"].get(pid)
        if not p:
            raise ApiError(404, "NOT_FOUND", f"Resource 'projects/{PROJECT}/locations/{loc}/previews/{pid}' was not found", "notFound")
        if method == "GET":
            return self.reply(200, p)
        return self.lro("delete", p["name"], lambda: STATE["previews"].pop(pid, None) and None)

    def h_preview_export(self, method, g, query, body, raw):  # previews.export
        _, loc, pid = g
        p = STATE["previews"].get(pid)
        if not p:
            raise ApiError(404, "NOT_FOUND", f"preview {pid} was not found", "notFound")
        if p["state"] != "SUCCEEDED":
            raise ApiError(400, "FAILED_PRECONDITION", f"preview {pid} is {p['state']}", "invalidState")
        base = f"http://127.0.0.1:{self.server.server_address[1]}/__signed__/previews/{pid}"
        sig = "X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Expires=900&X-Goog-Signature=0badc0de"
        return self.reply(200, {"result": {"jsonSignedUri": f"{base}.json?{sig}", "binarySignedUri": f"{base}.tfplan?{sig}"}})

    def signed(self, method, path):
        # A signed URL: the signature authorises the read; no bearer token is sent or needed.
        with LOCK:
            pid = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
            p = STATE["previews"].get(pid)
            if method != "GET" or not p or not path.endswith(".json"):
                return self.reply(404, {"error": {"code": 404, "message": "NoSuchKey"}})
            src = p["terraformBlueprint"]["gcsSource"]
            m = re.match(r"^gs://([^/]+)/(.+?)/?$", src)
            text = STATE["objects"].get(f"{m.group(1)}/{m.group(2)}/main.tf.json") if m else None
            if text is None:
                return self.reply(404, {"error": {"code": 404, "message": "NoSuchKey"}})
            dep = p["deployment"].rsplit("/", 1)[-1] if p["deployment"] else None
            return self.reply(200, resource_changes(text, dep in STATE["deployments"] if dep else False))

    def h_lro(self, method, g, query, body, raw):  # projects.locations.operations.get
        _, loc, name = g
        op = STATE["operations"].get(name)
        if not op or op["kind"] != "lro":
            raise ApiError(404, "NOT_FOUND", f"operation {name} was not found", "notFound")
        advance(op)
        return self.reply(200, lro_view(op))

    # Secret Manager and Cloud Storage ----------------------------------------------------------

    def h_secret(self, method, g, query, body, raw):  # secretmanager.projects.secrets.versions.access
        _, secret, version = g
        versions = STATE["secrets"].get(secret)
        if not versions or version not in versions:
            raise ApiError(404, "NOT_FOUND", f"Secret [projects/{PROJECT_NUMBER}/secrets/{secret}] not found or has no versions.",
                           "notFound")
        data = versions[version].encode()
        number = "1" if version == "latest" else version
        return self.reply(200, {"name": f"projects/{PROJECT_NUMBER}/secrets/{secret}/versions/{number}",
                                "payload": {"data": base64.b64encode(data).decode(), "dataCrc32c": str(crc32c(data))}})

    def h_upload(self, method, g, query, body, raw):  # storage.objects.insert, uploadType=multipart
        bucket = g[0]
        if bucket != BUCKET:
            raise ApiError(404, "NOT_FOUND", "The specified bucket does not exist.", "notFound")
        if query.get("uploadType") != "multipart" or not query.get("name"):
            raise ApiError(400, "INVALID_ARGUMENT", "uploadType=multipart and name are required here", "invalid")
        ctype = self.headers.get("Content-Type") or ""
        m = re.match(r"^multipart/related; boundary=(.+)$", ctype)
        if not m:
            raise ApiError(400, "INVALID_ARGUMENT", "Content-Type must be multipart/related with a boundary", "invalid")
        parts = split_multipart(raw, m.group(1).encode())
        if len(parts) < 2:
            raise ApiError(400, "INVALID_ARGUMENT", "a multipart upload has a metadata part and a media part", "invalid")
        metadata = json.loads(parts[0] or b"{}")
        data = parts[1]
        if metadata.get("name") not in (None, query["name"]):
            raise ApiError(400, "INVALID_ARGUMENT", "the metadata names another object", "invalid")
        STATE["objects"][f"{bucket}/{query['name']}"] = data.decode()
        STATE["requests"][-1]["body"] = {"metadata": metadata, "size": len(data)}
        gen = str(int(time.time() * 1e6))
        return self.reply(200, {
            "kind": "storage#object", "id": f"{bucket}/{query['name']}/{gen}", "name": query["name"], "bucket": bucket,
            "generation": gen, "metageneration": "1", "contentType": metadata.get("contentType", "application/octet-stream"),
            "storageClass": "STANDARD", "size": str(len(data)), "timeCreated": now_iso(), "updated": now_iso(),
            "md5Hash": base64.b64encode(hashlib.md5(data).digest()).decode(),
            "crc32c": base64.b64encode(crc32c(data).to_bytes(4, "big")).decode(), "etag": "CAE="})

    # test control -------------------------------------------------------------------------------

    def test_control(self, method, path, raw):
        with LOCK:
            if path == "/__test__/state":
                keys = ["requests", "instances", "disks", "addresses", "firewalls", "sql_instances", "restores",
                        "deployments", "previews", "objects", "throttled", "boots", "guest_attributes", "server"]
                state = {k: STATE[k] for k in keys}
                state["snapshots"] = {k: public(v) for k, v in STATE["snapshots"].items()}
                state["backup_runs"] = {k: [public(r) for r in v] for k, v in STATE["backup_runs"].items()}
                state["deployments"] = {k: public(v) for k, v in STATE["deployments"].items()}
                return self.reply(200, state)
            if path == "/__test__/configure" and method == "POST":
                STATE.update(json.loads(raw or b"{}"))
                return self.reply(200, {})
        return self.reply(404, {"error": {"code": 404, "message": path}})

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PATCH(self):
        self.handle_any("PATCH")

    def do_DELETE(self):
        self.handle_any("DELETE")

    def do_PUT(self):
        self.handle_any("PUT")


def split_multipart(raw, boundary):
    parts = []
    for chunk in raw.split(b"--" + boundary)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, payload = chunk.partition(b"\r\n\r\n")
        parts.append(payload[:-2] if payload.endswith(b"\r\n") else payload)
    return parts


def public(resource):
    return {k: v for k, v in resource.items() if not k.startswith("_")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--new-server-url", default="")
    ap.add_argument("--new-server-fingerprint", default="")
    args = ap.parse_args()
    seed(args.new_server_url, args.new_server_fingerprint)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"listening {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
