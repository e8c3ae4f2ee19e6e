"""The sandbox's HTTPS server for the war script: serves files of a directory (the WAR), and
CloverDX's health page, which answers 200 only once `systemctl start clover` has run (its flag
file exists) and after HEALTH_FAILS refused polls. Every request is recorded."""
import http.server
import os
import ssl
import sys

root, cert, key, flag, log = sys.argv[1:6]
fails = int(os.environ.get("HEALTH_FAILS", "0"))


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        global fails
        with open(log, "a") as f:
            f.write(f"GET {self.path}\n")
        path = self.path.split("?", 1)[0]
        if path == "/clover/accessibilityTest.jsp":
            if os.path.exists(flag) and fails <= 0:
                self.reply(200, b"OK")
            else:
                fails -= 1
                self.reply(404, b"not yet")
            return
        file = os.path.join(root, path.lstrip("/"))
        if path.startswith("/files/") and os.path.isfile(file):
            with open(file, "rb") as f:
                self.reply(200, f.read())
        else:
            self.reply(404, b"no such file")

    def reply(self, status, body):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 443), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
print("ready", flush=True)
server.serve_forever()
