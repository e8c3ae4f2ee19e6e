"""A local CloverDX Server API double for the apply tests: no emulator of CloverDX exists, so
this follows the documented protocol of the parts apply uses, and is as strict as the server:
only these paths exist (404 otherwise), each with its method (405 and `Allow` otherwise). Every
request is recorded (method, path, query) for the tests to assert the exact sequence.

It behaves as a stock marketplace server does by default (sources in cloverdx/cloverdx-documentation
unless named otherwise):
- HTTPS with a self-signed certificate, generated for each run ("the default HTTPS connector is
  using a self-signed certificate", admin/aws-marketplace.md, HTTPS). A plain-HTTP request to
  the API gets Tomcat's answer to HTTP on a TLS port (400); only the test-control paths below
  answer plain HTTP, so the tests can drive the double without a TLS client.
- The Simple HTTP API (`/clover/simpleHttpApi/…`) is off: "The HTTP API is disabled by default"
  and its servlet is "not accessible" (operations/simple-http-api.md, admin/list-of-properties.md
  `http.api.enabled`; the status is not documented, so 404, as for an unmapped servlet). A test
  turns it on with `http_api_enabled`.
- The configuration export's root carries `cloverVersion`, `exporter`, `timeZone` and
  `timestamp` (cloverdx/cloverdx-server-docker `examples/single-job-container/conf/configuration_import.xml`).
- The import validates before it commits: a dry run (the default, `dryRun=true`) changes
  nothing, and an import with errors "cannot be committed" (admin/server-config.md). The answer is
  the SOAP API's published twin `ImportServerConfigurationResult`: a `status` of SUCCESS or
  FAILURE around a report (cloverdx/cloverdx-examples `BasicFeatures/meta/clover/webservice.xml`);
  the report's elements are not documented, so an `error` element a problem stands in for them.
  Items are added or updated, never removed ("are either added … or existing item are updated").
- The schema-patch dialog: when the test says this version must patch the system database
  (`patches_needed`), the server's start is suspended until a person confirms ("backup
  completed", admin/upgrading-server.md), unless `autoapply.sys.db.patches` is this version or
  newer (admin/list-of-properties.md). Suspended, the health page answers 503 `SUSPENDED`
  (the vendor's Docker HEALTHCHECK, cloverdx/cloverdx-server-docker `Dockerfile`).
- `cluster_status` lists the cluster's nodes as `NAME|URL|LOAD|STATUS` lines
  (operations/simple-http-api.md); a standalone server lists itself.

- The API paths need basic authentication (401 with `WWW-Authenticate: Basic` otherwise) and
  the `X-Requested-By` header that CloverDX's CSRF protection requires (400 otherwise). The
  health page and the web application's entry page are public, as on the server (load
  balancers and Docker's HEALTHCHECK call the health page without credentials).
- Bodies: the import takes the configuration XML (`application/octet-stream` or XML types;
  415 otherwise, 400 for XML that does not parse); the license PUT takes
  `application/octet-stream` (415 otherwise) and a non-empty body (400 otherwise).
- GET  /clover/api/rest/v1/server/configuration/export?include=schedules&include=eventListeners
  answers the server configuration XML (namespace http://cloveretl.com/server/data), each
  schedule and event listener with its `enabled` attribute.
- POST /clover/api/rest/v1/server/configuration/import?dryRun=false&override=true takes that
  XML as the body and applies `enabled`, matching schedules by description and listeners by name;
  dryRun defaults to true, as on the server, and then nothing changes.
- GET  /clover/simpleHttpApi/server_jobs lists running run ids, one per line ("a list of runIDs
  of currently running jobs"), when the Simple HTTP API is enabled.
- GET  /clover/simpleHttpApi/cluster_status: the nodes, when the Simple HTTP API is enabled.
- PUT  /clover/api/rest/v1/server/license stores the license (the request body).
- GET  /clover/accessibilityTest.jsp: 200 when healthy, 503 `SUSPENDED` when suspended.
- POST /clover/api/rest/v1/executions with JSON `{"sandboxCode", "jobFile"}` starts a run of a
  job the test configured in `jobs` ("SANDBOX/JOB" -> final status): 201 `{"runId"}`; 404 for
  an unknown job. GET /clover/api/rest/v1/executions/RUN_ID answers `{"runId", "status"}`:
  RUNNING at the first read, then the configured status.
- GET  /clover/ (the web application's entry page): 200.

Test control (not part of CloverDX; plain HTTP on the same port): GET /__test__/state returns the
server's state as JSON, with `certificate_pem` and `certificate_sha256` (the served
certificate); POST /__test__/configure sets `running_jobs`, `fail` (path -> status), `latency`
(seconds), `suspended`, `http_api_enabled`, `cluster_nodes`, `import_errors` (each makes an
import's report carry an error), `import_ignored` (a fault: the import reports success and
changes nothing), `patches_needed`, `properties` (clover.properties as a dict); POST
/__test__/confirm stands for the person who confirms the schema-patch dialog.

Usage: cloverdx_server.py --user U --password P [--items JSON] [--clover-version V];
prints `listening PORT`.
"""
import argparse
import base64
import datetime
import hashlib
import ipaddress
import json
import os
import re
import socket
import ssl
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

NS = "http://cloveretl.com/server/data"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
ET.register_namespace("cs", NS)
ET.register_namespace("xsi", XSI)

LOCK = threading.Lock()
STATE = {
    "schedules": [],   # [{"description": str, "enabled": bool}]
    "listeners": [],   # [{"name": str, "enabled": bool}]
    "running_jobs": [],
    "license": None,
    "fail": {},
    "latency": 0.0,
    "suspended": False,
    "imports": 0,
    "requests": [],    # [{"method", "path", "query"}], in arrival order
    "timeline": [],    # [{"t", "kind", "item", "enabled"}]: every state of every item, from the start
    "jobs": {},        # "SANDBOX/JOB" -> the status its runs end in
    "runs": {},        # run id -> {"job", "reads"}
    "version": "7.0.1.12",
    "http_api_enabled": False,
    "cluster_nodes": [],   # names of the other nodes of a cluster; empty: standalone
    "import_errors": [],
    "import_ignored": False,
    "patches_needed": False,
    "patches_confirmed": False,
    "properties": {},
    "certificate_pem": "",
    "certificate_sha256": "",
}

# path -> (methods, needs credentials)
ROUTES = {
    "/clover/api/rest/v1/server/configuration/export": ({"GET"}, True),
    "/clover/api/rest/v1/server/configuration/import": ({"POST"}, True),
    "/clover/simpleHttpApi/server_jobs": ({"GET"}, True),
    "/clover/simpleHttpApi/cluster_status": ({"GET"}, True),
    "/clover/api/rest/v1/server/license": ({"PUT"}, True),
    "/clover/accessibilityTest.jsp": ({"GET"}, False),
    "/clover/api/rest/v1/executions": ({"POST"}, True),
    "/clover/": ({"GET"}, False),
}
XML_TYPES = {"application/octet-stream", "application/xml", "text/xml"}


def export_xml():
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    root = ET.Element(f"{{{NS}}}cloverServerConfiguration", {
        "cloverVersion": STATE["version"], "exporter": Handler.user, "timeZone": "Etc/UTC",
        "timestamp": stamp,
    })
    schedules = ET.SubElement(root, f"{{{NS}}}schedulesList")
    for s in STATE["schedules"]:
        el = ET.SubElement(schedules, f"{{{NS}}}schedule", {"enabled": str(s["enabled"]).lower()})
        ET.SubElement(el, f"{{{NS}}}description").text = s["description"]
        ET.SubElement(el, f"{{{NS}}}jobFile").text = s.get("job", "graph/Load.grf")
    listeners = ET.SubElement(root, f"{{{NS}}}eventListenersList")
    for l in STATE["listeners"]:
        el = ET.SubElement(listeners, f"{{{NS}}}eventListener",
                           {f"{{{XSI}}}type": "cs:groovyEventListener", "enabled": str(l["enabled"]).lower()})
        ET.SubElement(el, f"{{{NS}}}name").text = l["name"]
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def note(kind, item, enabled):
    STATE["timeline"].append({"t": time.time(), "kind": kind, "item": item, "enabled": enabled})


def import_report(errors):
    root = ET.Element("importServerConfigurationResult", {"status": "FAILURE" if errors else "SUCCESS"})
    report = ET.SubElement(root, "report")
    for e in errors:
        ET.SubElement(report, "error").text = e
    return ET.tostring(root, encoding="unicode")


def version_tuple(v):
    return tuple(int(p) for p in re.findall(r"[0-9]+", v)[:3])


def suspended():
    """The start waits at the schema-patch dialog: patches are needed, nobody confirmed, and
    autoapply.sys.db.patches does not cover this version."""
    if STATE["suspended"]:
        return True
    if not STATE["patches_needed"] or STATE["patches_confirmed"]:
        return False
    auto = STATE["properties"].get("autoapply.sys.db.patches")
    return not (auto and version_tuple(auto) >= version_tuple(STATE["version"]))


def import_xml(body):
    """Applies the items as the server's import does (without `override`): matched by
    description or name, updated when they exist, created when they do not; nothing else is
    touched."""
    root = ET.fromstring(body)
    for el in root.iter(f"{{{NS}}}schedule"):
        desc = (el.findtext(f"{{{NS}}}description") or "").strip()
        enabled = el.get("enabled", "true") == "true"
        job = el.findtext(f"{{{NS}}}jobFile")
        found = [s for s in STATE["schedules"] if s["description"] == desc]
        if not found:
            found = [{"description": desc, "enabled": not enabled}]
            STATE["schedules"].append(found[0])
        for s in found:
            if job and (job != "graph/Load.grf" or "job" in s):
                s["job"] = job
            if s["enabled"] != enabled:
                s["enabled"] = enabled
                note("schedule", desc, enabled)
    for el in root.iter(f"{{{NS}}}eventListener"):
        name = (el.findtext(f"{{{NS}}}name") or "").strip()
        enabled = el.get("enabled", "true") == "true"
        found = [l for l in STATE["listeners"] if l["name"] == name]
        if not found:
            found = [{"name": name, "enabled": not enabled}]
            STATE["listeners"].append(found[0])
        for l in found:
            if l["enabled"] != enabled:
                l["enabled"] = enabled
                note("listener", name, enabled)
    STATE["imports"] += 1


class Handler(BaseHTTPRequestHandler):
    user = password = ""

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", content_type="text/plain", headers=None):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def error(self, status, code, message):
        self.reply(status, json.dumps({"errorCode": code, "errorMessage": message}), "application/json")

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length)

    def authorized(self):
        expected = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        if self.headers.get("Authorization") != f"Basic {expected}":
            self.reply(401, "Unauthorized", headers={"WWW-Authenticate": 'Basic realm="CloverDX"'})
            return False
        if not self.headers.get("X-Requested-By"):
            self.error(400, "CSRF", "the X-Requested-By header is required")
            return False
        return True

    def content_type(self):
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    def handle_any(self, method):
        url = urlparse(self.path)
        query = parse_qs(url.query)
        if url.path.startswith("/__test__/"):
            with LOCK:
                if url.path == "/__test__/state":
                    return self.reply(200, json.dumps(STATE), "application/json")
                if url.path == "/__test__/configure" and method == "POST":
                    STATE.update(json.loads(self.body() or b"{}"))
                    return self.reply(200, "ok")
                if url.path == "/__test__/confirm" and method == "POST":
                    STATE["patches_confirmed"] = True
                    return self.reply(200, "ok")
            return self.reply(404, "no such test endpoint")
        if not isinstance(self.connection, ssl.SSLSocket):
            # Tomcat's answer to plain HTTP on its TLS connector.
            return self.reply(400, "Bad Request\nThis combination of host and port requires TLS.")
        with LOCK:
            STATE["requests"].append({"method": method, "path": url.path, "query": url.query})
        if STATE["latency"]:
            time.sleep(STATE["latency"])
        route = ROUTES.get(url.path)
        run_path = re.fullmatch(r"/clover/api/rest/v1/executions/([0-9]+)", url.path)
        if run_path:
            route = ({"GET"}, True)
        if route is None or (url.path.startswith("/clover/simpleHttpApi/") and not STATE["http_api_enabled"]):
            return self.error(404, "NOT_FOUND", url.path)
        methods, private = route
        if method not in methods:
            self.body()
            return self.reply(405, "Method Not Allowed", headers={"Allow": ", ".join(sorted(methods))})
        if private and not self.authorized():
            return
        with LOCK:
            failing = STATE["fail"].get(url.path)
            if failing:
                return self.error(int(failing), "INJECTED", f"injected failure of {url.path}")
            if url.path == "/clover/api/rest/v1/server/configuration/export":
                return self.reply(200, export_xml(), "application/xml")
            if url.path == "/clover/api/rest/v1/server/configuration/import":
                if self.content_type() not in XML_TYPES:
                    self.body()
                    return self.error(415, "UNSUPPORTED_MEDIA_TYPE", self.content_type())
                body = self.body()
                try:
                    ET.fromstring(body)
                except ET.ParseError as e:
                    return self.error(400, "BAD_XML", str(e))
                errors = list(STATE["import_errors"])
                if query.get("dryRun", ["true"])[0] == "false" and not errors and not STATE["import_ignored"]:
                    import_xml(body)
                return self.reply(200, import_report(errors), "application/xml")
            if url.path == "/clover/simpleHttpApi/server_jobs":
                return self.reply(200, "\n".join(STATE["running_jobs"]))
            if url.path == "/clover/simpleHttpApi/cluster_status":
                port = self.server.server_address[1]
                nodes = ["node01"] + STATE["cluster_nodes"]
                return self.reply(200, "\n".join(f"{n}|https://127.0.0.1:{port}/clover|0.2|READY" for n in nodes))
            if url.path == "/clover/api/rest/v1/server/license":
                if self.content_type() != "application/octet-stream":
                    self.body()
                    return self.error(415, "UNSUPPORTED_MEDIA_TYPE", self.content_type())
                body = self.body()
                if not body:
                    return self.error(400, "EMPTY_LICENSE", "the request body holds no license")
                STATE["license"] = body.decode("utf-8", "replace")
                return self.reply(200, "")
            if url.path == "/clover/api/rest/v1/executions":
                if self.content_type() != "application/json":
                    self.body()
                    return self.error(415, "UNSUPPORTED_MEDIA_TYPE", self.content_type())
                try:
                    req = json.loads(self.body() or b"null")
                    key = f"{req['sandboxCode']}/{req['jobFile']}"
                except (ValueError, TypeError, KeyError) as e:
                    return self.error(400, "BAD_REQUEST", f"sandboxCode and jobFile are required: {e}")
                if key not in STATE["jobs"]:
                    return self.error(404, "JOB_NOT_FOUND", key)
                run = str(len(STATE["runs"]) + 1)
                STATE["runs"][run] = {"job": key, "reads": 0}
                return self.reply(201, json.dumps({"runId": int(run)}), "application/json")
            if run_path:
                run = STATE["runs"].get(run_path.group(1))
                if run is None:
                    return self.error(404, "RUN_NOT_FOUND", run_path.group(1))
                run["reads"] += 1
                status = "RUNNING" if run["reads"] == 1 else STATE["jobs"][run["job"]]
                return self.reply(200, json.dumps({"runId": int(run_path.group(1)), "status": status}), "application/json")
            if url.path == "/clover/accessibilityTest.jsp":
                if suspended():
                    return self.reply(503, "SUSPENDED")
                return self.reply(200, "OK")
            return self.reply(200, "<html>CloverDX</html>", "text/html")

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_DELETE(self):
        self.handle_any("DELETE")


def certificate():
    """A self-signed certificate for 127.0.0.1 and localhost, new for each run, as a stock
    server generates its own: no CA, so only a pin or the certificate itself can trust it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "clover")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    der = cert.public_bytes(serialization.Encoding.DER)
    pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return pem, key_pem, ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


class Server(ThreadingHTTPServer):
    """TLS for the API, plain HTTP for the test control, told apart by the first byte (a TLS
    handshake record starts with 0x16)."""
    context = None

    def finish_request(self, request, client_address):
        try:
            first = request.recv(1, socket.MSG_PEEK)
            if first == b"\x16":
                request = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # a client that refused the certificate closes the handshake
        self.RequestHandlerClass(request, client_address, self)

    def handle_error(self, request, client_address):
        # A client that went away mid-answer (a killed apply, a refused certificate) is not
        # the double's failure; anything else still prints its traceback.
        if isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError)):
            return
        super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--items", default="{}")
    ap.add_argument("--clover-version", default="7.0.1.12")
    args = ap.parse_args()
    STATE["version"] = args.clover_version
    pem, key_pem, fingerprint = certificate()
    STATE["certificate_pem"], STATE["certificate_sha256"] = pem.decode(), fingerprint
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as d:
        for name, data in (("cert.pem", pem), ("key.pem", key_pem)):
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
        context.load_cert_chain(os.path.join(d, "cert.pem"), os.path.join(d, "key.pem"))
    Server.context = context
    items = json.loads(args.items)
    STATE["schedules"] = items.get("schedules", [])
    STATE["listeners"] = items.get("listeners", [])
    for s in STATE["schedules"]:
        note("schedule", s["description"], s["enabled"])
    for l in STATE["listeners"]:
        note("listener", l["name"], l["enabled"])
    Handler.user, Handler.password = args.user, args.password
    server = Server(("127.0.0.1", 0), Handler)
    print(f"listening {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
