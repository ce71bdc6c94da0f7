"""Disaster text signboards (재해문자전광판): CAP 1.2 alerts in over HTTP, the text on display.

HTTP (Basic authentication with the device's credentials, on by default):
  POST /cap       a CAP 1.2 alert (Content-Type application/cap+xml, application/xml or text/xml).
                  200 with the new display as JSON; 400 for malformed, unsafe or invalid CAP (the
                  reason in the body, naming the element: a CAP date-time without its UTC offset
                  is invalid) or a duplicate or invalid Content-Length; 401 without credentials;
                  408 for a body that stalls; 411 without Content-Length; 413 too large; 415
                  wrong type; 500 (logged) if the board itself fails; 503 when busy.
  GET  /display   what is shown now, as JSON.

The display shows the ko-KR info (the headline, then the description on a new line) cut to the
board's lines and characters per line; a Cancel of the shown alert clears it, and an alert clears itself at its
``expires`` time (simulated clock). Every change is logged in the run's events and published on
``uijeongbu/signboard/{id}/state`` (retained).
"""

from __future__ import annotations

import json
import queue
import threading
from http.server import ThreadingHTTPServer
from typing import Any

from twin.control.signboard_text import layout, layout_parts

from .cap import MAX_BYTES, CapAlert, CapError, parse_cap
from .device import HttpDevice
from .http_face import MAX_CONNECTIONS, READ_TIMEOUT_S, GuardedHandler, HttpRefusal, basic_ok, start_server, stop_server
from .telemetry import FleetContext

XML_TYPES = ("application/cap+xml", "application/xml", "text/xml")


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode("utf-8", "backslashreplace")


class Signboard(HttpDevice):
    kind = "signboard"
    every_step = True  # alerts taken over HTTP are shown (and expire) at every clock step

    def __init__(self, row: dict[str, Any], ctx: FleetContext, *, port: int) -> None:
        super().__init__(row, ctx)
        self.host, self.port = ctx.host, port
        n, w = row.get("lines"), row.get("chars_per_line")
        self.lines = int(n) if n == n and n is not None else 2
        self.width = int(w) if w == w and w is not None else 12
        self._mqtt()
        self.inbox: queue.SimpleQueue[CapAlert] = queue.SimpleQueue()
        self.display: dict[str, Any] = {"device_id": self.device_id, "identifier": None, "lines": [], "since": None}
        self.lock = threading.Lock()
        self.requests = 0
        self.rejected = 0
        self.expires_s: float | None = None
        self.read_timeout_s = READ_TIMEOUT_S  # seconds without a byte before a connection is given up
        self.max_connections = MAX_CONNECTIONS  # connections served at once
        self._server: ThreadingHTTPServer | None = None

    # --- HTTP side (server threads) ------------------------------------------------------------
    def _handler(self):
        board = self

        class Handler(GuardedHandler):
            server_version = "UijeongbuSignboard/1"
            device_id = board.device_id
            input_log = board.ctx.input_log
            timeout = board.read_timeout_s
            max_body = MAX_BYTES

            def error_body(self, code: int, reason: str) -> tuple[bytes, str, dict[str, str]]:
                extra = {"WWW-Authenticate": 'Basic realm="signboard"'} if code == 401 else {}
                if code >= 400 and code != 401:
                    board.rejected += 1
                return _json({"error": reason}), "application/json; charset=utf-8", extra

            def _reply(self, code: int, body: dict[str, Any]) -> None:
                self.answer(code, _json(body), "application/json; charset=utf-8")

            def _authorise(self) -> None:
                if not basic_ok(self.headers.get("Authorization", ""), board.device_id, board.account.password):
                    raise HttpRefusal(401, "authentication required")

            def handle_get(self) -> None:
                board.requests += 1
                self._authorise()
                if self.path.rstrip("/") != "/display":
                    raise HttpRefusal(404, "not found: GET /display or POST /cap")
                with board.lock:
                    shown = dict(board.display)
                self._reply(200, shown)

            def handle_post(self) -> None:
                board.requests += 1
                self._authorise()
                if self.path.rstrip("/") != "/cap":
                    raise HttpRefusal(404, "not found: POST /cap")
                ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
                if ctype not in XML_TYPES:
                    raise HttpRefusal(415, f"Content-Type: expected {', '.join(XML_TYPES)}")
                try:
                    alert = parse_cap(self.read_body())
                except CapError as exc:
                    raise HttpRefusal(400, str(exc)) from None
                board.inbox.put(alert)
                self._reply(200, {"accepted": alert.identifier, "msgType": alert.msg_type})

        return Handler

    def start(self) -> None:
        self._server = start_server(
            self._handler(), self.host, self.port, f"http-{self.device_id}", max_connections=self.max_connections
        )
        self.port = self._server.server_address[1]  # the one bound (port 0: any free one)

    def stop(self) -> None:
        stop_server(self._server)

    # --- the fleet's loop ------------------------------------------------------------------------
    def step(self, t_s: float) -> None:
        while not self.inbox.empty():
            alert = self.inbox.get()
            try:
                self._show(alert, t_s)
            except Exception as exc:  # noqa: BLE001 - an alert the board cannot show never stops the fleet
                self.ctx.input_log.refuse(self.device_id, f"{type(exc).__name__} while showing a CAP alert")
        if self.expires_s is not None and t_s >= self.expires_s:
            self._change(t_s, None, [], "expired")

    def _show(self, alert: CapAlert, t_s: float) -> None:
        if alert.msg_type == "Cancel":
            if self.display["identifier"] and self.display["identifier"] in alert.references:
                self._change(t_s, None, [], f"cancelled by {alert.identifier}")
            return
        if alert.msg_type not in ("Alert", "Update"):
            return
        ko = alert.info("ko-KR")
        assert ko is not None  # parse_cap refuses an Alert or Update without a ko-KR info block
        shown = layout_parts([ko.headline, ko.description], self.lines, self.width) or layout(
            ko.event, self.lines, self.width
        )
        self.expires_s = None
        if ko.expires_at is not None:  # aware (parse_cap requires the offset); the engine's start is aware too
            self.expires_s = (ko.expires_at - self.ctx.sim.engine.start).total_seconds()
        en = alert.info("en-US")
        self._change(
            t_s,
            alert,
            shown,
            "shown",
            english=(en.headline if en else ""),
            severity=ko.severity,
            event=ko.event,
        )

    def _change(self, t_s: float, alert: CapAlert | None, lines: list[str], why: str, **extra: Any) -> None:
        with self.lock:
            self.display = {
                "device_id": self.device_id,
                "identifier": alert.identifier if alert else None,
                "lines": lines,
                "since": self.ctx.clock_iso(t_s),
                "sim_time_s": round(t_s, 3),
                "change": why,
                **extra,
            }
        if alert is None:
            self.expires_s = None
        crowd = self.ctx.sim.crowd
        access = self.row.get("access_id")
        if lines and crowd is not None and isinstance(access, str) and access:
            # a message at an access point: the people near it read it (and hear the loudspeaker) and leave
            crowd.gate_warning(self.device_id, access, self.ctx.sim.scenario.warning_reach_m)
        self.ctx.sim.engine.log(
            "signboard.display",
            self.device_id,
            f"{why}: {' / '.join(lines) if lines else '(blank)'}",
            identifier=alert.identifier if alert else None,
            lines=lines,
        )
        self.ctx.send(self.device_id, self.topics["state"], dict(self.display), retain=True)

    def _faces(self) -> dict[str, Any]:
        return {
            "access_id": self.row.get("access_id") if isinstance(self.row.get("access_id"), str) else None,
            "http": {
                "host": self.host,
                "port": self.port,
                "post_cap": "/cap",
                "display": "/display",
                "auth": "basic (device id, password in credentials.json)",
            },
            "display": {"lines": self.lines, "chars_per_line": self.width},
            "mqtt": self.topics | {"username": self.device_id},
        }
