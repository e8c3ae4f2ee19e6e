"""moto in server mode on a port the kernel picks, announced as `listening PORT` on stdout once
the socket listens: the protocol of the other doubles (tests/doubles).

`moto_server -p PORT` needs the port chosen beforehand. A test that picks a free port, frees it
and then waits for moto by connecting to it can lose that port to a parallel test's server, or
see its own probe connect to itself (a local connect to a free port in the ephemeral range can
meet itself), and then talk to no server at all. Binding port 0 here closes both races.
Everything else is what `moto_server` does: moto's dispatcher application, its request handler,
one thread per request.

One addition, for the instance's side that no emulator runs: `GetConsoleOutput` of an instance
launched with cloverlift's boot guard in its user data shows the lines that guard prints on a
real boot once clover serves HTTPS (templates/boot/datasource-guard.sh.hbs), the certificate
being the one in CLOVERLIFT_TEST_TLS_SHA256 (the new CloverDX double's). moto's own answer is a
fixed sample boot log; this keeps it and appends the guard's lines, as a console would show
them after the kernel's.
"""

import base64
import binascii
import logging
import os
import re
import signal
import sys

from moto.core.utils import utcnow
from moto.ec2.responses import general
from moto.ec2.utils import Base64EncodedString

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server


def user_data_text(instance) -> str:
    data = getattr(instance, "user_data", None)
    if data is None:
        return ""
    if hasattr(data, "decode"):
        try:
            return data.decode()
        except (binascii.Error, UnicodeDecodeError, AttributeError):
            pass
    text = data if isinstance(data, str) else str(data)
    try:
        return base64.b64decode(text, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return text


def console_output(self):
    instance = self.ec2_backend.get_instance(self._get_param("InstanceId"))
    text = general.SAMPLE_CONSOLE_OUTPUT
    fingerprint = os.environ.get("CLOVERLIFT_TEST_TLS_SHA256", "")
    plan = re.search(r"cloverlift boot guard: .*\(plan '?([a-z0-9-]+)'?\)", user_data_text(instance))
    if plan and fingerprint:
        text += (
            f"[   41.207311] cloud-init[1093]: cloverlift-guard: clover started against the new database\r\n"
            f"[   58.930114] cloud-init[1093]: cloverlift-guard: plan {plan.group(1)} tls-sha256 {fingerprint}\r\n"
        )
    return general.ActionResult({
        "InstanceId": instance.id,
        "Timestamp": utcnow(),
        "Output": Base64EncodedString.from_raw_string(text),
    })


def main() -> None:
    general.General.get_console_output = console_output
    # One line per request on stderr would bury the test output; errors still show.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(
        "127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler
    )
    port = server.server_port
    # moto builds some URLs (queue URLs, Lambda's endpoint) from MOTO_PORT, as moto_server sets it.
    os.environ["MOTO_PORT"] = str(port)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"listening {port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
