"""What a camera at a point can see on the ground when buildings block the view: its isovist
(visibility polygon), clipped to its field of view and range.

The view is 2-D: every building is taken as taller than the line of sight (a camera on a 6 m
pole does not see over a one-storey shop; the dataset has storeys but no roof heights, and a
person behind even a low wall is hidden from the face-level view DORI asks for).

Method: the angular sweep. Rays are cast at every wall end's bearing and just either side of it
(±:data:`EPSILON_RAD`), at the bearings where a wall crosses the range circle, at the two edges
of the field of view, and along the range circle at steps small enough that its chords stay
within :data:`ARC_TOLERANCE_M` of the arc. Each ray stops at the nearest wall (vectorised ray-
segment intersection over the walls in range) or at the range. Between two consecutive critical
bearings the nearest wall is one straight segment (overlapping buildings are merged first, so
walls never cross), so joining the hit points in bearing order gives the isovist exactly, up to
the arc's chords. :func:`ray_isovist` is the plain n-ray cast, kept to compare; :func:`visible`
decides single points exactly with shapely predicates and is the test oracle.

A camera mounted on a wall (inside or on the boundary of a building) sees out of that building:
the building it stands on does not block its view; every other one does.

Coordinates EPSG:5186 metres; headings degrees clockwise from grid north.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Point, Polygon
from shapely.strtree import STRtree

EPSILON_RAD = 1e-7
"""Offset of the rays cast beside each wall end, radians."""
ARC_TOLERANCE_M = 0.05
"""Largest gap between the range circle and the chords that stand for it, m."""


@dataclass(frozen=True)
class Occluders:
    """Buildings as walls: the merged footprints (``polygons``), their spatial index, and for each
    footprint the rows of its wall segments in ``walls`` (x0, y0, x1, y1; m)."""

    polygons: tuple[Polygon, ...]
    tree: STRtree
    walls: np.ndarray
    first_wall: np.ndarray  # per polygon: its first row in walls; one more entry at the end

    @classmethod
    def from_polygons(cls, polygons: Sequence) -> Occluders:
        """Occluders from building footprints (Polygons or MultiPolygons, EPSG:5186); overlapping or
        touching footprints are merged, holes are walls too."""
        geoms = [g for g in polygons if g is not None and not g.is_empty]
        if not geoms:
            return cls.empty()
        merged = shapely.get_parts(shapely.union_all(shapely.make_valid(np.asarray(geoms, dtype=object))))
        polys = [p for p in merged if isinstance(p, Polygon) and not p.is_empty]
        walls, first = [], [0]
        for p in polys:
            for ring in (p.exterior, *p.interiors):
                c = np.asarray(ring.coords)
                walls.append(np.column_stack([c[:-1], c[1:]]))
            first.append(first[-1] + sum(len(r.coords) - 1 for r in (p.exterior, *p.interiors)))
        return cls(tuple(polys), STRtree(polys), np.vstack(walls), np.asarray(first, dtype=np.int64))

    @classmethod
    def empty(cls) -> Occluders:
        """No buildings."""
        return cls((), STRtree([]), np.zeros((0, 4)), np.zeros(1, dtype=np.int64))

    def near(self, x: float, y: float, range_m: float) -> np.ndarray:
        """Indices of the footprints within ``range_m`` of (x, y) that block a camera there (not
        the one it stands on), sorted."""
        if not self.polygons:
            return np.zeros(0, dtype=np.int64)
        here = Point(x, y)
        idx = np.sort(self.tree.query(here, predicate="dwithin", distance=range_m))
        on = shapely.dwithin(np.asarray(self.polygons, dtype=object)[idx], here, 1e-9) if len(idx) else []
        return idx[~np.asarray(on, dtype=bool)] if len(idx) else idx

    def walls_of(self, idx: np.ndarray) -> np.ndarray:
        """The wall segments of the footprints ``idx`` (rows x0, y0, x1, y1)."""
        if not len(idx):
            return np.zeros((0, 4))
        rows = np.concatenate([np.arange(self.first_wall[i], self.first_wall[i + 1]) for i in idx])
        return self.walls[rows]


def _check(heading_deg: float, fov_deg: float, range_m: float) -> None:
    if not math.isfinite(heading_deg):
        raise ValueError(f"heading_deg: got {heading_deg!r}: expected degrees clockwise from north")
    if not (math.isfinite(fov_deg) and 0 < fov_deg <= 360):
        raise ValueError(f"fov_deg: got {fov_deg!r}: expected an angle > 0 and ≤ 360 degrees")
    if not (math.isfinite(range_m) and range_m > 0):
        raise ValueError(f"range_m: got {range_m!r}: expected a distance in m > 0")


def _cast(x: float, y: float, bearings: np.ndarray, walls: np.ndarray, range_m: float) -> np.ndarray:
    """Distance (m) along each bearing (radians clockwise from north) to the nearest wall, at most
    ``range_m``."""
    dx, dy = np.sin(bearings)[:, None], np.cos(bearings)[:, None]
    if not len(walls):
        return np.full(len(bearings), range_m)
    ax, ay = walls[:, 0] - x, walls[:, 1] - y
    ex, ey = walls[:, 2] - walls[:, 0], walls[:, 3] - walls[:, 1]
    denom = dx * ey - dy * ex
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (ax * ey - ay * ex) / denom
        u = (ax * dy - ay * dx) / denom
    hit = (np.abs(denom) > 1e-15) & (t > 1e-9) & (u >= -1e-12) & (u <= 1 + 1e-12)
    t = np.where(hit, t, np.inf)
    return np.minimum(t.min(axis=1), range_m)


def _in_sector(bearings: np.ndarray, heading: float, half: float) -> np.ndarray:
    off = (bearings - heading + math.pi) % (2 * math.pi) - math.pi
    return np.abs(off) <= half + 1e-12


def _polygon(x: float, y: float, bearings: np.ndarray, dist: np.ndarray, full: bool) -> Polygon:
    pts = np.column_stack([x + dist * np.sin(bearings), y + dist * np.cos(bearings)])
    ring = pts if full else np.vstack([[x, y], pts])
    poly = Polygon(ring)
    if not poly.is_valid:
        poly = shapely.make_valid(poly)
        parts = [g for g in shapely.get_parts(poly) if isinstance(g, Polygon)]
        poly = max(parts, key=lambda g: g.area) if parts else Polygon()
    return poly


def _unwrapped(bearings: np.ndarray, heading: float, full: bool, half: float) -> np.ndarray:
    """Bearings sorted in sweep order: from heading − half to heading + half (or all around)."""
    start = heading - (math.pi if full else half)
    rel = (bearings - start) % (2 * math.pi)
    return np.unique(start + rel)


def isovist(x: float, y: float, occluders: Occluders, *, heading_deg: float, fov_deg: float, range_m: float) -> Polygon:
    """The ground a camera at (``x``, ``y``) sees within ``range_m`` m, over ``fov_deg`` (360: all
    around) centred on ``heading_deg``, with the buildings of ``occluders`` blocking the view
    (exact up to the range arc's chords, see the module docstring). EPSG:5186; an empty polygon
    when nothing is seen."""
    _check(heading_deg, fov_deg, range_m)
    full = fov_deg >= 360
    heading, half = math.radians(heading_deg), math.radians(fov_deg) / 2
    walls = occluders.walls_of(occluders.near(x, y, range_m))
    step = 2 * math.acos(max(-1.0, 1 - ARC_TOLERANCE_M / range_m))
    n_arc = max(2, math.ceil((2 * math.pi if full else 2 * half) / step) + 1)
    arc = np.linspace(heading - (math.pi if full else half), heading + (math.pi if full else half), n_arc)
    crit = [arc]
    if len(walls):
        ends = np.vstack([walls[:, :2], walls[:, 2:]])
        b = np.arctan2(ends[:, 0] - x, ends[:, 1] - y)
        crit += [b, b - EPSILON_RAD, b + EPSILON_RAD, _circle_crossings(x, y, walls, range_m)]
    bearings = np.concatenate(crit)
    if not full:
        bearings = bearings[_in_sector(bearings, heading, half)]
        bearings = np.concatenate([bearings, [heading - half, heading + half]])
    bearings = _unwrapped(bearings, heading, full, half)
    dist = _cast(x, y, bearings, walls, range_m)
    return _polygon(x, y, bearings, dist, full)


def ray_isovist(
    x: float, y: float, occluders: Occluders, *, heading_deg: float, fov_deg: float, range_m: float, n_rays: int = 360
) -> Polygon:
    """The plain ray-cast isovist: ``n_rays`` evenly spaced rays over the field of view (an
    approximation that cuts corners between rays; compare with :func:`isovist`)."""
    _check(heading_deg, fov_deg, range_m)
    if n_rays < 3:
        raise ValueError(f"n_rays: got {n_rays!r}: expected at least 3")
    full = fov_deg >= 360
    heading, half = math.radians(heading_deg), math.radians(fov_deg) / 2
    walls = occluders.walls_of(occluders.near(x, y, range_m))
    if full:
        bearings = heading - math.pi + np.arange(n_rays) * (2 * math.pi / n_rays)
    else:
        bearings = np.linspace(heading - half, heading + half, n_rays)
    return _polygon(x, y, bearings, _cast(x, y, bearings, walls, range_m), full)


def visible(
    x: float,
    y: float,
    px: np.ndarray,
    py: np.ndarray,
    occluders: Occluders,
    *,
    heading_deg: float,
    fov_deg: float,
    range_m: float,
) -> np.ndarray:
    """Which target points (``px``, ``py``) the camera sees, decided one by one: the point lies in
    the sector and within range, and the sight line from the camera to it does not pass through
    the inside of any building (a line that only touches a wall or a corner, or runs along one,
    is not blocked). The exact oracle for tests; not fast."""
    _check(heading_deg, fov_deg, range_m)
    px, py = np.asarray(px, dtype=float), np.asarray(py, dtype=float)
    dx, dy = px - x, py - y
    dist = np.hypot(dx, dy)
    bearing = np.arctan2(dx, dy)
    ok = dist <= range_m
    if fov_deg < 360:
        ok &= _in_sector(bearing, math.radians(heading_deg), math.radians(fov_deg) / 2)
    idx = occluders.near(x, y, range_m)
    if not len(idx) or not ok.any():
        return ok
    polys = np.asarray(occluders.polygons, dtype=object)[idx]
    cand = np.flatnonzero(ok)
    lines = shapely.linestrings(np.stack([np.column_stack([np.full(len(cand), x), np.full(len(cand), y)]),
                                          np.column_stack([px[cand], py[cand]])], axis=1))  # fmt: skip
    tree = STRtree(polys)
    li, pi = tree.query(lines, predicate="intersects")
    blocked = ~shapely.touches(lines[li], polys[pi])
    hidden = np.zeros(len(cand), dtype=bool)
    np.logical_or.at(hidden, li[blocked], True)
    ok[cand[hidden]] = False
    return ok


def _circle_crossings(x: float, y: float, walls: np.ndarray, r: float) -> np.ndarray:
    """Bearings (radians) of the points where the walls cross the circle of radius ``r`` about (x, y)."""
    ax, ay = walls[:, 0] - x, walls[:, 1] - y
    ex, ey = walls[:, 2] - walls[:, 0], walls[:, 3] - walls[:, 1]
    a = ex * ex + ey * ey
    b = 2 * (ax * ex + ay * ey)
    c = ax * ax + ay * ay - r * r
    disc = b * b - 4 * a * c
    good = (disc >= 0) & (a > 0)
    sq = np.sqrt(np.where(good, disc, 0.0))
    out = []
    for sign in (-1.0, 1.0):
        with np.errstate(divide="ignore", invalid="ignore"):
            u = (-b + sign * sq) / (2 * a)
        keep = good & (u >= 0) & (u <= 1)
        out.append(np.arctan2(ax[keep] + u[keep] * ex[keep], ay[keep] + u[keep] * ey[keep]))
    return np.concatenate(out)
