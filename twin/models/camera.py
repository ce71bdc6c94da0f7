"""An AI CCTV camera's analytics (the field detector "objects inside"): who stands in its view,
and the inside/clear state it reports, with a change event on each transition. The device fleet's
ONVIF camera and the in-process gate controller both look through it, so they see the same.

Coordinates are EPSG:5186 metres; times are simulated seconds from the scenario start. A camera
under a ``dropout`` fault (it stops reporting) still looks, but reports nothing: its reported
state stays what it was and no change is reported until the fault ends and the state then differs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .faults import FaultSchedule
from .viewshed import Viewshed

EVENT = "cctv.objects_inside"  # the event kind of a reported change


@dataclass(frozen=True)
class Sighting:
    """What a camera saw at ``t_s``: ``seen`` marks which of the positions it was given lie in its
    view; ``inside`` is whether anyone does, ``people`` how many; ``changed`` is true when the
    reported state changed at this look (an event is due)."""

    t_s: float
    seen: np.ndarray  # bool, one per position looked at
    inside: bool
    people: int
    changed: bool


class CameraModel:
    """A camera ``device_id`` watching ``view``, reporting under the analytics rule ``rule``
    (``Zone-{what it watches}``). ``inside`` is the state it last reported (False at the start)."""

    def __init__(self, device_id: str, view: Viewshed, *, rule: str, faults: FaultSchedule | None = None) -> None:
        self.device_id = str(device_id)
        self.view = view
        self.rule = rule
        self.faults = faults if faults is not None else FaultSchedule()
        self.inside = False

    @classmethod
    def of_camera(cls, device_id: str, x: float, y: float, row, *, faults: FaultSchedule | None = None) -> CameraModel:
        """The camera of a dataset ``cctv`` row (a dict or a pandas row) at (x, y), EPSG:5186: its
        view from ``heading_deg``, ``fov_deg`` and ``range_m`` (:meth:`Viewshed.of_camera`), its
        rule named after the access point it ``watches`` (or after itself when it watches none)."""
        watches = row.get("watches")
        rule = f"Zone-{watches}" if isinstance(watches, str) and watches else f"Zone-{device_id}"
        return cls(device_id, Viewshed.of_camera(x, y, row), rule=rule, faults=faults)

    def stopped(self, t_s: float) -> bool:
        """The camera stops reporting at ``t_s`` (a dropout fault)."""
        return self.faults.active(self.device_id, "dropout", t_s) is not None

    def look(self, t_s: float, xs: np.ndarray, ys: np.ndarray) -> Sighting:
        """Look at the people at (``xs``, ``ys``) (EPSG:5186 m) at ``t_s``; the reported state
        follows what is seen unless the camera has stopped reporting."""
        xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
        seen = self.view.contains(xs, ys) if len(xs) else np.zeros(0, dtype=bool)
        people = int(seen.sum())
        inside = people > 0
        changed = inside != self.inside and not self.stopped(t_s)
        if changed:
            self.inside = inside
        return Sighting(t_s, seen, inside, people, changed)

    def message(self, s: Sighting) -> str:
        """The text of the change event of ``s``."""
        return f"{self.rule}: {'someone inside' if s.inside else 'clear'}"

    def log(self, engine, s: Sighting) -> None:
        """Record the change of ``s`` in ``engine``'s events (``cctv.objects_inside``)."""
        engine.log(EVENT, self.device_id, self.message(s), inside=s.inside, people=s.people)
