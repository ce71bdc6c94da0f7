"""What an importer puts in when its source lacks something, shared by the OSM and shapefile importers.

A twin dataset needs things that external sources often do not hold: channel values for the stream
reaches, a boundary, dongs, valid polygons, and facilities the walk network can reach. The
functions here are the one answer both importers give (:mod:`twin.importers.osm`,
:mod:`twin.importers.shp`); each importer keeps only what is specific to its source format (reading,
attribute presets, tag rules) and says in its manifest which layers are placeholders.

CRS and units: every geometry is in the working CRS, EPSG:5186 (Korea 2000 / Central Belt 2010,
metres); lengths, buffers and distances are metres.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from scipy.spatial import cKDTree
from shapely.geometry import MultiPolygon, Polygon

from .._validate import MAX_ACCESS_DISTANCE_M
from ..dataset_schema import WORKING_CRS

BANK_HEIGHT_M = 3.0
"""Placeholder bank height of every imported reach, m."""
BED_SLOPE = 0.002
"""Placeholder bed slope of every imported reach, m/m."""
MANNING_N = 0.035
"""Placeholder Manning roughness of every imported reach, s/m^(1/3)."""
BOUNDARY_BUFFER_M = 100.0
"""Buffer (m) around the convex hull of the imported features when there is no boundary."""
REACH_LIMIT_M = MAX_ACCESS_DISTANCE_M - 1.0
"""Features farther (m) than this from every walk-graph node are dropped: :func:`twin.city.load_city`'s
reachability limit, with 1 m to spare for the round trip through WGS84 and end-point snapping."""


def placeholder_channel(length_m: float, width_m: float) -> dict[str, Any]:
    """Channel attributes of a reach of ``length_m`` metres and ``width_m`` metres width.

    All but the width are placeholders: bank height :data:`BANK_HEIGHT_M` (m), bed slope
    :data:`BED_SLOPE` (m/m), bed elevation 0 m at the downstream end and slope * length (m,
    rounded to mm) at the upstream end, Manning n :data:`MANNING_N`, no downstream reach, and the
    reach flagged ``approximate``. Keys are in the column order of the streams layer.
    """
    return {
        "downstream_reach_id": None,
        "width_m": width_m,
        "bank_height_m": BANK_HEIGHT_M,
        "bed_elev_up_m": round(BED_SLOPE * length_m, 3),
        "bed_elev_down_m": 0.0,
        "bed_slope": BED_SLOPE,
        "manning_n": MANNING_N,
        "approximate": True,
    }


RAIN_GAUGE_RESOLUTION_MM = 0.5
"""Placeholder tip of an imported rain gauge, mm (a common tipping-bucket size)."""
GAUGE_THRESHOLD_SHARES = {"attention": 0.40, "caution": 0.55, "alert": 0.70, "serious": 0.85}
"""Placeholder alert stages of an imported level gauge, as shares of the bank height (관심 .. 심각)."""


def placeholder_gauge(bank_height_m: float = BANK_HEIGHT_M) -> dict[str, Any]:
    """Level-sensor attributes a source without HRFCO stages lacks: alert stages at
    :data:`GAUGE_THRESHOLD_SHARES` of ``bank_height_m`` (m above the bed), the sensor 1 m above
    the bank top (m above the gauge datum), ``thresholds_verified`` false and a note saying so."""
    out: dict[str, Any] = {
        f"threshold_{level}_m": round(share * bank_height_m, 2) for level, share in GAUGE_THRESHOLD_SHARES.items()
    }
    out["thresholds_verified"] = False
    out["sensor_height_m"] = round(bank_height_m + 1.0, 2)
    out["thresholds_note"] = (
        "placeholders: "
        + "/".join(f"{share:.0%}" for share in GAUGE_THRESHOLD_SHARES.values())
        + " of the bank height; set the published stages in the dataset or with --set thresholds.<id>.<level>_m"
    )
    return out


def gauge_hydrology(gauges: gpd.GeoDataFrame, streams: gpd.GeoDataFrame) -> dict[str, Any] | None:
    """The manifest ``hydrology`` of an imported city (see :mod:`twin.river_gauges`), None without gauges.

    ``gauges``: level sensors with ``device_id`` and ``stream``; ``streams``: the reaches (EPSG:5186).
    Each stream with gauges is warned by its first gauge (by device_id); the key gauge is that of
    the longest stream with a gauge (total reach length, m). No upstream basin: a source does not say
    how much land lies outside the extract.
    """
    if len(gauges) == 0:
        return None
    first = gauges.sort_values("device_id").groupby("stream", sort=True)["device_id"].first()
    length = streams.assign(_len=streams.geometry.length).groupby("name")["_len"].sum()
    key = max(first.index, key=lambda s: (float(length.get(s, 0.0)), s))
    return {"stream_gauges": {str(s): str(g) for s, g in first.items()}, "key_gauge": str(first[key])}


def _polygons(g: Any) -> list[Polygon]:
    """The non-empty polygons of ``g``, through nested multi-geometries and collections."""
    if isinstance(g, Polygon):
        return [] if g.is_empty else [g]
    if hasattr(g, "geoms"):
        return [p for part in g.geoms for p in _polygons(part)]
    return []


def polygonal(g: Any) -> Polygon | MultiPolygon | None:
    """``g`` as a valid Polygon or MultiPolygon (repaired with ``make_valid``), None if no area is left.

    Lines and points that ``make_valid`` leaves beside the polygons are dropped; parts that still
    overlap are merged. Works in any CRS (the importers pass EPSG:5186, metres).
    """
    if g is None or g.is_empty:
        return None
    if not g.is_valid:
        g = shapely.make_valid(g)
    polys = _polygons(g)
    if not polys:
        return None
    out = polys[0] if len(polys) == 1 else MultiPolygon(polys)
    if not out.is_valid:
        out = shapely.union_all(polys)
    return out if isinstance(out, Polygon | MultiPolygon) and not out.is_empty else None


def hull_boundary(geoms: Iterable[Any], buffer_m: float = BOUNDARY_BUFFER_M) -> Polygon:
    """The boundary of a source without one: the convex hull of ``geoms`` buffered ``buffer_m`` metres."""
    return shapely.convex_hull(shapely.GeometryCollection(list(geoms))).buffer(buffer_m)


def dongs_from_boundary(boundary: gpd.GeoDataFrame, codes: list[str] | None = None) -> gpd.GeoDataFrame:
    """The dongs of a source without them: one dong per boundary feature, same name and area.

    ``codes`` are the dong codes (default: the boundary's ``city_code``). EPSG:5186.
    """
    return gpd.GeoDataFrame(
        {
            "dong_code": boundary["city_code"].tolist() if codes is None else list(codes),
            "name": boundary["name"].tolist(),
            "name_en": boundary["name_en"].tolist(),
        },
        geometry=boundary.geometry.values,
        crs=WORKING_CRS,
    )


def out_of_reach(points_xy: np.ndarray, lines: Any, limit_m: float = REACH_LIMIT_M) -> np.ndarray:
    """Which points (n x 2, metres) lie farther than ``limit_m`` metres from every end of ``lines``.

    The line ends are the walk-graph nodes of a roads layer (EPSG:5186); the importers drop the
    facilities this marks, which :func:`twin.city.load_city` would refuse. Returns a bool array.
    """
    pts = np.asarray(points_xy, dtype=float).reshape(-1, 2)
    geoms = np.asarray(lines, dtype=object)
    if len(pts) == 0 or len(geoms) == 0:
        return np.zeros(len(pts), dtype=bool)
    ends = np.vstack(
        [
            shapely.get_coordinates(shapely.get_point(geoms, 0)),
            shapely.get_coordinates(shapely.get_point(geoms, -1)),
        ]
    )
    dist, _ = cKDTree(ends).query(pts)
    return dist > limit_m
