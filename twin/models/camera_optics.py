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
