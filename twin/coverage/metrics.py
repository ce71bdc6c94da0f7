"""Coverage metrics of the walk network: per zone and DORI level, the share of walkable length and
area seen by at least one and by at least two cameras; the person-seconds seen over those present
per hour of the day; and the blind spots, the stretches no camera sees.

Inputs are the samples of :mod:`twin.coverage.demand` and the per-sample camera counts of
:func:`twin.coverage.views.level_counts`. Lengths in m, areas in m², geometry EPSG:5186.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.ops import substring

from ..models.camera_optics import DORI_LEVELS
from ..surveillance import ZONES
from .demand import Demand

MIN_BLIND_SPOT_M = 5.0
"""Blind stretches shorter than this are not reported (m)."""


def _share(seen: float, total: float) -> float | None:
    return round(seen / total, 6) if total > 0 else None


def zone_metrics(demand: Demand, counts: np.ndarray) -> dict[str, Any]:
    """Per zone: its walkable ``length_m`` and ``area_m2``, and per DORI level the share of each
    seen by ≥ 1 and by ≥ 2 cameras (``length_share_1``, ``length_share_2``, ``area_share_1``,
    ``area_share_2``; None for an empty zone)."""
    out: dict[str, Any] = {}
    for zi, zone in enumerate(ZONES):
        m = demand.zones[:, zi]
        length, area = float(demand.length_m[m].sum()), float(demand.area_m2[m].sum())
        levels = {}
        for li, level in enumerate(DORI_LEVELS):
            c = counts[m, li]
            levels[level] = {
                "length_share_1": _share(float(demand.length_m[m][c >= 1].sum()), length),
                "length_share_2": _share(float(demand.length_m[m][c >= 2].sum()), length),
                "area_share_1": _share(float(demand.area_m2[m][c >= 1].sum()), area),
                "area_share_2": _share(float(demand.area_m2[m][c >= 2].sum()), area),
            }
        out[zone] = {"length_m": round(length, 1), "area_m2": round(area, 1), "levels": levels}
    return out


def seen_share_per_link(demand: Demand, counts: np.ndarray, *, level: int = 0) -> np.ndarray:
    """For each link of ``demand.links``, the share of its length seen at ``level`` or better."""
    seen = demand.length_m * (counts[:, level] >= 1)
    n = len(demand.links)
    total = np.bincount(demand.link, weights=demand.length_m, minlength=n)
    got = np.bincount(demand.link, weights=seen, minlength=n)
    return np.divide(got, total, out=np.zeros(n), where=total > 0)


def person_seconds_coverage(
    demand: Demand, day_counts: np.ndarray, night_counts: np.ndarray, person_s: pd.DataFrame, night_hours: set[int]
) -> dict[str, Any]:
    """Time-weighted coverage: per zone and hour of the day, the person-seconds seen (at detection
    or better) over the person-seconds present. ``person_s`` is person-seconds per link
    (index ``edge_id``) and hour (columns 0-23); hours in ``night_hours`` use the night counts.
    People are taken as spread evenly along a link, so a link contributes its person-seconds times
    the share of its length (in the zone) that is seen."""
    ids = demand.links["edge_id"].astype(str).to_numpy()
    table = person_s.reindex(ids).fillna(0.0).to_numpy()  # link × hour
    n = len(ids)
    link_len = np.bincount(demand.link, weights=demand.length_m, minlength=n)
    out: dict[str, Any] = {}
    for zi, zone in enumerate(ZONES):
        m = demand.zones[:, zi]
        in_zone = np.bincount(demand.link[m], weights=demand.length_m[m], minlength=n)
        frac = np.divide(in_zone, link_len, out=np.zeros(n), where=link_len > 0)
        hours = []
        present_all = seen_all = 0.0
        for h in range(24):
            counts = night_counts if h in night_hours else day_counts
            seen_len = np.bincount(demand.link[m], weights=demand.length_m[m] * (counts[m, 0] >= 1), minlength=n)
            seen_frac = np.divide(seen_len, link_len, out=np.zeros(n), where=link_len > 0)
            present = float((table[:, h] * frac).sum())
            seen = float((table[:, h] * seen_frac).sum())
            present_all += present
            seen_all += seen
            if present > 0:
                hours.append({"hour": h, "person_s": round(present, 1), "seen_share": _share(seen, present)})
        out[zone] = {"person_s": round(present_all, 1), "seen_share": _share(seen_all, present_all), "hours": hours}
    return out


def blind_spots(demand: Demand, counts: np.ndarray, *, level: int = 0, min_length_m: float = MIN_BLIND_SPOT_M):
    """The stretches of the network no camera sees at ``level`` or better: one line per unbroken
    unseen run of samples along a link (EPSG:5186), with its link, name, kind, length (m), its
    zones (``zones``: names joined by ``,``; ``zone``: the most specific) and the stretch's
    start along the link (m). Stretches shorter than ``min_length_m`` are left out."""
    unseen = counts[:, level] == 0
    # runs of unseen samples that stay on one link
    start = unseen & ~np.r_[False, unseen[:-1] & (demand.link[1:] == demand.link[:-1])]
    starts = np.flatnonzero(start)
    run_id = np.cumsum(start) - 1
    idx = np.flatnonzero(unseen)
    rid = run_id[idx]
    lengths = np.bincount(rid, weights=demand.length_m[idx], minlength=len(starts))
    ends = np.zeros(len(starts), dtype=np.int64)
    np.maximum.at(ends, rid, idx)
    zone_any = np.zeros((len(starts), len(ZONES)), dtype=bool)
    for zi in range(len(ZONES)):
        zone_any[:, zi] = np.bincount(rid, weights=demand.zones[idx, zi], minlength=len(starts)) > 0
    offsets = demand.offsets_m()
    rows = []
    geoms = demand.links.geometry.to_numpy()
    for r in np.flatnonzero(lengths >= min_length_m - 1e-9):
        s, e = starts[r], ends[r]
        li = int(demand.link[s])
        a = offsets[s] - demand.length_m[s] / 2
        b = offsets[e] + demand.length_m[e] / 2
        geom = substring(geoms[li], a, b)
        zones = [z for zi, z in enumerate(ZONES) if zone_any[r, zi]]
        rows.append(
            {
                "edge_id": demand.links["edge_id"].iat[li],
                "name": demand.links["name"].iat[li],
                "kind": demand.links["kind"].iat[li],
                "zone": zones[0],
                "zones": ",".join(zones),
                "from_m": round(float(a), 2),
                "length_m": round(float(lengths[r]), 2),
                "geometry": geom,
            }
        )
    cols = ["edge_id", "name", "kind", "zone", "zones", "from_m", "length_m", "geometry"]
    if not rows:
        return gpd.GeoDataFrame({c: [] for c in cols[:-1]}, geometry=[], crs=demand.links.crs)
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=demand.links.crs)
    gdf["geometry"] = shapely.force_2d(gdf.geometry.to_numpy())
    return gdf
