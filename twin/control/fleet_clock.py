"""The device fleet's clock device as a controller sees it: its Modbus register layout, how
simulated time is packed into registers, and how delays on that clock are summarised. The fleet
(``sim_devices.clock``) serves it; the reference controller reads it. Times are simulated
seconds from the scenario start.

Input registers (read-only)
  0-1  simulated time, whole seconds (32 bits, high word first)
  2    milliseconds
  3    state: 0 waiting to start, 1 running, 2 ended
  4    mode: 0 paced (speed is a ceiling), 1 strict (exactly the speed, wall time)
  5    speed ceiling, simulated s per wall s (0: as fast as possible)
  6    effective speed so far, x 10

Holding registers (written by a controller that wants the clock to wait for it)
  0-1  progress, whole seconds (32 bits, high word first)
  2    milliseconds: "I have handled everything that reached me before the clock read this"
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

from ..errors import TwinError

CLOCK_INPUTS = {
    0: "simulated time s (high word)",
    1: "simulated time s (low word)",
    2: "simulated time ms",
    3: "state (0 waiting, 1 running, 2 ended)",
    4: "mode (0 paced, 1 strict)",
    5: "speed ceiling (0 = max)",
    6: "effective speed x10",
}
PROGRESS_REGISTERS = {
    0: "controller progress s (high word)",
    1: "controller progress s (low word)",
    2: "controller progress ms",
}
WAITING, RUNNING, ENDED = 0, 1, 2
CLOCK_POLL_S = 0.004  # how often (wall s) the reference controller reads the clock


def pack_time(t_s: float) -> list[int]:
    """Simulated seconds -> three registers: seconds (high word, low word) and milliseconds."""
    ms_total = max(int(round(t_s * 1000.0)), 0)
    s, ms = divmod(ms_total, 1000)
    s = min(s, 2**32 - 1)
    return [s >> 16, s & 0xFFFF, ms]


def unpack_time(regs: list[int]) -> float:
    """Three registers (seconds high word, low word, milliseconds) -> simulated seconds."""
    return ((int(regs[0]) << 16) | int(regs[1])) + int(regs[2]) / 1000.0


def parse_speed(text: str, *, strict: bool = False) -> float:
    """``--speed``: a number > 0, or ``max`` (math.inf; not with a strict clock)."""
    if str(text).strip().lower() == "max":
        if strict:
            raise ValueError("got max with --strict-speed: expected a number > 0 (a strict clock keeps a fixed speed)")
        return math.inf
    try:
        speed = float(text)
    except ValueError:
        raise ValueError(f"got {text!r}: expected a number > 0 or max") from None
    if not speed > 0 or math.isinf(speed):
        raise ValueError(f"got {text!r}: expected a number > 0 or max")
    return speed


def delay_stats(delays) -> dict[str, float | int | None]:
    """p50, p99, max and count of delays or ages (simulated s), nearest-rank percentiles; None
    values when there are none. The one summary the fleet, the controllers and the verdict use."""
    ys = sorted(float(x) for x in delays)
    if not ys:
        return {"p50": None, "p99": None, "max": None, "n": 0}

    def rank(p: float) -> float:
        return round(ys[max(math.ceil(p * len(ys)) - 1, 0)], 2)

    return {"p50": rank(0.5), "p99": rank(0.99), "max": round(ys[-1], 2), "n": len(ys)}


def wait_for_manifest(path: str | Path, wait_s: float) -> str | None:
    """Wait up to ``wait_s`` wall seconds for the fleet to write its manifest at ``path`` (a
    stand-alone controller may start before the fleet); the problem in words, or None."""
    deadline = time.monotonic() + wait_s
    while not Path(path).is_file():
        if time.monotonic() > deadline:
            return f"{path}: no manifest after {wait_s:.0f} s"
        time.sleep(0.1)
    return None


class ManifestError(TwinError, ValueError):
    """A fleet manifest (or its credentials.json) a stand-alone controller cannot use."""


def read_fleet_file(path: str | Path, what: str, required: tuple[str, ...] = ()) -> dict[str, Any]:
    """The JSON object in ``path`` (``what``: manifest or credentials), with each ``required`` key;
    a :class:`ManifestError` naming the file and the key otherwise."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ManifestError(f"{what} {path}: cannot be read ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ManifestError(f"{what} {path}: not JSON in UTF-8: expected the fleet's {what} file") from None
    if not isinstance(data, dict):
        raise ManifestError(f"{what} {path}: got {type(data).__name__}: expected a JSON object")
    for key in required:
        if key not in data:
            raise ManifestError(f"{what} {path}: {key}: missing: expected the fleet's {what} file")
    return data
