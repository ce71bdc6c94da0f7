"""What a CCTV camera can see on the ground: the sector of its lens at the heading it has now, out
to its detection range (by day) or to the reach of its infrared light (at night), where no
building stands in the way.

Coordinates are EPSG:5186 metres; headings degrees clockwise from north; times simulated seconds.
Occlusion is the camera's isovist (:func:`twin.models.isovist.isovist`) over its whole tour,
computed once; the sector at a given time is then cut from it, so a PTZ camera sees, at each
moment, only what lies in its lens's field of view at its current heading
(:meth:`CameraSpec.heading_at`). Without occluders buildings do not block the view.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry import Polygon

from .camera_optics import DORI_LEVELS, CameraSpec
from .isovist import Occluders, isovist


class Viewshed:
    """The view of a camera at (``x``, ``y``) looking along ``heading_deg`` over ``fov_deg`` out
    to ``range_m`` m (its detection range), optionally with ``spec`` (its optics: DORI ranges,
    night reach, PTZ tour) and ``occluded`` (the polygon of its tour not hidden by buildings)."""

    def __init__(
        self,
        x: float,
        y: float,
        *,
        heading_deg: float,
        fov_deg: float,
        range_m: float,
        spec: CameraSpec | None = None,
        occluded: Polygon | None = None,
    ) -> None:
        self.x, self.y = float(x), float(y)
        self.heading = float(heading_deg)
        self.fov = float(fov_deg)
        self.range = float(range_m)
        self.spec = spec
        self.occluded = occluded
        self.polygon = _sector(self.x, self.y, self.heading, self.fov, self.range)
        if occluded is not None:
            self.polygon = shapely.intersection(self.polygon, occluded)

    @classmethod
    def of_camera(cls, x: float, y: float, row, *, occluders: Occluders | None = None) -> Viewshed:
        """The view of a camera at (x, y) from its dataset attributes (:meth:`CameraSpec.of_row`):
        out to its detection range, over its lens's field of view; hidden by ``occluders`` when
        given."""
        spec = CameraSpec.of_row("", x, y, row)
        reach = spec.ground_ranges_m()["detection"]
        occluded = None
        if occluders is not None:
            occluded = isovist(
                spec.x, spec.y, occluders, heading_deg=spec.heading_deg, fov_deg=spec.tour_fov_deg, range_m=reach
            )
        return cls(
            x, y, heading_deg=spec.heading_deg, fov_deg=spec.fov_deg, range_m=reach, spec=spec, occluded=occluded
        )

    def heading_at(self, t_s: float) -> float:
        """Where the camera looks at ``t_s`` (degrees; a PTZ camera pans)."""
        return self.spec.heading_at(t_s) if self.spec is not None else self.heading

    def reach_m(self, *, night: bool = False) -> dict[str, float]:
        """Ground range of each DORI level (m): by the optics, at night capped by the IR reach;
        without optics, detection out to the view's range and nothing finer."""
        if self.spec is not None:
            return self.spec.ground_ranges_m(night=night)
        return {level: (self.range if level == "detection" else 0.0) for level in DORI_LEVELS}

    def levels(self, xs: np.ndarray, ys: np.ndarray, *, t_s: float = 0.0, night: bool = False) -> np.ndarray:
        """For each point (EPSG:5186 m), the most demanding DORI level that holds there at ``t_s``
        (0 detection … 3 identification), or −1 where the camera does not see it: outside the
        sector at its current heading, beyond its range (at night: its IR reach), or hidden."""
        xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
        dx, dy = xs - self.x, ys - self.y
        dist = np.hypot(dx, dy)
        bearing = np.degrees(np.arctan2(dx, dy)) % 360
        off = (bearing - self.heading_at(t_s) + 180) % 360 - 180
        reach = self.reach_m(night=night)
        level = np.full(len(xs), -1, dtype=np.int8)
        for i, name in enumerate(DORI_LEVELS):
            level[dist <= reach[name]] = i
        level[np.abs(off) > self.fov / 2] = -1
        if self.occluded is not None:
            inside = level >= 0
            if inside.any():
                visible = shapely.contains_xy(self.occluded, xs[inside], ys[inside]) | (dist[inside] < 1e-9)
                level[np.flatnonzero(inside)[~visible]] = -1
        return level

    def contains(self, xs: np.ndarray, ys: np.ndarray, *, t_s: float = 0.0, night: bool = False) -> np.ndarray:
        """Which of the points the camera sees at ``t_s`` (vectorised)."""
        return self.levels(xs, ys, t_s=t_s, night=night) >= 0


def _sector(x: float, y: float, heading: float, fov: float, reach: float) -> Polygon:
    if fov >= 360:
        return shapely.Point(x, y).buffer(reach, quad_segs=16)
    half = fov / 2
    arc = np.linspace(heading - half, heading + half, 24)
    pts = [(x, y)] + [(x + reach * math.sin(math.radians(a)), y + reach * math.cos(math.radians(a))) for a in arc]
    return Polygon(pts)
