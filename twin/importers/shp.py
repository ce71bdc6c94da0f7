"""Import Korean national GIS shapefiles into a twin dataset directory.

Inputs are the shapefiles Korean agencies publish, in one of the national projected CRSs
(metres): EPSG:5174 (Korean 1985 / Modified Central Belt, Bessel), EPSG:5179 (Korea 2000 /
Unified CS, "UTM-K") or EPSG:5186 (Korea 2000 / Central Belt 2010). Attributes are usually
CP949-encoded (``encoding="cp949"``, the default; pass ``"utf-8"`` for UTF-8 files). The source
CRS comes from each file's ``.prj``; ``crs=`` supplies or overrides it for every file (the
``.prj`` is often missing, or written without authority codes). Everything is reprojected to
EPSG:5186 (metres) for processing; :func:`twin.geojson_io.write_dataset` then writes the layers
as WGS84 (EPSG:4326) GeoJSON plus ``manifest.json``, which :func:`twin.city.load_city` reads.

Attribute presets are chosen per attribute from the columns present (case-insensitive); the
first candidate column found wins, and ``field_map`` (``{"layer.attr": "COLUMN"}``) overrides
any of them. The report returned by :func:`import_shp` lists the column used for each attribute.

Presets, ``layer.attr: candidate columns`` (first present wins)::

    roads.name              RN (도로명주소 도로구간 TL_SPRD_MANAGE), 도로명, name
    roads.road_width        ROAD_BT (TL_SPRD_MANAGE), 도로폭, width       total road width, m
    roads.bridge            BRIDGE, 교량, is_bridge                        truthy -> kind "bridge"
    boundary.city_code      SIG_CD (구역의 도형 TL_SCCO_SIG), code
    boundary.name           SIG_KOR_NM, name
    boundary.name_en        SIG_ENG_NM, name_en
    dongs.dong_code         EMD_CD (TL_SCCO_EMD), ADM_CD, ADM_DR_CD (행정동), code
    dongs.name              EMD_KOR_NM, ADM_NM, ADM_DR_NM, name   (ADM_NM: last word kept)
    dongs.name_en           EMD_ENG_NM, name_en
    buildings.building_id   A1, BD_MGT_SN, UFID, GIS건물통합식별번호, building_id
    buildings.use           A9, 건축물용도명, BDTYP_CD, use
    buildings.structure     A11, 건축물구조명, structure
    buildings.year_built    A13, 사용승인일자, year_built                  YYYYMMDD or YYYY-MM-DD
    buildings.storeys       A26, 지상층수, GRO_FLO_CO, storeys             storeys above ground
    streams.name            RIV_NM, RVR_NM, 하천명, name
    streams.name_en         name_en                                        (default: the name)
    facilities.name         시설명, FAC_NM, name
    facilities.kind         kind
    facilities.name_en      name_en

``roads.width`` is accepted as an alias of ``roads.road_width`` in ``field_map``.

GIS건물통합정보 (VWorld layer AL_D010) names its attributes only A0..A28. The meanings used here
are those of the published layer definition (컬럼 정의서): A1 GIS건물통합식별번호, A8
건축물용도코드, A9 건축물용도명, A10 건축물구조코드, A11 건축물구조명, A13 사용승인일자
(YYYYMMDD or YYYY-MM-DD), A26 지상층수. Releases differ (some national extracts stop at A22 and
have no A26), so check the release you have and override with ``field_map``, e.g.
``{"buildings.storeys": "A26", "buildings.year_built": "A13"}``. The same attributes are also
recognised under their Korean column names. 도로명주소 건물 (TL_SPBD_BULD) has no construction
year; its use is the building-type code BDTYP_CD, kept as is.

Conversions:

* roads: walkable ``width_m`` = clamp(0.2 * road width, 1.5, 6.0) m (sidewalks on both sides of
  a carriageway of the given total width), 3.0 m when the width is unknown or not positive;
  ``kind`` is ``"bridge"`` when the bridge column is truthy, else ``"road"``. Lines are noded:
  wherever two lines cross or touch, both are split there and the pieces share the exact end
  point (the walk graph connects edges only at shared end points, snapped to 0.5 m). A crossing
  within 0.5 m of a line's end uses that end point, and a line end stopping within 0.5 m of
  another line (an undershooting T-junction) cuts that line at the end point. A bridge joins
  other lines only there, at an end of one of the two: where it crosses a line away from both
  lines' ends it passes over it, and neither is split (a bridge over a riverside path). A road is also
  cut at the point nearest to a facility that has no edge end within
  :data:`twin._validate.MAX_ACCESS_DISTANCE_M` (200 m). ``edge_id`` is ``"r<row>-<piece>"``
  (row in the source file, piece counted along the row's parts). A piece whose two ends fall in
  one walk-graph node (shorter than 0.5 m, closed, or its ends joined through other line ends
  closer than 0.5 m; :func:`twin.walk_graph.collapsed_links`) is dropped and reported: the
  validator refuses such links. Only the largest connected component is kept; the other edges
  are reported as dropped.
* boundary: without a boundary file, the convex hull of the roads buffered by 100 m
  (marked approximate). dongs: without a dongs file, one dong per boundary feature.
* buildings: structure names map to :data:`twin.dataset_schema.BUILDING_STRUCTURES`
  (:data:`STRUCTURES`); empty -> ``unknown``; any other name -> ``other``. ``year_built`` is the
  year of the approval date (null when missing or outside 1800..2100); ``storeys`` is null
  unless positive. ``building_id`` falls back to ``"b<row>"``.
* streams (required: the dataset contract needs at least one reach, so ``import_shp`` raises
  DataImportError without a streams file): ``reach_id`` ``"s<row>"`` (``"s<row>-<part>"`` for
  multi-part lines). The channel attributes are placeholders (width 10 m, bank height 3 m,
  bed slope 0.002 m/m, bed elevation 0 m at the downstream end and slope * length (m) at the
  upstream end, Manning n 0.035, ``downstream_reach_id`` null) and the layer is marked
  approximate. ``name_en`` is the Korean name unless a ``name_en`` column exists.
* facilities: points (other geometries use a representative point); ``kind`` from a ``kind``
  column when it holds a valid :data:`~twin.dataset_schema.FACILITY_KINDS` value, else
  ``"other"``; ``facility_id`` ``"f<row>"``. Facilities still farther than
  :data:`twin._validate.MAX_ACCESS_DISTANCE_M` (m) from every node of the kept road network
  are dropped (the dataset would not validate).

Invalid polygons are repaired with ``make_valid``; Z coordinates are dropped.

Why one module of this size: the attribute presets and the per-layer rules of the Korean national
shapefiles are one table read top to bottom; what the shapefile and OSM importers share is in
:mod:`twin.importers.fallbacks`.
"""

from __future__ import annotations

import codecs
import datetime as _dt
import math
import re
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import LineString

from .._validate import MAX_ACCESS_DISTANCE_M
from ..atomic import atomic_dir, check_output_dir
from ..dataset_schema import FACILITY_KINDS, LAYERS, WORKING_CRS
from ..errors import DataImportError
from ..geojson_io import write_dataset
from ..walk_graph import MERGE_DISTANCE_M, collapsed_links, components_by_size, walk_graph
from ._noding import SNAP_M, _line_parts, node_lines, split_for_anchors
from .fallbacks import (
    BOUNDARY_BUFFER_M,
    REACH_LIMIT_M,
    dongs_from_boundary,
    hull_boundary,
    out_of_reach,
    placeholder_channel,
    polygonal,
)

LICENCE = "as published by the data provider (check before redistribution)"
DEFAULT_WALK_WIDTH_M = 3.0
MIN_WALK_WIDTH_M = 1.5
MAX_WALK_WIDTH_M = 6.0
SIDEWALK_SHARE = 0.2
"""Walkable width as a share of the total road width (both sidewalks)."""
SHORT_LINK_REASON = f"shorter than the {MERGE_DISTANCE_M:g} m merge distance of the walk graph (both ends in one node)"
MAX_REPORTED = 50
"""At most this many dropped feature ids are listed per layer in the report."""
_NEED_STREAMS = (
    "streams: the dataset contract (twin.dataset_schema.LAYERS['streams']) requires at least one "
    "stream reach; pass a stream centreline shapefile with --streams (streams=... in Python), "
    "e.g. the 하천 layer of the NGII base map"
)
STREAM_WIDTH_M = 10.0
"""Channel width (m) given to every reach; the other channel values are the placeholders of
:func:`twin.importers.fallbacks.placeholder_channel`."""

# lon/lat box around the Korean peninsula and islands: data outside it has a wrong CRS
_KOREA_LONLAT = (123.5, 32.5, 132.5, 43.5)

PRESETS: dict[str, dict[str, tuple[str, ...]]] = {
    "roads": {
        "name": ("RN", "도로명", "name"),
        "road_width": ("ROAD_BT", "도로폭", "width"),
        "bridge": ("BRIDGE", "교량", "is_bridge"),
    },
    "boundary": {
        "city_code": ("SIG_CD", "code"),
        "name": ("SIG_KOR_NM", "name"),
        "name_en": ("SIG_ENG_NM", "name_en"),
    },
    "dongs": {
        "dong_code": ("EMD_CD", "ADM_CD", "ADM_DR_CD", "code"),
        "name": ("EMD_KOR_NM", "ADM_NM", "ADM_DR_NM", "name"),
        "name_en": ("EMD_ENG_NM", "name_en"),
    },
    "buildings": {
        "building_id": ("A1", "BD_MGT_SN", "UFID", "GIS건물통합식별번호", "building_id"),
        "use": ("A9", "건축물용도명", "BDTYP_CD", "use"),
        "structure": ("A11", "건축물구조명", "structure"),
        "year_built": ("A13", "사용승인일자", "year_built"),
        "storeys": ("A26", "지상층수", "GRO_FLO_CO", "storeys"),
    },
    "streams": {
        "name": ("RIV_NM", "RVR_NM", "하천명", "name"),
        "name_en": ("name_en",),
    },
    "facilities": {
        "name": ("시설명", "FAC_NM", "name"),
        "kind": ("kind",),
        "name_en": ("name_en",),
    },
}
"""Candidate source columns per layer attribute, in priority order (matched case-insensitively)."""

_FIELD_ALIASES = {("roads", "width"): "road_width"}

STRUCTURES: dict[str, str] = {
    "철근콘크리트구조": "reinforced_concrete",
    "철골철근콘크리트구조": "reinforced_concrete",
    "벽돌구조": "masonry",
    "조적구조": "masonry",
    "블록구조": "masonry",
    "석구조": "masonry",
    "기타조적구조": "masonry",
    "일반철골구조": "steel",
    "경량철골구조": "steel",
    "철골구조": "steel",
    "강파이프구조": "steel",
    "기타강구조": "steel",
    "목구조": "wood",
    "일반목구조": "wood",
    "통나무구조": "wood",
}
"""건축물구조명 -> twin structure class. Names are compared without spaces."""

_FALSY = {"", "0", "0.0", "n", "no", "false", "f", "아니오", "아니요", "무", "없음"}


# ---------------------------------------------------------------------------------------------
# value conversion


def _is_missing(v: Any) -> bool:
    """None, NaN, NaT and pandas NA count as missing."""
    if v is None:
        return True
    try:
        r = pd.isna(v)
    except (TypeError, ValueError):
        return False
    return bool(r) if isinstance(r, bool | np.bool_) else False


def _text(v: Any) -> str | None:
    """A value as stripped text; integral floats lose their ``.0``; None when missing or empty."""
    if _is_missing(v):
        return None
    if isinstance(v, float | np.floating) and float(v).is_integer():
        v = int(v)
    s = str(v).strip()
    return s or None


def _number(v: Any) -> float | None:
    """A value as a finite float, or None."""
    if _is_missing(v) or isinstance(v, bool | np.bool_):
        return None
    try:
        x = float(str(v).strip().replace(",", "")) if isinstance(v, str) else float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _truthy(v: Any) -> bool:
    if _is_missing(v):
        return False
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, int | float | np.integer | np.floating):
        return float(v) != 0.0
    return str(v).strip().lower() not in _FALSY


def parse_year(v: Any) -> int | None:
    """Year of an approval date: ``19850312``, ``"1985-03-12"``, ``"1985"``, a date; else None.

    Years outside 1800..2100 give None.
    """
    if _is_missing(v):
        return None
    if isinstance(v, _dt.date):  # also datetime and pandas Timestamp
        year = v.year
    else:
        if isinstance(v, float | np.floating) and float(v).is_integer():
            v = int(v)
        m = re.match(r"\s*(\d{4})", str(v))
        if m is None:
            return None
        year = int(m.group(1))
    return year if 1800 <= year <= 2100 else None


def parse_storeys(v: Any) -> int | None:
    """Storeys above ground as a positive integer, or None."""
    x = _number(v)
    if x is None or x < 0.5:
        return None
    return max(1, int(round(x)))


def structure_class(v: Any) -> str:
    """Map a 건축물구조명 (e.g. ``"벽돌구조"``) to a structure class of the dataset schema."""
    s = _text(v)
    if s is None:
        return "unknown"
    key = re.sub(r"\s+", "", s)
    if key in STRUCTURES:
        return STRUCTURES[key]
    if key.lower() in ("reinforced_concrete", "masonry", "steel", "wood", "other", "unknown"):
        return key.lower()
    return "other"


def walk_width(road_width_m: Any) -> float:
    """Walkable width (m) of a road of total width ``road_width_m`` (m); 3.0 m when unknown."""
    w = _number(road_width_m)
    if w is None or w <= 0:
        return DEFAULT_WALK_WIDTH_M
    return float(min(max(SIDEWALK_SHARE * w, MIN_WALK_WIDTH_M), MAX_WALK_WIDTH_M))


# ---------------------------------------------------------------------------------------------
# reading


def _crs_hint(gdf: gpd.GeoDataFrame) -> str:
    """A guess of the CRS family from the coordinate ranges (metres), for error messages."""
    g = gdf.geometry
    g = g[g.notna() & ~g.is_empty]
    if g.empty:
        return ""
    minx, miny, maxx, maxy = g.total_bounds
    x, y = (minx + maxx) / 2, (miny + maxy) / 2
    if -180 <= x <= 180 and -90 <= y <= 90:
        return " The coordinates look like longitude/latitude degrees (EPSG:4326)."
    if 700_000 < x < 1_400_000 and 1_300_000 < y < 2_300_000:
        return " The coordinates look like EPSG:5179 (UTM-K)."
    if 0 < x < 500_000 and 0 < y < 1_000_000:
        return " The coordinates look like a central-belt CRS: EPSG:5174 (Bessel) or EPSG:5186 (GRS80)."
    return ""


def _codec(name: str) -> str:
    """Canonical codec name; EUC-KR counts as CP949 (its superset), code page 949 too."""
    n = name.strip().lower()
    if n in ("949", "ansi 949", "uhc", "ks_c_5601-1987"):
        return "cp949"
    try:
        n = codecs.lookup(n).name
    except LookupError:
        return n
    return "cp949" if n == "euc_kr" else n


def _read(path: str | Path, layer: str, *, encoding: str, crs: CRS | None, report: dict[str, Any]) -> gpd.GeoDataFrame:
    """Read one input file, set/normalise its CRS and reproject it to EPSG:5186 (metres)."""
    p = Path(path)
    if not p.is_file():
        raise DataImportError(f"{layer}: input file not found: {p}")
    cpg = p.with_suffix(".cpg")
    if cpg.is_file():
        declared = cpg.read_text(encoding="ascii", errors="replace").strip()
        if declared and _codec(declared) != _codec(encoding):
            report["warnings"].append(
                f"{layer}: {cpg.name} declares {declared!r} but the attributes are read as {encoding!r} "
                "(pass --encoding to change)"
            )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            gdf = pyogrio.read_dataframe(p, encoding=encoding)
        except (UnicodeError, LookupError) as exc:
            raise DataImportError(
                f"{layer}: cannot decode the attributes of {p} as {encoding!r}: {exc} (try --encoding utf-8 or cp949)"
            ) from exc
        except Exception as exc:  # noqa: BLE001 - any driver failure is a bad input file
            raise DataImportError(f"{layer}: cannot read {p}: {exc}") from exc
    for w in caught:
        report["warnings"].append(f"{layer}: {p.name}: {w.message}")
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf:
        raise DataImportError(f"{layer}: {p} has no geometry")
    gdf = gdf.reset_index(drop=True)
    if crs is not None:
        gdf = gdf.set_crs(crs, allow_override=True)
    elif gdf.crs is None:
        raise DataImportError(
            f"{layer}: {p} has no CRS (no .prj file next to it). Pass the source CRS: "
            f"--crs EPSG:5174, --crs EPSG:5179 or --crs EPSG:5186 (crs=... in Python).{_crs_hint(gdf)}"
        )
    else:
        # .prj files are often ESRI WKT without authority codes: use the EPSG definition
        # (and its datum transformation) when the match is unambiguous
        epsg = gdf.crs.to_epsg(min_confidence=70)
        if epsg is not None:
            gdf = gdf.set_crs(f"EPSG:{epsg}", allow_override=True)
    src = gdf.crs
    report["source_crs"][layer] = src.to_string() if src is not None else None
    gdf = gdf.copy()
    gdf[gdf.geometry.name] = shapely.force_2d(gdf.geometry.values)
    hint = _crs_hint(gdf)
    try:
        gdf = gdf.to_crs(WORKING_CRS)
    except Exception as exc:  # noqa: BLE001 - pyproj failures are a bad CRS
        raise DataImportError(f"{layer}: cannot reproject {p} from {src} to {WORKING_CRS}: {exc}") from exc
    _check_in_korea(gdf, layer, p, src, hint)
    report["read"][layer] = int(len(gdf))
    return gdf


def _check_in_korea(gdf: gpd.GeoDataFrame, layer: str, p: Path, src: Any, hint: str) -> None:
    """Raise DataImportError when ``gdf`` (EPSG:5186) does not lie around Korea: a wrong CRS."""
    g = gdf.geometry
    g = g[g.notna() & ~g.is_empty]
    if g.empty:
        return
    minx, miny, maxx, maxy = g.total_bounds
    tr = Transformer.from_crs(WORKING_CRS, "EPSG:4326", always_xy=True)
    lons, lats = tr.transform([minx, maxx, minx, maxx], [miny, miny, maxy, maxy])
    lo_lon, lo_lat, hi_lon, hi_lat = _KOREA_LONLAT
    ok = all(np.isfinite(lons)) and all(np.isfinite(lats))
    ok = ok and lo_lon <= min(lons) and max(lons) <= hi_lon and lo_lat <= min(lats) and max(lats) <= hi_lat
    if not ok:
        raise DataImportError(
            f"{layer}: {p} read as {src} lands outside Korea (lon {min(lons):.3f}..{max(lons):.3f}, "
            f"lat {min(lats):.3f}..{max(lats):.3f}); the CRS is probably wrong: pass the right one with "
            f"--crs EPSG:5174, EPSG:5179 or EPSG:5186.{hint}"
        )


def _resolve_fields(
    layer: str, gdf: gpd.GeoDataFrame, field_map: dict[str, dict[str, str]], path: Path
) -> dict[str, str | None]:
    """Source column per attribute of ``layer``: field_map first, then the presets."""
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    by_lower: dict[str, str] = {}  # lower-case column name -> the column
    for c in cols:
        by_lower.setdefault(str(c).lower(), c)
    fields: dict[str, str | None] = {}
    for attr, candidates in PRESETS[layer].items():
        wanted = field_map.get(layer, {}).get(attr)
        if wanted is not None:
            col = wanted if wanted in cols else by_lower.get(wanted.lower())
            if col is None:
                raise DataImportError(
                    f"field_map {layer}.{attr}={wanted!r}: no such column in {path} "
                    f"(columns: {', '.join(map(str, cols)) or 'none'})"
                )
            fields[attr] = col
            continue
        fields[attr] = next((by_lower[c.lower()] for c in candidates if c.lower() in by_lower), None)
    return fields


def _parse_field_map(field_map: dict[str, str] | None) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for key, col in (field_map or {}).items():
        layer, _, attr = str(key).partition(".")
        attr = _FIELD_ALIASES.get((layer, attr), attr)
        if layer not in PRESETS or attr not in PRESETS[layer]:
            valid = ", ".join(f"{lyr}.{a}" for lyr, attrs in PRESETS.items() for a in attrs)
            raise DataImportError(f"field_map key {key!r} is not known; valid keys: {valid}")
        if not isinstance(col, str) or not col.strip():
            raise DataImportError(f"field_map {key!r}: the column name must be a non-empty string")
        out.setdefault(layer, {})[attr] = col.strip()
    return out


def _column(gdf: gpd.GeoDataFrame, col: str | None) -> list[Any]:
    return [None] * len(gdf) if col is None else gdf[col].tolist()


# ---------------------------------------------------------------------------------------------
# layers


def _dropped(report: dict[str, Any], layer: str, feature: Any, reason: str) -> None:
    entry = report["dropped"].setdefault(layer, {"count": 0, "by_reason": {}, "features": []})
    entry["count"] += 1
    entry["by_reason"][reason] = entry["by_reason"].get(reason, 0) + 1
    if len(entry["features"]) < MAX_REPORTED:
        entry["features"].append(str(feature))


def _roads(
    gdf: gpd.GeoDataFrame,
    fields: dict[str, str | None],
    report: dict[str, Any],
    anchors: np.ndarray | None = None,
) -> gpd.GeoDataFrame:
    """The walk network from road centrelines (EPSG:5186): noded, largest component only.

    ``anchors`` (n x 2, metres) are facility points that need a graph node within
    MAX_ACCESS_DISTANCE_M; see :func:`split_for_anchors`.
    """
    names = _column(gdf, fields["name"])
    widths = _column(gdf, fields["road_width"])
    bridges = _column(gdf, fields["bridge"])
    lines: list[LineString] = []
    owners: list[int] = []
    for row, g in enumerate(gdf.geometry.values):
        parts = _line_parts(g)
        if not parts:
            _dropped(report, "roads", f"row {row}", "no line geometry")
            continue
        lines.extend(parts)
        owners.extend([row] * len(parts))
    pieces, ncuts = node_lines(lines, separated=[_truthy(bridges[row]) for row in owners])
    report["roads_noding"] = {"lines": len(lines), "cuts": ncuts, "facility_cuts": 0}
    flat = [(row, seg) for row, split in zip(owners, pieces, strict=True) for seg in split]
    if anchors is not None and len(anchors) and flat:
        split, n_anchor = split_for_anchors([seg for _, seg in flat], anchors, REACH_LIMIT_M)
        flat = [(row, s) for (row, _), parts in zip(flat, split, strict=True) for s in parts]
        report["roads_noding"]["facility_cuts"] = n_anchor
    rows = []
    counter: Counter[int] = Counter()
    for row, seg in flat:
        k = counter[row]
        counter[row] += 1
        rows.append(
            {
                "edge_id": f"r{row}-{k}",
                "kind": "bridge" if _truthy(bridges[row]) else "road",
                "width_m": walk_width(widths[row]),
                "name": _text(names[row]),
                "geometry": seg,
            }
        )
    if not rows:
        raise DataImportError("roads: no usable line geometry in the roads file")
    roads = gpd.GeoDataFrame(rows, geometry="geometry", crs=WORKING_CRS)
    collapsed = collapsed_links(roads, snap_m=SNAP_M)
    for eid in roads.loc[collapsed, "edge_id"]:
        _dropped(report, "roads", eid, SHORT_LINK_REASON)
    roads = roads[~collapsed].reset_index(drop=True)
    if len(roads) == 0:
        raise DataImportError(f"roads: every line is shorter than the {MERGE_DISTANCE_M:g} m merge distance")
    G = walk_graph(roads, snap_m=SNAP_M)
    comps = components_by_size(G)
    main = comps[0]
    report["roads_noding"]["components"] = len(comps)
    keep_ids = {k for u, v, k in G.edges(keys=True) if u in main}
    mask = roads["edge_id"].isin(keep_ids)
    for eid in roads.loc[~mask, "edge_id"]:
        _dropped(report, "roads", eid, "not connected to the largest road network component")
    return roads[mask].reset_index(drop=True)


def _polygons_layer(gdf: gpd.GeoDataFrame, layer: str, report: dict[str, Any]) -> tuple[list[int], list[Any]]:
    rows, geoms = [], []
    for row, g in enumerate(gdf.geometry.values):
        poly = polygonal(g)
        if poly is None:
            _dropped(report, layer, f"row {row}", "no polygon geometry")
            continue
        rows.append(row)
        geoms.append(poly)
    return rows, geoms


def _unique_ids(ids: list[str], rows: list[int], layer: str, report: dict[str, Any]) -> list[str]:
    seen: set[str] = set()
    out = []
    dup = 0
    for i, row in zip(ids, rows, strict=True):
        if i in seen:
            i = f"{i}-{row}"
            dup += 1
        seen.add(i)
        out.append(i)
    if dup:
        report["warnings"].append(f"{layer}: {dup} duplicate ids made unique by appending the row number")
    return out


def _boundary(gdf: gpd.GeoDataFrame, fields: dict[str, str | None], report: dict[str, Any]) -> gpd.GeoDataFrame:
    rows, geoms = _polygons_layer(gdf, "boundary", report)
    if not rows:
        raise DataImportError("boundary: no polygon in the boundary file")
    codes, names, names_en = (_column(gdf, fields[a]) for a in ("city_code", "name", "name_en"))
    ids = [_text(codes[r]) or f"c{r}" for r in rows]
    name_l = [_text(names[r]) or _text(names_en[r]) or f"boundary {r}" for r in rows]
    en_l = [_text(names_en[r]) or n for r, n in zip(rows, name_l, strict=True)]
    return gpd.GeoDataFrame(
        {"city_code": _unique_ids(ids, rows, "boundary", report), "name": name_l, "name_en": en_l},
        geometry=geoms,
        crs=WORKING_CRS,
    )


def _dongs(gdf: gpd.GeoDataFrame, fields: dict[str, str | None], report: dict[str, Any]) -> gpd.GeoDataFrame:
    rows, geoms = _polygons_layer(gdf, "dongs", report)
    codes, names, names_en = (_column(gdf, fields[a]) for a in ("dong_code", "name", "name_en"))
    full_names = fields["name"] is not None and fields["name"].upper() in ("ADM_NM", "ADM_DR_NM")
    name_l = []
    for r in rows:
        n = _text(names[r])
        if n is not None and full_names:
            n = n.split()[-1]  # 행정동 files hold "경기도 의정부시 의정부1동"
        name_l.append(n or _text(names_en[r]) or f"dong {r}")
    ids = [_text(codes[r]) or f"d{r}" for r in rows]
    en_l = [_text(names_en[r]) or n for r, n in zip(rows, name_l, strict=True)]
    return gpd.GeoDataFrame(
        {"dong_code": _unique_ids(ids, rows, "dongs", report), "name": name_l, "name_en": en_l},
        geometry=geoms,
        crs=WORKING_CRS,
    )


def _buildings(gdf: gpd.GeoDataFrame, fields: dict[str, str | None], report: dict[str, Any]) -> gpd.GeoDataFrame:
    rows, geoms = _polygons_layer(gdf, "buildings", report)
    ids_c, use_c, struct_c, year_c, storey_c = (
        _column(gdf, fields[a]) for a in ("building_id", "use", "structure", "year_built", "storeys")
    )
    ids = [_text(ids_c[r]) or f"b{r}" for r in rows]
    years = [parse_year(year_c[r]) for r in rows]
    if fields["year_built"] is not None:
        bad = sum(1 for r, y in zip(rows, years, strict=True) if y is None and not _is_missing(year_c[r]))
        if bad:
            report["warnings"].append(f"buildings: {bad} approval dates could not be read as a year (set to null)")
    return gpd.GeoDataFrame(
        {
            "building_id": _unique_ids(ids, rows, "buildings", report),
            "year_built": pd.Series(years, dtype=object),
            "storeys": pd.Series([parse_storeys(storey_c[r]) for r in rows], dtype=object),
            "structure": [structure_class(struct_c[r]) for r in rows],
            "use": [_text(use_c[r]) or "unknown" for r in rows],
        },
        geometry=geoms,
        crs=WORKING_CRS,
    )


def _streams(gdf: gpd.GeoDataFrame, fields: dict[str, str | None], report: dict[str, Any]) -> gpd.GeoDataFrame:
    names, names_en = _column(gdf, fields["name"]), _column(gdf, fields["name_en"])
    recs = []
    for row, g in enumerate(gdf.geometry.values):
        parts = _line_parts(g)
        if not parts:
            _dropped(report, "streams", f"row {row}", "no line geometry")
            continue
        name = _text(names[row]) or "(unnamed)"
        for k, part in enumerate(parts):
            recs.append(
                {
                    "reach_id": f"s{row}" if len(parts) == 1 else f"s{row}-{k}",
                    "name": name,
                    "name_en": _text(names_en[row]) or name,
                    **placeholder_channel(part.length, STREAM_WIDTH_M),
                    "geometry": part,
                }
            )
    return gpd.GeoDataFrame(recs, geometry="geometry", crs=WORKING_CRS) if recs else None


def _facilities(gdf: gpd.GeoDataFrame, fields: dict[str, str | None], report: dict[str, Any]) -> gpd.GeoDataFrame:
    names, kinds, names_en = (_column(gdf, fields[a]) for a in ("name", "kind", "name_en"))
    recs = []
    moved = 0
    for row, g in enumerate(gdf.geometry.values):
        if g is None or g.is_empty:
            _dropped(report, "facilities", f"f{row}", "no geometry")
            continue
        if g.geom_type != "Point":
            g = g.representative_point()
            moved += 1
        kind = _text(kinds[row])
        recs.append(
            {
                "facility_id": f"f{row}",
                "kind": kind if kind in FACILITY_KINDS else "other",
                "name": _text(names[row]) or "(unnamed)",
                "name_en": _text(names_en[row]),
                "geometry": g,
            }
        )
    if moved:
        report["warnings"].append(f"facilities: {moved} non-point geometries replaced by a representative point")
    return gpd.GeoDataFrame(recs, geometry="geometry", crs=WORKING_CRS) if recs else None


def _drop_unreachable(fac: gpd.GeoDataFrame, roads: gpd.GeoDataFrame, report: dict[str, Any]) -> gpd.GeoDataFrame:
    """Drop facilities farther than REACH_LIMIT_M (m) from every road edge end."""
    far = out_of_reach(np.column_stack([fac.geometry.x, fac.geometry.y]), roads.geometry.values, REACH_LIMIT_M)
    for fid in fac.loc[far, "facility_id"]:
        _dropped(report, "facilities", fid, f"more than {MAX_ACCESS_DISTANCE_M:.0f} m from the road network")
    return fac[~far].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# entry point


def import_shp(
    out: str | Path,
    *,
    roads: str | Path,
    boundary: str | Path | None = None,
    dongs: str | Path | None = None,
    buildings: str | Path | None = None,
    streams: str | Path | None = None,
    facilities: str | Path | None = None,
    crs: str | None = None,
    encoding: str = "cp949",
    field_map: dict[str, str] | None = None,
    overwrite: bool = False,
    name: str | None = None,
) -> dict[str, Any]:
    """Import Korean GIS shapefiles into the dataset directory ``out``; return a report.

    ``roads`` (line shapefile, required), ``boundary``, ``dongs``, ``buildings`` (polygons),
    ``streams`` (lines) and ``facilities`` (points) are paths to ``.shp`` files (anything pyogrio
    reads works). ``crs`` (e.g. ``"EPSG:5174"``) supplies or overrides the source CRS of every
    file; without it each file's ``.prj`` is used, and a file without one raises
    DataImportError. ``encoding`` is the attribute encoding of the ``.dbf`` files (default
    CP949). ``field_map`` maps ``"layer.attr"`` to a source column and wins over the presets
    (see the module docstring for the keys). Layers are reprojected to EPSG:5186 (metres) and
    written as EPSG:4326 GeoJSON by :func:`twin.geojson_io.write_dataset`, atomically: ``out``
    is replaced only when everything succeeded. Raises FileExistsError when ``out`` is not empty
    and ``overwrite`` is false, DataImportError for bad input (missing file, no CRS, unknown
    field_map key or column, no usable roads, data landing outside Korea).

    The report holds ``counts`` (features written per layer), ``read`` (features read per
    input), ``dropped`` (per layer: count, counts by reason and up to 50 ids or rows),
    ``fields`` (source column used per attribute), ``source_crs``, ``derived`` (layers made up
    without an input file), ``roads_noding`` and ``warnings``.
    """
    crs_obj = None
    if crs is not None:
        try:
            crs_obj = CRS.from_user_input(crs)
        except Exception as exc:  # noqa: BLE001 - pyproj raises CRSError with details
            raise DataImportError(
                f"crs {crs!r} is not a valid CRS (e.g. EPSG:5174, EPSG:5179, EPSG:5186): {exc}"
            ) from exc
    fmap = _parse_field_map(field_map)
    stream_spec = LAYERS["streams"]
    if streams is None and stream_spec.required and not stream_spec.may_be_empty:
        raise DataImportError(_NEED_STREAMS)
    try:
        "".encode(encoding)
    except LookupError as exc:
        raise DataImportError(f"unknown encoding {encoding!r} (e.g. cp949, utf-8)") from exc
    files = {
        "roads": roads,
        "boundary": boundary,
        "dongs": dongs,
        "buildings": buildings,
        "streams": streams,
        "facilities": facilities,
    }
    input_paths = [path for path in files.values() if path is not None]
    # fail before the work; atomic_dir checks again when writing
    check_output_dir(out, overwrite=overwrite, inputs=input_paths)

    report: dict[str, Any] = {
        "out": str(out),
        "inputs": {},
        "source_crs": {},
        "fields": {},
        "read": {},
        "counts": {},
        "dropped": {},
        "derived": [],
        "warnings": [],
    }
    raw: dict[str, gpd.GeoDataFrame] = {}
    raw_paths = {layer: path for layer, path in files.items() if path is not None}
    for layer, path in files.items():
        if path is None:
            continue
        report["inputs"][layer] = str(path)
        gdf = _read(path, layer, encoding=encoding, crs=crs_obj, report=report)
        report["fields"][layer] = _resolve_fields(layer, gdf, fmap, Path(path))
        raw[layer] = gdf
    for layer in fmap:
        if layer not in raw:
            report["warnings"].append(f"field_map entries for {layer} ignored: no {layer} file given")

    fac = None
    if "facilities" in raw:
        fac = _facilities(raw["facilities"], report["fields"]["facilities"], report)
    anchors = None if fac is None else np.column_stack([fac.geometry.x, fac.geometry.y])
    layers: dict[str, gpd.GeoDataFrame] = {"roads": _roads(raw["roads"], report["fields"]["roads"], report, anchors)}
    if fac is not None:
        layers["facilities"] = _drop_unreachable(fac, layers["roads"], report)
    builders = {"boundary": _boundary, "dongs": _dongs, "buildings": _buildings}
    for layer, build in builders.items():
        if layer in raw:
            layers[layer] = build(raw[layer], report["fields"][layer], report)
    if "streams" in raw:
        reaches = _streams(raw["streams"], report["fields"]["streams"], report)
        if reaches is not None:
            layers["streams"] = reaches
        elif not stream_spec.may_be_empty:
            raise DataImportError(f"streams: no line geometry in {raw_paths['streams']}. " + _NEED_STREAMS)

    sources: dict[str, dict[str, Any]] = {}
    for layer, path in report["inputs"].items():
        sources[layer] = {
            "source": Path(path).name,
            "licence": LICENCE,
            "approximate": layer == "streams",
            "description": f"imported by twin.importers.shp from {Path(path).name}"
            + (f" ({report['source_crs'][layer]})" if report["source_crs"].get(layer) else ""),
        }
    if "streams" in sources:
        sources["streams"]["description"] += (
            "; channel width, bank height, bed elevations and Manning n are placeholders"
        )

    if "boundary" not in layers:
        layers["boundary"] = gpd.GeoDataFrame(
            {"city_code": ["0"], "name": [name or "imported area"], "name_en": [name or "imported area"]},
            geometry=[hull_boundary(layers["roads"].geometry.values)],
            crs=WORKING_CRS,
        )
        report["derived"].append("boundary")
        sources["boundary"] = {
            "source": f"derived: convex hull of {Path(roads).name} buffered {BOUNDARY_BUFFER_M:.0f} m",
            "licence": LICENCE,
            "approximate": True,
            "description": "No boundary file given; the area covered by the roads.",
        }
    if "dongs" not in layers or len(layers["dongs"]) == 0:
        layers["dongs"] = dongs_from_boundary(layers["boundary"])
        report["derived"].append("dongs")
        sources["dongs"] = {
            "source": f"derived: the boundary ({sources['boundary']['source']})",
            "licence": LICENCE,
            "approximate": True,
            "description": "No dongs file given; one dong per boundary feature.",
        }

    if name is None:
        if "boundary" in report["derived"]:
            name = f"imported from {Path(roads).name}"
        else:
            name = f"{layers['boundary']['name'].iloc[0]} (imported from shapefiles)"
    report["name"] = name
    report["counts"] = {layer: int(len(g)) for layer, g in layers.items()}
    extra = {
        "generated_by": "twin.importers.shp",
        "source_crs": dict(report["source_crs"]),
        "encoding": encoding,
    }
    with atomic_dir(out, overwrite=overwrite, inputs=input_paths) as tmp:
        write_dataset(tmp, layers, name=name, sources=sources, extra_manifest=extra)
    return report
