"""Deterministic GeoJSON writing and dataset directories.

Layers are written as RFC 7946 GeoJSON (WGS84, 7 decimals, about 1 cm), one feature per line so
diffs stay readable, atomically (temp file, then rename). ``write_dataset`` writes every layer
plus ``manifest.json``: what the importers and the dataset build script produce.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import mapping
from shapely.geometry.polygon import orient

from ._atomic import write_text_atomic
from .dataset_schema import FILE_CRS, LAYERS, MANIFEST_NAME, SCHEMA_VERSION, WORKING_CRS

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
    wgs = gdf.to_crs(FILE_CRS) if gdf.crs is not None else gdf.set_crs(WORKING_CRS).to_crs(FILE_CRS)
    lines = []
    for rec, geom in zip(wgs[columns].itertuples(index=False, name=None), wgs.geometry.values, strict=True):
        gj = mapping(_orient(geom))
        gj = {"type": gj["type"], "coordinates": _round(gj["coordinates"])}
        props = {c: _clean(v) for c, v in zip(columns, rec, strict=True)}
        lines.append(
            json.dumps(
                {"type": "Feature", "properties": props, "geometry": gj}, ensure_ascii=False, separators=(",", ":")
            )
        )
    body = ",\n".join(lines)
    text = '{"type":"FeatureCollection","features":[\n' + body + ("\n" if lines else "") + "]}\n"
    write_text_atomic(path, text)


def layer_columns(name: str, gdf: gpd.GeoDataFrame) -> list[str]:
    """Schema attributes of layer ``name`` first (id first), then any other columns sorted."""
    spec = LAYERS[name]
    first = [spec.id_column] + [a.name for a in spec.attrs if a.name != spec.id_column]
    for attrs in spec.kind_attrs.values():
        first += [a.name for a in attrs if a.name not in first]
    rest = sorted(c for c in gdf.columns if c != gdf.geometry.name and c not in first)
    return first + rest


def write_dataset(
    out: Path,
    layers: dict[str, gpd.GeoDataFrame],
    *,
    name: str,
    sources: dict[str, dict],
    extra_manifest: dict | None = None,
) -> dict:
    """Write ``layers`` (any CRS) and a manifest into directory ``out``; return the manifest.

    ``sources`` maps a layer name to its manifest entry fields (``source``, ``licence``,
    ``approximate``, ``description``). Layers of the schema that are missing are written empty,
    so the directory always holds every layer file.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    entries = {}
    for lname, spec in LAYERS.items():
        gdf = layers.get(lname)
        if gdf is None:
            gdf = gpd.GeoDataFrame({spec.id_column: []}, geometry=[], crs=WORKING_CRS)
        cols = layer_columns(lname, gdf)
        gdf = gdf.copy()
        for c in cols:
            if c not in gdf:
                gdf[c] = None
        write_geojson(gdf, out / f"{lname}.geojson", columns=cols)
        meta = {"source": "none", "licence": "n/a", "approximate": False, "description": ""}
        meta.update(sources.get(lname, {}))
        entries[lname] = {"file": f"{lname}.geojson", **meta, "features": int(len(gdf))}
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "name": name,
        "crs": FILE_CRS,
        "working_crs": WORKING_CRS,
        **(extra_manifest or {}),
        "layers": entries,
    }
    write_text_atomic(out / MANIFEST_NAME, json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    return manifest
