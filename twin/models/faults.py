"""Faults of a scenario, looked up by device and simulated time (seconds from the start)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FaultWindow:
    kind: str
    device: str | None
    start_s: float
    end_s: float  # inf when open-ended
    latency_s: float = 0.0
    magnitude: float = 1.0
    probability: float = 0.1

    def active(self, t_s: float) -> bool:
        return self.start_s <= t_s < self.end_s


class FaultSchedule:
    """Every fault of a scenario; ``active(device, kind, t)`` answers the devices' questions."""

    def __init__(self, faults=()) -> None:
        self.windows = [
            FaultWindow(
                kind=f.kind,
                device=f.device,
                start_s=float(f.start),
                end_s=float("inf") if f.end is None else float(f.end),
                latency_s=float(f.latency),
                magnitude=float(f.magnitude),
                probability=float(f.probability),
            )
            for f in faults
        ]

    def active(self, device: str | None, kind: str, t_s: float) -> FaultWindow | None:
        """The first fault of ``kind`` on ``device`` (None: the broker) in force at ``t_s``."""
        for w in self.windows:
            if w.kind == kind and w.device == device and w.active(t_s):
                return w
        return None

    def devices(self) -> set[str]:
        return {w.device for w in self.windows if w.device is not None}
