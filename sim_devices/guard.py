"""How a device takes input it did not ask for: the controller under test will send garbage.

Every message a device receives (an MQTT command, a Modbus frame, a SOAP body, a CAP document,
an HTTP request) is handled in isolation: a bad one gets the protocol's own error reply and one
line in the log, and never raises into the fleet's loop or stops a server thread. The log is rate
limited per device, so a controller sending garbage in a tight loop cannot fill a disk.

Bounds every device applies (documented in docs/devices.md, "Bad input"):

- ``MAX_COMMAND_BYTES``: an MQTT command payload (JSON) larger than this is refused unread;
- ``MAX_JSON_DEPTH``: nesting deeper than this is refused before it is parsed;
- HTTP bodies, read timeouts and ONVIF subscriptions are bounded in :mod:`.http_face` and
  :mod:`.onvif_camera`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from twin.input_files import json_depth  # one depth scan for every JSON the project reads

MAX_COMMAND_BYTES = 4096  # bytes: a gate command is {"command": "close"}, a few dozen bytes
MAX_JSON_DEPTH = 32  # nesting levels of [ and { in a JSON document

LOGGER_NAME = "sim_devices.input"


class BadInput(ValueError):
    """A message a device refuses; the text says what was wrong, never the message itself."""


def decode_message(payload: bytes, *, max_bytes: int = MAX_COMMAND_BYTES) -> str:
    """The text of a message from a client: :class:`BadInput` if larger than ``max_bytes`` or not
    UTF-8. The text of the error never repeats the payload."""
    if len(payload) > max_bytes:
        raise BadInput(f"payload of {len(payload)} bytes, more than {max_bytes}")
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(f"payload is not UTF-8 (byte {exc.start})") from None


def parse_json_message(payload: bytes, *, max_bytes: int = MAX_COMMAND_BYTES, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """A JSON message from a client, bounded: :class:`BadInput` if too large, too deep, not UTF-8
    or not JSON. The text of the error never repeats the payload."""
    text = decode_message(payload, max_bytes=max_bytes)
    if json_depth(text) > max_depth:
        raise BadInput(f"JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise BadInput(f"not JSON ({type(exc).__name__})") from None


class InputLog:
    """One line per refused input, at most ``burst`` lines per device and ``total_burst`` lines in
    all in each ``window_s`` seconds; when a window ends, one line says how many were not logged
    (and from which devices most). So a 10-minute flood of garbage at every device of a fleet
    writes at most 10 x (``total_burst`` + 1) lines. Safe from any thread (server threads of HTTP
    faces, the broker's thread, the fleet loop). Counts stay exact: ``refused[device_id]``."""

    def __init__(
        self,
        logger: logging.Logger | None = None,
        *,
        burst: int = 5,
        total_burst: int = 40,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger or logging.getLogger(LOGGER_NAME)
        self.burst, self.total_burst = int(burst), int(total_burst)
        self.window_s, self.clock = float(window_s), clock
        self.refused: dict[str, int] = {}
        self.lines = 0  # lines written (for tests and the soak benchmark)
        self._window_start: float | None = None
        self._logged: dict[str, int] = {}  # lines per device in this window
        self._suppressed: dict[str, int] = {}  # inputs not logged in this window, per device
        self._lock = threading.Lock()

    def refuse(self, device_id: str, what: str) -> None:
        """Count a refused input of ``device_id`` and log ``what`` (one line, no payload)."""
        now = self.clock()
        with self._lock:
            self.refused[device_id] = self.refused.get(device_id, 0) + 1
            lines = []
            if self._window_start is None or now - self._window_start >= self.window_s:
                summary = self._summary()
                if summary:
                    lines.append(summary)
                self._window_start, self._logged, self._suppressed = now, {}, {}
            mine = self._logged.get(device_id, 0)
            if mine < self.burst and sum(self._logged.values()) < self.total_burst:
                lines.append(f"{device_id}: refused input: {_one_line(what)}")
                self._logged[device_id] = mine + 1
            else:
                self._suppressed[device_id] = self._suppressed.get(device_id, 0) + 1
            self.lines += len(lines)
        for line in lines:
            self.logger.warning(line)

    def _summary(self) -> str | None:
        if not self._suppressed:
            return None
        n = sum(self._suppressed.values())
        top = sorted(self._suppressed.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        most = ", ".join(f"{dev} {count}" for dev, count in top)
        return (
            f"{n} more refused inputs from {len(self._suppressed)} devices not logged in {self.window_s:g} s "
            f"(most: {most})"
        )

    def flush(self) -> None:
        """Log the summary of the current window now (at the end of a run)."""
        with self._lock:
            summary = self._summary()
            self._suppressed = {}
            if summary:
                self.lines += 1
        if summary:
            self.logger.warning(summary)

    def total(self) -> int:
        with self._lock:
            return sum(self.refused.values())


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")  # a lone surrogate must not break a log handler
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shielded(handler: Callable[..., Any], device_id: str, log: InputLog) -> Callable[..., None]:
    """``handler`` wrapped so that nothing it raises leaves it: refused and logged instead.
    For callbacks run on the fleet's loop (MQTT messages), where an exception would end the fleet."""

    def call(*args: Any) -> None:
        try:
            handler(*args)
        except Exception as exc:  # noqa: BLE001 - the point: one bad message never stops the fleet
            log.refuse(device_id, f"{type(exc).__name__} while handling a message: {exc}")

    return call
