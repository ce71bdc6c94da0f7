"""What the collapse early-warning model needs of the shipped dataset (approximate, authored).

* **Monitored buildings**: the 40 oldest masonry or reinforced-concrete buildings of three storeys
  or more, built 30 years or more before the reference year (the buildings Korean cities fit with
  IoT tilt and crack sensors: Seoul's pilot went to 824 buildings "30 years or older or of a low
  safety grade"). Each gets a name people can read (dong, use, a number), the tilt surveyed when
  its sensors were fitted (drawn: 1/3000 to 1/600, so grade A or B of the MOLIT tilt grades), and
  every building gets ``occupants`` from its floor area.
* **Slope soils**: the infinite-slope model's parameters (TRIGRS), drawn in the ranges reported
  for weathered-granite residual soils (화강암 풍화토: c' 0-10 kPa, phi' 30-38 deg, gamma 17-20
  kN/m3, Ks 1e-6 to 1e-4 m/s) with root cohesion, and the cohesion then set so that the slope's
  factor of safety when saturated to the surface falls where its risk grade says: a D slope fails
  if the water rises to the surface, a C or B slope does not. None of this is a survey: every
  slope is labelled approximate, and the numbers are for exercising early-warning logic.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
from shapely.geometry import Point

GAMMA_W_KN_M3 = 9.81
SENSOR_AGE_YEARS = 30
MONITORED_BUILDINGS = 40
USE_KO = {
    "house": "단독주택",
    "multi_family": "다세대주택",
    "apartment": "아파트",
    "commercial": "상가",
    "school": "학교",
}
# floor area per occupant, m2 (approximate): about 80 m2 per household of 2.3 people for homes;
# offices and shops at 20 m2 per person; classrooms at 10 m2 per pupil.
FLOOR_M2_PER_OCCUPANT = {"house": 35.0, "multi_family": 35.0, "apartment": 35.0, "commercial": 20.0, "school": 10.0}
# The FS when saturated to the surface, as a share of the largest drop rain can cause
# (1 + share x drop): below 1 a D slope fails in a long heavy rain; C and B never do.
SATURATED_MARGIN = {"D": (-0.40, -0.10), "C": (0.10, 0.40), "B": (0.50, 1.20)}
DRY_FS = 1.32  # above the creep model's fs_creep (1.3): a dry slope stands still
RUNOUT_PER_HEIGHT = 2.0  # danger zone beyond the toe: twice the slope height (assumption)


def monitored_buildings(buildings: gpd.GeoDataFrame, reference_year: int) -> gpd.GeoDataFrame:
    """The buildings fitted with tilt and crack sensors, oldest first (ties by id)."""
    old = buildings[buildings["year_built"] <= reference_year - SENSOR_AGE_YEARS]
    old = old[old["structure"].isin(["masonry", "reinforced_concrete"]) & (old["storeys"] >= 3)]
    return old.sort_values(["year_built", "building_id"]).head(MONITORED_BUILDINGS)


def add_occupancy(
    buildings: gpd.GeoDataFrame, schools: gpd.GeoDataFrame, reference_year: int, rng: np.random.Generator
) -> gpd.GeoDataFrame:
    """``occupants`` of every building; ``name`` and ``tilt_ratio`` of the monitored ones (a
    school building takes the name of the nearest school of ``schools``)."""
    out = buildings.copy()
    floor = out["footprint_m2"].astype(float) * out["storeys"].fillna(1).astype(float)
    per = out["use"].map(FLOOR_M2_PER_OCCUPANT).fillna(30.0)
    out["occupants"] = np.maximum(1, np.round(floor / per)).astype(int)
    watched = monitored_buildings(out, reference_year)
    names: list[str | None] = [None] * len(out)
    tilts: list[float | None] = [None] * len(out)
    counts: dict[tuple[str, str], int] = {}
    where = {bid: i for i, bid in enumerate(out["building_id"])}
    for _, b in watched.sort_values("building_id").iterrows():
        i = where[b["building_id"]]
        if b["use"] == "school" and not schools.empty:
            key = (str(schools.loc[schools.distance(b.geometry).idxmin(), "name"]), "교사동")
        else:
            key = (str(b.get("dong") or ""), USE_KO.get(str(b["use"]), "건물"))
        counts[key] = counts.get(key, 0) + 1
        number = "" if b["use"] == "school" and counts[key] == 1 else f" {counts[key]}"
        names[i] = f"{key[0]} {key[1]}{number}".strip()
        tilts[i] = round(1.0 / float(rng.uniform(600.0, 3000.0)), 6)
    out["name"] = names
    out["tilt_ratio"] = tilts
    return out


def _downhill_deg(poly, area) -> float:
    """Azimuth (deg clockwise from north) from the slope into the developed area, which lies below
    the hills: the side of the slope's long axis that falls inside ``area``."""
    c = poly.centroid
    rect = poly.minimum_rotated_rectangle
    xs, ys = rect.exterior.coords.xy
    edges = [(xs[i + 1] - xs[i], ys[i + 1] - ys[i]) for i in range(4)]
    ex, ey = max(edges, key=lambda e: math.hypot(*e))  # the long side runs along the contour
    n = math.hypot(ex, ey)
    nx, ny = -ey / n, ex / n
    inside = [area.contains(Point(c.x + s * 60 * nx, c.y + s * 60 * ny)) for s in (1, -1)]
    sign = 1 if inside[0] or not inside[1] else -1
    return round(math.degrees(math.atan2(sign * nx, sign * ny)) % 360, 1)


def add_slope_soils(slopes: gpd.GeoDataFrame, area, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """The infinite-slope parameters and the danger zone of each slope (see the module docstring).

    Cohesion from the TRIGRS factor of safety (iverson.f95) at the base of the soil, Z:
    FS = tan(phi)/tan(delta) + (c - psi gamma_w tan(phi)) / (gamma_s Z sin(delta) cos(delta)),
    with psi = beta Z (beta = cos^2 delta) when saturated to the surface."""
    out = slopes.copy()
    cols: dict[str, list[float]] = {
        k: []
        for k in (
            "downhill_deg",
            "runout_m",
            "soil_depth_m",
            "water_table_depth_m",
            "cohesion_kpa",
            "friction_deg",
            "unit_weight_kn_m3",
            "diffusivity_m2_s",
            "ks_m_s",
        )
    }
    for _, s in out.iterrows():
        z = round(float(rng.uniform(1.0, 2.0)), 2)
        phi = round(float(rng.uniform(32.0, 38.0)), 1)
        gamma = round(float(rng.uniform(18.0, 20.0)), 1)
        ks = float(f"{10 ** rng.uniform(-5.5, -4.5):.2e}")
        d0 = float(f"{ks * 10 ** rng.uniform(1.0, 1.5):.2e}")
        lo, hi = SATURATED_MARGIN.get(str(s["risk_grade"]), SATURATED_MARGIN["C"])
        share = float(rng.uniform(lo, hi))
        delta = math.radians(float(s["slope_deg"]))
        tphi = math.tan(math.radians(phi))
        denom = gamma * z * math.sin(delta) * math.cos(delta)
        drop = math.cos(delta) ** 2 * z * GAMMA_W_KN_M3 * tphi / denom  # FS lost when saturated
        # the FS with psi = 0 at the base; at least DRY_FS, so that no slope creeps before it rains
        fs_dry = max(DRY_FS, 1.0 + (1.0 + share) * drop)
        c = max(0.0, (fs_dry - tphi / math.tan(delta)) * denom)
        cols["downhill_deg"].append(_downhill_deg(s.geometry, area))
        cols["runout_m"].append(round(RUNOUT_PER_HEIGHT * float(s["height_m"]), 1))
        cols["soil_depth_m"].append(z)
        cols["water_table_depth_m"].append(z)  # the water table starts at the base (psi0 = 0)
        cols["cohesion_kpa"].append(round(c, 2))
        cols["friction_deg"].append(phi)
        cols["unit_weight_kn_m3"].append(gamma)
        cols["diffusivity_m2_s"].append(d0)
        cols["ks_m_s"].append(ks)
    for k, v in cols.items():
        out[k] = v
    return out
