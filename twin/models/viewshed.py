"""What a CCTV camera can see on the ground: a sector given by its heading, field of view and
range. Coordinates are EPSG:5186 metres; headings degrees clockwise from north. Buildings do not
block the view (an approximation: the twin has no 3-D street model).
"""

from __future__ import annotations

import math

import numpy as np
from shapely.geometry import Polygon


class Viewshed:
    def __init__(self, x: float, y: float, *, heading_deg: float, fov_deg: float, range_m: float) -> None:
        self.x, self.y = float(x), float(y)
        self.heading = float(heading_deg)
        self.fov = float(fov_deg)
        self.range = float(range_m)
        half = self.fov / 2
        arc = np.linspace(self.heading - half, self.heading + half, 24)
        pts = [(self.x, self.y)] + [
            (self.x + self.range * math.sin(math.radians(a)), self.y + self.range * math.cos(math.radians(a)))
            for a in arc
        ]
        self.polygon = Polygon(pts)

    @classmethod
    def of_camera(cls, x: float, y: float, row) -> Viewshed:
        """The view of a camera at (x, y) from its dataset attributes ``heading_deg``, ``fov_deg``
        and ``range_m`` (missing ones: north, 90°, 60 m)."""

        def num(key: str, default: float) -> float:
            v = row.get(key)
            return float(v) if v is not None and v == v else default

        return cls(
            x, y, heading_deg=num("heading_deg", 0.0), fov_deg=num("fov_deg", 90.0), range_m=num("range_m", 60.0)
        )

    def contains(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """Which of the points lie in the sector (vectorised)."""
        dx, dy = np.asarray(xs) - self.x, np.asarray(ys) - self.y
        dist = np.hypot(dx, dy)
        bearing = np.degrees(np.arctan2(dx, dy)) % 360
        off = (bearing - self.heading + 180) % 360 - 180
        return (dist <= self.range) & (np.abs(off) <= self.fov / 2)
