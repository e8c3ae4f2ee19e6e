"""A local CloverDX Server API double for the apply tests: no emulator of CloverDX exists, so
this follows the documented protocol of the parts apply uses.

- Basic authentication on every request (401 with `WWW-Authenticate: Basic` otherwise), and
  the `X-Requested-By` header that CloverDX's CSRF protection requires on API calls
  (requests without it are refused).
- GET  /clover/api/rest/v1/server/configuration/export?include=schedules&include=eventListeners
  answers the server configuration XML (namespace http://cloveretl.com/server/data), each
  schedule and event listener with its `enabled` attribute.
- POST /clover/api/rest/v1/server/configuration/import?dryRun=false&override=true takes that
  XML as the body and applies `enabled`, matching schedules by description and listeners by name;
  dryRun defaults to true, as on the server, and then nothing changes.
- GET  /clover/simpleHttpApi/server_jobs lists running run ids, one per line.
- PUT  /clover/api/rest/v1/server/license stores the license (the request body).
- GET  /clover/accessibilityTest.jsp: 200 when healthy, 503 `SUSPENDED` when suspended.
- GET  /clover/ and other paths under /clover/: 200.

Test control (not part of CloverDX): GET /__test__/state returns the server's state as JSON;
POST /__test__/configure sets `running_jobs`, `fail` (path -> status), `latency` (seconds),
`suspended`.

Usage: cloverdx_server.py --user U --password P [--items JSON]; prints `listening PORT`.
"""
import argparse
import base64
import json
import re
import sys
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
}


def export_xml():
    root = ET.Element(f"{{{NS}}}cloverServerConfiguration")
    schedules = ET.SubElement(root, f"{{{NS}}}schedulesList")
    for s in STATE["schedules"]:
        el = ET.SubElement(schedules, f"{{{NS}}}schedule", {"enabled": str(s["enabled"]).lower()})
        ET.SubElement(el, f"{{{NS}}}description").text = s["description"]
        ET.SubElement(el, f"{{{NS}}}jobFile").text = "graph/Load.grf"
    listeners = ET.SubElement(root, f"{{{NS}}}eventListenersList")
    for l in STATE["listeners"]:
        el = ET.SubElement(listeners, f"{{{NS}}}eventListener",
                           {f"{{{XSI}}}type": "cs:groovyEventListener", "enabled": str(l["enabled"]).lower()})
        ET.SubElement(el, f"{{{NS}}}name").text = l["name"]
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def import_xml(body):
    root = ET.fromstring(body)
    for el in root.iter(f"{{{NS}}}schedule"):
        desc = (el.findtext(f"{{{NS}}}description") or "").strip()
        for s in STATE["schedules"]:
            if s["description"] == desc:
                s["enabled"] = el.get("enabled", "true") == "true"
    for el in root.iter(f"{{{NS}}}eventListener"):
        name = (el.findtext(f"{{{NS}}}name") or "").strip()
        for l in STATE["listeners"]:
            if l["name"] == name:
                l["enabled"] = el.get("enabled", "true") == "true"
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
            return self.reply(404, "no such test endpoint")
        if STATE["latency"]:
            time.sleep(STATE["latency"])
        if not self.authorized():
            return
        with LOCK:
            failing = STATE["fail"].get(url.path)
            if failing:
                return self.error(int(failing), "INJECTED", f"injected failure of {url.path}")
            if url.path == "/clover/api/rest/v1/server/configuration/export" and method == "GET":
                return self.reply(200, export_xml(), "application/xml")
            if url.path == "/clover/api/rest/v1/server/configuration/import" and method == "POST":
                body = self.body()
                if query.get("dryRun", ["true"])[0] == "false":
                    try:
                        import_xml(body)
                    except ET.ParseError as e:
                        return self.error(400, "BAD_XML", str(e))
                return self.reply(200, "<importResult/>", "application/xml")
            if url.path == "/clover/simpleHttpApi/server_jobs" and method == "GET":
                return self.reply(200, "\n".join(STATE["running_jobs"]))
            if url.path == "/clover/api/rest/v1/server/license" and method == "PUT":
                STATE["license"] = self.body().decode("utf-8", "replace")
                return self.reply(200, "")
            if url.path == "/clover/accessibilityTest.jsp" and method == "GET":
                if STATE["suspended"]:
                    return self.reply(503, "SUSPENDED")
                return self.reply(200, "OK")
            if url.path.startswith("/clover/") and method == "GET":
                return self.reply(200, "<html>CloverDX</html>", "text/html")
        return self.error(404, "NOT_FOUND", url.path)

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PUT(self):
        self.handle_any("PUT")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--items", default="{}")
    args = ap.parse_args()
    items = json.loads(args.items)
    STATE["schedules"] = items.get("schedules", [])
    STATE["listeners"] = items.get("listeners", [])
    Handler.user, Handler.password = args.user, args.password
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"listening {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
