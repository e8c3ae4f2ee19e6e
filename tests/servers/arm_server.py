"""A local Azure Resource Manager double for the Azure apply tests. No emulator covers ARM, so
this follows ARM's documented protocol for the calls apply makes, and is as strict as ARM:

- Every request needs `Authorization: Bearer <token>` with the token for its audience (401
  `AuthenticationFailed` / `InvalidAuthenticationTokenAudience` otherwise): the ARM token on ARM
  paths, the Key Vault token on `/secrets/...`. The tokens are the ones tests/servers/az prints.
- Every ARM request names the `api-version` the resource type supports here (400
  `InvalidApiVersionParameter` otherwise, `MissingApiVersionParameter` without one).
- Only the paths below exist (404 `ResourceNotFound` / `ResourceGroupNotFound` for ids that
  are not there, 404 `NotFound` for paths that are no ARM route); other methods get 405 with
  `Allow`. Errors are `{"error":{"code","message","details"}}`; ids compare case-insensitively.
- Long-running operations: PUT of a NIC or a deployment answers with `Azure-AsyncOperation`
  (a status resource: `InProgress` over several polls, then `Succeeded` or `Failed` with
  `error`); POST of VM actions, whatIf and DELETE of a public IP answer 202 with `Location`
  and `Retry-After` (202 over several polls, then the result); snapshots report
  `provisioningState` `Updating` then `Succeeded`, and an incremental snapshot's
  `completionPercent` rises to 100 over further polls.
- The deployment engine checks what ARM and the resource providers would: the parameters must be
  exactly the template's (no undeclared one, every one without a default supplied, allowed
  values kept), the disk's snapshot must exist and be complete, the restore point must lie
  between the source server's earliest restore date and now, the image's marketplace terms must
  be accepted; then it creates the template's resources, operation by operation.
- A public IP sits on one IP configuration at a time (400 `PublicIPAddressInUse`), and cannot
  be deleted while attached (400 `PublicIPAddressCannotBeDeleted`).

- Boot diagnostics: `retrieveBootDiagnosticsData` answers SAS URIs of the console screenshot
  and the serial console log (VirtualMachine_RetrieveBootDiagnosticsData.json) for a VM whose
  template enabled `diagnosticsProfile.bootDiagnostics` (409 otherwise: the code is not
  documented, a refusal keeps a template without it from passing). The log is served here as
  Blob Storage would, by SAS alone (403 `AuthenticationFailed` for a wrong signature; an ARM
  token sent along is recorded as a leak). No emulator boots the VM, so a VM whose custom data
  carries cloverlift's boot guard shows what the guard prints on a real boot: the certificate of
  the new CloverDX double (`--new-server-fingerprint`).

Each handler names the example in Azure/azure-rest-api-specs whose shapes it follows.

Test control (not part of ARM): GET /__test__/state (resources, requests, deployments);
POST /__test__/configure sets `throttle` (the next N ARM requests get 429 with Retry-After),
`faults` (METHOD path answered with an error status and code, `times` times),
`fail_snapshot`, `fail_resource_type` (a deployment operation of that type fails),
`terms_accepted`, `run_command_exit` (action -> war-upgrade.sh's exit code), `polls` (how many polls an operation stays in progress).

Usage: arm_server.py --new-server-url URL; prints `listening PORT`.
"""
import argparse
import base64
import binascii
import copy
import secrets
import itertools
import json
import re
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

ARM_TOKEN = "arm-token-for-tests"
VAULT_TOKEN = "vault-token-for-tests"

SUB = "3f2c6a1e-8b4d-4c2a-9e7f-1a2b3c4d5e6f"
OLD_RG = "clover-prod"
NEW_RG = "clover-prod-v7"
NET_RG = "net"
LOCATION = "westeurope"

API = {
    "Microsoft.Compute/virtualMachines": "2024-07-01",
    "Microsoft.Compute/disks": "2024-03-02",
    "Microsoft.Compute/snapshots": "2024-03-02",
    "Microsoft.Network/networkInterfaces": "2024-05-01",
    "Microsoft.Network/publicIPAddresses": "2024-05-01",
    "Microsoft.Network/networkSecurityGroups": "2024-05-01",
    "Microsoft.Network/virtualNetworks/subnets": "2024-05-01",
    "Microsoft.DBforPostgreSQL/flexibleServers": "2024-08-01",
    "resourceGroups": "2024-03-01",
    "Microsoft.Resources/deployments": "2024-03-01",
    "Microsoft.MarketplaceOrdering/agreements": "2021-01-01",
}

LOCK = threading.Lock()
IDS = itertools.count(1)
STATE = {
    "resources": {},      # lower(id) -> resource body
    "operations": {},     # op id -> {"polls": n, "result": "Succeeded"|"Failed", "error", "body", "then"}
    "deployments": {},    # lower(id) -> {"body", "state", "polls", "ops": [...], "failed"}
    "requests": [],       # {"method", "path", "query", "body"}
    "throttle": 0,
    "faults": [],         # {"method", "path", "status", "code", "message", "times"}
    "blob_signatures": {},  # VM name -> the SAS signature last issued for its boot diagnostics
    "leaked_tokens": [],    # blob paths that were sent an Authorization header
    "new_server_fingerprint": "",
    "throttled": 0,
    "fail_snapshot": False,
    "run_command_exit": {},  # action -> exit code of war-upgrade.sh
    "fail_resource_type": None,
    "terms_accepted": False,
    "polls": 2,
    "new_server_url": "",
    "secrets": {"clover-password": "s3cret-pw", "cloverdx-7-license": "CLOVERDX-LICENSE-7"},
}


def rid(rg, provider_type, name):
    return f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/{provider_type}/{name}"


def put_resource(body):
    STATE["resources"][body["id"].lower()] = body


def get_resource(id_):
    return STATE["resources"].get(id_.lower())


def seed():
    vm = rid(OLD_RG, "Microsoft.Compute/virtualMachines", "clover-vm")
    nic = rid(OLD_RG, "Microsoft.Network/networkInterfaces", "clover-nic")
    nsg = rid(OLD_RG, "Microsoft.Network/networkSecurityGroups", "clover-nsg")
    ip = rid(OLD_RG, "Microsoft.Network/publicIPAddresses", "clover-ip")
    disk = rid(OLD_RG, "Microsoft.Compute/disks", "clover-data")
    pg = rid(OLD_RG, "Microsoft.DBforPostgreSQL/flexibleServers", "clover-pg")
    subnet = rid(NET_RG, "Microsoft.Network/virtualNetworks", "vnet") + "/subnets/apps"
    pg_subnet = rid(NET_RG, "Microsoft.Network/virtualNetworks", "vnet") + "/subnets/postgres"
    zone = rid(NET_RG, "Microsoft.Network/privateDnsZones", "clover.private.postgres.database.azure.com")
    for rg in (OLD_RG, NEW_RG, NET_RG):
        put_resource({"id": f"/subscriptions/{SUB}/resourceGroups/{rg}", "name": rg, "type": "Microsoft.Resources/resourceGroups",
                      "location": LOCATION, "properties": {"provisioningState": "Succeeded"}})
    # VirtualMachine_Get.json; the plan as in VirtualMachine_Create_WithAMarketplaceImagePlan.json.
    put_resource({"id": vm, "name": "clover-vm", "type": "Microsoft.Compute/virtualMachines", "location": LOCATION,
                  "plan": {"publisher": "cloverdx", "product": "cloverdx-server", "name": "byol"},
                  "properties": {"vmId": "0f47b100-583c-48e3-a4c0-aefc2c9bbcc1", "hardwareProfile": {"vmSize": "Standard_D4s_v5"},
                                 "storageProfile": {
                                     "imageReference": {"publisher": "cloverdx", "offer": "cloverdx-server", "sku": "byol", "version": "6.4.2"},
                                     "dataDisks": [{"lun": 0, "name": "clover-data", "createOption": "Attach",
                                                    "managedDisk": {"id": disk}, "diskSizeGB": 128}]},
                                 "networkProfile": {"networkInterfaces": [{"id": nic, "properties": {"primary": True}}]},
                                 "provisioningState": "Succeeded"}})
    # NetworkInterfaceGet.json
    put_resource({"id": nic, "name": "clover-nic", "type": "Microsoft.Network/networkInterfaces", "location": LOCATION,
                  "properties": {"provisioningState": "Succeeded", "primary": True,
                                 "ipConfigurations": [{"name": "ipconfig1", "id": nic + "/ipConfigurations/ipconfig1",
                                                       "properties": {"privateIPAddress": "10.1.0.4", "privateIPAllocationMethod": "Dynamic",
                                                                      "publicIPAddress": {"id": ip}, "subnet": {"id": subnet},
                                                                      "primary": True, "privateIPAddressVersion": "IPv4"}}],
                                 "networkSecurityGroup": {"id": nsg}, "virtualMachine": {"id": vm}}})
    # NetworkSecurityGroupGet.json
    put_resource({"id": nsg, "name": "clover-nsg", "type": "Microsoft.Network/networkSecurityGroups", "location": LOCATION,
                  "properties": {"provisioningState": "Succeeded", "securityRules": [
                      {"name": "https", "properties": {"protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": "443",
                                                       "sourceAddressPrefix": "203.0.113.0/24", "destinationAddressPrefix": "*",
                                                       "access": "Allow", "priority": 100, "direction": "Inbound"}},
                      {"name": "ssh", "properties": {"protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": "22",
                                                     "sourceAddressPrefix": "10.0.0.0/8", "destinationAddressPrefix": "*",
                                                     "access": "Allow", "priority": 110, "direction": "Inbound"}}]}})
    # PublicIpAddressGet.json (ipAddress and dnsSettings as in PublicIpAddressList.json)
    put_resource({"id": ip, "name": "clover-ip", "type": "Microsoft.Network/publicIPAddresses", "location": LOCATION,
                  "sku": {"name": "Standard"},
                  "properties": {"provisioningState": "Succeeded", "publicIPAddressVersion": "IPv4", "publicIPAllocationMethod": "Static",
                                 "ipAddress": "20.50.60.70", "ipConfiguration": {"id": nic + "/ipConfigurations/ipconfig1"}}})
    # Disk_Get.json
    put_resource({"id": disk, "name": "clover-data", "type": "Microsoft.Compute/disks", "location": LOCATION,
                  "managedBy": vm, "sku": {"name": "Premium_LRS"},
                  "properties": {"diskSizeGB": 128, "provisioningState": "Succeeded", "diskState": "Attached",
                                 "creationData": {"createOption": "Empty"}}})
    # ServerGetWithVnet.json
    put_resource({"id": pg, "name": "clover-pg", "type": "Microsoft.DBforPostgreSQL/flexibleServers", "location": LOCATION,
                  "sku": {"name": "Standard_D2ds_v5", "tier": "GeneralPurpose"},
                  "properties": {"version": "16", "state": "Ready", "fullyQualifiedDomainName": "clover-pg.postgres.database.azure.com",
                                 "storage": {"storageSizeGB": 128, "autoGrow": "Disabled"},
                                 "network": {"publicNetworkAccess": "Disabled", "delegatedSubnetResourceId": pg_subnet,
                                             "privateDnsZoneArmResourceId": zone},
                                 "backup": {"backupRetentionDays": 7, "earliestRestoreDate": "2026-11-25T00:00:00.0000000+00:00"}}})
    for s in (subnet, pg_subnet):
        put_resource({"id": s, "name": s.rsplit("/", 1)[1], "type": "Microsoft.Network/virtualNetworks/subnets",
                      "properties": {"provisioningState": "Succeeded", "addressPrefix": "10.1.0.0/24"}})


def now():
    return time.time()


def iso(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text):
    text = text.replace("Z", "+00:00")
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(\+00:00)$", text)
    if not m:
        return None
    base = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp()
    return base + float(m.group(2) or 0)


class ArmError(Exception):
    def __init__(self, status, code, message, details=None, headers=None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = details or []
        self.headers = headers or {}


def not_found(id_):
    m = re.match(r"^/subscriptions/[^/]+/resourceGroups/([^/]+)", id_, re.I)
    if m and not get_resource(f"/subscriptions/{SUB}/resourceGroups/{m.group(1)}"):
        return ArmError(404, "ResourceGroupNotFound", f"Resource group '{m.group(1)}' could not be found.")
    return ArmError(404, "ResourceNotFound", f"The Resource '{id_}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix")


# Routes: (regex on the path, resource type for api-version, allowed methods, handler name).
SEG = r"[^/]+"
RG = rf"/subscriptions/{SEG}/resourceGroups/{SEG}"
ROUTES = [
    (rf"^/subscriptions/{SEG}/resourceGroups/{SEG}$", "resourceGroups", {"GET"}, "plain"),
    (rf"^{RG}/providers/Microsoft\.Compute/virtualMachines/{SEG}$", "Microsoft.Compute/virtualMachines", {"GET", "DELETE"}, "vm"),
    (rf"^{RG}/providers/Microsoft\.Compute/virtualMachines/{SEG}/(restart|powerOff)$", "Microsoft.Compute/virtualMachines", {"POST"}, "vm_action"),
    (rf"^{RG}/providers/Microsoft\.Compute/virtualMachines/({SEG})/retrieveBootDiagnosticsData$", "Microsoft.Compute/virtualMachines", {"POST"}, "boot_diagnostics"),
    (rf"^{RG}/providers/Microsoft\.Compute/virtualMachines/({SEG})/runCommands/({SEG})$", "Microsoft.Compute/virtualMachines", {"GET", "PUT"}, "run_command"),
    (rf"^{RG}/providers/Microsoft\.Compute/disks/{SEG}$", "Microsoft.Compute/disks", {"GET"}, "plain"),
    (rf"^{RG}/providers/Microsoft\.Compute/snapshots/{SEG}$", "Microsoft.Compute/snapshots", {"GET", "PUT"}, "snapshot"),
    (rf"^{RG}/providers/Microsoft\.Network/networkInterfaces/{SEG}$", "Microsoft.Network/networkInterfaces", {"GET", "PUT", "DELETE"}, "nic"),
    (rf"^{RG}/providers/Microsoft\.Network/publicIPAddresses/{SEG}$", "Microsoft.Network/publicIPAddresses", {"GET", "DELETE"}, "public_ip"),
    (rf"^{RG}/providers/Microsoft\.Network/networkSecurityGroups/{SEG}$", "Microsoft.Network/networkSecurityGroups", {"GET", "DELETE"}, "plain"),
    (rf"^{RG}/providers/Microsoft\.Network/virtualNetworks/{SEG}/subnets/{SEG}$", "Microsoft.Network/virtualNetworks/subnets", {"GET"}, "plain"),
    (rf"^{RG}/providers/Microsoft\.DBforPostgreSQL/flexibleServers/{SEG}$", "Microsoft.DBforPostgreSQL/flexibleServers", {"GET"}, "plain"),
    (rf"^/subscriptions/{SEG}/providers/Microsoft\.MarketplaceOrdering/offerTypes/virtualmachine/publishers/({SEG})/offers/({SEG})/plans/({SEG})/agreements/current$",
     "Microsoft.MarketplaceOrdering/agreements", {"GET", "PUT"}, "terms"),
    (rf"^{RG}/providers/Microsoft\.Resources/deployments/{SEG}$", "Microsoft.Resources/deployments", {"GET", "PUT"}, "deployment"),
    (rf"^{RG}/providers/Microsoft\.Resources/deployments/{SEG}/whatIf$", "Microsoft.Resources/deployments", {"POST"}, "what_if"),
    (rf"^{RG}/deployments/({SEG})/operations$", "Microsoft.Resources/deployments", {"GET"}, "deployment_operations"),
    (rf"^/subscriptions/{SEG}/providers/Microsoft\.Resources/operations/({SEG})$", None, {"GET"}, "async_status"),
    (rf"^/subscriptions/{SEG}/providers/Microsoft\.Resources/operationResults/({SEG})$", None, {"GET"}, "operation_result"),
]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def origin(self):
        return f"http://{self.headers.get('Host')}"

    def reply(self, status, body=None, headers=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def fail(self, e):
        self.reply(e.status, {"error": {"code": e.code, "message": e.message, "details": e.details}}, e.headers)

    def handle_any(self, method):
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if url.path.startswith("/__test__/"):
            return self.test_control(method, url.path, raw)
        if url.path.startswith("/bootdiagnostics/"):
            with LOCK:
                return self.boot_diagnostics_blob(method, url.path, query)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return self.fail(ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized."))
        with LOCK:
            STATE["requests"].append({"method": method, "path": url.path, "query": query, "body": body})
            try:
                if url.path.startswith("/secrets/"):
                    return self.key_vault(method, url.path, query)
                self.authenticate(ARM_TOKEN, "https://management.azure.com/")
                if STATE["throttle"] > 0:
                    STATE["throttle"] -= 1
                    STATE["throttled"] += 1
                    # ARM's throttling answer ("Understand how ARM throttles requests").
                    raise ArmError(429, "SubscriptionRequestsThrottled",
                                   "Number of requests for subscription exceeded the limit. Please try again after '1' seconds.",
                                   headers={"Retry-After": "1"})
                for fault in STATE["faults"]:
                    if fault["times"] > 0 and fault["method"] == method and fault["path"].lower() == url.path.lower():
                        fault["times"] -= 1
                        raise ArmError(fault["status"], fault["code"], fault["message"])
                for pattern, rtype, methods, handler in ROUTES:
                    m = re.match(pattern, url.path, re.I)
                    if not m:
                        continue
                    if method not in methods:
                        return self.reply(405, {"error": {"code": "MethodNotAllowed", "message": f"{method} is not allowed on {url.path}"}},
                                          {"Allow": ", ".join(sorted(methods))})
                    if rtype is not None:
                        self.check_api_version(query, rtype)
                    status, out, headers = getattr(self, "h_" + handler)(method, url.path, body, m)
                    return self.reply(status, out, headers)
                raise ArmError(404, "NotFound", f"No HTTP resource was found that matches the request URI '{url.path}'.")
            except ArmError as e:
                return self.fail(e)

    def authenticate(self, token, audience):
        auth = self.headers.get("Authorization") or ""
        if not auth.startswith("Bearer "):
            raise ArmError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.",
                           headers={"WWW-Authenticate": 'Bearer authorization_uri="https://login.windows.net/", error="invalid_token"'})
        if auth != f"Bearer {token}":
            raise ArmError(401, "InvalidAuthenticationTokenAudience",
                           f"The access token has been obtained for wrong audience or resource. It should exactly match {audience}.")

    def check_api_version(self, query, rtype):
        version = query.get("api-version")
        if version is None:
            raise ArmError(400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.")
        if version != API[rtype]:
            raise ArmError(400, "InvalidApiVersionParameter",
                           f"The api-version '{version}' is invalid. The supported versions for '{rtype}' here are '{API[rtype]}'.")

    # --- generic -----------------------------------------------------------------------------

    def h_plain(self, method, path, body, m):
        found = get_resource(path)
        if found is None:
            raise not_found(path)
        if method == "DELETE":
            del STATE["resources"][path.lower()]
            return 200, None, {}
        return 200, found, {}

    def new_operation(self, polls=None, result="Succeeded", error=None, body=None, then=None):
        op = f"op-{next(IDS)}"
        STATE["operations"][op] = {"polls": STATE["polls"] if polls is None else polls, "result": result,
                                   "error": error, "body": body, "then": then}
        return op

    def status_url(self, op):
        return f"{self.origin()}/subscriptions/{SUB}/providers/Microsoft.Resources/operations/{op}?api-version=2024-03-01"

    def result_url(self, op):
        return f"{self.origin()}/subscriptions/{SUB}/providers/Microsoft.Resources/operationResults/{op}?api-version=2024-03-01"

    def h_async_status(self, method, path, body, m):
        # The Azure-AsyncOperation status resource: always 200, status terminal or not.
        op = STATE["operations"].get(m.group(1))
        if op is None:
            raise ArmError(404, "NotFound", f"operation {m.group(1)} not found")
        if op["polls"] > 0:
            op["polls"] -= 1
            return 200, {"status": "InProgress"}, {"Retry-After": "1"}
        self.complete(op)
        out = {"status": op["result"]}
        if op["error"]:
            out["error"] = op["error"]
        return 200, out, {}

    def h_operation_result(self, method, path, body, m):
        # A Location URL: 202 while running, then the result (204 when there is none).
        op = STATE["operations"].get(m.group(1))
        if op is None:
            raise ArmError(404, "NotFound", f"operation {m.group(1)} not found")
        if op["polls"] > 0:
            op["polls"] -= 1
            return 202, None, {"Location": self.result_url(m.group(1)), "Retry-After": "1"}
        self.complete(op)
        if op["error"]:
            raise ArmError(op["error"].get("status", 400), op["error"]["code"], op["error"]["message"])
        if op["body"] is None:
            return 204, None, {}
        return 200, op["body"], {}

    def complete(self, op):
        then = op.pop("then", None)
        if then:
            then()

    # --- compute -----------------------------------------------------------------------------

    def h_vm(self, method, path, body, m):
        # VirtualMachine_Get.json; DELETE (VirtualMachines_Delete: 200/202/204) releases the NICs.
        found = get_resource(path)
        if found is None:
            raise not_found(path)
        if method == "GET":
            return 200, found, {}
        for ref in found["properties"].get("networkProfile", {}).get("networkInterfaces", []):
            nic = get_resource(ref["id"])
            if nic:
                nic["properties"].pop("virtualMachine", None)
        del STATE["resources"][path.lower()]
        return 200, None, {}

    def h_vm_action(self, method, path, body, m):
        # VirtualMachine_Restart_MaximumSet_Gen.json / VirtualMachine_PowerOff_MaximumSet_Gen.json: 202 + Location.
        vm_id = path.rsplit("/", 1)[0]
        vm = get_resource(vm_id)
        if vm is None:
            raise not_found(vm_id)
        action = m.group(1)
        vm.setdefault("actions", []).append(action)
        op = self.new_operation()
        return 202, None, {"Location": self.result_url(op), "Retry-After": "1"}

    def h_boot_diagnostics(self, method, path, body, m):
        # VirtualMachine_RetrieveBootDiagnosticsData.json: 200 with both SAS URIs.
        vm_id = path.rsplit("/", 1)[0]
        vm = get_resource(vm_id)
        if vm is None:
            raise not_found(vm_id)
        if not vm["properties"].get("diagnosticsProfile", {}).get("bootDiagnostics", {}).get("enabled"):
            raise ArmError(409, "OperationNotAllowed", "Boot diagnostics is not enabled for this virtual machine.")
        sig = secrets.token_urlsafe(16)
        STATE["blob_signatures"][vm["name"]] = sig
        port = self.server.server_address[1]
        base = f"http://127.0.0.1:{port}/bootdiagnostics/{vm['name']}"
        sas = f"sv=2024-11-04&sr=b&sp=r&sig={sig}"
        return 200, {"consoleScreenshotBlobUri": f"{base}.screenshot.bmp?{sas}",
                     "serialConsoleLogBlobUri": f"{base}.serialconsole.log?{sas}"}, {}

    def boot_diagnostics_blob(self, method, path, query):
        STATE["requests"].append({"method": method, "path": path, "query": {k: v for k, v in query.items() if k != "sig"}, "body": None})
        if self.headers.get("Authorization"):
            STATE["leaked_tokens"].append(path)
        name = path.rsplit("/", 1)[1].split(".", 1)[0]
        if method != "GET":
            return self.reply(405, {"error": {"code": "UnsupportedHttpVerb", "message": method}}, {"Allow": "GET"})
        if not path.endswith(".serialconsole.log") or STATE["blob_signatures"].get(name) != query.get("sig"):
            return self.reply(403, {"error": {"code": "AuthenticationFailed",
                                              "message": "Server failed to authenticate the request."}})
        vm = next((r for r in STATE["resources"].values() if r.get("name") == name
                   and r.get("type") == "Microsoft.Compute/virtualMachines"), None)
        text = "[    0.000000] Linux version 6.8.0-1015-azure\r\n"
        plan = re.search(r"cloverlift boot guard: .*\(plan '?([a-z0-9-]+)'?\)", (vm or {}).get("_custom_data", ""))
        if plan and STATE["new_server_fingerprint"]:
            text += (f"[   52.118420] cloud-init[1210]: cloverlift-guard: plan {plan.group(1)} "
                     f"tls-sha256 {STATE['new_server_fingerprint']}\r\n")
        data = text.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def h_run_command(self, method, path, body, m):
        # VirtualMachineRunCommand_CreateOrUpdate.json / VirtualMachineRunCommand_Get.json; the
        # instanceView (with $expand=instanceView) per the VirtualMachineRunCommandInstanceView schema.
        vm_id = path.split("/runCommands/")[0]
        vm = get_resource(vm_id)
        if vm is None:
            raise not_found(vm_id)
        query = parse_qs(urlparse(self.path).query)
        if method == "GET":
            found = get_resource(path)
            if found is None:
                raise not_found(path)
            out = public(found)
            if query.get("$expand") != ["instanceView"]:
                out = {k: v for k, v in out.items()}
                out["properties"] = {k: v for k, v in found["properties"].items() if k != "instanceView"}
            return 200, out, {}
        props = (body or {}).get("properties") or {}
        if not (body or {}).get("location"):
            raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
        if not (props.get("source") or {}).get("script"):
            raise ArmError(400, "InvalidParameter", "Required parameter 'source' is missing (null).")
        named = {p["name"]: p["value"] for p in props.get("parameters", [])}
        hidden = {p["name"]: p["value"] for p in props.get("protectedParameters", [])}
        action = named.get("CLOVERLIFT_ACTION")
        if action not in ("stop", "replace", "start", "rollback"):
            raise ArmError(400, "InvalidParameter", f"the script's action {action!r} is not one war-upgrade.sh takes")
        if "CLOVERLIFT_WAR_URL" in named:
            raise ArmError(400, "InvalidParameter", "the WAR URL is a signed URL: a protected parameter, never a plain one")
        if action == "replace" and not (hidden.get("CLOVERLIFT_WAR_URL", "").startswith("https://")
                                        and re.fullmatch(r"[0-9a-f]{64}", named.get("CLOVERLIFT_WAR_SHA256", ""))):
            raise ArmError(400, "InvalidParameter", "replace needs an https WAR URL and its sha256")
        code = STATE["run_command_exit"].get(action, 0)
        vm.setdefault("run_commands", []).append(action)
        state = "Succeeded" if code == 0 else "Failed"
        view = {"executionState": state, "exitCode": code, "startTime": iso(now()), "endTime": iso(now()),
                "output": f"war-upgrade: {action} done\n" if code == 0 else "",
                "error": "" if code == 0 else f"war-upgrade: {action} failed (injected by the test)\n"}
        command = {"id": path, "name": path.rsplit("/", 1)[1], "type": "Microsoft.Compute/virtualMachines/runCommands",
                   "location": body["location"],
                   "properties": {**props, "provisioningState": "Creating", "instanceView": {"executionState": "Running"}}}
        command["properties"].pop("protectedParameters", None)
        put_resource(command)

        def done():
            command["properties"]["provisioningState"] = state
            command["properties"]["instanceView"] = view
        error = None
        if code != 0 and props.get("treatFailureAsDeploymentFailure"):
            error = {"code": "VMExtensionProvisioningError",
                     "message": f"VM has reported a failure when processing extension 'RunCommand'. Exit code: {code}."}
        op = self.new_operation(result="Failed" if error else "Succeeded", error=error, then=done)
        return 201, public(command), {"Azure-AsyncOperation": self.status_url(op)}

    def h_snapshot(self, method, path, body, m):
        # Snapshot_Get.json / Snapshot_GetIncrementalSnapshot.json; PUT as Snapshot_Create_FromAnExistingSnapshot.json.
        found = get_resource(path)
        if method == "GET":
            if found is None:
                raise not_found(path)
            p = found["properties"]
            if p["provisioningState"] == "Updating":
                found["_polls"] -= 1
                if found["_polls"] <= 0:
                    p["provisioningState"] = "Failed" if STATE["fail_snapshot"] else "Succeeded"
            elif p["provisioningState"] == "Succeeded" and p.get("completionPercent", 100) < 100:
                p["completionPercent"] = min(100.0, p["completionPercent"] + 50.0)
            return 200, public(found), {}
        rg = re.match(r"^/subscriptions/[^/]+/resourceGroups/([^/]+)", path, re.I).group(1)
        if not get_resource(f"/subscriptions/{SUB}/resourceGroups/{rg}"):
            raise not_found(path)
        props = (body or {}).get("properties") or {}
        creation = props.get("creationData") or {}
        if not (body or {}).get("location"):
            raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
        if creation.get("createOption") != "Copy":
            raise ArmError(400, "InvalidParameter", "Required parameter 'creationData.createOption' is missing or not Copy.", [])
        source = get_resource(creation.get("sourceResourceId") or "")
        if source is None:
            raise ArmError(404, "NotFound", f"Resource {creation.get('sourceResourceId')} is not found.")
        if body["location"].lower() != source["location"].lower():
            raise ArmError(400, "InvalidParameter", "The snapshot must be in the source disk's location.")
        snapshot = {"id": path, "name": path.rsplit("/", 1)[1], "type": "Microsoft.Compute/snapshots",
                    "location": body["location"], "tags": body.get("tags", {}), "_polls": STATE["polls"],
                    "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": source["id"]},
                                   "diskSizeGB": source["properties"].get("diskSizeGB"),
                                   "incremental": bool(props.get("incremental")), "provisioningState": "Updating",
                                   "timeCreated": iso(now())}}
        if snapshot["properties"]["incremental"]:
            snapshot["properties"]["completionPercent"] = 0.0
        put_resource(snapshot)

        def done():
            snapshot["properties"]["provisioningState"] = "Failed" if STATE["fail_snapshot"] else "Succeeded"
        error = {"code": "InternalDiskManagementError", "message": "An internal disk management error occurred (injected by the test)."} \
            if STATE["fail_snapshot"] else None
        op = self.new_operation(result="Failed" if error else "Succeeded", error=error, then=done)
        # Compute answers with both headers; the final state is read from the resource.
        return 202, public(snapshot), {"Azure-AsyncOperation": self.status_url(op), "Location": self.result_url(op)}

    # --- network -----------------------------------------------------------------------------

    def h_nic(self, method, path, body, m):
        # NetworkInterfaceGet.json; PUT as NetworkInterfaceCreate.json (final state via Azure-AsyncOperation).
        found = get_resource(path)
        if found is None and method != "PUT":
            raise not_found(path)
        if method == "GET":
            return 200, found, {}
        if method == "DELETE":
            if found["properties"].get("virtualMachine"):
                raise ArmError(400, "NicInUse", f"Network Interface {path} is used by existing resource {found['properties']['virtualMachine']['id']}.")
            self.release_ips(found)
            del STATE["resources"][path.lower()]
            return 200, None, {}
        if found is None:
            raise ArmError(400, "InvalidRequest", "this double only updates existing network interfaces")
        wanted = (body or {}).get("properties", {}).get("ipConfigurations") or []
        have = found["properties"]["ipConfigurations"]
        if [c.get("name") for c in wanted] != [c["name"] for c in have]:
            raise ArmError(400, "InvalidRequestFormat", "The IP configurations of the request do not match the network interface's.")
        for w, h in zip(wanted, have):
            wp, hp = w.get("properties", {}), h["properties"]
            if (wp.get("subnet") or {}).get("id", "").lower() != hp["subnet"]["id"].lower():
                raise ArmError(400, "InvalidRequestFormat", f"Subnet of {h['name']} cannot change in this test")
            new_ip = (wp.get("publicIPAddress") or {}).get("id")
            if new_ip:
                ip = get_resource(new_ip)
                if ip is None:
                    raise ArmError(400, "InvalidResourceReference", f"Resource {new_ip} referenced by resource {path} was not found.")
                on = (ip["properties"].get("ipConfiguration") or {}).get("id", "")
                if on and on.lower() != h["id"].lower():
                    raise ArmError(400, "PublicIPAddressInUse",
                                   f"Resource {h['id']} is referencing public IP address {new_ip} that is already allocated to resource {on}.")
        for w, h in zip(wanted, have):
            old_ip = (h["properties"].get("publicIPAddress") or {}).get("id")
            new_ip = (w.get("properties", {}).get("publicIPAddress") or {}).get("id")
            if old_ip and (not new_ip or new_ip.lower() != old_ip.lower()):
                ip = get_resource(old_ip)
                if ip:
                    ip["properties"].pop("ipConfiguration", None)
                h["properties"].pop("publicIPAddress", None)
            if new_ip:
                h["properties"]["publicIPAddress"] = {"id": get_resource(new_ip)["id"]}
                get_resource(new_ip)["properties"]["ipConfiguration"] = {"id": h["id"]}
        found["properties"]["provisioningState"] = "Updating"

        def done():
            found["properties"]["provisioningState"] = "Succeeded"
        op = self.new_operation(then=done)
        return 200, found, {"Azure-AsyncOperation": self.status_url(op)}

    def release_ips(self, nic):
        for c in nic["properties"]["ipConfigurations"]:
            ip = get_resource((c["properties"].get("publicIPAddress") or {}).get("id", ""))
            if ip:
                ip["properties"].pop("ipConfiguration", None)

    def h_public_ip(self, method, path, body, m):
        # PublicIpAddressGet.json; DELETE as PublicIpAddressDelete.json (202 + Location).
        found = get_resource(path)
        if found is None:
            raise not_found(path)
        if method == "GET":
            return 200, found, {}
        on = (found["properties"].get("ipConfiguration") or {}).get("id")
        if on:
            raise ArmError(400, "PublicIPAddressCannotBeDeleted",
                           f"Public IP address {path} can not be deleted since it is still allocated to resource {on}.")

        def gone():
            STATE["resources"].pop(path.lower(), None)
        op = self.new_operation(then=gone)
        return 202, None, {"Location": self.result_url(op), "Retry-After": "1"}

    # --- marketplace -------------------------------------------------------------------------

    def h_terms(self, method, path, body, m):
        # GetMarketplaceTerms.json / SetMarketplaceTerms.json
        publisher, offer, plan = m.group(1), m.group(2), m.group(3)
        agreement = {"id": path, "name": plan, "type": "Microsoft.MarketplaceOrdering/offertypes",
                     "properties": {"publisher": publisher, "product": offer, "plan": plan,
                                    "licenseTextLink": "https://example.invalid/license", "privacyPolicyLink": "https://example.invalid/privacy",
                                    "marketplaceTermsLink": "https://example.invalid/terms", "retrieveDatetime": "2026-11-30T10:00:00Z",
                                    "signature": "SIGNATURE", "accepted": STATE["terms_accepted"]}}
        if method == "PUT":
            props = (body or {}).get("properties") or {}
            if props.get("signature") != "SIGNATURE" or props.get("plan") != plan:
                raise ArmError(400, "BadRequest", "The agreement must be the one GET returned, with its signature.")
            STATE["terms_accepted"] = bool(props.get("accepted"))
            agreement["properties"]["accepted"] = STATE["terms_accepted"]
        return 200, agreement, {}

    # --- deployments -------------------------------------------------------------------------

    def validate(self, path, body):
        """What ARM's template validation and the providers' preflight would refuse."""
        props = (body or {}).get("properties") or {}
        if props.get("mode") not in ("Incremental", "Complete"):
            raise ArmError(400, "InvalidRequestContent", "The request content was invalid: 'mode' is required.")
        template = props.get("template")
        if not isinstance(template, dict) or "resources" not in template:
            raise ArmError(400, "InvalidTemplate", "Deployment template validation failed: the template is missing.")
        declared = template.get("parameters", {})
        given = props.get("parameters") or {}
        extra = [k for k in given if k not in declared]
        if extra:
            raise ArmError(400, "InvalidTemplate",
                           f"Deployment template validation failed: 'The template parameters '{', '.join(extra)}' in the parameters file are not valid; they are not present in the original template and can therefore not be provided at deployment time.'")
        for name, spec in declared.items():
            if name not in given and "defaultValue" not in spec:
                raise ArmError(400, "InvalidTemplate",
                               f"Deployment template validation failed: 'The value for the template parameter '{name}' is not provided.'")
            value = (given.get(name) or {}).get("value", spec.get("defaultValue"))
            if "allowedValues" in spec and value not in spec["allowedValues"]:
                raise ArmError(400, "InvalidTemplate", f"Deployment template validation failed: the value of '{name}' is not allowed.")
            if spec.get("type") == "string" and not isinstance(value, str):
                raise ArmError(400, "InvalidTemplate", f"Deployment template validation failed: '{name}' must be a string.")
        return template, {k: v.get("value") for k, v in given.items()}

    def provider_failure(self, rtype, params):
        """The error a resource's provider gives, or None."""
        if STATE["fail_resource_type"] == rtype:
            return {"code": "InternalServerError", "message": f"Provisioning of {rtype} failed (injected by the test)."}
        if rtype == "Microsoft.Compute/disks":
            snap = get_resource(params.get("dataSnapshotId") or "")
            if snap is None:
                return {"code": "NotFound", "message": f"Resource {params.get('dataSnapshotId')} is not found."}
            if snap["properties"]["provisioningState"] != "Succeeded" or snap["properties"].get("completionPercent", 100) < 100:
                return {"code": "SnapshotCopyInProgress", "message": "The snapshot's background copy has not completed."}
        if rtype == "Microsoft.DBforPostgreSQL/flexibleServers":
            source = get_resource(params.get("sourceServerResourceId") or "")
            point = parse_time(params.get("restorePointInTime") or "")
            if source is None:
                return {"code": "SourceServerNotFound", "message": "The source server does not exist."}
            earliest = parse_time(source["properties"]["backup"]["earliestRestoreDate"])
            if point is None or point < earliest or point > now():
                return {"code": "InvalidRestorePointInTime", "message": "The restore point in time is outside the server's restore window."}
            net = source["properties"]["network"]
            if params.get("postgresDelegatedSubnetId") != net["delegatedSubnetResourceId"]:
                return {"code": "InvalidDelegatedSubnet", "message": "The delegated subnet must be the source server's."}
        if rtype == "Microsoft.Compute/virtualMachines" and not STATE["terms_accepted"]:
            return {"code": "MarketplacePurchaseEligibilityFailed",
                    "message": "Marketplace purchase eligibilty check returned errors. Legal terms have not been accepted for this item on this subscription."}
        return None

    def h_deployment(self, method, path, body, m):
        # PutDeploymentResourceGroup.json; GET per the DeploymentExtended schema.
        key = path.lower()
        if method == "GET":
            d = STATE["deployments"].get(key)
            if d is None:
                rg_ok = get_resource(re.match(r"^(/subscriptions/[^/]+/resourceGroups/[^/]+)", path, re.I).group(1))
                raise not_found(path) if rg_ok else not_found(path)
            self.advance(d)
            return 200, self.deployment_view(d), {}
        rg = re.match(r"^/subscriptions/[^/]+/resourceGroups/([^/]+)", path, re.I).group(1)
        if not get_resource(f"/subscriptions/{SUB}/resourceGroups/{rg}"):
            raise not_found(path)
        template, params = self.validate(path, body)
        existing = STATE["deployments"].get(key)
        if existing and existing["state"] in ("Accepted", "Running"):
            raise ArmError(409, "DeploymentActive", f"Unable to edit or replace deployment '{path.rsplit('/', 1)[1]}': previous deployment from '{iso(existing['started'])}' is still active.")
        resources = [r for r in template["resources"]]
        d = {"id": path, "rg": rg, "name": path.rsplit("/", 1)[1], "body": body, "params": params, "state": "Accepted",
             "polls": STATE["polls"], "started": now(), "ops": [], "pending": resources, "outputs": {}, "created": [],
             "error": None}
        STATE["deployments"][key] = d
        op = self.new_operation(polls=10**6)  # the status follows the deployment itself
        d["op"] = op
        return 201, self.deployment_view(d), {"Azure-AsyncOperation": self.status_url(op)}

    def deployment_view(self, d):
        view = {"id": d["id"], "name": d["name"], "type": "Microsoft.Resources/deployments",
                "properties": {"provisioningState": d["state"], "mode": d["body"]["properties"]["mode"],
                               "timestamp": iso(d["started"]), "correlationId": "00000000-0000-0000-0000-0000000000cc",
                               "parameters": {k: {"type": "String", "value": v} for k, v in d["params"].items() if k != "sshPublicKey"}}}
        if d["state"] == "Succeeded":
            view["properties"]["outputs"] = d["outputs"]
            view["properties"]["outputResources"] = [{"id": i} for i in d["created"]]
        if d["error"]:
            view["properties"]["error"] = d["error"]
        return view

    def advance(self, d):
        """One step of the deployment per read: each resource goes Running then Succeeded (or
        Failed), in template order."""
        if d["state"] in ("Succeeded", "Failed"):
            return
        d["state"] = "Running"
        running = [o for o in d["ops"] if o["properties"]["provisioningState"] == "Running"]
        if running:
            o = running[0]
            rtype = o["properties"]["targetResource"]["resourceType"]
            err = self.provider_failure(rtype, d["params"])
            if err:
                o["properties"].update({"provisioningState": "Failed", "statusCode": "BadRequest",
                                        "statusMessage": {"status": "Failed", "error": err}})
                d["state"] = "Failed"
                d["error"] = {"code": "DeploymentFailed",
                              "message": "At least one resource deployment operation failed. Please list deployment operations for details.",
                              "details": [err]}
                self.finish_op(d, {"code": "DeploymentFailed", "message": d["error"]["message"], "details": [err]})
                return
            o["properties"].update({"provisioningState": "Succeeded", "statusCode": "OK"})
            self.create(d, o["properties"]["targetResource"])
            return
        if d["pending"]:
            r = d["pending"].pop(0)
            name = self.resolve_name(r["name"], d["params"])
            target = {"id": rid(d["rg"], r["type"], name), "resourceType": r["type"], "resourceName": name}
            d["ops"].append({"id": f"{d['id']}/operations/{len(d['ops']) + 1}", "operationId": str(len(d["ops"]) + 1),
                             "properties": {"provisioningOperation": "Create", "provisioningState": "Running",
                                            "timestamp": iso(now()), "targetResource": target}})
            return
        d["polls"] -= 1
        if d["polls"] <= 0:
            d["state"] = "Succeeded"
            self.finish_op(d, None)

    def finish_op(self, d, error):
        op = STATE["operations"].get(d.get("op"))
        if op:
            op["polls"] = 0
            op["result"] = "Failed" if error else "Succeeded"
            op["error"] = error

    def resolve_name(self, expr, params):
        m = re.match(r"^\[variables\('(\w+)'\)\]$", expr)
        suffix = {"vmName": "vm", "nicName": "nic", "nsgName": "nsg", "publicIpName": "ip", "dataDiskName": "data",
                  "postgresName": "pg"}
        if m and m.group(1) in suffix:
            return f"{params['deploymentName']}-{suffix[m.group(1)]}"
        return expr

    def create(self, d, target):
        """The resource the operation made, as its provider would report it."""
        rtype, id_, name = target["resourceType"], target["id"], target["resourceName"]
        base = {"id": id_, "name": name, "type": rtype, "location": d["params"].get("location")}
        dep = d["params"]["deploymentName"]
        ip_id = rid(d["rg"], "Microsoft.Network/publicIPAddresses", f"{dep}-ip")
        nic_id = rid(d["rg"], "Microsoft.Network/networkInterfaces", f"{dep}-nic")
        vm_id = rid(d["rg"], "Microsoft.Compute/virtualMachines", f"{dep}-vm")
        fqdn = f"{dep}-abc123.{LOCATION}.cloudapp.azure.com"
        if rtype == "Microsoft.Network/publicIPAddresses":
            base["properties"] = {"provisioningState": "Succeeded", "publicIPAllocationMethod": "Static", "ipAddress": "20.90.1.2",
                                  "dnsSettings": {"domainNameLabel": f"{dep}-abc123", "fqdn": fqdn}}
        elif rtype == "Microsoft.Network/networkInterfaces":
            base["properties"] = {"provisioningState": "Succeeded", "ipConfigurations": [
                {"name": "ipconfig1", "id": nic_id + "/ipConfigurations/ipconfig1",
                 "properties": {"primary": True, "privateIPAllocationMethod": "Dynamic",
                                "subnet": {"id": d["params"]["subnetId"]}, "publicIPAddress": {"id": ip_id}}}],
                "networkSecurityGroup": {"id": rid(d["rg"], "Microsoft.Network/networkSecurityGroups", f"{dep}-nsg")},
                "virtualMachine": {"id": vm_id}}
            ip = get_resource(ip_id)
            if ip:
                ip["properties"]["ipConfiguration"] = {"id": nic_id + "/ipConfigurations/ipconfig1"}
        elif rtype == "Microsoft.Compute/virtualMachines":
            base["properties"] = {"provisioningState": "Succeeded", "networkProfile": {"networkInterfaces": [{"id": nic_id, "properties": {"primary": True}}]}}
            vm_body = next((r for r in d["body"]["properties"]["template"]["resources"]
                            if r.get("type") == "Microsoft.Compute/virtualMachines"), {})
            if "diagnosticsProfile" in vm_body.get("properties", {}):
                base["properties"]["diagnosticsProfile"] = vm_body["properties"]["diagnosticsProfile"]
            base["_custom_data"] = custom_data_script(vm_body)
        elif rtype == "Microsoft.DBforPostgreSQL/flexibleServers":
            base["properties"] = {"state": "Ready", "fullyQualifiedDomainName": f"{dep}-pg.postgres.database.azure.com",
                                  "createMode": "PointInTimeRestore", "pointInTimeUTC": d["params"]["restorePointInTime"]}
        else:
            base["properties"] = {"provisioningState": "Succeeded"}
        put_resource(base)
        d["created"].append(id_)
        d["outputs"] = {"serverUrl": {"type": "String", "value": STATE["new_server_url"] or f"https://{fqdn}/clover"},
                        "vmId": {"type": "String", "value": vm_id},
                        "publicIp": {"type": "String", "value": "20.90.1.2"},
                        "fqdn": {"type": "String", "value": fqdn}}

    def h_what_if(self, method, path, body, m):
        # PostDeploymentWhatIfOnResourceGroup.json: 202 + Location, then 200 with the changes.
        dep_path = path.rsplit("/", 1)[0]
        rg = re.match(r"^/subscriptions/[^/]+/resourceGroups/([^/]+)", path, re.I).group(1)
        if not get_resource(f"/subscriptions/{SUB}/resourceGroups/{rg}"):
            raise not_found(dep_path)
        template, params = self.validate(dep_path, body)
        changes = []
        for r in template["resources"]:
            id_ = rid(rg, r["type"], self.resolve_name(r["name"], params))
            changes.append({"resourceId": id_, "changeType": "Modify" if get_resource(id_) else "Create"})
        op = self.new_operation(polls=1, body={"status": "Succeeded", "properties": {"changes": changes}})
        return 202, None, {"Location": self.result_url(op), "Retry-After": "1"}

    def h_deployment_operations(self, method, path, body, m):
        dep = rid(re.match(r"^/subscriptions/[^/]+/resourceGroups/([^/]+)", path, re.I).group(1),
                  "Microsoft.Resources/deployments", m.group(1))
        d = STATE["deployments"].get(dep.lower())
        if d is None:
            raise ArmError(404, "DeploymentNotFound", f"Deployment '{m.group(1)}' could not be found.")
        return 200, {"value": d["ops"]}, {}

    # --- Key Vault (data plane) ----------------------------------------------------------------

    def key_vault(self, method, path, query):
        # GetSecret-example.json (7.x): GET /secrets/{name}[/{version}]
        self.authenticate(VAULT_TOKEN, "https://vault.azure.net")
        if method != "GET":
            return self.reply(405, {"error": {"code": "BadParameter", "message": "method not allowed"}}, {"Allow": "GET"})
        if query.get("api-version") not in ("7.4", "7.5"):
            raise ArmError(400, "BadParameter", "The specified version is not supported.")
        name = path.split("/")[2]
        if name not in STATE["secrets"]:
            raise ArmError(404, "SecretNotFound", f"A secret with (name/id) {name} was not found in this key vault.")
        return self.reply(200, {"value": STATE["secrets"][name], "id": f"https://clover-kv.vault.azure.net/secrets/{name}/1",
                                "attributes": {"enabled": True, "created": 1764000000, "updated": 1764000000}})

    # --- test control --------------------------------------------------------------------------

    def test_control(self, method, path, raw):
        with LOCK:
            if path == "/__test__/state":
                state = {"resources": {k: public(v) for k, v in STATE["resources"].items()},
                         "requests": STATE["requests"], "throttled": STATE["throttled"],
                         "terms_accepted": STATE["terms_accepted"], "leaked_tokens": STATE["leaked_tokens"],
                         "deployments": {k: {"body": v["body"], "state": v["state"], "ops": v["ops"]} for k, v in STATE["deployments"].items()}}
                return self.reply(200, state)
            if path == "/__test__/configure" and method == "POST":
                STATE.update(json.loads(raw or b"{}"))
                return self.reply(200, {})
        return self.reply(404, {"error": {"code": "NotFound", "message": path}})

    def do_GET(self):
        self.handle_any("GET")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_POST(self):
        self.handle_any("POST")

    def do_DELETE(self):
        self.handle_any("DELETE")

    def do_PATCH(self):
        self.handle_any("PATCH")


def custom_data_script(vm_body):
    """The boot script in a VM's customData expression: the template embeds it as
    `base64ToString('…')` with the database address replaced in; no ARM expression is evaluated
    here, only that literal decoded."""
    expr = vm_body.get("properties", {}).get("osProfile", {}).get("customData", "")
    found = re.search(r"base64ToString\('([A-Za-z0-9+/=]+)'\)", expr)
    if not found:
        return ""
    try:
        return base64.b64decode(found.group(1)).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return ""


def public(resource):
    return {k: v for k, v in resource.items() if not k.startswith("_")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--new-server-url", default="")
    ap.add_argument("--new-server-fingerprint", default="")
    args = ap.parse_args()
    STATE["new_server_url"] = args.new_server_url
    STATE["new_server_fingerprint"] = args.new_server_fingerprint
    seed()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"listening {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
