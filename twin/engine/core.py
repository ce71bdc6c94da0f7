"""The engine owns time: a SimPy environment counting simulated seconds from the scenario start."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import simpy

from .events import EventLog
from .recorder import Recorder


class Engine:
    """One run's clock, event log and recorder.

    ``start``: the scenario's start (timezone-aware). ``duration_s``: simulated seconds.
    ``seed``: the scenario's seed; each model draws from a generator of its own seeded from it
    (the crowd model, each sensor), so adding a model never shifts another's draws.
    """

    def __init__(self, *, start: datetime, duration_s: float, seed: int = 0) -> None:
        if duration_s <= 0:
            raise ValueError(f"duration_s must be > 0, got {duration_s}")
        self.env = simpy.Environment(initial_time=0.0)
        self.start = start
        self.duration_s = float(duration_s)
        self.seed = int(seed)
        self.events = EventLog()
        self.recorder = Recorder()

    @property
    def now(self) -> float:
        """Simulated seconds since the scenario start."""
        return float(self.env.now)

    def clock(self, t_s: float | None = None) -> datetime:
        """Wall-clock time of simulated second ``t_s`` (default: now), in the scenario's zone."""
        return self.start + timedelta(seconds=self.now if t_s is None else t_s)

    def process(self, generator) -> simpy.Process:
        return self.env.process(generator)

    def log(self, kind: str, entity_id: str, message: str, **data) -> None:
        self.events.log(self.now, kind, entity_id, message, **data)

    def advance_to(self, t_s: float) -> None:
        """Run up to and including every event at simulated second ``t_s`` (at most the end)."""
        t = min(float(t_s), self.duration_s)
        if t >= self.duration_s:
            if self.now < self.duration_s + 1e-6:
                self.env.run(until=self.duration_s + 1e-6)
            return
        if t > self.now:
            self.env.run(until=t)
        while self.env.peek() <= t:  # SimPy's run(until=t) leaves the events at exactly t
            self.env.step()

    def run(self, *, progress: Callable[[float], None] | None = None, chunk_s: float = 600.0) -> None:
        """Run to the end. ``progress`` is called with simulated seconds done after each chunk."""
        t = 0.0
        while t < self.duration_s:
            t = min(t + chunk_s, self.duration_s)
            # SimPy stops before events at exactly `until`; the last chunk includes the end time
            self.env.run(until=t if t < self.duration_s else t + 1e-6)
            if progress is not None:
                progress(t)
