"""How far a CCTV camera can detect, observe, recognise and identify a person: the DORI ranges of
IEC EN 62676-4:2015 from its horizontal resolution, field of view and mount height.

A camera of horizontal resolution R (px) and horizontal field of view θ sees, at a distance d
(m), a scene 2·d·tan(θ/2) wide, so a person there is shown at R / (2·d·tan(θ/2)) px/m. Each DORI
level asks for a pixel density (IEC EN 62676-4:2015, Annex: detection 25, observation 62.5,
recognition 125, identification 250 px/m), so the level holds out to

    d_max = R / (2 · PPM · tan(θ/2))   (m, along the line of sight).

For 1920 px and 90°: detection 38.4 m, observation 15.4 m, recognition 7.7 m, identification
3.8 m; 3840 px doubles each. A camera mounted h m above the ground looking at a person's face or
chest t m above it reaches the ground distance sqrt(d_max² − (h − t)²), and nothing when
d_max ≤ h − t. Distances in m, angles in degrees. (IEC 62676-4:2025 is reported to replace the
four DORI levels with seven; the 2015 levels are the ones in tenders and data sheets today.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, get_args

DoriLevel = Literal["detection", "observation", "recognition", "identification"]
"""A DORI level, from the least demanding to the most."""
DORI_LEVELS: tuple[str, ...] = get_args(DoriLevel)
"""Every DORI level, least demanding first."""
DORI_PX_PER_M: dict[str, float] = {
    "detection": 25.0,
    "observation": 62.5,
    "recognition": 125.0,
    "identification": 250.0,
}
"""Pixel density each level asks for, px/m on the target (IEC EN 62676-4:2015)."""
TARGET_HEIGHT_M = 1.5
"""Height above the ground of the part of a person a camera must resolve (face and chest), m."""


def dori_range_m(resolution_px: float, hfov_deg: float, level: str) -> float:
    """The farthest line-of-sight distance (m) at which ``level`` holds for a camera of horizontal
    resolution ``resolution_px`` and horizontal field of view ``hfov_deg`` (0 < θ < 180°).
    Raises ValueError for a level that is not a DORI level or values out of range."""
    if level not in DORI_PX_PER_M:
        raise ValueError(f"level: got {level!r}: expected one of {', '.join(DORI_LEVELS)}")
    if not resolution_px > 0:
        raise ValueError(f"resolution_px: got {resolution_px!r}: expected a number of pixels > 0")
    if not 0 < hfov_deg < 180:
        raise ValueError(f"hfov_deg: got {hfov_deg!r}: expected an angle > 0 and < 180 degrees")
    return resolution_px / (2.0 * DORI_PX_PER_M[level] * math.tan(math.radians(hfov_deg) / 2.0))


def dori_ground_ranges_m(
    resolution_px: float,
    hfov_deg: float,
    *,
    mount_height_m: float | None = None,
    target_height_m: float = TARGET_HEIGHT_M,
) -> dict[str, float]:
    """The ground distance (m) from the foot of the camera out to which each DORI level holds, for a
    camera ``mount_height_m`` above the ground (None: at the target's height) looking at a target
    ``target_height_m`` above it; 0 where the level does not reach the target at all."""
    drop = 0.0 if mount_height_m is None else abs(mount_height_m - target_height_m)
    out = {}
    for level in DORI_LEVELS:
        d = dori_range_m(resolution_px, hfov_deg, level)
        out[level] = math.sqrt(d * d - drop * drop) if d > drop else 0.0
    return out


def dori_level_at(resolution_px: float, hfov_deg: float, distance_m: float) -> str | None:
    """The most demanding DORI level that holds at a line-of-sight ``distance_m`` (m), or None
    beyond detection range."""
    best = None
    for level in DORI_LEVELS:
        if distance_m <= dori_range_m(resolution_px, hfov_deg, level):
            best = level
    return best


@dataclass(frozen=True)
class CameraSpec:
    """A camera as the dataset knows it (a ``devices`` row of kind ``cctv``): where it stands
    (``x``, ``y``, EPSG:5186 m), where it looks (``heading_deg`` clockwise from grid north), its
    lens (``fov_deg`` horizontal) and sensor (``resolution_px`` wide), ``mount_height_m`` above the
    ground, the reach of its infrared light at night (``ir_range_m``, None: none), and for a PTZ
    camera the pan of its preset tour (``ptz_sweep_deg``, centred on the heading) and the time of
    one tour there and back (``ptz_period_s``)."""

    device_id: str
    x: float
    y: float
    heading_deg: float
    fov_deg: float
    resolution_px: float
    mount_height_m: float | None = None
    ir_range_m: float | None = None
    ptz_sweep_deg: float = 0.0
    ptz_period_s: float | None = None

    @classmethod
    def of_row(cls, device_id: str, x: float, y: float, row) -> CameraSpec:
        """The camera of a dataset row (a dict or a pandas row) at (x, y), EPSG:5186 m. Missing
        values: heading north, 90° lens, 1920 px (2 MP), no mount height, no IR, fixed."""

        def num(key: str) -> float | None:
            v = row.get(key)
            return None if v is None or v != v else float(v)

        def given(key: str, default: float) -> float:
            v = num(key)
            return default if v is None else v

        return cls(
            str(device_id),
            float(x),
            float(y),
            heading_deg=given("heading_deg", 0.0) % 360.0,
            fov_deg=given("fov_deg", 90.0),
            resolution_px=given("resolution_px", 1920.0),
            mount_height_m=num("mount_height_m"),
            ir_range_m=num("ir_range_m"),
            ptz_sweep_deg=given("ptz_sweep_deg", 0.0),
            ptz_period_s=num("ptz_period_s"),
        )

    @property
    def is_ptz(self) -> bool:
        """The camera pans (a sweep > 0 and a period)."""
        return self.ptz_sweep_deg > 0 and self.ptz_period_s is not None

    def ground_ranges_m(self, *, night: bool = False) -> dict[str, float]:
        """Ground distance (m) out to which each DORI level holds (:func:`dori_ground_ranges_m`),
        at night capped by the infrared reach (0 everywhere without IR)."""
        ranges = dori_ground_ranges_m(self.resolution_px, self.fov_deg, mount_height_m=self.mount_height_m)
        if night:
            cap = self.ir_range_m or 0.0
            ranges = {level: min(r, cap) for level, r in ranges.items()}
        return ranges

    def heading_at(self, t_s: float) -> float:
        """Where the camera looks at simulated time ``t_s`` (s): a fixed camera at its heading, a
        PTZ camera panning at constant speed from heading − sweep/2 to heading + sweep/2 and back
        over one period, starting at the centre going clockwise (degrees clockwise from north)."""
        if not self.is_ptz:
            return self.heading_deg
        assert self.ptz_period_s is not None
        phase = (t_s / self.ptz_period_s + 0.25) % 1.0  # 0.25: start at the centre
        tri = 1.0 - abs(2.0 * phase - 1.0)  # 0 → 1 → 0 over one period
        return (self.heading_deg - self.ptz_sweep_deg / 2.0 + tri * self.ptz_sweep_deg) % 360.0

    @property
    def tour_fov_deg(self) -> float:
        """The angle the camera covers over its whole tour (degrees, at most 360): its lens for a
        fixed camera, lens plus sweep for a PTZ one."""
        return min(360.0, self.fov_deg + (self.ptz_sweep_deg if self.is_ptz else 0.0))
