"""Read a dataset directory and check it against :mod:`twin.dataset_schema`.

Every check appends a :class:`~twin.errors.Problem` naming the layer, the feature id and what is
wrong; reading goes on after a problem wherever it can, so one run reports them all.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from scipy.spatial import cKDTree

from .dataset_schema import (
    FILE_CRS,
    LAYERS,
    MANIFEST_KEYS,
    MANIFEST_NAME,
    SCHEMA_VERSION,
    WORKING_CRS,
    Attr,
    LayerSpec,
)
from .errors import Problem
from .walk_graph import components_by_size, walk_graph

MAX_ACCESS_DISTANCE_M = 200.0
"""A point feature counts as reachable when the nearest walk-graph node of the main component
lies within this distance (metres). Sensors in a stream channel sit a few tens of metres from
the riverside path; facilities are joined to the network by connectors."""

REACHABLE_LAYERS = ("facilities", "access_points", "devices")
MAX_PROBLEMS_PER_CHECK = 25


@dataclass
class ReadResult:
    """What :func:`read_dataset` found: manifest, layers in the working CRS, graph, problems."""

    path: Path
    manifest: dict[str, Any] = field(default_factory=dict)
    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    graph: nx.MultiGraph | None = None
    problems: list[Problem] = field(default_factory=list)


def _add(problems: list[Problem], layer: str, ids: list[Any], message: str) -> None:
    """Add one problem per feature id, at most MAX_PROBLEMS_PER_CHECK, then a summary line."""
    for fid in ids[:MAX_PROBLEMS_PER_CHECK]:
        problems.append(Problem(layer, None if fid is None else str(fid), message))
    if len(ids) > MAX_PROBLEMS_PER_CHECK:
        problems.append(Problem(layer, None, f"... and {len(ids) - MAX_PROBLEMS_PER_CHECK} more features: {message}"))


def read_manifest(path: Path, problems: list[Problem]) -> dict[str, Any] | None:
    mpath = path / MANIFEST_NAME
    if not mpath.is_file():
        problems.append(Problem("manifest", None, f"{mpath} not found"))
        return None
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        problems.append(Problem("manifest", None, f"{MANIFEST_NAME} is not valid JSON: {exc}"))
        return None
    except OSError as exc:
        problems.append(Problem("manifest", None, f"{MANIFEST_NAME} cannot be read: {exc}"))
        return None
    if not isinstance(manifest, dict):
        problems.append(Problem("manifest", None, "must be a JSON object"))
        return None
    for key in MANIFEST_KEYS:
        if key not in manifest:
            problems.append(Problem("manifest", None, f"missing key '{key}'"))
    if manifest.get("schema_version") not in (None, SCHEMA_VERSION):
        problems.append(
            Problem(
                "manifest",
                None,
                f"schema_version {manifest.get('schema_version')!r} is not supported (expected {SCHEMA_VERSION})",
            )
        )
    year = manifest.get("reference_year", 2026)
    if not (isinstance(year, int) and not isinstance(year, bool) and 1800 <= year <= 2200):
        problems.append(Problem("manifest", None, f"reference_year must be a year (integer), got {year!r}"))
    layers = manifest.get("layers")
    if not isinstance(layers, dict):
        problems.append(Problem("manifest", None, "'layers' must be an object: layer name -> entry"))
        manifest["layers"] = {}
        return manifest
    for name, entry in layers.items():
        if name not in LAYERS:
            problems.append(Problem("manifest", name, f"unknown layer (known: {', '.join(LAYERS)})"))
            continue
        if not isinstance(entry, dict) or "file" not in entry:
            problems.append(Problem("manifest", name, "layer entry must be an object with 'file'"))
            continue
        for key in ("source", "licence", "approximate"):
            if key not in entry:
                problems.append(Problem("manifest", name, f"layer entry is missing '{key}'"))
    for name, spec in LAYERS.items():
        if spec.required and name not in layers:
            problems.append(Problem("manifest", name, "required layer is not listed"))
    return manifest


_MISSING = object()


def _read_layer_file(name: str, fpath: Path, problems: list[Problem]) -> tuple[gpd.GeoDataFrame, list] | None:
    """Read a GeoJSON layer: the GeoDataFrame (geometry, pass-through columns) and the raw
    ``properties`` of each feature as parsed by ``json`` (exact JSON types, for the checks)."""
    if not fpath.is_file():
        problems.append(Problem(name, None, f"file {fpath.name} not found"))
        return None
    try:
        raw = json.loads(fpath.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        problems.append(Problem(name, None, f"{fpath.name} is not valid JSON: {exc}"))
        return None
    except OSError as exc:
        problems.append(Problem(name, None, f"{fpath.name} cannot be read: {exc}"))
        return None
    features = raw.get("features") if isinstance(raw, dict) else None
    if not isinstance(features, list):
        problems.append(Problem(name, None, f"{fpath.name} is not a GeoJSON FeatureCollection"))
        return None
    if not features:
        return gpd.GeoDataFrame(geometry=[], crs=FILE_CRS), []
    try:
        with warnings.catch_warnings():
            # GDAL's type coercions and notes; the attribute checks below use the raw JSON values
            warnings.simplefilter("ignore")
            gdf = pyogrio.read_dataframe(fpath)
    except Exception as exc:  # noqa: BLE001 - any driver failure is reported as a dataset problem
        problems.append(Problem(name, None, f"{fpath.name} could not be read as GeoJSON: {exc}"))
        return None
    if not isinstance(gdf, gpd.GeoDataFrame):
        problems.append(Problem(name, None, f"{fpath.name} has no geometry"))
        return None
    props = [f.get("properties") if isinstance(f, dict) else None for f in features]
    props = [p if isinstance(p, dict) else {} for p in props]
    if len(props) != len(gdf):
        problems.append(Problem(name, None, f"{fpath.name}: {len(props)} features but {len(gdf)} readable"))
        return None
    return gdf.reset_index(drop=True), props


def _check_crs(name: str, gdf: gpd.GeoDataFrame, problems: list[Problem]) -> bool:
    """GeoJSON layers must be WGS84 longitude/latitude (RFC 7946)."""
    expected = CRS.from_user_input(FILE_CRS)
    crs = CRS.from_user_input(gdf.crs) if gdf.crs is not None else None
    if crs is not None and len(crs.axis_info) == 3:
        crs = crs.to_2d()  # RFC 7946 allows an elevation; GDAL then reports EPSG:4979
    if crs is None or not crs.equals(expected, ignore_axis_order=True):
        got = "none" if gdf.crs is None else gdf.crs.to_string()
        problems.append(Problem(name, None, f"CRS is {got}, expected {FILE_CRS} (WGS84 lon/lat) in a GeoJSON layer"))
        return False
    if len(gdf) and not gdf.geometry.isna().all():
        minx, miny, maxx, maxy = gdf.total_bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            problems.append(
                Problem(
                    name,
                    None,
                    f"coordinates ({minx:.0f}, {miny:.0f})..({maxx:.0f}, {maxy:.0f}) are not lon/lat degrees: "
                    f"the file is probably in a projected CRS but not declared; expected {FILE_CRS}",
                )
            )
            return False
    return True


def _ids(gdf: gpd.GeoDataFrame, spec: LayerSpec) -> pd.Series:
    if spec.id_column in gdf:
        return gdf[spec.id_column].astype(object).where(gdf[spec.id_column].notna(), None)
    return pd.Series([f"#{i}" for i in range(len(gdf))], index=gdf.index, dtype=object)


def _raw_column(props: list[dict], name: str, index: pd.Index) -> pd.Series:
    """The raw JSON values of one property (None where null or absent), exact Python types."""
    return pd.Series([p.get(name) for p in props], index=index, dtype=object)


def _typed(col: pd.Series, attr: Attr) -> pd.Series:
    """A checked raw column in the pandas dtype of its schema type (nullable ints and bools)."""
    if attr.dtype == "int":
        return pd.array([None if v is None else int(v) for v in col], dtype="Int64")
    if attr.dtype == "float":
        return pd.to_numeric(col, errors="coerce").astype("float64")
    if attr.dtype == "bool":
        return pd.array([v if isinstance(v, bool) else None for v in col], dtype="boolean")
    return col.where(col.map(lambda v: isinstance(v, str)), None).astype(object)


def _check_attr(layer: str, col: pd.Series, ids: pd.Series, attr: Attr, problems: list[Problem], mask=None) -> bool:
    """Check one attribute's raw JSON values; True when every value has the right type."""
    if mask is not None:
        col = col[mask]
    isnull = col.map(lambda v: v is None)
    if not attr.nullable and isnull.any():
        _add(problems, layer, ids[col.index[isnull]].tolist(), f"attribute '{attr.name}' is missing (null)")
    vals = col[~isnull]
    if vals.empty:
        return True
    bad: pd.Series
    if attr.dtype == "str":
        bad = ~vals.map(lambda v: isinstance(v, str))
        expected = "a string"
    elif attr.dtype == "bool":
        bad = ~vals.map(lambda v: isinstance(v, bool))
        expected = "true or false"
    else:
        num = vals.map(lambda v: float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else math.nan)
        bad = num.isna() | ~np.isfinite(num)
        expected = "a number"
        if attr.dtype == "int":
            bad |= (num % 1 != 0) & ~bad
            expected = "an integer"
        if attr.min_value is not None:
            below = ~bad & (num < attr.min_value)
            if below.any():
                _add(
                    problems,
                    layer,
                    ids[vals.index[below]].tolist(),
                    f"attribute '{attr.name}' must be >= {attr.min_value}",
                )
        if attr.positive:
            nonpos = ~bad & (num <= 0)
            if nonpos.any():
                _add(problems, layer, ids[vals.index[nonpos]].tolist(), f"attribute '{attr.name}' must be > 0")
    if bad.any():
        badvals = vals[bad]
        for idx, v in list(badvals.items())[:MAX_PROBLEMS_PER_CHECK]:
            fid = ids[idx]
            problems.append(
                Problem(
                    layer, None if fid is None else str(fid), f"attribute '{attr.name}' must be {expected}, got {v!r}"
                )
            )
        if len(badvals) > MAX_PROBLEMS_PER_CHECK:
            problems.append(
                Problem(
                    layer,
                    None,
                    f"... and {len(badvals) - MAX_PROBLEMS_PER_CHECK} more features: "
                    f"attribute '{attr.name}' must be {expected}",
                )
            )
        return False
    if attr.choices is not None:
        out = ~vals.isin(attr.choices)
        if out.any():
            _add(
                problems,
                layer,
                ids[vals.index[out]].tolist(),
                f"attribute '{attr.name}' is {vals[out].iloc[0]!r}, expected one of {', '.join(attr.choices)}",
            )
    return True


def _merge_typed(attr: Attr, col: pd.Series, mask: pd.Series) -> pd.Series:
    """Typed values of a kind-specific attribute: the checked rows, plus other rows whose value fits."""

    def fits(v: Any) -> bool:
        if attr.dtype in ("int", "float"):
            ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            return ok and (attr.dtype == "float" or float(v).is_integer())
        return isinstance(v, bool) if attr.dtype == "bool" else isinstance(v, str)

    return _typed(col.where(mask | col.map(fits), None), attr)


def check_layer(name: str, gdf: gpd.GeoDataFrame, problems: list[Problem], props: list[dict] | None = None) -> None:
    """Check ids, attributes and geometries of one layer (in any CRS).

    ``props`` are the raw JSON properties of the features (see ``_read_layer_file``); without
    them the GeoDataFrame's values are checked. Checked attributes are converted in place to
    their schema dtype (``Int64``, ``float64``, ``boolean``, ``object``).
    """
    spec = LAYERS[name]
    if len(gdf) == 0:
        if not spec.may_be_empty:
            problems.append(Problem(name, None, "layer has no features"))
        return
    if props is None:
        props = [
            {k: (None if (not isinstance(v, str) and pd.isna(v)) else v) for k, v in row.items()}
            for row in gdf.drop(columns=gdf.geometry.name).astype(object).to_dict("records")
        ]
    present = set().union(*(p.keys() for p in props))
    if spec.id_column in present:
        gdf[spec.id_column] = _raw_column(props, spec.id_column, gdf.index)
    ids = _ids(gdf, spec)
    if spec.id_column not in present:
        problems.append(Problem(name, None, f"missing id attribute '{spec.id_column}'"))
    else:
        dup = ids[ids.duplicated(keep=False) & ids.notna()]
        if not dup.empty:
            _add(problems, name, sorted(set(map(str, dup))), f"duplicate {spec.id_column}")
    checks = [(attr, None, None) for attr in spec.attrs]
    if spec.kind_attrs and "kind" in present:
        kinds = _raw_column(props, "kind", gdf.index)
        for kind, attrs in spec.kind_attrs.items():
            mask = kinds == kind
            if mask.any():
                checks += [(attr, mask, kind) for attr in attrs]
    typed_ok: dict[str, bool] = {}
    for attr, mask, kind in checks:
        if attr.name not in present:
            why = f" required for kind '{kind}'" if kind else f" ({attr.dtype})"
            problems.append(Problem(name, None, f"missing attribute '{attr.name}'{why}"))
            typed_ok[attr.name] = False
            continue
        col = _raw_column(props, attr.name, gdf.index)
        ok = _check_attr(name, col, ids, attr, problems, mask=mask)
        typed_ok[attr.name] = typed_ok.get(attr.name, True) and ok
        if typed_ok[attr.name]:
            gdf[attr.name] = _typed(col, attr) if mask is None else _merge_typed(attr, col, mask)
    geoms = gdf.geometry
    missing = geoms.isna() | geoms.is_empty
    if missing.any():
        _add(problems, name, ids[missing].tolist(), "geometry is missing or empty")
    present = ~missing
    types = geoms[present].geom_type
    wrong = types[~types.isin(spec.geometry)]
    if not wrong.empty:
        _add(
            problems,
            name,
            ids[wrong.index].tolist(),
            f"geometry is {wrong.iloc[0]}, expected {' or '.join(spec.geometry)}",
        )
    valid = shapely.is_valid(geoms[present].values)
    if not valid.all():
        idx = geoms[present].index[~valid]
        reasons = shapely.is_valid_reason(geoms.loc[idx].values)
        for fid, reason in list(zip(ids[idx].tolist(), reasons, strict=True))[:MAX_PROBLEMS_PER_CHECK]:
            problems.append(Problem(name, None if fid is None else str(fid), f"invalid geometry: {reason}"))
        if len(idx) > MAX_PROBLEMS_PER_CHECK:
            problems.append(Problem(name, None, f"... and {len(idx) - MAX_PROBLEMS_PER_CHECK} more invalid geometries"))


def check_reachability(layers: dict[str, gpd.GeoDataFrame], G: nx.MultiGraph, problems: list[Problem]) -> None:
    """One connected walk graph, and every facility, access point and device close to it."""
    if G.number_of_nodes() == 0:
        problems.append(Problem("roads", None, "walk graph is empty"))
        return
    comps = components_by_size(G)
    if len(comps) > 1:
        sizes = ", ".join(str(len(c)) for c in comps[:5])
        problems.append(
            Problem("roads", None, f"walk graph is not connected: {len(comps)} components (nodes: {sizes}...)")
        )
    main = comps[0]
    nodes = np.array(sorted(main))
    xy = np.array([(G.nodes[n]["x"], G.nodes[n]["y"]) for n in nodes])
    tree = cKDTree(xy)
    for name in REACHABLE_LAYERS:
        gdf = layers.get(name)
        if gdf is None or len(gdf) == 0:
            continue
        ok = gdf.geometry.notna() & ~gdf.geometry.is_empty & (gdf.geom_type == "Point")
        sub = gdf[ok]
        if sub.empty:
            continue
        dist, _ = tree.query(np.column_stack([sub.geometry.x, sub.geometry.y]))
        far = dist > MAX_ACCESS_DISTANCE_M
        if far.any():
            ids = _ids(sub, LAYERS[name])
            for fid, d in list(zip(ids[far].tolist(), dist[far], strict=True))[:MAX_PROBLEMS_PER_CHECK]:
                problems.append(
                    Problem(
                        name,
                        None if fid is None else str(fid),
                        f"unreachable: nearest node of the main walk graph is {d:.0f} m away "
                        f"(limit {MAX_ACCESS_DISTANCE_M:.0f} m)",
                    )
                )
            if far.sum() > MAX_PROBLEMS_PER_CHECK:
                problems.append(Problem(name, None, f"... and {far.sum() - MAX_PROBLEMS_PER_CHECK} more unreachable"))


def read_dataset(path: str | Path, *, check_graph: bool = True) -> ReadResult:
    """Read every layer of the dataset at ``path``, reproject to EPSG:5186 and check it all.

    Never raises for a bad dataset: the problems are in ``result.problems``.
    """
    path = Path(path)
    result = ReadResult(path=path)
    problems = result.problems
    if not path.is_dir():
        problems.append(Problem("dataset", None, f"{path} is not a directory"))
        return result
    manifest = read_manifest(path, problems)
    if manifest is None:
        return result
    result.manifest = manifest
    for name, _spec in LAYERS.items():
        entry = manifest.get("layers", {}).get(name)
        if not isinstance(entry, dict) or "file" not in entry:
            continue
        read = _read_layer_file(name, path / str(entry["file"]), problems)
        if read is None:
            continue
        gdf, props = read
        if not _check_crs(name, gdf, problems):
            continue
        gdf = gdf.set_geometry(shapely.force_2d(gdf.geometry.values), crs=gdf.crs)
        check_layer(name, gdf, problems, props)
        if gdf.crs is None:
            gdf = gdf.set_crs(FILE_CRS)
        result.layers[name] = gdf.to_crs(WORKING_CRS)
    roads = result.layers.get("roads")
    if roads is not None and check_graph:
        usable = roads[
            roads.geometry.notna()
            & ~roads.geometry.is_empty
            & (roads.geom_type == "LineString")
            & roads.get("edge_id", pd.Series(index=roads.index, dtype=object)).notna()
        ]
        if {"edge_id", "kind", "width_m"} <= set(usable.columns):
            usable = usable[pd.to_numeric(usable["width_m"], errors="coerce").notna()]
            result.graph = walk_graph(usable)
            check_reachability(result.layers, result.graph, problems)
    return result
