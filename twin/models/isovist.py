"""What a camera at a point can see on the ground when buildings block the view: its isovist
(visibility polygon), clipped to its field of view and range.

The view is 2-D: every building is taken as taller than the line of sight (a camera on a 6 m
pole does not see over a one-storey shop; the dataset has storeys but no roof heights, and a
person behind even a low wall is hidden from the face-level view DORI asks for).

Method (:func:`isovist`): the critical-angle sweep. Only the walls that face the camera are kept
(a sight line from outside a building enters it through such a wall before it meets any other of
its walls). Rays are cast at every kept wall end's bearing and just either side of it
(±:data:`EPSILON_RAD`), at the bearings where walls of different buildings cross, where a wall
crosses the range circle, at the two edges of the field of view, and along the range circle at
steps small enough that its chords stay within :data:`ARC_TOLERANCE_M` of the arc. Each ray stops
at the nearest wall (vectorised ray-segment intersection over the walls in range) or at the range.
Between two consecutive critical bearings the nearest wall is one straight segment, so joining the
hit points in bearing order gives the isovist exactly, up to the arc's chords (and the ε-wide
wedges beside wall ends). :func:`ray_isovist` is the plain n-ray cast, the cheaper approximation,
kept to compare; :func:`visible` decides single points exactly with shapely predicates and is the
test oracle. The two may differ only on sight lines that exactly graze a wall end or run along a
wall (the oracle sees along them, the polygon may not): lines, a set of zero area.

A camera mounted on a building (inside it or on its boundary, within 1e-9 m) sees out of it: the
building it stands on does not block its view, every other one does (on a shared wall or corner it
sees out of all the buildings it stands on). A MultiPolygon is one building; holes are walls.

Coordinates EPSG:5186 metres; headings degrees clockwise from grid north.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Point, Polygon
from shapely.strtree import STRtree

EPSILON_RAD = 1e-7
"""Offset of the rays cast beside each wall end, radians."""
ARC_TOLERANCE_M = 0.05
"""Largest gap between the range circle and the chords that stand for it, m."""
ON_BUILDING_M = 1e-9
"""A camera this close to a building (m) stands on it and sees out of it."""
_RAYS_PER_BLOCK = 256


@dataclass(frozen=True, eq=False)
class Occluders:
    """Buildings as walls (EPSG:5186 m). ``buildings``: the footprints as given (made valid) and
    ``parts``: their polygons, both object arrays; ``owner``: the building of each part; ``tree``:
    an STRtree over the parts; ``walls``: every ring edge (x0, y0, x1, y1), oriented so that the
    building lies on its left, part by part (part i owns rows ``first_wall[i]:first_wall[i + 1]``);
    ``crossings``: the points (x, y) where the boundaries of two parts meet. Build it once
    (:meth:`from_polygons`) and share it between cameras."""

    buildings: np.ndarray
    parts: np.ndarray
    owner: np.ndarray
    tree: STRtree
    walls: np.ndarray
    first_wall: np.ndarray
    crossings: np.ndarray

    @classmethod
    def from_polygons(cls, polygons: Iterable) -> Occluders:
        """Occluders from building footprints (Polygons or MultiPolygons, EPSG:5186 m; None and
        empty ones are skipped, invalid ones made valid). Buildings may overlap or touch."""
        buildings: list = []
        parts: list[Polygon] = []
        owner: list[int] = []
        for g in polygons:
            polys = _polygons_of(g)
            if polys:
                owner += [len(buildings)] * len(polys)
                parts += polys
                buildings.append(polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys))
        if not parts:
            return cls.empty()
        part_arr = _objects(parts)
        rings, ring_part = shapely.get_rings(part_arr, return_index=True)
        exterior = np.r_[True, ring_part[1:] != ring_part[:-1]]
        coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
        same = (coord_ring[1:] == coord_ring[:-1]) & np.any(coords[1:] != coords[:-1], axis=1)
        walls = np.column_stack([coords[:-1], coords[1:]])[same]
        wall_ring = coord_ring[:-1][same]
        flip = (exterior != shapely.is_ccw(rings))[wall_ring]  # exteriors anticlockwise, holes clockwise
        walls[flip] = walls[flip][:, [2, 3, 0, 1]]
        first_wall = np.searchsorted(ring_part[wall_ring], np.arange(len(parts) + 1))
        tree = STRtree(part_arr)
        a, b = tree.query(part_arr, predicate="intersects")
        pair = a < b
        meet = shapely.intersection(shapely.boundary(part_arr[a[pair]]), shapely.boundary(part_arr[b[pair]]))
        crossings = shapely.get_coordinates(meet) if len(meet) else np.zeros((0, 2))
        return cls(_objects(buildings), part_arr, np.asarray(owner), tree, walls, first_wall, crossings)

    @classmethod
    def empty(cls) -> Occluders:
        """No buildings."""
        z = np.zeros(0, dtype=np.int64)
        return cls(
            _objects([]), _objects([]), z, STRtree([]), np.zeros((0, 4)), np.zeros(1, dtype=np.int64), np.zeros((0, 2))
        )

    def blocking(self, x: float, y: float, range_m: float) -> np.ndarray:
        """Sorted indices of the parts within ``range_m`` m of (x, y) that block a camera there: all
        but those of the buildings it stands on."""
        if not len(self.parts):
            return np.zeros(0, dtype=np.int64)
        here = Point(x, y)
        idx = np.sort(self.tree.query(here, predicate="dwithin", distance=range_m))
        on = shapely.dwithin(self.parts[idx], here, ON_BUILDING_M)
        return idx[~np.isin(self.owner[idx], self.owner[idx[on]])]

    def walls_of(self, parts: np.ndarray) -> np.ndarray:
        """The wall rows (x0, y0, x1, y1; building on the left) of the ``parts``."""
        if not len(parts):
            return np.zeros((0, 4))
        return self.walls[np.concatenate([np.arange(self.first_wall[i], self.first_wall[i + 1]) for i in parts])]


def _objects(geoms: list) -> np.ndarray:
    """A 1-D object array of the geometries (never a 2-D array of their coordinates)."""
    out = np.empty(len(geoms), dtype=object)
    out[:] = geoms
    return out


def _polygons_of(g) -> list[Polygon]:
    """The non-empty polygons of a geometry (made valid), in order."""
    if g is None or g.is_empty:
        return []
    if not g.is_valid:
        g = shapely.make_valid(g)
    if isinstance(g, Polygon):
        return [g]
    if hasattr(g, "geoms"):
        return [p for sub in g.geoms for p in _polygons_of(sub)]
    return []


def _check(x: float, y: float, heading_deg: float, fov_deg: float, range_m: float) -> None:
    for name, v in (("x", x), ("y", y)):
        if not math.isfinite(v):
            raise ValueError(f"{name}: got {v!r}: expected a finite coordinate in EPSG:5186 m")
    if not math.isfinite(heading_deg):
        raise ValueError(f"heading_deg: got {heading_deg!r}: expected degrees clockwise from north")
    if not (math.isfinite(fov_deg) and 0 < fov_deg <= 360):
        raise ValueError(f"fov_deg: got {fov_deg!r}: expected an angle > 0 and ≤ 360 degrees")
    if not (math.isfinite(range_m) and range_m > 0):
        raise ValueError(f"range_m: got {range_m!r}: expected a finite distance in m > 0")


def _facing(x: float, y: float, walls: np.ndarray) -> np.ndarray:
    """The walls whose outside faces (x, y), or that are edge-on to it (to a 1e-9 sine)."""
    ex, ey = walls[:, 2] - walls[:, 0], walls[:, 3] - walls[:, 1]
    cx, cy = x - walls[:, 0], y - walls[:, 1]
    return walls[ex * cy - ey * cx <= 1e-9 * np.hypot(ex, ey) * np.hypot(cx, cy)]


def _cast(x: float, y: float, bearings: np.ndarray, walls: np.ndarray, range_m: float) -> np.ndarray:
    """Distance (m) along each bearing (radians clockwise from north, ascending, spanning at most
    one turn) to the nearest wall, at most ``range_m``. The bearings go in blocks of
    :data:`_RAYS_PER_BLOCK`, each tried only against the walls whose angular extent seen from
    (x, y) overlaps the block's (bounded memory, and fast in dense streets)."""
    out = np.full(len(bearings), float(range_m))
    if not len(walls):
        return out
    ax, ay = walls[:, 0] - x, walls[:, 1] - y
    ex, ey = walls[:, 2] - walls[:, 0], walls[:, 3] - walls[:, 1]
    b0 = np.arctan2(ax, ay)
    span = (np.arctan2(ax + ex, ay + ey) - b0 + math.pi) % (2 * math.pi) - math.pi
    lo, width = b0 + np.minimum(span, 0.0) - 1e-9, np.abs(span) + 2e-9
    for i in range(0, len(bearings), _RAYS_PER_BLOCK):
        b = bearings[i : i + _RAYS_PER_BLOCK]
        rel = (lo - b[0]) % (2 * math.pi)
        w = np.flatnonzero((rel <= b[-1] - b[0]) | (rel + width >= 2 * math.pi))
        if not len(w):
            continue
        dx, dy = np.sin(b)[:, None], np.cos(b)[:, None]
        denom = dx * ey[w] - dy * ex[w]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (ax[w] * ey[w] - ay[w] * ex[w]) / denom
            u = (ax[w] * dy - ay[w] * dx) / denom
        hit = (denom != 0) & (t > 1e-9) & (u >= -1e-10) & (u <= 1 + 1e-10)
        out[i : i + len(b)] = np.minimum(np.where(hit, t, np.inf).min(axis=1), range_m)
    return out


def _in_sector(bearings: np.ndarray, heading: float, half: float) -> np.ndarray:
    off = (bearings - heading + math.pi) % (2 * math.pi) - math.pi
    return np.abs(off) <= half


def _polygon(x: float, y: float, bearings: np.ndarray, dist: np.ndarray, full: bool) -> Polygon:
    pts = np.column_stack([x + dist * np.sin(bearings), y + dist * np.cos(bearings)])
    poly = Polygon(pts if full else np.vstack([[x, y], pts]))
    if poly.is_valid:
        return poly if poly.area > 0 else Polygon()
    parts = [g for g in shapely.get_parts(shapely.make_valid(poly)) if isinstance(g, Polygon) and g.area > 0]
    return max(parts, key=lambda g: g.area) if parts else Polygon()


def _circle_crossings(x: float, y: float, walls: np.ndarray, r: float) -> np.ndarray:
    """Bearings (radians) of the points where the walls cross the circle of radius ``r`` about (x, y)."""
    ax, ay = walls[:, 0] - x, walls[:, 1] - y
    ex, ey = walls[:, 2] - walls[:, 0], walls[:, 3] - walls[:, 1]
    a = ex * ex + ey * ey
    b = 2 * (ax * ex + ay * ey)
    disc = b * b - 4 * a * (ax * ax + ay * ay - r * r)
    good = disc >= 0
    sq = np.sqrt(np.where(good, disc, 0.0))
    out = []
    for sign in (-1.0, 1.0):
        u = (-b + sign * sq) / (2 * a)
        keep = good & (u >= 0) & (u <= 1)
        out.append(np.arctan2(ax[keep] + u[keep] * ex[keep], ay[keep] + u[keep] * ey[keep]))
    return np.concatenate(out)


def isovist(x: float, y: float, occluders: Occluders, *, heading_deg: float, fov_deg: float, range_m: float) -> Polygon:
    """The ground (EPSG:5186) a camera at (``x``, ``y``, m) sees within ``range_m`` m over ``fov_deg``
    degrees (360: all around) centred on ``heading_deg`` (degrees clockwise from grid north), with
    the buildings of ``occluders`` blocking the view: exact up to the range arc's chords (within
    :data:`ARC_TOLERANCE_M`), see the module docstring. An empty Polygon when nothing is seen.
    Raises ValueError for a non-finite position or heading, ``fov_deg`` outside (0, 360] or
    ``range_m`` ≤ 0."""
    _check(x, y, heading_deg, fov_deg, range_m)
    full = fov_deg >= 360
    heading = math.radians(heading_deg)
    half = math.pi if full else math.radians(fov_deg) / 2
    walls = _facing(x, y, occluders.walls_of(occluders.blocking(x, y, range_m)))
    step = 2 * math.acos(max(-1.0, 1 - ARC_TOLERANCE_M / range_m))  # chord sagitta ≤ the tolerance
    bearings = [np.linspace(heading - half, heading + half, max(2, math.ceil(2 * half / step) + 1))]
    if len(walls):
        ends = np.vstack([walls[:, :2], walls[:, 2:]])
        meet = occluders.crossings
        meet = meet[np.hypot(meet[:, 0] - x, meet[:, 1] - y) <= range_m]
        b = np.arctan2(np.r_[ends[:, 0], meet[:, 0]] - x, np.r_[ends[:, 1], meet[:, 1]] - y)
        bearings += [b, b - EPSILON_RAD, b + EPSILON_RAD, _circle_crossings(x, y, walls, range_m)]
    b = np.concatenate(bearings)
    start = heading - half
    rel = (b - start) % (2 * math.pi)  # sweep order from the sector's left edge, clockwise
    if not full:
        rel = np.concatenate([rel[rel <= 2 * half], [0.0, 2 * half]])
    b = start + np.unique(rel)
    return _polygon(x, y, b, _cast(x, y, b, walls, range_m), full)


def ray_isovist(
    x: float, y: float, occluders: Occluders, *, heading_deg: float, fov_deg: float, range_m: float, n_rays: int = 360
) -> Polygon:
    """The plain ray-cast isovist (EPSG:5186; arguments as :func:`isovist`): ``n_rays`` evenly spaced
    rays over the field of view (over 360°: all around), their ends joined. The cheaper
    approximation: it cuts the corners between rays and the range arc by its chords."""
    _check(x, y, heading_deg, fov_deg, range_m)
    if not (isinstance(n_rays, int | np.integer) and n_rays >= 3):
        raise ValueError(f"n_rays: got {n_rays!r}: expected a whole number ≥ 3")
    full = fov_deg >= 360
    heading, half = math.radians(heading_deg), math.radians(fov_deg) / 2
    walls = _facing(x, y, occluders.walls_of(occluders.blocking(x, y, range_m)))
    if full:
        b = heading - math.pi + np.arange(n_rays) * (2 * math.pi / n_rays)
    else:
        b = np.linspace(heading - half, heading + half, n_rays)
    return _polygon(x, y, b, _cast(x, y, b, walls, range_m), full)


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
    """Which target points (``px``, ``py``; EPSG:5186 m) the camera at (``x``, ``y``) sees (bool
    per point), decided point by point: the point lies in the sector (edges included) and within
    ``range_m`` m, and the sight line from the camera to it passes through the inside of no
    building other than those the camera stands on. A sight line that only grazes a wall or a
    corner, or runs along a wall, is not blocked (so a point on a wall facing the camera is seen,
    a point inside a building is not). The exact oracle for tests (shapely predicates, not
    walls); slow."""
    _check(x, y, heading_deg, fov_deg, range_m)
    px, py = np.asarray(px, dtype=float), np.asarray(py, dtype=float)
    dx, dy = px - x, py - y
    ok = np.hypot(dx, dy) <= range_m
    if fov_deg < 360:
        ok &= _in_sector(np.arctan2(dx, dy), math.radians(heading_deg), math.radians(fov_deg) / 2)
    cand = np.flatnonzero(ok)
    if not len(occluders.buildings) or not len(cand):
        return ok
    blds = occluders.buildings
    near = np.unique(occluders.owner[occluders.tree.query(Point(x, y), predicate="dwithin", distance=range_m)])
    near = near[~shapely.dwithin(blds[near], Point(x, y), ON_BUILDING_M)]
    if not len(near):
        return ok
    ends = np.stack([np.broadcast_to([x, y], (len(cand), 2)), np.column_stack([px[cand], py[cand]])], axis=1)
    lines = shapely.linestrings(ends)
    li, bi = STRtree(blds[near]).query(lines, predicate="intersects")
    through = ~shapely.touches(lines[li], blds[near][bi])
    hidden = np.zeros(len(cand), dtype=bool)
    hidden[li[through]] = True
    ok[cand[hidden]] = False
    return ok
