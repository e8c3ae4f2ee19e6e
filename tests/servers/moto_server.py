"""moto in server mode on a port the kernel picks, announced as `listening PORT` on stdout once
the socket listens: the protocol of the other doubles (tests/doubles).

`moto_server -p PORT` needs the port chosen beforehand. A test that picks a free port, frees it
and then waits for moto by connecting to it can lose that port to a parallel test's server, or
see its own probe connect to itself (a local connect to a free port in the ephemeral range can
meet itself), and then talk to no server at all. Binding port 0 here closes both races.
Everything else is what `moto_server` does: moto's dispatcher application, its request handler,
one thread per request.
"""

import logging
import os
import signal
import sys

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server


def main() -> None:
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
