"""The fleet's simulated clock, paced by what the devices have delivered and what the controller
has handled, and the Modbus face that lets a controller read it and report its progress.

A hardware-in-the-loop run is only as good as its timing: at ``--speed 120`` one wall second of
host hiccup is two minutes of river. So ``speed`` is a ceiling, not a promise
(:class:`PacedClock`). Each tick the clock advances by ``speed`` × the wall time since the last
tick, but never more than ``step_s``, never more than ``lead_s`` past the oldest reading that has
not reached the broker's subscribers yet, and never more than ``lead_s`` past the progress the
controller last reported. When something falls behind, simulated time slows down; when it
catches up, it speeds up again. A strict clock (``strict=True``, for a real PLC that keeps wall
time) ignores all that and runs at exactly ``speed``; its lag is then measured, not prevented.

Times are simulated seconds from the scenario start unless named ``wall``.

The clock device (Modbus TCP, unit 1; the manifest's ``clock.modbus``) has the simulated time
in its input registers and the controller's progress in its holding registers; the layout is
:mod:`twin.control.fleet_clock`.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field

from twin.control.fleet_clock import CLOCK_INPUTS, PROGRESS_REGISTERS, WAITING, pack_time, unpack_time

from .modbus_face import ILLEGAL_ADDRESS, ILLEGAL_VALUE, ModbusFace


def timing_budget_s(sample_interval_s: float) -> float:
    """The timing budget of a run (simulated s): half the level sensors' sampling interval. A
    reading delivered later than this, or a clock lagging more, could change which sample a
    decision is based on, so the run cannot judge the controller (docs/gates.md)."""
    return 0.5 * float(sample_interval_s)


@dataclass
class Holds:
    """Wall seconds the clock went slower than its ceiling, by what held it."""

    delivery: float = 0.0  # readings not yet delivered to the subscribers
    controller: float = 0.0  # the controller's reported progress
    host: float = 0.0  # the fleet's own loop came late (a busy host): a tick's advance was capped

    def as_dict(self) -> dict[str, float]:
        return {k: round(v, 2) for k, v in self.__dict__.items()}


@dataclass
class PacedClock:
    """Simulated time as a function of the wall clock and of what has been delivered.

    ``speed``: simulated s per wall s at most (``math.inf``: as fast as the slowest part allows).
    ``step_s``: the most one tick may advance. ``lead_s``: how far the clock may run past the
    oldest undelivered reading, or past the controller's progress. ``strict``: exactly ``speed``,
    no pacing (``speed`` must be finite).
    """

    speed: float
    end_s: float
    step_s: float
    lead_s: float
    strict: bool = False
    now: float = 0.0
    holds: Holds = field(default_factory=Holds)
    wall0: float | None = None
    _last_wall: float = 0.0
    _wall_end: float | None = None

    def __post_init__(self) -> None:
        if not self.speed > 0:
            raise ValueError(f"speed must be > 0, got {self.speed}")
        if self.strict and math.isinf(self.speed):
            raise ValueError("a strict clock needs a finite speed")
        if not (self.step_s > 0 and self.lead_s > 0):
            raise ValueError("step_s and lead_s must be > 0")

    @property
    def mode(self) -> str:
        return "strict" if self.strict else "paced"

    def start(self, wall: float) -> None:
        self.wall0 = self._last_wall = wall

    def target(self, wall: float) -> float:
        """Where a strict clock is at ``wall``: (wall - start) × speed."""
        assert self.wall0 is not None, "the clock is read before start()"
        return min((wall - self.wall0) * self.speed, self.end_s)

    def advance(self, wall: float, *, undelivered_s: float | None = None, progress_s: float | None = None) -> float:
        """Move the clock for the tick at ``wall`` (monotonic s); returns the new simulated time.

        ``undelivered_s``: the sample time of the oldest reading not yet delivered (None: all
        delivered). ``progress_s``: the controller's last reported progress (None: not pacing)."""
        dt = max(wall - self._last_wall, 0.0)
        self._last_wall = wall
        if self.strict:
            self.now = max(self.now, self.target(wall))
        else:
            wanted = self.step_s if math.isinf(self.speed) else self.speed * dt
            step = min(wanted, self.step_s)
            if step < wanted:
                self.holds.host += dt * (1.0 - step / wanted)
            t = self.now + step
            limits = []
            if undelivered_s is not None:
                limits.append((undelivered_s + self.lead_s, "delivery"))
            if progress_s is not None:
                limits.append((progress_s + self.lead_s, "controller"))
            if limits:
                limit, why = min(limits)
                if t > limit:
                    held = max(limit, self.now)
                    share = 1.0 if step <= 0 else (t - held) / step
                    setattr(self.holds, why, getattr(self.holds, why) + dt * min(share, 1.0))
                    t = held
            self.now = min(max(t, self.now), self.end_s)
        if self.now >= self.end_s and self._wall_end is None:
            self._wall_end = wall
        return self.now

    def lag_s(self, wall: float, t_s: float) -> float:
        """How far a sample taken at simulated ``t_s`` is behind the clock: a strict clock's
        target at ``wall``, a paced clock's own time."""
        ref = self.target(wall) if self.strict else self.now
        return max(ref - t_s, 0.0)

    def effective_speed(self, wall: float) -> float | None:
        """Simulated seconds per wall second since the start (up to the end, if reached)."""
        if self.wall0 is None:
            return None
        span = (self._wall_end if self._wall_end is not None else wall) - self.wall0
        return self.now / span if span > 0 else None


class DeliveryTracker:
    """Readings published but not yet seen by the fleet's probe subscriber, oldest first.

    The fleet publishes readings in order of their sample time, and one device's messages arrive
    in the order it sent them (MQTT QoS 1, one connection per device), so the oldest pending
    reading is the front of one queue once the delivered ones are popped. Only readings published
    while the clock was to wait for them are tracked: not those late on purpose (a latency fault,
    a broker outage), and not those it gave up on."""

    def __init__(self) -> None:
        self._pending: deque[tuple[float, str, int]] = deque()  # (sample time, device, seq)
        self._tracked: dict[tuple[str, int], float] = {}  # (device, seq) -> sample time
        self._delivered: dict[str, int] = {}
        self._since_wall: float | None = None  # when the front reading became the front

    def __len__(self) -> int:
        return len(self._tracked)

    def published(self, device_id: str, seq: int, t_s: float) -> None:
        self._pending.append((float(t_s), device_id, int(seq)))
        self._tracked[(device_id, int(seq))] = float(t_s)

    def delivered(self, device_id: str, seq: int) -> float | None:
        """A reading reached the probe; its sample time if it was tracked (else None)."""
        if seq > self._delivered.get(device_id, -1):
            self._delivered[device_id] = int(seq)
        return self._tracked.pop((device_id, int(seq)), None)

    def oldest(self, wall: float) -> float | None:
        """The sample time of the oldest undelivered reading (None: none pending)."""
        q, done = self._pending, self._delivered
        popped = False
        while q and (q[0][2] <= done.get(q[0][1], -1) or (q[0][1], q[0][2]) not in self._tracked):
            t, dev, seq = q.popleft()
            self._tracked.pop((dev, seq), None)  # a later reading of its device came: it will not
            popped = True
        if not q:
            self._since_wall = None
            return None
        if popped or self._since_wall is None:
            self._since_wall = wall
        return q[0][0]

    def overdue(self, wall: float, patience_s: float) -> bool:
        """Has the front reading been waiting for more than ``patience_s`` wall seconds?"""
        return self._since_wall is not None and wall - self._since_wall > patience_s

    def give_up(self) -> int:
        """Stop waiting for what is pending now (a broker gone, a message lost); how many."""
        n = len(self._tracked)
        self._pending.clear()
        self._tracked.clear()
        self._since_wall = None
        return n


class ClockFace:
    """The clock device: the simulated time in input registers, the controller's progress in
    holding registers (see the module docstring)."""

    def __init__(self, *, host: str, port: int, clock: PacedClock) -> None:
        self.clock = clock
        self.state = WAITING
        self.progress_s: float | None = None  # None until a controller writes it
        self.progress_wall: float | None = None  # when it last changed (monotonic)
        self.modbus = ModbusFace(
            host=host,
            port=port,
            sizes={"input_registers": len(CLOCK_INPUTS), "holding_registers": len(PROGRESS_REGISTERS)},
            writable=("holding_registers",),
            on_write=self._write,
        )
        self._pending_regs = [0, 0, 0]

    def _write(self, table: str, address: int, values: list[int]):
        if address + len(values) > len(PROGRESS_REGISTERS):
            return ILLEGAL_ADDRESS
        regs = list(self._pending_regs)
        for i, v in enumerate(values):
            regs[address + i] = int(v)
        if regs[2] > 999:
            return ILLEGAL_VALUE
        self._pending_regs = regs
        if address + len(values) == len(PROGRESS_REGISTERS):  # the milliseconds complete a write
            t = unpack_time(regs)
            if self.progress_s is None or t != self.progress_s:
                self.progress_s = t
                self.progress_wall = time.monotonic()
        return None

    def publish(self, wall: float, state: int | None = None) -> None:
        """Put the clock's time and state in the registers (each tick)."""
        if state is not None:
            self.state = state
        c = self.clock
        eff = c.effective_speed(wall) or 0.0
        ceiling = 0 if math.isinf(c.speed) else min(int(round(c.speed)), 65535)
        self.modbus.set(
            "input_registers",
            0,
            [*pack_time(c.now), self.state, int(c.strict), ceiling, min(int(round(eff * 10)), 65535)],
        )

    def manifest(self) -> dict:
        return {
            "host": self.modbus.host,
            "port": self.modbus.port,
            "unit_id": 1,
            "input_registers": {str(k): v for k, v in CLOCK_INPUTS.items()},
            "holding_registers": {str(k): v for k, v in PROGRESS_REGISTERS.items()},
        }
