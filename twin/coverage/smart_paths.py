"""Where the next smart IoT pedestrian paths (스마트 IoT 보행로) could go: back-road stretches
(이면도로, road class ``local``) in school zones and children's protection zones that no camera
sees, ranked by unseen length times the people who walk there.

Score of a link = its unseen length (m, from the blind spots) × its person-seconds per metre from
a crowd run (school commute and evening walks); without a run, the unseen length alone. Each
candidate carries its reasons in words: how much is unseen, how many walk it, which school or zone
it serves. Lengths m; geometry EPSG:5186.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from ..city import CityModel
from .demand import Demand

BACK_ROAD_CLASS = "local"
"""The dataset's ``road_class`` of back roads (이면도로)."""
SMART_PATH_ZONES = ("school_zone", "child_protection_zone")


def smart_path_candidates(
    city: CityModel, demand: Demand, spots: gpd.GeoDataFrame, person_s: pd.Series | None, *, top: int = 7
) -> list[dict[str, Any]]:
    """The ``top`` back-road links for a smart pedestrian path (see the module docstring), best first."""
    if spots.empty:
        return []
    links = demand.links.set_index("edge_id")
    cls = links["road_class"] if "road_class" in links else pd.Series(None, index=links.index)
    in_zone = spots["zones"].map(lambda z: any(k in str(z).split(",") for k in SMART_PATH_ZONES))
    back = spots[in_zone & spots["edge_id"].map(lambda e: cls.get(e) == BACK_ROAD_CLASS)]
    if back.empty:
        return []
    unseen = back.groupby("edge_id", sort=True)["length_m"].sum()
    length = links.geometry.length.reindex(unseen.index)
    ps = person_s.reindex(unseen.index).fillna(0.0) if person_s is not None else None
    score = unseen * (ps / length) if ps is not None else unseen
    order = sorted(unseen.index, key=lambda e: (-float(score[e]), str(e)))[:top]
    near = _nearest_facility(city, [links.geometry[e].interpolate(0.5, normalized=True) for e in order])
    out = []
    for rank, (e, (fac_name, fac_m)) in enumerate(zip(order, near, strict=True), 1):
        name = links.at[e, "name"]
        street = name if isinstance(name, str) and name.strip() else f"{fac_name or ''} 부근 이면도로".strip()
        why = [f"{unseen[e]:.0f} m of {length[e]:.0f} m no camera sees"]
        if ps is not None:
            why.append(f"{ps[e] / 3600:.1f} person-hours walked on it in the run")
        if fac_name:
            why.append(f"{fac_m:.0f} m from {fac_name}")
        out.append(
            {
                "rank": rank,
                "edge_id": e,
                "street": street,
                "unseen_m": round(float(unseen[e]), 1),
                "link_m": round(float(length[e]), 1),
                "person_s": None if ps is None else round(float(ps[e]), 1),
                "score": round(float(score[e]), 3),
                "near": fac_name,
                "reasons": "; ".join(why),
            }
        )
    return out


def _nearest_facility(city: CityModel, points) -> list[tuple[str | None, float]]:
    fac = pd.concat([city.facilities_of_kind("school"), city.facilities_of_kind("child_protection_zone")])
    if fac.empty or not points:
        return [(None, float("nan")) for _ in points]
    xy = np.column_stack([fac.geometry.x, fac.geometry.y])
    d, i = cKDTree(xy).query(np.array([[p.x, p.y] for p in points]))
    names = fac["name"].tolist()
    return [(str(names[j]), float(dist)) for dist, j in zip(d, i, strict=True)]
