"""A smart gate's barrier (진출입로 차단시설) on the way down to a riverside path: travel time,
an obstacle interlock, and what a closed gate does to the walkers (it stops people entering the
path, never leaving it). Times are simulated seconds.
"""

from __future__ import annotations


class GateModel:
    """The barrier itself, in simulated seconds. ``position`` 0 = open, 1 = closed."""

    def __init__(self, travel_s: float) -> None:
        self.travel_s = max(float(travel_s), 0.1)
        self.state = "open"
        self.position = 0.0
        self.remote = True
        self.last_source = "none"
        self.rejected = 0
        self.t = 0.0

    def command(self, what: str, source: str) -> str | None:
        """Take a command; returns why it was rejected, or None."""
        if what not in ("close", "open"):
            self.rejected += 1
            return f"unknown command {what!r}: expected close or open"
        if not self.remote:
            self.rejected += 1
            return "remote mode is off"
        self.last_source = source
        if what == "close" and self.state in ("open", "opening"):
            self.state = "closing"
        elif what == "open" and self.state in ("closed", "closing"):
            self.state = "opening"
        return None

    def step(self, t_s: float, *, obstacle: bool, stuck_open: bool) -> str | None:
        """Move to time ``t_s``; returns "closed" or "open" when a limit is reached."""
        dt = max(t_s - self.t, 0.0)
        self.t = t_s
        rate = dt / self.travel_s
        if self.state == "closing" and not obstacle and not stuck_open:
            self.position = min(1.0, self.position + rate)
            if self.position >= 1.0:
                self.state = "closed"
                return "closed"
        elif self.state == "opening":
            self.position = max(0.0, self.position - rate)
            if self.position <= 0.0:
                self.state = "open"
                return "open"
        return None
