"""One coverage assessment of a city's cameras, as ``twin coverage`` runs it: the views, the
metrics per zone and DORI level (by day and by night), the blind spots, optionally the
time-weighted coverage of a crowd run, and optionally the placement of new cameras (or the
re-aiming of the existing ones) solved greedily and exactly. Written to a folder as
``coverage.json``, ``blind_spots.gpkg`` (and ``.geojson``), ``views.geojson``, ``placement.json`` and its wall times
in ``timing.json``, each atomically. Geometry EPSG:5186 inside, WGS84 in the GeoJSON files.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer

from ..atomic import atomic_file, write_text_atomic
from ..city import CityModel
from ..errors import CoverageError
from ..models.camera_optics import DORI_LEVELS, CameraSpec
from ..models.daylight import night_hours
from ..models.placement import Placement, exact_max_coverage, greedy_max_coverage, min_cameras_for_share
from ..surveillance import ZONES
from .candidates import (
    Poses,
    candidate_poses,
    corner_sites,
    demand_weights,
    existing_sites,
    pole_sites,
    street_pole_sites,
)
from .demand import DEFAULT_STEP_M, Demand, sample_walk_network
from .exposure import Exposure
from .metrics import blind_spots, person_seconds_coverage, zone_metrics
from .smart_paths import smart_path_candidates
from .views import (
    CameraView,
    buildings_key,
    camera_views,
    cameras_of_city,
    level_counts,
    occluders_of_city,
    view_polygons,
)

NEW_CAMERA = CameraSpec("new", 0.0, 0.0, heading_deg=0.0, fov_deg=90.0, resolution_px=1920, mount_height_m=6.0)
"""The camera a placement proposes, unless told otherwise: 2 MP, 90° lens, 6 m up (approximate)."""
PLACEMENT_ZONES = ("access_points", "riverside_path", "street")
"""Zones a placement serves unless told otherwise: the riverside paths, their access points and the
watched streets (the city's flood-gate and smart-pole plans)."""


@dataclass(frozen=True)
class CoverageOptions:
    """What to assess. ``add``: new cameras to place (0: none); ``budget``: a target share of the
    served demand to reach with as few new cameras as possible; ``reaim``: choose new headings for
    the existing cameras instead; ``zones``: what a placement serves; ``level``: the DORI level a
    placement asks for; ``headings``: headings per site; ``spacing_m``: poles along the network;
    ``camera``: the new camera's optics; ``day``: the date whose night hours use the IR reach."""

    step_m: float = DEFAULT_STEP_M
    add: int = 0
    budget: float | None = None
    reaim: bool = False
    zones: tuple[str, ...] = PLACEMENT_ZONES
    level: str = "detection"
    headings: int = 8
    spacing_m: float = 40.0
    camera: CameraSpec = NEW_CAMERA
    time_limit_s: float = 60.0
    day: date = field(default_factory=lambda: date(2026, 7, 15))


@dataclass
class Assessment:
    """The result of :func:`assess`: see the module docstring."""

    coverage: dict[str, Any]
    blind_spots: gpd.GeoDataFrame
    views: list[CameraView]
    placement: dict[str, Any] | None
    demand: Demand
    counts: np.ndarray


def assess(
    city: CityModel,
    options: CoverageOptions = CoverageOptions(),
    *,
    exposure: Exposure | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> Assessment:
    """Assess ``city``'s cameras (see the module docstring). ``progress(stage, done, total)`` is
    called as work is done."""
    for z in options.zones:
        if z not in ZONES:
            raise CoverageError(f"zones: got {z!r}: expected some of {', '.join(ZONES)}")
    if options.level not in DORI_LEVELS:
        raise CoverageError(f"level: got {options.level!r}: expected one of {', '.join(DORI_LEVELS)}")
    if options.budget is not None and not 0 < options.budget <= 1:
        raise CoverageError(f"budget: got {options.budget!r}: expected a share of the demand, > 0 and ≤ 1")
    if options.add < 0:
        raise CoverageError(f"add: got {options.add!r}: expected a number of cameras ≥ 0")

    def tick(stage: str, total: int) -> Callable[[int], None]:
        done = [0]

        def f(n: int) -> None:
            done[0] += n
            if progress is not None:
                progress(stage, done[0] if n else total, total)

        return f

    demand = sample_walk_network(city, step_m=options.step_m)
    specs = cameras_of_city(city)
    occluders = occluders_of_city(city)
    key = buildings_key(city)
    day_polys = view_polygons(specs, occluders, content_key=key, progress=tick("views (day)", len(specs)))
    night_polys = view_polygons(
        specs, occluders, night=True, content_key=key, progress=tick("views (night)", len(specs))
    )
    day = camera_views(specs, day_polys, demand)
    night = camera_views(specs, night_polys, demand, night=True)
    day_counts, night_counts = level_counts(day, len(demand)), level_counts(night, len(demand))
    lon, lat = _centre_lonlat(city)
    nights = night_hours(lat, lon, options.day)
    coverage: dict[str, Any] = {
        "cameras": len(specs),
        "sample_step_m": options.step_m,
        "levels": list(DORI_LEVELS),
        "day": zone_metrics(demand, day_counts),
        "night": zone_metrics(demand, night_counts),
        "night_hours": sorted(nights),
        "night_date": options.day.isoformat(),
        "access_points": _access_point_coverage(city, demand, day_counts, night_counts),
    }
    if exposure is not None:
        coverage["person_seconds"] = {
            "run": str(exposure.folder),
            "zones": person_seconds_coverage(demand, day_counts, night_counts, exposure.person_s, nights),
        }
    spots = blind_spots(demand, day_counts)
    coverage["smart_path_candidates"] = smart_path_candidates(
        city, demand, spots, exposure.per_link() if exposure is not None else None
    )
    placement = None
    if options.add > 0 or options.budget is not None or options.reaim:
        placement = _place(city, options, demand, day_counts, specs, occluders, key, exposure, tick)
    return Assessment(coverage, spots, day, placement, demand, day_counts)


def _place(city, options, demand, counts, specs, occluders, key, exposure, tick) -> dict[str, Any]:
    zones = np.zeros(len(demand), dtype=bool)
    for z in options.zones:
        zones |= demand.in_zone(z)
    served = np.flatnonzero(zones)
    if not len(served):
        raise CoverageError(f"zones: {', '.join(options.zones)}: no walkable network in them to serve")
    cams = city.devices_of_kind("cctv")
    names = {} if cams.empty else dict(zip(cams["device_id"], cams["name"], strict=True))
    camera = options.camera
    if options.reaim:
        sites = existing_sites(specs, names)
    else:
        mask = zones
        sites = (
            pole_sites(demand, mask, options.spacing_m)
            + corner_sites(city, demand, mask, reach_m=10.0, spacing_m=options.spacing_m)
            + street_pole_sites(city)
        )
    poses = candidate_poses(
        sites,
        demand,
        occluders,
        specs if options.reaim else camera,
        headings=options.headings,
        level=options.level,
        content_key=key,
        progress=tick("candidate sites", len(sites)),
    )
    ps = exposure.per_link() if exposure is not None else None
    w = demand_weights(demand, dict(city.surveillance.priorities), ps)[served]
    if not w.sum() > 0:
        raise CoverageError(
            f"zones: nobody walked {', '.join(options.zones)} in the run {exposure.folder if exposure else ''}: "
            "nothing to place cameras for (choose other --zones)"
        )
    A = poses.cover[:, served].tocsr()
    lv = DORI_LEVELS.index(options.level)
    already = None if options.reaim else counts[served, lv] >= 1
    sites_of = poses.site
    out: dict[str, Any] = {
        "mode": "reaim" if options.reaim else "add",
        "zones": list(options.zones),
        "level": options.level,
        "weights": "person-seconds" if exposure is not None else "length x zone priority",
        "sites": {k: sum(s.kind == k for s in poses.sites) for k in ("pole", "corner", "smart_pole", "existing")},
        "poses": int(A.shape[0]),
        "headings": options.headings,
        "camera": {
            "fov_deg": camera.fov_deg,
            "resolution_px": camera.resolution_px,
            "mount_height_m": camera.mount_height_m,
        },
        "demand_samples": int(len(served)),
    }
    if options.reaim:
        before = float(w[(counts[served, lv] >= 1)].sum())
        out["before_share"] = _r(before / w.sum()) if w.sum() > 0 else None
        k = len(specs)
    else:
        out["before_share"] = _r(float(w[already].sum()) / float(w.sum())) if w.sum() > 0 else None
        k = options.add
    if k > 0:
        greedy = greedy_max_coverage(A, w, k, site_of_pose=sites_of, covered_already=already)
        exact = exact_max_coverage(
            A,
            w,
            k,
            site_of_pose=sites_of,
            covered_already=already,
            time_limit_s=options.time_limit_s,
            warm_start=greedy,
        )
        out["k"] = k
        out["greedy"] = _solution(greedy, poses)
        out["exact"] = _solution(exact, poses)
        out["greedy_over_exact"] = (
            _r(greedy.covered_weight / exact.covered_weight) if exact.covered_weight > 0 else None
        )
    if options.budget is not None:
        try:
            need = min_cameras_for_share(
                A, w, options.budget, site_of_pose=sites_of, covered_already=already, time_limit_s=options.time_limit_s
            )
        except ValueError as exc:
            raise CoverageError(f"budget: {exc}") from None
        need_greedy = min_cameras_for_share(A, w, options.budget, site_of_pose=sites_of, covered_already=already,
                                            method="greedy")  # fmt: skip
        out["budget"] = {
            "target_share": options.budget,
            "exact": _solution(need, poses),
            "greedy": _solution(need_greedy, poses),
        }
    return out


def _solution(p: Placement, poses: Poses) -> dict[str, Any]:
    to_wgs = Transformer.from_crs("EPSG:5186", "EPSG:4326", always_xy=True)
    cams = []
    for j in p.poses:
        s = poses.sites[int(poses.site[j])]
        lon, lat = to_wgs.transform(s.x, s.y)
        cams.append(
            {
                "site": s.kind,
                "label": s.label,
                "ref": s.ref,
                "x": round(s.x, 2),
                "y": round(s.y, 2),
                "lon": round(lon, 7),
                "lat": round(lat, 7),
                "heading_deg": round(float(poses.heading_deg[j]), 1),
            }
        )
    return {
        "method": p.method,
        "status": p.status,
        "cameras": len(p.poses),
        "share": _r(p.share),
        "covered_weight": _r(p.covered_weight),
        "total_weight": _r(p.total_weight),
        "bound": None if p.bound is None else _r(p.bound),
        "gap": None if p.gap is None else _r(p.gap),
        "solve_s": round(p.solve_s, 3),
        "poses": cams,
    }


def _access_point_coverage(city: CityModel, demand: Demand, day: np.ndarray, night: np.ndarray) -> list[dict[str, Any]]:
    """Per access point: the share of its zone (the network within ``access_zone_m``) seen by day
    and by night at detection, the best level anywhere in it, and its gate."""
    from scipy.spatial import cKDTree

    reach = city.surveillance.access_zone_m
    tree = cKDTree(np.column_stack([demand.x, demand.y]))
    out = []
    aps = city.layer("access_points")
    if aps.empty:
        return []
    for _, ap in aps.sort_values("access_id").iterrows():
        idx = np.array(sorted(tree.query_ball_point((ap.geometry.x, ap.geometry.y), reach)), dtype=np.int64)
        total = float(demand.length_m[idx].sum())
        best = int((day[idx] >= 1).sum(axis=1).max()) - 1 if len(idx) else -1
        gate = ap.get("gate_id")
        out.append(
            {
                "access_id": ap["access_id"],
                "stream": ap.get("stream"),
                "gate_id": gate if isinstance(gate, str) else None,
                "length_m": round(total, 1),
                "day_share": _r(float(demand.length_m[idx][day[idx, 0] >= 1].sum()) / total) if total else None,
                "night_share": _r(float(demand.length_m[idx][night[idx, 0] >= 1].sum()) / total) if total else None,
                "best_level": DORI_LEVELS[best] if best >= 0 else None,
            }
        )
    return out


def _centre_lonlat(city: CityModel) -> tuple[float, float]:
    b = city.layer("boundary")
    geom = b.geometry.union_all() if not b.empty else city.layer("roads").geometry.union_all()
    c = geom.centroid
    lon, lat = Transformer.from_crs(city.crs, "EPSG:4326", always_xy=True).transform(c.x, c.y)
    return float(lon), float(lat)


def _r(x: float) -> float:
    return round(float(x), 6) if math.isfinite(x) else x


# --- writing ----------------------------------------------------------------------------------


def write_assessment(a: Assessment, out: str | Path) -> list[Path]:
    """Write the assessment to the folder ``out`` (created), every file atomically; returns the
    files written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    p = out / "coverage.json"
    write_text_atomic(p, json.dumps(a.coverage, ensure_ascii=False, indent=2) + "\n")
    written.append(p)
    spots = a.blind_spots
    p = out / "blind_spots.gpkg"
    with atomic_file(p) as tmp, _fixed_gpkg_date():
        spots.to_file(tmp, layer="blind_spots", driver="GPKG")
    written.append(p)
    p = out / "blind_spots.geojson"
    write_text_atomic(p, spots.to_crs("EPSG:4326").to_json(drop_id=True, ensure_ascii=False))
    written.append(p)
    p = out / "views.geojson"
    write_text_atomic(p, views_frame(a.views).to_crs("EPSG:4326").to_json(drop_id=True, ensure_ascii=False))
    written.append(p)
    if a.placement is not None:
        results, timing = split_timing(a.placement)
        for name, body in (("placement.json", results), ("timing.json", timing)):
            p = out / name
            write_text_atomic(p, json.dumps(body, ensure_ascii=False, indent=2) + "\n")
            written.append(p)
    return written


@contextlib.contextmanager
def _fixed_gpkg_date() -> Iterator[None]:
    """GeoPackages stamp their contents with the time of writing; a fixed stamp (GDAL's
    OGR_CURRENT_DATE) makes the same blind spots the same file, byte for byte."""
    import pyogrio

    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2000-01-01T00:00:00.000Z"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})


def split_timing(placement: dict[str, Any]) -> tuple[dict[str, Any], dict[str, float]]:
    """The placement without its wall times (the same data gives the same file, byte for byte)
    and the wall times apart (s, by solution: ``greedy``, ``exact``, ``budget.exact``, ...)."""
    results = json.loads(json.dumps(placement))
    timing: dict[str, float] = {}

    def take(d: dict[str, Any], path: str) -> None:
        for k, v in d.items():
            if isinstance(v, dict):
                if "solve_s" in v:
                    timing[f"{path}{k}"] = v.pop("solve_s")
                take(v, f"{path}{k}.")

    take(results, "")
    return results, timing


def views_frame(views: list[CameraView]) -> gpd.GeoDataFrame:
    """One polygon per camera and DORI level: the part of its view where that level holds."""
    rows = []
    for v in views:
        for level in DORI_LEVELS:
            r = v.ranges_m[level]
            if r <= 0 or v.polygon.is_empty:
                continue
            geom = shapely.intersection(v.polygon, shapely.Point(v.spec.x, v.spec.y).buffer(r, quad_segs=32))
            if geom.is_empty:
                continue
            rows.append({"device_id": v.spec.device_id, "level": level, "range_m": round(r, 2), "geometry": geom})
    if not rows:
        return gpd.GeoDataFrame({"device_id": [], "level": [], "range_m": []}, geometry=[], crs="EPSG:5186")
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:5186")
