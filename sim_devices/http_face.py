"""What the devices' HTTP faces (signboards, cameras) share: a threaded server on one port with
bounded connections and reads, a request handler that always answers, and HTTP Basic
credentials checked in constant time.

Bounds (documented in docs/devices.md, "Bad input"):

- ``READ_TIMEOUT_S``: a connection that sends nothing for this many seconds (a request line,
  a header, the next request on a kept-alive connection) is closed; a body that stops short of
  its ``Content-Length`` gets ``408`` after this many seconds without a byte, or after
  ``BODY_DEADLINE_S`` in all;
- ``MAX_CONNECTIONS``: connections served at once per server; one more gets ``503`` and is
  closed, so stalled clients cannot take every thread of the process;
- a body is read only with one valid ``Content-Length`` (``400`` for a duplicate or a value that
  is not a decimal number, ``411`` without one, ``413`` above the device's maximum, ``501`` for
  ``Transfer-Encoding``).
"""

from __future__ import annotations

import base64
import hmac
import socket
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .guard import InputLog

READ_TIMEOUT_S = 5.0  # seconds without a byte from the client before its connection is given up
BODY_DEADLINE_S = 15.0  # seconds in all to receive one request body
MAX_CONNECTIONS = 32  # connections served at once by one device's server

_BUSY = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"


class HttpRefusal(Exception):
    """A request answered with an HTTP error ``code`` and a one-line ``reason`` (no payload in it)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class _Server(ThreadingHTTPServer):
    """A thread per connection, at most ``max_connections`` at once."""

    daemon_threads = True
    request_queue_size = 128  # the listen backlog: a burst of connections is queued, not dropped

    def __init__(self, address, handler, *, max_connections: int) -> None:
        self.max_connections = int(max_connections)
        self._slots = threading.BoundedSemaphore(self.max_connections)
        self.busy_refused = 0  # connections answered 503 because every slot was taken
        super().__init__(address, handler)

    def process_request(self, request, client_address) -> None:
        if not self._slots.acquire(blocking=False):
            self.busy_refused += 1
            _refuse_busy(request)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request, client_address) -> None:
        """A client that hangs up or stalls is normal: no traceback. Anything else is logged in one
        line (the handler already answered or tried to)."""
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):  # ConnectionError, TimeoutError
            return
        log = getattr(self.RequestHandlerClass, "input_log", None)
        if isinstance(log, InputLog):
            device = getattr(self.RequestHandlerClass, "device_id", "http")
            log.refuse(device, f"{type(exc).__name__} in the HTTP server")
            return
        super().handle_error(request, client_address)


def _refuse_busy(sock: socket.socket) -> None:
    """Answer 503 to a connection over the limit without a thread: a short, bounded write."""
    try:
        sock.settimeout(0.2)
        sock.sendall(_BUSY)
        sock.settimeout(0.01)  # read what the client already sent, so closing does not reset the answer away
        for _ in range(4):
            if not sock.recv(65536):
                break
    except OSError:
        pass


def start_server(
    handler: type[BaseHTTPRequestHandler],
    host: str,
    port: int,
    name: str,
    *,
    max_connections: int = MAX_CONNECTIONS,
) -> ThreadingHTTPServer:
    """Serve ``handler`` on ``host:port`` (``port`` 0: any free one, see ``server_address``) in a
    daemon thread; stop with :func:`stop_server`."""
    server = _Server((host, port), handler, max_connections=max_connections)
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
    return hmac.compare_digest(header[6:].strip().encode("utf-8", "replace"), want.encode())


class GuardedHandler(BaseHTTPRequestHandler):
    """A request handler that always answers: subclasses implement ``handle_get``/``handle_post``
    and ``error_body`` (the device's own error format); an :class:`HttpRefusal` becomes that
    error, anything else raised becomes a 500, and each is one line in ``input_log``.

    Class attributes set by the device: ``device_id``, ``input_log``, ``timeout`` (seconds,
    the per-read timeout of the connection), ``max_body`` (bytes)."""

    device_id = "http"
    input_log: InputLog | None = None
    timeout = READ_TIMEOUT_S
    body_deadline_s = BODY_DEADLINE_S
    max_body = 64 * 1024
    _answered = False

    def log_message(self, *args) -> None:  # quiet: refusals go to input_log
        pass

    # --- what a device implements -------------------------------------------------------------
    def handle_get(self) -> None:
        raise HttpRefusal(405, "GET is not served here")

    def handle_post(self) -> None:
        raise HttpRefusal(405, "POST is not served here")

    def error_body(self, code: int, reason: str) -> tuple[bytes, str, dict[str, str]]:
        """The body, content type and extra headers of an error answer."""
        return (reason + "\n").encode(), "text/plain; charset=utf-8", {}

    # --- plumbing --------------------------------------------------------------------------------
    def send_response(self, code: int, message: str | None = None) -> None:
        self._answered = True
        super().send_response(code, message)

    def refuse(self, what: str) -> None:
        if self.input_log is not None:
            self.input_log.refuse(self.device_id, what)

    def answer(self, code: int, body: bytes, ctype: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def answer_error(self, code: int, reason: str) -> None:
        body, ctype, extra = self.error_body(code, reason)
        self.answer(code, body, ctype, extra)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (a bad request line, too many headers, an unknown method)
        in the device's error format, without the request's text."""
        self.close_connection = True
        self.refuse(f"HTTP {code} before the request was read")
        try:
            self.answer_error(code, f"HTTP {code}: {self.responses.get(code, ('error',))[0]}")
        except OSError:
            pass

    def _run(self, method: Callable[[], None]) -> None:
        self._answered = False
        try:
            method()
        except HttpRefusal as exc:
            self.refuse(f"{exc.code}: {exc.reason}")
            if exc.code in (400, 408, 411, 413, 501):  # the rest of the request is unknown: no keep-alive
                self.close_connection = True
            if not self._answered:
                self.answer_error(exc.code, exc.reason)
        except OSError:  # the client went away or stalled while answered
            self.close_connection = True
        except Exception as exc:  # noqa: BLE001 - the point: every request gets an answer
            self.refuse(f"{type(exc).__name__} while handling {self.command}")
            self.close_connection = True
            if not self._answered:
                self.answer_error(500, f"internal error ({type(exc).__name__})")

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self._run(self.handle_get)

    def do_POST(self) -> None:  # noqa: N802
        self._run(self.handle_post)

    def read_body(self, max_bytes: int | None = None) -> bytes:
        """The request body, bounded: one decimal ``Content-Length`` of at most ``max_bytes``
        (default ``max_body``), read within ``timeout`` per read and ``body_deadline_s`` in all."""
        limit = self.max_body if max_bytes is None else max_bytes
        if self.headers.get("Transfer-Encoding") is not None:
            raise HttpRefusal(501, "Transfer-Encoding is not supported: send a Content-Length")
        values = self.headers.get_all("Content-Length") or []
        if not values:
            raise HttpRefusal(411, "Content-Length required")
        if len(values) > 1 or "," in values[0]:
            raise HttpRefusal(400, "Content-Length: given more than once")
        text = values[0].strip()
        if not (text.isascii() and text.isdigit()) or len(text) > 12:
            raise HttpRefusal(400, "Content-Length: expected a decimal number of bytes")
        length = int(text)
        if length > limit:
            raise HttpRefusal(413, f"body of {length} bytes: at most {limit}")
        chunks, got = [], 0
        deadline = time.monotonic() + self.body_deadline_s
        while got < length:
            if time.monotonic() > deadline:
                raise HttpRefusal(408, f"body not received within {self.body_deadline_s:g} s")
            try:
                chunk = self.rfile.read1(min(65536, length - got))
            except TimeoutError:
                raise HttpRefusal(408, f"body stalled: no byte for {self.timeout:g} s") from None
            if not chunk:
                raise HttpRefusal(400, f"body ended after {got} of {length} bytes")
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)
