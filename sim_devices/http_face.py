"""What the devices' HTTP faces (signboards, cameras) share: a threaded server on one port and
HTTP Basic credentials checked in constant time."""

from __future__ import annotations

import base64
import hmac
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        """A client that hangs up mid-answer (a controller stopping) is normal: no traceback."""
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def start_server(handler: type[BaseHTTPRequestHandler], host: str, port: int, name: str) -> ThreadingHTTPServer:
    """Serve ``handler`` on ``host:port`` in a daemon thread; stop with :func:`stop_server`."""
    server = _Server((host, port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True).start()
    return server


def stop_server(server: ThreadingHTTPServer | None) -> None:
    if server is not None:
        server.shutdown()
        server.server_close()


def basic_ok(header: str, user: str, password: str) -> bool:
    """Whether an Authorization header carries HTTP Basic credentials ``user:password``."""
    if not header.startswith("Basic "):
        return False
    want = base64.b64encode(f"{user}:{password}".encode()).decode()
    return hmac.compare_digest(header[6:].strip(), want)
