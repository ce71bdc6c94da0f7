"""Where a new camera could go, and what each pose would see: the candidate sites (poles along the
walk network, building corners beside it, the smart poles of watched streets) times discretised
headings, and the sparse matrix of which network samples each pose sees.

Each site's full-circle occluded view is computed once; a pose (site, heading) sees the samples of
that view whose bearing lies within half the lens's field of view of the heading and whose ground
distance is within the range of the required DORI level. Coordinates EPSG:5186 m; headings
degrees clockwise from grid north.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy import sparse
from scipy.spatial import cKDTree

from ..city import CityModel
from ..models.camera_optics import DORI_LEVELS, CameraSpec
from ..models.isovist import Occluders
from ..surveillance import ZONES
from .demand import Demand
from .views import view_polygons

SITE_KINDS = ("pole", "corner", "smart_pole", "existing")
CORNER_OFFSET_M = 0.3
"""A corner camera stands this far out from the wall corner, on the corner's bisector (m)."""


@dataclass(frozen=True)
class Site:
    """A place a camera can be mounted: ``kind`` (pole, corner, smart_pole, existing), position
    (EPSG:5186 m), ``label`` (the street or device it belongs to, for people to read) and
    ``ref`` (the device_id of an existing camera, or the edge_id beside it)."""

    kind: str
    x: float
    y: float
    label: str
    ref: str


def pole_sites(demand: Demand, mask: np.ndarray, spacing_m: float) -> list[Site]:
    """A pole every ``spacing_m`` m along each link with samples in ``mask``, at the first sample
    of each stretch of ``spacing_m``."""
    if not spacing_m > 0:
        raise ValueError(f"spacing_m: got {spacing_m!r}: expected a distance in m > 0")
    offsets = demand.offsets_m()
    out = []
    last: dict[int, float] = {}
    for i in np.flatnonzero(mask):
        li = int(demand.link[i])
        if li in last and offsets[i] - last[li] < spacing_m:
            continue
        last[li] = offsets[i]
        row = demand.links.iloc[li]
        out.append(Site("pole", float(demand.x[i]), float(demand.y[i]), _label(row), str(row["edge_id"])))
    return out


def corner_sites(city: CityModel, demand: Demand, mask: np.ndarray, *, reach_m: float, spacing_m: float) -> list[Site]:
    """Building corners within ``reach_m`` of a sample in ``mask``, thinned so that no two lie
    closer than ``spacing_m``; each site stands :data:`CORNER_OFFSET_M` out from its corner."""
    if not mask.any():
        return []
    tree = cKDTree(np.column_stack([demand.x[mask], demand.y[mask]]))
    idx_mask = np.flatnonzero(mask)
    buildings = city.layer("buildings")
    picked: list[Site] = []
    kept = np.zeros((0, 2))
    exteriors = shapely.get_exterior_ring(shapely.get_parts(buildings.geometry.to_numpy()))
    for ring in exteriors:
        coords = np.asarray(ring.coords)[:-1]
        if len(coords) < 3:
            continue
        d, nearest = tree.query(coords, distance_upper_bound=reach_m)
        for j in np.flatnonzero(np.isfinite(d)):
            p = coords[j]
            if len(kept) and np.min(np.hypot(*(kept - p).T)) < spacing_m:
                continue
            prev, nxt = coords[j - 1], coords[(j + 1) % len(coords)]
            out_dir = _outward(prev, p, nxt, ring)
            if out_dir is None:
                continue
            x, y = p + CORNER_OFFSET_M * out_dir
            row = demand.links.iloc[int(demand.link[idx_mask[nearest[j]]])]
            picked.append(Site("corner", float(x), float(y), _label(row), str(row["edge_id"])))
            kept = np.vstack([kept, p])
    return picked


def street_pole_sites(city: CityModel) -> list[Site]:
    """The smart poles of each watched street with a pole spacing, evenly along its centre line."""
    to_grid = Transformer.from_crs("EPSG:4326", city.crs, always_xy=True)
    out = []
    for s in city.surveillance.streets:
        if s.smart_pole_spacing_m is None:
            continue
        line = shapely.LineString([to_grid.transform(lon, lat) for lon, lat in s.line])
        n = max(1, int(line.length // s.smart_pole_spacing_m))
        for k in range(n + 1):
            p = line.interpolate(k * line.length / n)
            out.append(Site("smart_pole", p.x, p.y, s.name, f"{s.name} #{k + 1}"))
    return out


def existing_sites(specs: Sequence[CameraSpec], names: dict[str, str]) -> list[Site]:
    """The positions of the existing cameras (to re-aim them)."""
    return [Site("existing", s.x, s.y, names.get(s.device_id, s.device_id), s.device_id) for s in specs]


@dataclass(frozen=True)
class Poses:
    """Candidate poses: ``site`` (index into ``sites``) and ``heading_deg`` of each, the sparse
    0/1 ``cover`` matrix (pose × demand sample) at the DORI ``level``, the camera at each site."""

    sites: list[Site]
    site: np.ndarray
    heading_deg: np.ndarray
    cover: sparse.csr_matrix
    level: str
    cameras: list[CameraSpec]  # the optics at each site


def candidate_poses(
    sites: Sequence[Site],
    demand: Demand,
    occluders: Occluders,
    camera: CameraSpec | Sequence[CameraSpec],
    *,
    headings: int = 8,
    level: str = "detection",
    content_key: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> Poses:
    """Every site × ``headings`` evenly spaced headings (from north), each with the samples of
    ``demand`` it sees at ``level`` or better, for a camera like ``camera`` (its lens, sensor and
    mount height; position and heading are the pose's). ``camera`` may be one spec per site (the
    existing cameras, to re-aim them): each keeps its optics (a PTZ camera its tour's angle), and
    its present heading is tried too, so re-aiming never does worse than leaving it."""
    if headings < 1:
        raise ValueError(f"headings: got {headings!r}: expected at least 1")
    if level not in DORI_LEVELS:
        raise ValueError(f"level: got {level!r}: expected one of {', '.join(DORI_LEVELS)}")
    own = not isinstance(camera, CameraSpec)
    specs = list(camera) if not isinstance(camera, CameraSpec) else [camera] * len(sites)
    if len(specs) != len(sites):
        raise ValueError(f"camera: got {len(specs)} specs: expected one per site ({len(sites)})")
    at_sites = [
        replace(c, device_id=f"site{i}", x=s.x, y=s.y) for i, (s, c) in enumerate(zip(sites, specs, strict=True))
    ]
    polys = view_polygons(at_sites, occluders, full_circle=True, content_key=content_key, progress=progress)
    tree = cKDTree(np.column_stack([demand.x, demand.y]))
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    pose_site: list[int] = []
    pose_heading: list[float] = []
    step = 360.0 / headings
    for i, (s, poly, spec) in enumerate(zip(sites, polys, specs, strict=True)):
        reach = spec.ground_ranges_m()[level]
        half = spec.tour_fov_deg / 2
        tried = [h * step for h in range(headings)]
        if own and all(abs((spec.heading_deg - h + 180) % 360 - 180) > 1e-9 for h in tried):
            tried.append(spec.heading_deg)
        if poly.is_empty or reach <= 0:
            near = np.zeros(0, np.int64)
        else:
            near = np.array(sorted(tree.query_ball_point((s.x, s.y), reach)), dtype=np.int64)
            if len(near):
                near = near[shapely.contains_xy(poly, demand.x[near], demand.y[near])]
        bearing = np.degrees(np.arctan2(demand.x[near] - s.x, demand.y[near] - s.y)) % 360
        for heading in tried:
            off = (bearing - heading + 180) % 360 - 180
            seen = near[np.abs(off) <= half]
            pose = len(pose_site)
            pose_site.append(i)
            pose_heading.append(heading)
            rows.append(np.full(len(seen), pose, dtype=np.int64))
            cols.append(seen)
    r = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    cover = sparse.csr_matrix((np.ones(len(r), dtype=np.int8), (r, c)), shape=(len(pose_site), len(demand)))
    return Poses(list(sites), np.array(pose_site, dtype=np.int64), np.array(pose_heading), cover, level, specs)


def demand_weights(demand: Demand, priorities: dict[str, float], person_s: pd.Series | None = None) -> np.ndarray:
    """The weight of each sample in placement: its length times the highest priority of its zones,
    or, with ``person_s`` (person-seconds per link, index ``edge_id``), its link's person-seconds
    times the share of the link's length it stands for."""
    if person_s is None:
        prio = np.array([float(priorities.get(z, 1.0)) for z in ZONES])
        return demand.length_m * np.where(demand.zones, prio, 0.0).max(axis=1)
    ids = demand.links["edge_id"].astype(str).to_numpy()
    ps = person_s.reindex(ids).fillna(0.0).to_numpy()
    link_len = np.bincount(demand.link, weights=demand.length_m, minlength=len(ids))
    return ps[demand.link] * demand.length_m / link_len[demand.link]


def _label(row) -> str:
    name = row.get("name")
    return str(name) if isinstance(name, str) and name.strip() else str(row["edge_id"])


def _outward(prev: np.ndarray, p: np.ndarray, nxt: np.ndarray, ring) -> np.ndarray | None:
    """Unit vector from corner ``p`` away from its building, along the corner's bisector."""
    a, b = prev - p, nxt - p
    na, nb = math.hypot(*a), math.hypot(*b)
    if na == 0 or nb == 0:
        return None
    bis = a / na + b / nb
    n = math.hypot(*bis)
    if n < 1e-9:
        return None
    bis = bis / n
    poly = shapely.Polygon(ring)
    inside = shapely.contains_xy(poly, *(p + 0.05 * bis))
    return -bis if inside else bis
