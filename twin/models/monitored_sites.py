"""The monitored sites of a city: each old building and steep slope with its sensors, its danger
zone and the people in it, and the parameters its physics needs.

Read from the dataset (``slopes`` with their soil attributes, ``buildings`` with ``occupants`` and
``tilt_ratio``, the ``tilt_sensor``/``crack_sensor``/``extensometer`` devices and their
``host_id``) and the scenario's ``collapse`` section (what makes a building settle, a slope's soil
for this run, the danger radius of a building). Geometry in EPSG:5186 (m).

Defaults for what a dataset leaves out (ASSUMPTIONS, docs/collapse.md): a slope's soil is the
middle of the weathered-granite ranges in the research notes (1.5 m of soil, water table at its
base, c' 8 kPa, phi' 35 deg, 19 kN/m3, Ks 1e-5 m/s, D0 1e-4 m2/s); its danger zone reaches twice
its height (10 m when the height is unknown) beyond the toe, all round when the downhill
direction is unknown; a building's occupants are its floor area over 35 m2; its width is the
short side of its footprint's minimum rotated rectangle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import shapely
from shapely import affinity

from ..city import CityModel
from .building_tilt import BuildingSettlement, Excavation
from .slope_stability import SoilColumn

SENSOR_KINDS = {"tilt_sensor": "tilt", "crack_sensor": "crack", "extensometer": "extensometer"}
"""Dataset device kind -> what the early-warning logic calls its reading."""
DEFAULT_SOIL = {
    "soil_depth_m": 1.5,
    "cohesion_kpa": 8.0,
    "friction_deg": 35.0,
    "unit_weight_kn_m3": 19.0,
    "diffusivity_m2_s": 1e-4,
    "ks_m_s": 1e-5,
}
RUNOUT_PER_HEIGHT = 2.0
DEFAULT_RUNOUT_M = 10.0
STOREY_M = 3.0
M2_PER_OCCUPANT = 35.0
SLOPE_CRACK_START_MM = 0.5  # a tension crack is already open when its gauge is fitted (assumption)
SLOPE_TILT_INSTALLED_DEG = 1.5  # a tilt rod is never set exactly plumb (assumption; rates matter, not this)
EXTENSOMETER_ZERO_MM = 100.0  # a wire extensometer reads its wire's position, not zero (assumption)


@dataclass(frozen=True)
class SiteSensor:
    device_id: str
    kind: str  # "tilt" | "crack" | "extensometer"
    dataset_kind: str  # tilt_sensor | crack_sensor | extensometer


@dataclass(frozen=True)
class Home:
    """A building in a danger zone: where its occupants start from (x, y in EPSG:5186)."""

    building_id: str
    occupants: int
    x: float
    y: float


@dataclass(frozen=True)
class MonitoredSite:
    """One monitored slope or building. ``soil`` is set for a slope, ``settlement`` and
    ``excavations`` for a building; ``homes`` are the buildings in ``danger_zone``."""

    site_id: str
    kind: str  # "slope" | "building"
    name: str
    geometry: shapely.Geometry
    danger_zone: shapely.Geometry
    sensors: tuple[SiteSensor, ...]
    homes: tuple[Home, ...]
    x: float
    y: float
    soil: SoilColumn | None = None
    settlement: BuildingSettlement | None = None
    excavations: tuple[Excavation, ...] = ()

    @property
    def people(self) -> int:
        return sum(h.occupants for h in self.homes)


def _num(row, key: str) -> float | None:
    v = row.get(key)
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _soil(row, override) -> SoilColumn:
    vals = {k: _num(row, k) for k in (*DEFAULT_SOIL, "water_table_depth_m")}
    for k, v in DEFAULT_SOIL.items():
        vals[k] = v if vals[k] is None else vals[k]
    if vals["water_table_depth_m"] is None:
        vals["water_table_depth_m"] = vals["soil_depth_m"]
    if override is not None:
        vals.update({k: v for k, v in override.model_dump().items() if v is not None})
    col = SoilColumn(slope_deg=float(row["slope_deg"]), **{k: float(v) for k, v in vals.items() if v is not None})
    col.check(f"collapse.slopes.{row['slope_id']}" if override is not None else f"dataset slopes[{row['slope_id']}]")
    return col


def _slope_zone(poly, row) -> shapely.Geometry:
    height = _num(row, "height_m")
    runout = _num(row, "runout_m")
    if runout is None:
        runout = RUNOUT_PER_HEIGHT * height if height is not None else DEFAULT_RUNOUT_M
    downhill = _num(row, "downhill_deg")
    if downhill is None:
        return poly.buffer(runout)
    a = math.radians(downhill)
    moved = affinity.translate(poly, runout * math.sin(a), runout * math.cos(a))
    return shapely.union(poly, moved).convex_hull


def _width_m(poly) -> float:
    rect = poly.minimum_rotated_rectangle
    xs, ys = rect.exterior.coords.xy
    sides = [math.hypot(xs[i + 1] - xs[i], ys[i + 1] - ys[i]) for i in range(2)]
    return max(1.0, min(sides))


def _occupants(b) -> int:
    occ = _num(b, "occupants")
    if occ is not None:
        return int(occ)
    storeys = _num(b, "storeys") or 1.0
    return int(max(1, round(b["geometry"].area * storeys / M2_PER_OCCUPANT)))


def monitored_sites(city: CityModel, spec=None) -> list[MonitoredSite]:
    """Every site that carries a structural sensor, slopes first then buildings, each by id.
    ``spec`` is the scenario's ``collapse`` section (None: defaults)."""
    devices = city.layer("devices")
    if not len(devices) or "host_id" not in devices:
        return []
    structural = devices[devices["kind"].isin(list(SENSOR_KINDS))].sort_values("device_id")
    by_host: dict[str, list[SiteSensor]] = {}
    for r in structural.itertuples():
        by_host.setdefault(str(r.host_id), []).append(SiteSensor(str(r.device_id), SENSOR_KINDS[r.kind], r.kind))
    buildings = city.layer("buildings")
    tree = shapely.STRtree(buildings.geometry.values) if len(buildings) else None
    brows = buildings.to_dict("records") if len(buildings) else []
    radius = None if spec is None else spec.evacuation.building_radius_m

    def homes_in(zone) -> tuple[Home, ...]:
        if tree is None:
            return ()
        hits = sorted(int(i) for i in tree.query(zone, predicate="intersects"))
        out = []
        for i in hits:
            b = brows[i]
            p = b["geometry"].representative_point()
            out.append(Home(str(b["building_id"]), _occupants(b), float(p.x), float(p.y)))
        return tuple(sorted(out, key=lambda h: h.building_id))

    sites: list[MonitoredSite] = []
    slopes = city.layer("slopes")
    for row in sorted(slopes.to_dict("records"), key=lambda r: str(r["slope_id"])) if len(slopes) else []:
        sid = str(row["slope_id"])
        if sid not in by_host:
            continue
        poly = row["geometry"]
        zone = _slope_zone(poly, row)
        c = poly.centroid
        override = None if spec is None else spec.slopes.get(sid)
        sites.append(
            MonitoredSite(sid, "slope", str(row.get("name") or sid), poly, zone, tuple(by_host[sid]),
                          homes_in(zone.difference(poly)), float(c.x), float(c.y), soil=_soil(row, override))
        )  # fmt: skip
    index = {str(b["building_id"]): b for b in brows}
    for bid in sorted(set(by_host) & set(index)):
        b = index[bid]
        poly = b["geometry"]
        height = (_num(b, "storeys") or 1.0) * STOREY_M
        zone = poly.buffer(radius if radius is not None else height)
        load = None if spec is None else spec.buildings.get(bid)
        settle = BuildingSettlement(
            width_m=_width_m(poly),
            initial_tilt_ratio=_num(b, "tilt_ratio") or 0.0,
            initial_crack_mm=0.1,
        )
        excavations: tuple[Excavation, ...] = ()
        if load is not None:
            settle = replace(settle, rate_mm_day=float(load.settlement_rate_mm_day))
            if load.rain_settlement_mm_per_mm is not None:
                settle = replace(settle, rain_mm_per_mm=float(load.rain_settlement_mm_per_mm))
            excavations = tuple(
                Excavation(float(e.start), float(e.settlement_mm), float(e.time_constant)) for e in load.excavations
            )
        settle.check(f"buildings[{bid}]")
        c = poly.centroid
        sites.append(
            MonitoredSite(bid, "building", str(b.get("name") or bid), poly, zone, tuple(by_host[bid]),
                          homes_in(zone), float(c.x), float(c.y), settlement=settle, excavations=excavations)
        )  # fmt: skip
    return sites


def nearest_gauge(site: MonitoredSite, gauge_xy: dict[str, tuple[float, float]]) -> str | None:
    """The id of the rain gauge nearest ``site`` (None: no gauge)."""
    if not gauge_xy:
        return None
    ids = sorted(gauge_xy)
    d = [math.hypot(gauge_xy[g][0] - site.x, gauge_xy[g][1] - site.y) for g in ids]
    return ids[int(np.argmin(d))]
