"""Read a dataset directory and check it against :mod:`twin.dataset_schema`.

Every check appends a :class:`~twin.errors.Problem` naming the layer, the feature id and what is
wrong; reading goes on after a problem wherever it can, so one run reports them all. A problem
never repeats a long value or a file's contents: values are described (``a string of 5000
characters``), and a feature whose id is not a short string is named by its position (``#3``).

What passes is runnable: JSON files are read within bounds (UTF-8, nesting, finite numbers, see
:func:`twin.geojson_io.read_json_file`), numbers lie in the plausible ranges of the schema, every
reference between layers resolves, alert thresholds rise, and stream beds do not rise downstream.
Values outside the range where the models are valid are ``warnings``, not problems.

Why one module of this size: it is the one place where every rule of a dataset is checked (the
rules themselves are data in :mod:`twin.dataset_schema`), so that "valid" means one thing.
"""

from __future__ import annotations

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
    BED_RISE_TOLERANCE_M,
    FILE_CRS,
    LAYERS,
    MANIFEST_KEYS,
    MANIFEST_NAME,
    SCHEMA_VERSION,
    THRESHOLD_LEVELS,
    WORKING_CRS,
    Attr,
    LayerSpec,
)
from .errors import JSONFileError, Problem
from .geojson_io import json_path, read_json_file
from .river_gauges import read_river_gauges
from .surveillance import read_surveillance
from .walk_graph import MERGE_DISTANCE_M, collapse_reason, collapsed_links, components_by_size, walk_graph

MAX_ACCESS_DISTANCE_M = 200.0
"""A point feature counts as reachable when the nearest walk-graph node of the main component
lies within this distance (metres). Sensors in a stream channel sit a few tens of metres from
the riverside path; facilities are joined to the network by connectors."""

REACHABLE_LAYERS = ("facilities", "access_points", "devices")
MAX_PROBLEMS_PER_CHECK = 25
MAX_EXACT_INT = 2**53
"""Largest integer attribute accepted: a float represents every integer up to it exactly."""
MAX_ID_CHARS = 64
"""A feature id longer than this (or not a printable string) is shown by position, ``#<index>``."""


@dataclass
class ReadResult:
    """What :func:`read_dataset` found: manifest, layers in the working CRS, graph, problems."""

    path: Path
    manifest: dict[str, Any] = field(default_factory=dict)
    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    graph: nx.MultiGraph | None = None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    """Values outside the range where the models are valid: the dataset still loads and runs."""


def _add(problems: list[Problem], layer: str, ids: list[Any], message: str) -> None:
    """Add one problem per feature id, at most MAX_PROBLEMS_PER_CHECK, then a summary line."""
    for fid in ids[:MAX_PROBLEMS_PER_CHECK]:
        problems.append(Problem(layer, None if fid is None else str(fid), message))
    if len(ids) > MAX_PROBLEMS_PER_CHECK:
        problems.append(Problem(layer, None, f"... and {len(ids) - MAX_PROBLEMS_PER_CHECK} more features: {message}"))


def display_id(value: Any, index: Any) -> str:
    """How a feature is named in a problem: its id when a short printable string, else ``#index``
    (its position in the file), so that a garbage id is never printed."""
    if isinstance(value, str) and 0 < len(value) <= MAX_ID_CHARS and value.isprintable():
        return value
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**18:
        return str(value)
    return f"#{index}"


def describe(value: Any) -> str:
    """A JSON value for a one-line message: short values as they are, long ones by type and size."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if abs(value) < 10**18 else f"an integer of {len(str(abs(value)))} digits"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return f"{value:g}" if math.isfinite(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, str):
        if len(value) <= 40 and value.isprintable():
            return repr(value)
        return f"a string of {len(value)} characters"
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value)} items"
    if isinstance(value, dict):
        return f"an object with {len(value)} keys"
    return f"a {type(value).__name__}"


def _one_line(text: Any, limit: int = 200) -> str:
    text = " ".join(str(text).split()).encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read_manifest(path: Path, problems: list[Problem]) -> dict[str, Any] | None:
    mpath = path / MANIFEST_NAME
    if not mpath.is_file():
        problems.append(Problem("manifest", None, f"{mpath} not found"))
        return None
    try:
        manifest, bad = read_json_file(mpath)
    except JSONFileError as exc:
        problems.append(Problem("manifest", None, str(exc)))
        return None
    if bad:
        for where, what in bad[:MAX_PROBLEMS_PER_CHECK]:
            problems.append(Problem("manifest", None, f"{MANIFEST_NAME}: {json_path(where)}: {what}"))
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
                f"schema_version {describe(manifest.get('schema_version'))} is not supported "
                f"(expected {SCHEMA_VERSION})",
            )
        )
    year = manifest.get("reference_year", 2026)
    if not (isinstance(year, int) and not isinstance(year, bool) and 1800 <= year <= 2200):
        problems.append(Problem("manifest", None, f"reference_year must be a year (integer), got {describe(year)}"))
    layers = manifest.get("layers")
    if not isinstance(layers, dict):
        problems.append(Problem("manifest", None, "'layers' must be an object: layer name -> entry"))
        manifest["layers"] = {}
        return manifest
    for name, entry in layers.items():
        if name not in LAYERS:
            shown = display_id(name, "?")
            problems.append(Problem("manifest", shown, f"unknown layer (known: {', '.join(LAYERS)})"))
            continue
        if not isinstance(entry, dict) or "file" not in entry:
            problems.append(Problem("manifest", name, "layer entry must be an object with 'file'"))
            continue
        if not isinstance(entry["file"], str) or not entry["file"].strip():
            problems.append(
                Problem("manifest", name, f"layers.{name}.file must be a file name, got {describe(entry['file'])}")
            )
            entry.pop("file")
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
        raw, bad = read_json_file(fpath)
    except JSONFileError as exc:
        problems.append(Problem(name, None, str(exc)))
        return None
    features = raw.get("features") if isinstance(raw, dict) else None
    if not isinstance(features, list):
        problems.append(Problem(name, None, f"{fpath.name} is not a GeoJSON FeatureCollection"))
        return None
    if bad:
        _bad_values(name, fpath.name, features, bad, problems)
        return None
    if not features:
        return gpd.GeoDataFrame(geometry=[], crs=FILE_CRS), []
    try:
        with warnings.catch_warnings():
            # GDAL's type coercions and notes; the attribute checks below use the raw JSON values
            warnings.simplefilter("ignore")
            gdf = pyogrio.read_dataframe(fpath)
    except Exception as exc:  # noqa: BLE001 - any driver failure is reported as a dataset problem
        if not _check_raw_geometries(name, fpath.name, features, problems):
            problems.append(Problem(name, None, f"{fpath.name} could not be read as GeoJSON: {_one_line(exc)}"))
        return None
    coords = shapely.get_coordinates(gdf.geometry.values) if isinstance(gdf, gpd.GeoDataFrame) else np.zeros((0, 2))
    unread = gdf.geometry.isna() | gdf.geometry.is_empty
    suspect = not np.isfinite(coords).all() or unread.any()
    if suspect and _check_raw_geometries(name, fpath.name, features, problems):
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


def _bad_values(name: str, fname: str, features: list, bad: list, problems: list[Problem]) -> None:
    """One problem per value JSON cannot carry, naming the feature and the field path in it."""
    spec = LAYERS[name]
    for where, what in bad[:MAX_PROBLEMS_PER_CHECK]:
        fid = None
        if len(where) >= 2 and where[0] == "features" and isinstance(where[1], int):
            feature = features[where[1]]
            props = feature.get("properties") if isinstance(feature, dict) else None
            fid = display_id(props.get(spec.id_column) if isinstance(props, dict) else None, where[1])
            where = where[2:]
        problems.append(Problem(name, fid, f"{fname}: {json_path(where) or '(the document)'}: {what}"))
    if len(bad) > MAX_PROBLEMS_PER_CHECK:
        problems.append(Problem(name, None, f"{fname}: ... and {len(bad) - MAX_PROBLEMS_PER_CHECK} more such values"))


def _check_raw_geometries(name: str, fname: str, features: list, problems: list[Problem]) -> int:
    """Problems for features whose JSON geometry is not an object with a ``type`` and nested lists
    of numbers as ``coordinates``; returns how many (called only when GDAL could not read them)."""
    spec = LAYERS[name]
    found = 0
    for i, feature in enumerate(features):
        geom = feature.get("geometry") if isinstance(feature, dict) else None
        if geom is None:
            continue
        where, what = _raw_geometry_fault(geom)
        if what is None:
            continue
        found += 1
        if found <= MAX_PROBLEMS_PER_CHECK:
            props = feature.get("properties")
            fid = display_id(props.get(spec.id_column) if isinstance(props, dict) else None, i)
            problems.append(Problem(name, fid, f"{fname}: {json_path(('geometry', *where))}: {what}"))
    if found > MAX_PROBLEMS_PER_CHECK:
        problems.append(Problem(name, None, f"{fname}: ... and {found - MAX_PROBLEMS_PER_CHECK} more bad geometries"))
    return found


def _raw_geometry_fault(geom: Any) -> tuple[tuple, str | None]:
    """Where and what is wrong in one JSON geometry (``((), None)`` when nothing is)."""
    if not isinstance(geom, dict):
        return (), f"expected a GeoJSON geometry object, got {describe(geom)}"
    if not isinstance(geom.get("type"), str):
        return ("type",), f"expected a geometry type, got {describe(geom.get('type'))}"
    stack: list[tuple[tuple, Any]] = [(("coordinates",), geom.get("coordinates"))]
    while stack:
        where, v = stack.pop()
        if not isinstance(v, list):
            return where, f"expected a list of positions, got {describe(v)}"
        if v and not isinstance(v[0], list):  # a position: 2 or 3 numbers
            for k, x in enumerate(v):
                if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(_as_float(x)):
                    return (*where, k), f"expected a number (degrees), got {describe(x)}"
            if not 2 <= len(v) <= 3:
                return where, f"expected a position of 2 or 3 numbers, got {len(v)}"
            continue
        stack.extend(((*where, k), x) for k, x in enumerate(v))
    return (), None


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
        if np.isfinite([minx, miny, maxx, maxy]).all() and not (
            -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90
        ):
            b = gdf.geometry.bounds
            out = (b["minx"] < -180) | (b["maxx"] > 180) | (b["miny"] < -90) | (b["maxy"] > 90)
            if out.sum() <= MAX_PROBLEMS_PER_CHECK and out.sum() < len(gdf):  # a few features, not the file
                spec = LAYERS[name]
                _add(
                    problems,
                    name,
                    _ids(gdf, spec)[out].tolist(),
                    "coordinates are not lon/lat degrees (outside -180..180, -90..90)",
                )
                return False
            problems.append(
                Problem(
                    name,
                    None,
                    f"coordinates ({minx:.4g}, {miny:.4g})..({maxx:.4g}, {maxy:.4g}) are not lon/lat degrees: "
                    f"the file is probably in a projected CRS but not declared; expected {FILE_CRS}",
                )
            )
            return False
    return True


def _ids(gdf: gpd.GeoDataFrame, spec: LayerSpec) -> pd.Series:
    """How each feature is named in problems (see :func:`display_id`); the index is the position."""
    if spec.id_column in gdf:
        return pd.Series(
            [display_id(v, i) for i, v in zip(gdf.index, gdf[spec.id_column], strict=True)],
            index=gdf.index,
            dtype=object,
        )
    return pd.Series([f"#{i}" for i in gdf.index], index=gdf.index, dtype=object)


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


def _check_attr(
    layer: str,
    col: pd.Series,
    ids: pd.Series,
    attr: Attr,
    problems: list[Problem],
    mask=None,
    warnings: list[Problem] | None = None,
) -> bool:
    """Check one attribute's raw JSON values; True when every value has the right type.

    Type, choices and the bounds of the schema are problems; a value outside ``attr.valid_range``
    is a warning (added to ``warnings`` when given)."""
    if mask is not None:
        col = col[mask]
    isnull = col.map(lambda v: v is None)
    if not attr.nullable and isnull.any():
        _add(problems, layer, ids[col.index[isnull]].tolist(), f"attribute '{attr.name}' is missing (null)")
    vals = col[~isnull]
    if vals.empty:
        return True
    unit = f" ({attr.doc})" if attr.doc else ""
    bad: pd.Series
    if attr.dtype == "str":
        bad = ~vals.map(lambda v: isinstance(v, str))
        expected = "a string"
    elif attr.dtype == "bool":
        bad = ~vals.map(lambda v: isinstance(v, bool))
        expected = "true or false"
    else:
        num = vals.map(_as_float)
        bad = num.isna() | ~np.isfinite(num)
        expected = "a number"
        if attr.dtype == "int":
            bad |= ((num % 1 != 0) | (num.abs() > MAX_EXACT_INT)) & ~bad
            expected = "an integer"
        rules = []
        if attr.min_value is not None:
            rules.append((num < attr.min_value, f">= {attr.min_value:g}"))
        if attr.positive:
            rules.append((num <= 0, "> 0"))
        if attr.max_value is not None:
            rules.append((num > attr.max_value, f"<= {attr.max_value:g}"))
        for out, rule in rules:
            _add_each(
                problems,
                layer,
                ids,
                vals[~bad & out],
                lambda v, r=rule: f"attribute '{attr.name}' must be {r}, got {describe(v)}{unit}",
            )
        if attr.valid_range is not None and warnings is not None:
            lo, hi = attr.valid_range
            outside = ~bad & ((num < lo) | (num > hi))
            _add_each(
                warnings,
                layer,
                ids,
                vals[outside],
                lambda v: (
                    f"attribute '{attr.name}' is {describe(v)}, outside {lo:g}..{hi:g} where the models are valid{unit}"
                ),
            )
    if bad.any():
        _add_each(
            problems, layer, ids, vals[bad], lambda v: f"attribute '{attr.name}' must be {expected}, got {describe(v)}"
        )
        return False
    if attr.choices is not None:
        out = ~vals.isin(attr.choices)
        if out.any():
            _add_each(
                problems,
                layer,
                ids,
                vals[out],
                lambda v: f"attribute '{attr.name}' is {describe(v)}, expected one of {', '.join(attr.choices)}",
            )
    return True


def _as_float(v: Any) -> float:
    """A JSON number as a float (NaN for anything else, or for an int too large for a float)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return math.nan
    try:
        return float(v)
    except OverflowError:
        return math.nan


def _add_each(problems: list[Problem], layer: str, ids: pd.Series, values: pd.Series, message) -> None:
    """One problem per feature with its own value (``message(value)``), at most MAX_PROBLEMS_PER_CHECK."""
    for idx, v in list(values.items())[:MAX_PROBLEMS_PER_CHECK]:
        problems.append(Problem(layer, ids[idx], message(v)))
    if len(values) > MAX_PROBLEMS_PER_CHECK:
        first = message(values.iloc[0]).split(", got ")[0]
        problems.append(Problem(layer, None, f"... and {len(values) - MAX_PROBLEMS_PER_CHECK} more features: {first}"))


def _merge_typed(attr: Attr, col: pd.Series, mask: pd.Series) -> pd.Series:
    """Typed values of a kind-specific attribute: the checked rows, plus other rows whose value fits."""

    def fits(v: Any) -> bool:
        if attr.dtype in ("int", "float"):
            f = _as_float(v)
            return math.isfinite(f) and (attr.dtype == "float" or (f.is_integer() and abs(f) <= MAX_EXACT_INT))
        return isinstance(v, bool) if attr.dtype == "bool" else isinstance(v, str)

    return _typed(col.where(mask | col.map(fits), None), attr)


def check_layer(
    name: str,
    gdf: gpd.GeoDataFrame,
    problems: list[Problem],
    props: list[dict] | None = None,
    warnings: list[Problem] | None = None,
) -> None:
    """Check ids, attributes and geometries of one layer (in any CRS).

    ``props`` are the raw JSON properties of the features (see ``_read_layer_file``); without
    them the GeoDataFrame's values are checked. Checked attributes are converted in place to
    their schema dtype (``Int64``, ``float64``, ``boolean``, ``object``). Values outside the range
    where the models are valid go to ``warnings`` when given.
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
        raw_ids = gdf[spec.id_column].map(lambda v: v if isinstance(v, str) else None)
        dup = ids[raw_ids.duplicated(keep=False) & raw_ids.notna()]
        if not dup.empty:
            _add(problems, name, sorted(set(map(str, dup))), f"duplicate {spec.id_column}")
    # (attribute, rows it applies to or None for all, the kind that needs it or None for all)
    checks: list[tuple[Attr, pd.Series | None, str | None]] = [(attr, None, None) for attr in spec.attrs]
    if spec.kind_attrs and "kind" in present:
        kinds = _raw_column(props, "kind", gdf.index)
        for kind, attrs in spec.kind_attrs.items():
            mask = kinds == kind
            if mask.any():
                checks += [(attr, mask, kind) for attr in attrs]
    checks += [(attr, None, None) for attr in spec.optional_attrs if attr.name in present]
    typed_ok: dict[str, bool] = {}
    for attr, mask, of_kind in checks:
        if attr.name not in present:
            why = f" required for kind '{of_kind}'" if of_kind else f" ({attr.dtype})"
            problems.append(Problem(name, None, f"missing attribute '{attr.name}'{why}"))
            typed_ok[attr.name] = False
            continue
        col = _raw_column(props, attr.name, gdf.index)
        ok = _check_attr(name, col, ids, attr, problems, mask=mask, warnings=warnings)
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


def check_collapsed_links(roads: gpd.GeoDataFrame, fname: str, problems: list[Problem]) -> np.ndarray:
    """A problem for every link whose two ends fall in one walk-graph node (shorter than
    :data:`~twin.walk_graph.MERGE_DISTANCE_M`, closed, or joined through a chain of close line
    ends): the graph would keep it as a loop no route uses. ``roads`` in metres; returns the mask."""
    collapsed = collapsed_links(roads)
    if not collapsed.any():
        return collapsed
    ids = _ids(roads, LAYERS["roads"])
    expected = (
        f"expected a link at least {MERGE_DISTANCE_M:g} m long whose ends stay apart (the walk graph joins line "
        f"ends closer than {MERGE_DISTANCE_M:g} m)"
    )
    rows = roads.index[collapsed]
    for idx in rows[:MAX_PROBLEMS_PER_CHECK]:
        got, fix = collapse_reason(roads.geometry.loc[idx])
        problems.append(Problem("roads", ids[idx], f"{fname}: geometry: got {got}: {expected}; {fix}"))
    if len(rows) > MAX_PROBLEMS_PER_CHECK:
        problems.append(
            Problem("roads", None, f"{fname}: ... and {len(rows) - MAX_PROBLEMS_PER_CHECK} more such links: {expected}")
        )
    return collapsed


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


def _text(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def _column(gdf: gpd.GeoDataFrame | None, name: str) -> pd.Series:
    """A column of ``gdf`` (all None when the layer or the column is absent)."""
    if gdf is None:
        return pd.Series(dtype=object)
    if name not in gdf:
        return pd.Series([None] * len(gdf), index=gdf.index, dtype=object)
    return gdf[name].astype(object)


def check_references(
    layers: dict[str, gpd.GeoDataFrame], problems: list[Problem], unavailable: frozenset[str] = frozenset()
) -> None:
    """Every id one feature names resolves to a feature of the right layer and kind.

    ``unavailable``: layers listed in the manifest that could not be read; references into them
    are not checked (their problems are already reported)."""
    devices = layers.get("devices")
    dev_ids = _ids(devices, LAYERS["devices"]) if devices is not None else pd.Series(dtype=object)
    kind_of = {d: k for d, k in zip(_column(devices, "device_id"), _column(devices, "kind"), strict=True) if _text(d)}

    def known(name: str) -> set[str] | None:
        """Ids of layer ``name``; None when they cannot be trusted (a bad id is reported already)."""
        if name in unavailable:
            return None
        ids = _column(layers.get(name), LAYERS[name].id_column)
        return None if (~ids.map(lambda v: _text(v) is not None)).any() else set(ids)

    def refs(layer: str, attr: str, target: str, mask: pd.Series | None = None) -> None:
        gdf = layers.get(layer)
        ids_ok = known(target)
        if gdf is None or ids_ok is None or attr not in gdf:
            return
        col = _column(gdf, attr)
        if mask is not None:
            col = col[mask]
        ids = _ids(gdf, LAYERS[layer])
        bad = col[col.map(lambda v: _text(v) is not None and v not in ids_ok)]
        _add_each(
            problems,
            layer,
            ids,
            bad,
            lambda v: f"attribute '{attr}': no {target} feature has {LAYERS[target].id_column} {describe(v)}",
        )

    def device_refs(attr: str, kind: str, of_kind: str) -> None:
        if devices is None or attr not in devices or "devices" in unavailable:
            return
        col = _column(devices, attr)[_column(devices, "kind") == of_kind]
        for idx, v in list(col.items()):
            if _text(v) is None:
                continue
            if v not in kind_of:
                problems.append(
                    Problem(
                        "devices", dev_ids[idx], f"attribute '{attr}': no {kind} in devices has device_id {describe(v)}"
                    )
                )
            elif kind_of[v] != kind:
                problems.append(
                    Problem(
                        "devices",
                        dev_ids[idx],
                        f"attribute '{attr}': {describe(v)} is a {kind_of[v]}, expected a {kind}",
                    )
                )

    refs("streams", "downstream_reach_id", "streams")
    if devices is not None:
        kinds = _column(devices, "kind")
        refs("devices", "access_id", "access_points", kinds.isin(["gate", "signboard"]))
        refs("devices", "watches", "access_points", kinds == "cctv")
        refs("devices", "school_id", "facilities", kinds == "crosswalk")
        refs("devices", "zone_id", "facilities", kinds == "cctv")
        device_refs("level_sensor_id", "level_sensor", "gate")
        if "ptz_sweep_deg" in devices:
            sweep = pd.to_numeric(_column(devices, "ptz_sweep_deg"), errors="coerce")
            period = pd.to_numeric(
                _column(devices, "ptz_period_s") if "ptz_period_s" in devices else pd.Series(None, index=devices.index),
                errors="coerce",
            )
            no_period = (kinds == "cctv") & (sweep > 0) & period.isna()
            _add(
                problems,
                "devices",
                dev_ids[no_period].tolist(),
                "attribute 'ptz_period_s': missing, expected the tour's period in s for a camera with a ptz_sweep_deg",
            )
        device_refs("rain_gauge_id", "rain_gauge", "gate")
        buildings, slopes = known("buildings"), known("slopes")
        if buildings is not None and slopes is not None and "host_id" in devices:
            hosts = buildings | slopes
            col = _column(devices, "host_id")[kinds.isin(["tilt_sensor", "crack_sensor"])]
            _add_each(
                problems,
                "devices",
                dev_ids,
                col[col.map(lambda v: _text(v) is not None and v not in hosts)],
                lambda v: f"attribute 'host_id': no buildings or slopes feature has id {describe(v)}",
            )
            col = _column(devices, "host_id")[kinds == "extensometer"]
            _add_each(
                problems,
                "devices",
                dev_ids,
                col[col.map(lambda v: _text(v) is not None and v not in slopes)],
                lambda v: f"attribute 'host_id': no slopes feature has id {describe(v)} (extensometers sit on slopes)",
            )
    refs("roads", "access_id", "access_points")
    _check_gates_at_access_points(layers, problems, unavailable, kind_of)
    _check_stream_names(layers, problems, unavailable)


def _check_gates_at_access_points(
    layers: dict[str, gpd.GeoDataFrame], problems: list[Problem], unavailable: frozenset[str], kind_of: dict
) -> None:
    """An access point's ``gate_id`` names a gate that stands there (whose ``access_id`` is it)."""
    aps, devices = layers.get("access_points"), layers.get("devices")
    if aps is None or "gate_id" not in aps or "devices" in unavailable:
        return
    gate_at = {}
    if devices is not None and "access_id" in devices:
        gate_at = dict(zip(_column(devices, "device_id"), _column(devices, "access_id"), strict=True))
    ids = _ids(aps, LAYERS["access_points"])
    for idx, gid, aid in zip(aps.index, _column(aps, "gate_id"), _column(aps, "access_id"), strict=True):
        if _text(gid) is None:
            continue
        if kind_of.get(gid) != "gate":
            problems.append(
                Problem(
                    "access_points", ids[idx], f"attribute 'gate_id': no gate in devices has device_id {describe(gid)}"
                )
            )
        elif gate_at.get(gid) != aid:
            problems.append(
                Problem(
                    "access_points",
                    ids[idx],
                    f"attribute 'gate_id': gate {gid} stands at {describe(gate_at.get(gid))} (its access_id), not here",
                )
            )


def _check_stream_names(
    layers: dict[str, gpd.GeoDataFrame], problems: list[Problem], unavailable: frozenset[str]
) -> None:
    """Access points and level sensors name a stream of the streams layer (when it has any)."""
    streams = layers.get("streams")
    if streams is None or len(streams) == 0 or "streams" in unavailable:
        return
    names = {v for v in _column(streams, "name") if _text(v)}
    for layer, mask_kind in (("access_points", None), ("devices", "level_sensor")):
        gdf = layers.get(layer)
        if gdf is None or "stream" not in gdf:
            continue
        col = _column(gdf, "stream")
        if mask_kind is not None:
            col = col[_column(gdf, "kind") == mask_kind]
        _add_each(
            problems,
            layer,
            _ids(gdf, LAYERS[layer]),
            col[col.map(lambda v: _text(v) is not None and v not in names)],
            lambda v: f"attribute 'stream': no stream named {describe(v)} in streams",
        )


def check_streams(streams: gpd.GeoDataFrame | None, problems: list[Problem]) -> None:
    """Reaches drain to one outlet without loops, and no bed rises downstream by more than
    :data:`~twin.dataset_schema.BED_RISE_TOLERANCE_M`, within a reach or into the next reach of
    the same stream."""
    if streams is None or len(streams) == 0 or "reach_id" not in streams:
        return
    spec = LAYERS["streams"]
    ids = _ids(streams, spec)
    tol = BED_RISE_TOLERANCE_M
    rows = {}
    for idx, rid, nxt, name, up, down in zip(
        streams.index,
        _column(streams, "reach_id"),
        _column(streams, "downstream_reach_id"),
        _column(streams, "name"),
        _column(streams, "bed_elev_up_m").map(_as_float),
        _column(streams, "bed_elev_down_m").map(_as_float),
        strict=True,
    ):
        if _text(rid) is not None:
            rows[rid] = (idx, _text(nxt), name, up, down)
    outlets = [rid for rid, r in rows.items() if r[1] is None]
    if len(outlets) != 1:
        problems.append(
            Problem(
                "streams",
                None,
                f"reaches must drain to exactly one outlet (downstream_reach_id null), found {len(outlets)}",
            )
        )
    state: dict[str, int] = {}  # 1: on the current walk, 2: done
    for start in sorted(rows):
        walk, rid = [], start
        while rid in rows and state.get(rid) is None:
            state[rid] = 1
            walk.append(rid)
            rid = rows[rid][1]
        if rid in rows and state.get(rid) == 1:
            loop = walk[walk.index(rid) :]
            first = min(loop)
            shown = " -> ".join(display_id(r, "?") for r in loop[:8]) + (" ..." if len(loop) > 8 else "")
            problems.append(
                Problem("streams", ids[rows[first][0]], f"downstream_reach_id leads round in a loop ({shown})")
            )
        for r in walk:
            state[r] = 2
    for idx, nxt, name, up, down in rows.values():
        if math.isfinite(up) and math.isfinite(down) and down > up + tol:
            problems.append(
                Problem(
                    "streams",
                    ids[idx],
                    f"bed rises downstream within the reach: bed_elev_down_m {down:g} m is {down - up:.2f} m above "
                    f"bed_elev_up_m {up:g} m (tolerance {tol:g} m)",
                )
            )
        if nxt in rows and rows[nxt][2] == name:
            nup = rows[nxt][3]
            if math.isfinite(down) and math.isfinite(nup) and nup > down + tol:
                problems.append(
                    Problem(
                        "streams",
                        ids[idx],
                        f"bed rises by {nup - down:.2f} m into reach {display_id(nxt, '?')} (its bed_elev_up_m "
                        f"{nup:g} m, this bed_elev_down_m {down:g} m; tolerance {tol:g} m)",
                    )
                )


def check_slope_soils(slopes: gpd.GeoDataFrame | None, problems: list[Problem]) -> None:
    """A slope's initial water table lies within its soil (TRIGRS: d <= Z); values already checked
    one by one, so only rows where both are numbers are compared."""
    if slopes is None or "soil_depth_m" not in slopes or "water_table_depth_m" not in slopes:
        return
    depth = pd.to_numeric(slopes["soil_depth_m"], errors="coerce")
    table = pd.to_numeric(slopes["water_table_depth_m"], errors="coerce")
    bad = (table > depth) & depth.notna() & table.notna()
    ids = _ids(slopes, LAYERS["slopes"])
    for i in slopes.index[bad]:
        problems.append(
            Problem(
                "slopes",
                str(ids[i]),
                f"attribute 'water_table_depth_m' must be at most soil_depth_m {depth[i]:g}, got {table[i]:g} "
                "(the water table starts within the soil)",
            )
        )


def check_thresholds(devices: gpd.GeoDataFrame | None, problems: list[Problem], warnings: list[Problem]) -> None:
    """A level sensor's alert thresholds do not decrease from attention to serious; a warning when
    the highest is above the sensor itself (it could not read that stage)."""
    if devices is None or len(devices) == 0 or "kind" not in devices:
        return
    sensors = devices[_column(devices, "kind") == "level_sensor"]
    cols = [f"threshold_{lv}_m" for lv in THRESHOLD_LEVELS]
    if sensors.empty or not set(cols) <= set(sensors.columns):
        return
    ids = _ids(sensors, LAYERS["devices"])
    order = " <= ".join(THRESHOLD_LEVELS)
    values = np.column_stack([_column(sensors, c).map(_as_float).to_numpy(float) for c in cols])
    height = _column(sensors, "sensor_height_m").map(_as_float).to_numpy(float)
    for row, idx in enumerate(sensors.index):
        finite = [(c, v) for c, v in zip(cols, values[row], strict=True) if math.isfinite(v)]
        for (c1, v1), (c2, v2) in zip(finite, finite[1:], strict=False):
            if v1 > v2:
                problems.append(Problem("devices", ids[idx], f"{c1} {v1:g} m is above {c2} {v2:g} m: expected {order}"))
                break
        top = max((v for _, v in finite), default=math.nan)
        if math.isfinite(top) and math.isfinite(height[row]) and top > height[row]:
            warnings.append(
                Problem(
                    "devices",
                    ids[idx],
                    f"highest threshold {top:g} m is above sensor_height_m {height[row]:g} m: the sensor cannot "
                    "read it",
                )
            )


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
    listed = set()
    for name, _spec in LAYERS.items():
        entry = manifest.get("layers", {}).get(name)
        if not isinstance(entry, dict) or "file" not in entry:
            continue
        listed.add(name)
        read = _read_layer_file(name, path / str(entry["file"]), problems)
        if read is None:
            continue
        gdf, props = read
        if not _check_crs(name, gdf, problems):
            continue
        gdf = gdf.set_geometry(shapely.force_2d(gdf.geometry.values), crs=gdf.crs)
        check_layer(name, gdf, problems, props, warnings=result.warnings)
        if gdf.crs is None:
            gdf = gdf.set_crs(FILE_CRS)
        result.layers[name] = gdf.to_crs(WORKING_CRS)
    unavailable = frozenset(listed - set(result.layers))
    check_references(result.layers, problems, unavailable)
    check_streams(result.layers.get("streams"), problems)
    check_thresholds(result.layers.get("devices"), problems, result.warnings)
    check_slope_soils(result.layers.get("slopes"), problems)
    read_river_gauges(manifest, result.layers.get("streams"), result.layers.get("devices"), problems, result.warnings)
    read_surveillance(manifest, problems)
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
            fname = str(manifest["layers"]["roads"]["file"])
            usable = usable[~check_collapsed_links(usable, fname, problems)]
            result.graph = walk_graph(usable)
            check_reachability(result.layers, result.graph, problems)
    return result
