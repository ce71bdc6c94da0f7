"""Deterministic GeoJSON writing: WGS84, 7 decimals (about 1 cm), one feature per line."""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import mapping
from shapely.geometry.polygon import orient

DECIMALS = 7


def _clean(v):
    if v is None:
        return None
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(v) else float(v)
    if isinstance(v, str):
        return v
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    return str(v)


def _round(coords):
    if isinstance(coords, (float, int)):
        return round(float(coords), DECIMALS)
    return [_round(c) for c in coords]


def _orient(g):
    if g.geom_type == "Polygon":
        return orient(g, 1.0)
    if g.geom_type == "MultiPolygon":
        return shapely.geometry.MultiPolygon([orient(p, 1.0) for p in g.geoms])
    return g


def write_geojson(gdf: gpd.GeoDataFrame, path: Path, *, columns: list[str]) -> None:
    """Write ``gdf`` (any CRS) as RFC 7946 GeoJSON with properties in ``columns`` order."""
    wgs = gdf.to_crs("EPSG:4326")
    lines = []
    for rec, geom in zip(wgs[columns].itertuples(index=False, name=None), wgs.geometry.values, strict=True):
        gj = mapping(_orient(geom))
        gj = {"type": gj["type"], "coordinates": _round(gj["coordinates"])}
        props = {c: _clean(v) for c, v in zip(columns, rec, strict=True)}
        lines.append(json.dumps({"type": "Feature", "properties": props, "geometry": gj},
                                ensure_ascii=False, separators=(",", ":")))
    text = '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
