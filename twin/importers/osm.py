"""Import an OpenStreetMap extract (``.osm`` XML or ``.osm.pbf``) as a twin dataset directory.

>>> report = import_osm("uijeongbu.osm.pbf", "gis_data/uijeongbu-osm", name="의정부시")  # doctest: +SKIP
>>> city = load_city("gis_data/uijeongbu-osm")  # doctest: +SKIP

CRS and units: OSM coordinates are WGS84 longitude/latitude (EPSG:4326, degrees). They are
projected to EPSG:5186 (Korea 2000 / Central Belt 2010, metres) on reading and every length,
width and distance below is in metres in that CRS. The layer files are written as RFC 7946
GeoJSON (EPSG:4326) by :func:`twin.geojson_io.write_dataset`, into a temporary directory that
replaces the target only when everything succeeded (:func:`twin.atomic.atomic_dir`).

Layers:

* ``roads``: ways whose ``highway`` is walkable (footway, path, pedestrian, steps, residential,
  primary, ...; never motorways), without ``foot=no`` and without ``access=private|no`` unless
  ``foot=yes|designated``. Every way is split at each node it shares with another kept way (and
  at nodes it visits twice; a piece that would start and end at one node is also cut in its
  middle), so edges meet only at shared end points, the rule of :mod:`twin.walk_graph`. A piece whose two ends fall
  in one walk-graph node (shorter than 0.5 m, or its ends joined through other ends closer than
  0.5 m) is dropped and counted in the report. Only the largest connected component is kept. ``kind``: steps ->
  stairs, ``bridge`` -> bridge, ``ramp=yes`` (or ``incline`` on a footway/path) -> ramp,
  ``footway=sidewalk`` -> sidewalk, pedestrian-only ways with >= 70 % of their length within
  60 m of an imported waterway -> riverside_path, other pedestrian-only ways -> sidewalk, the
  rest -> road. ``width_m`` from the ``width`` tag (metres), else a default per highway class.
* ``streams``: ``waterway=river|stream|canal`` ways, one reach per way; a way that starts at the
  last node of another is its ``downstream_reach_id`` (OSM draws waterways in the direction of
  flow). The channel values (width, bank height, bed slope and elevations, Manning n) are
  placeholders, flagged ``approximate``; bed elevations fall along the linked reaches to 0 m at
  each outlet.
* ``devices``: ``man_made=monitoring_station`` nodes with ``monitoring:water_level`` (level gauges,
  on the nearest waterway within 100 m, placeholder alert stages) or ``monitoring:precipitation``
  (rain gauges); ``ref`` gives the id (``LS-<ref>``, ``RG-<ref>``). The manifest's ``hydrology``
  names each stream's gauge (:mod:`twin.river_gauges`), so a flood run reports the city's own gauges.
* ``buildings``: areas (closed ways, multipolygons) tagged ``building``.
* ``facilities``: nodes and areas (representative point) with amenity, emergency or station tags
  the twin knows; facilities too far from the walk network for :func:`twin.load_city` are dropped.
* ``boundary``: the largest ``boundary=administrative`` area, else the convex hull of everything
  imported buffered 100 m; ``dongs``: the ``admin_level=8`` areas, else the boundary.
* ``slopes``, ``access_points``: empty (OSM has no such data).

Why one module of this size: OSM's tag rules for each layer are read best in one place; what the
OSM and shapefile importers share is in :mod:`twin.importers.fallbacks`.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import osmium
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, Point

from ..atomic import atomic_dir, check_output_dir
from ..dataset_schema import FILE_CRS, LAYERS, WORKING_CRS
from ..errors import DataImportError
from ..geojson_io import write_dataset
from ..walk_graph import MERGE_DISTANCE_M, collapsed_links
from .fallbacks import (
    BANK_HEIGHT_M,
    BED_SLOPE,
    BOUNDARY_BUFFER_M,
    MANNING_N,
    RAIN_GAUGE_RESOLUTION_MM,
    REACH_LIMIT_M,
    dongs_from_boundary,
    gauge_hydrology,
    hull_boundary,
    out_of_reach,
    placeholder_channel,
    placeholder_gauge,
    polygonal,
)

__all__ = ["import_osm"]

WALKABLE_HIGHWAYS = frozenset(
    {
        "footway",
        "path",
        "pedestrian",
        "steps",
        "living_street",
        "residential",
        "service",
        "unclassified",
        "tertiary",
        "tertiary_link",
        "secondary",
        "secondary_link",
        "primary",
        "primary_link",
        "trunk",
        "trunk_link",
        "cycleway",
        "track",
        "road",
        "corridor",
    }
)
"""``highway`` values imported as walkable ways (motorways are never walkable)."""
SHORT_LINK_REASON = f"shorter than the {MERGE_DISTANCE_M:g} m merge distance of the walk graph (both ends in one node)"
PEDESTRIAN_ONLY = frozenset({"footway", "path", "pedestrian", "cycleway", "corridor"})
"""``highway`` values without motor traffic: sidewalk or riverside_path unless a tag says otherwise."""
WATERWAY_WIDTH_M = {"river": 30.0, "canal": 10.0, "stream": 6.0}
"""Imported ``waterway`` values and their default channel width (m) when no ``width`` tag is set."""
RIVERSIDE_DISTANCE_M = 60.0
"""A pedestrian way is a riverside path when at least RIVERSIDE_SHARE of it is this close (m) to a waterway."""
RIVERSIDE_SHARE = 0.7
LICENCE = "ODbL 1.0 (© OpenStreetMap contributors)"

_AMENITY_KINDS = {
    "school": "school",
    "kindergarten": "school",
    "hospital": "hospital",
    "clinic": "hospital",
    "police": "police",
    "fire_station": "fire_station",
    "townhall": "city_hall",
    "social_facility": "welfare_centre",
    "shelter": "shelter",
}
_STRUCTURES = {
    "concrete": "reinforced_concrete",
    "reinforced_concrete": "reinforced_concrete",
    "brick": "masonry",
    "masonry": "masonry",
    "stone": "masonry",
    "steel": "steel",
    "metal": "steel",
    "wood": "wood",
    "timber": "wood",
}
_AREA_KEYS = ("building", "boundary", "amenity", "emergency", "railway", "public_transport")
"""Keys of the relations assembled into areas (buildings, admin boundaries, facilities)."""
_KEYS = ("highway", "waterway", *_AREA_KEYS, "man_made")
GAUGE_SNAP_M = 100.0
"""A ``man_made=monitoring_station`` node measuring water level is a level gauge of the nearest
imported waterway when it lies within this distance of it (m); farther ones are dropped."""
_WIDTH_RE = re.compile(r"(\d+(?:[.,]\d+)?)\s*(?:m|meters?|metres?)?")
_YEAR_RE = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_FALSE = ("no", "false", "0")

Progress = Callable[[str], Any]


# --------------------------------------------------------------------------- tag parsing


def _parse_width(value: str | None) -> float | None:
    """Width in metres from an OSM ``width`` tag ("3", "3 m", "3.5m", "3,5"); None for junk."""
    if not value:
        return None
    m = _WIDTH_RE.fullmatch(value.strip().lower())
    if m is None:
        return None
    width = float(m.group(1).replace(",", "."))
    return width if 0.0 < width <= 500.0 else None


def _default_width(highway: str) -> float:
    """Default walkable width (m) of a highway class when the way has no usable ``width`` tag."""
    if highway.removesuffix("_link") in ("primary", "trunk", "secondary"):
        return 4.0
    if highway in ("footway", "pedestrian", "corridor"):
        return 2.5
    if highway in ("path", "cycleway", "track"):
        return 2.0
    if highway == "steps":
        return 1.5
    return 3.0


def _year(tags: dict[str, str]) -> int | None:
    """First 4-digit year of start_date / building:start_date / construction_date (>= 1800)."""
    for key in ("start_date", "building:start_date", "construction_date"):
        m = _YEAR_RE.search(tags.get(key, ""))
        if m and 1800 <= int(m.group(1)) <= 2100:
            return int(m.group(1))
    return None


def _storeys(tags: dict[str, str]) -> int | None:
    """Storeys above ground from ``building:levels`` (a positive integer), else None."""
    value = tags.get("building:levels", "").strip()
    try:
        n = float(value)
    except ValueError:
        return None
    return int(n) if n.is_integer() and n > 0 else None


def _structure(tags: dict[str, str]) -> str:
    """Structure class from ``building:structure`` or ``building:material``; ``unknown`` otherwise."""
    for key in ("building:structure", "building:material"):
        norm = tags.get(key, "").strip().lower().replace(" ", "_").replace("-", "_")
        if norm in _STRUCTURES:
            return _STRUCTURES[norm]
    return "unknown"


def _facility_kind(tags: dict[str, str]) -> str | None:
    """Facility kind of an OSM object, or None when the twin does not use it.

    Bus-stop shelters (``shelter_type=public_transport``) and bus-only stations are not facilities.
    """
    amenity = tags.get("amenity")
    if amenity in _AMENITY_KINDS and not (amenity == "shelter" and tags.get("shelter_type") == "public_transport"):
        return _AMENITY_KINDS[amenity]
    if tags.get("emergency") == "assembly_point":
        return "shelter"
    rail = tags.get("railway") == "station"
    pt_station = tags.get("public_transport") == "station" and (
        "railway" in tags
        or any(tags.get(k) == "yes" for k in ("train", "subway", "light_rail", "monorail", "tram"))
        or tags.get("bus") != "yes"
    )
    if rail or pt_station:
        light_rail = tags.get("station") == "light_rail" or tags.get("light_rail") == "yes"
        return "lrt_station" if light_rail else "railway_station"
    return None


def _station_kind(tags: dict[str, str]) -> str | None:
    """``level_sensor`` for a water-level monitoring station, ``rain_gauge`` for a precipitation one."""
    if tags.get("man_made") != "monitoring_station":
        return None
    if tags.get("monitoring:water_level", "no") not in _FALSE:
        return "level_sensor"
    if any(tags.get(k, "no") not in _FALSE for k in ("monitoring:precipitation", "monitoring:rainfall")):
        return "rain_gauge"
    return None


def _walk_skip_reason(tags: dict[str, str]) -> str | None:
    """Why a ``highway`` way is not walkable, or None when it is imported."""
    highway = tags["highway"]
    if highway not in WALKABLE_HIGHWAYS:
        return f"highway={highway} is not walkable"
    foot = tags.get("foot")
    if foot in ("no", "private"):
        return f"foot={foot}"
    access = tags.get("access")
    if access in ("private", "no") and foot not in ("yes", "designated"):
        return f"access={access}"
    return None


def _road_kind(tags: dict[str, str], riverside: bool) -> str:
    highway = tags["highway"]
    if highway == "steps":
        return "stairs"
    if tags.get("bridge", "no").strip().lower() not in _FALSE:
        return "bridge"
    incline = tags.get("incline", "no").strip().lower()
    if tags.get("ramp") == "yes" or (highway in ("footway", "path") and incline not in ("no", "0", "0%", "0°")):
        return "ramp"
    if tags.get("footway") == "sidewalk":
        return "sidewalk"
    if highway in PEDESTRIAN_ONLY:
        return "riverside_path" if riverside else "sidewalk"
    return "road"


# --------------------------------------------------------------------------- reading


@dataclass
class _Way:
    id: int
    tags: dict[str, str]
    nodes: list[tuple[int, float | None, float | None]]
    """(node id, lon, lat) in degrees; lon/lat None when the node is not in the file."""


@dataclass
class _Area:
    id: str
    """``w<way id>`` or ``r<relation id>``."""
    tags: dict[str, str]
    wkb: bytes | str


@dataclass
class _OsmData:
    walk_ways: list[_Way] = field(default_factory=list)
    waterways: list[_Way] = field(default_factory=list)
    building_areas: list[_Area] = field(default_factory=list)
    admin_areas: list[_Area] = field(default_factory=list)
    facility_nodes: list[tuple[str, str, dict[str, str], float, float]] = field(default_factory=list)
    facility_areas: list[tuple[_Area, str]] = field(default_factory=list)
    stations: list[tuple[str, str, dict[str, str], float, float]] = field(default_factory=list)
    """Monitoring stations: (node id, device kind, tags, lon, lat)."""
    timestamp: str = ""


def _way_nodes(way: osmium.osm.Way) -> list[tuple[int, float | None, float | None]]:
    return [(n.ref, n.lon, n.lat) if n.location.valid() else (n.ref, None, None) for n in way.nodes]


def _read(src: Path, dropped: dict[str, Counter]) -> _OsmData:
    """Read the objects the importer needs from ``src`` (WGS84 degrees, nothing projected yet)."""
    data = _OsmData()
    wkb = osmium.geom.WKBFactory()
    try:
        fp = (
            osmium.FileProcessor(str(src))
            .with_locations()
            .with_areas(osmium.filter.KeyFilter(*_AREA_KEYS))
            .with_filter(osmium.filter.KeyFilter(*_KEYS))
        )
        for obj in fp:
            tags = dict(obj.tags)
            if isinstance(obj, osmium.osm.Node):
                kind = _facility_kind(tags)
                if kind is not None:
                    data.facility_nodes.append((f"n{obj.id}", kind, tags, obj.location.lon, obj.location.lat))
                station = _station_kind(tags)
                if station is not None:
                    data.stations.append((f"n{obj.id}", station, tags, obj.location.lon, obj.location.lat))
            elif isinstance(obj, osmium.osm.Way):
                if "highway" in tags:
                    reason = _walk_skip_reason(tags)
                    if reason is None:
                        data.walk_ways.append(_Way(obj.id, tags, _way_nodes(obj)))
                    else:
                        dropped["roads"][reason] += 1
                elif tags.get("waterway") in WATERWAY_WIDTH_M:
                    data.waterways.append(_Way(obj.id, tags, _way_nodes(obj)))
            elif isinstance(obj, osmium.osm.Area):
                building = tags.get("building", "no") != "no"
                kind = _facility_kind(tags)
                admin = tags.get("boundary") == "administrative"
                if not (building or kind or admin):
                    continue
                aid = f"{'w' if obj.from_way() else 'r'}{obj.orig_id()}"
                try:
                    area = _Area(aid, tags, wkb.create_multipolygon(obj))
                except RuntimeError:
                    layer = "buildings" if building else ("facilities" if kind else "boundary")
                    dropped[layer]["area geometry could not be built"] += 1
                    continue
                if building:
                    data.building_areas.append(area)
                if kind is not None:
                    data.facility_areas.append((area, kind))
                if admin:
                    data.admin_areas.append(area)
        data.timestamp = fp.header.get("osmosis_replication_timestamp") or ""
    except RuntimeError as exc:
        raise DataImportError(f"cannot read OSM file {src}: {exc}") from exc
    return data


# --------------------------------------------------------------------------- geometry helpers


def _transformer() -> Transformer:
    return Transformer.from_crs(FILE_CRS, WORKING_CRS, always_xy=True)


def _located_runs(way: _Way) -> list[list[tuple[int, float, float]]]:
    """Runs of consecutive nodes that have a location, repeated consecutive nodes removed."""
    runs: list[list[tuple[int, float, float]]] = [[]]
    for ref, lon, lat in way.nodes:
        if lon is None or lat is None:
            if runs[-1]:
                runs.append([])
            continue
        if runs[-1] and runs[-1][-1][0] == ref:
            continue
        runs[-1].append((ref, lon, lat))
    return [r for r in runs if len(r) >= 2]


def _areas_to_working(areas: list[_Area], layer: str, dropped: dict[str, Counter]) -> list[tuple[_Area, Any]]:
    """Project area geometries to EPSG:5186 (metres) and repair them; drop those with no area left."""
    if not areas:
        return []
    geoms = gpd.GeoSeries(shapely.from_wkb([a.wkb for a in areas]), crs=FILE_CRS).to_crs(WORKING_CRS)
    out = []
    for area, g in zip(areas, geoms.values, strict=True):
        poly = polygonal(g)
        if poly is None:
            dropped[layer]["empty or invalid polygon"] += 1
            continue
        out.append((area, poly))
    return out


def _id_key(oid: str) -> tuple[str, int]:
    return oid[0], int(oid[1:])


# --------------------------------------------------------------------------- layers


def _streams(data: _OsmData, tr: Transformer, dropped: dict[str, Counter]) -> gpd.GeoDataFrame:
    """One reach per waterway way, EPSG:5186; channel values are placeholders."""
    rows = []
    for way in sorted(data.waterways, key=lambda w: w.id):
        runs = _located_runs(way)
        if not runs:
            dropped["streams"]["fewer than 2 nodes with a location"] += 1
            continue
        run = max(runs, key=len)
        xs, ys = tr.transform([p[1] for p in run], [p[2] for p in run])
        line = LineString(zip(xs, ys, strict=True))
        if line.length <= 0.0:
            dropped["streams"]["zero length"] += 1
            continue
        ww = way.tags["waterway"]
        name = way.tags.get("name") or f"unnamed waterway {way.id}"
        rows.append(
            dict(
                reach_id=f"w{way.id}",
                name=name,
                name_en=way.tags.get("name:en") or name,
                **placeholder_channel(line.length, _parse_width(way.tags.get("width")) or WATERWAY_WIDTH_M[ww]),
                waterway=ww,
                osm_way_id=way.id,
                geometry=line,
                _ends=(run[0][0], run[-1][0]),
            )
        )
    # OSM draws a waterway in the direction of flow: a way that starts where another ends is downstream of it
    starting: dict[int, str] = {}  # OSM node id -> the reach that starts there
    for r in rows:
        starting.setdefault(r["_ends"][0], r["reach_id"])
    for r in rows:
        down = starting.get(r.pop("_ends")[1])
        r["downstream_reach_id"] = down if down != r["reach_id"] else None
    _beds_from_outlets(rows)
    return _frame(rows, "streams")


def _beds_from_outlets(rows: list[dict]) -> None:
    """Placeholder bed elevations that fall downstream through linked reaches: 0 m at each outlet,
    rising by the placeholder slope along the channel (m); a loop of reaches is cut where it closes."""
    by_id = {r["reach_id"]: r for r in rows}
    below: dict[str, float] = {}  # reach id -> channel length (m) from its downstream end to the outlet

    def length_below(rid: str) -> float:
        chain: list[str] = []
        cur: str | None = rid
        while cur is not None and cur not in below and cur not in chain:
            chain.append(cur)
            cur = by_id[cur]["downstream_reach_id"]
        if cur is not None and cur in chain:  # a loop: the reach that closes it becomes an outlet
            by_id[chain[-1]]["downstream_reach_id"] = None
            cur = None
        acc = 0.0 if cur is None else below[cur] + by_id[cur]["geometry"].length
        for c in reversed(chain):
            below[c] = acc
            acc += by_id[c]["geometry"].length
        return below[rid]

    for r in rows:
        base = length_below(r["reach_id"])
        r["bed_elev_down_m"] = round(BED_SLOPE * base, 3)
        r["bed_elev_up_m"] = round(BED_SLOPE * (base + r["geometry"].length), 3)


def _frame(rows: list[dict], layer: str) -> gpd.GeoDataFrame:
    """GeoDataFrame in EPSG:5186 from row dicts; columns stay ``object`` so ints never become floats."""
    if not rows:
        return gpd.GeoDataFrame({LAYERS[layer].id_column: []}, geometry=[], crs=WORKING_CRS)
    cols = [c for c in rows[0] if c != "geometry"]
    frame = pd.DataFrame({c: pd.Series([r[c] for r in rows], dtype=object) for c in cols})
    return gpd.GeoDataFrame(frame, geometry=[r["geometry"] for r in rows], crs=WORKING_CRS)


@dataclass
class _Roads:
    roads: gpd.GeoDataFrame
    dropped_components: int
    dropped_edges: int


def _riverside_shares(pieces: list[dict], streams: gpd.GeoDataFrame) -> dict[int, float]:
    """Share of each way's length (over its pieces) within RIVERSIDE_DISTANCE_M of a waterway."""
    if len(streams) == 0 or not pieces:
        return {}
    lines = shapely.segmentize(np.array([p["geometry"] for p in pieces], dtype=object), 5.0)
    xy, idx = shapely.get_coordinates(lines, return_index=True)
    same = idx[1:] == idx[:-1]
    a, b, owner = xy[:-1][same], xy[1:][same], idx[1:][same]
    seg_len = np.hypot(*(b - a).T)
    mids = shapely.points((a + b) / 2.0)
    tree = shapely.STRtree(streams.geometry.values)
    hit, _ = tree.query(mids, predicate="dwithin", distance=RIVERSIDE_DISTANCE_M)
    near = np.zeros(len(mids), dtype=bool)
    near[hit] = True
    way_of = np.array([p["way"] for p in pieces])[owner]
    total: dict[int, float] = defaultdict(float)
    close: dict[int, float] = defaultdict(float)
    for w, length, is_near in zip(way_of.tolist(), seg_len.tolist(), near.tolist(), strict=True):
        total[w] += length
        if is_near:
            close[w] += length
    return {w: close[w] / t for w, t in total.items() if t > 0}


def _roads(data: _OsmData, streams: gpd.GeoDataFrame, tr: Transformer, dropped: dict[str, Counter]) -> _Roads:
    """Split walkable ways at shared nodes, classify them, keep the largest connected component."""
    ways = sorted(data.walk_ways, key=lambda w: w.id)
    runs: list[tuple[_Way, list[tuple[int, float, float]]]] = []
    lonlat: dict[int, tuple[float, float]] = {}
    for way in ways:
        way_runs = _located_runs(way)
        if not way_runs:
            dropped["roads"]["fewer than 2 nodes with a location"] += 1
            continue
        if any(lon is None for _, lon, _ in way.nodes):
            dropped["roads"]["ways cut where nodes lie outside the extract"] += 1
        for run in way_runs:
            runs.append((way, run))
            lonlat.update((ref, (lon, lat)) for ref, lon, lat in run)
    if not runs:
        raise DataImportError("no walkable ways")
    refs = sorted(lonlat)
    xs, ys = tr.transform([lonlat[r][0] for r in refs], [lonlat[r][1] for r in refs])
    xy = dict(zip(refs, zip(xs, ys, strict=True), strict=True))

    uses = Counter(ref for _, run in runs for ref, _, _ in run)
    pieces: list[dict] = []
    piece_no: Counter = Counter()
    for way, run in runs:
        ids = [ref for ref, _, _ in run]
        cuts = [i for i, ref in enumerate(ids) if i == 0 or i == len(ids) - 1 or uses[ref] >= 2]
        cuts = _split_loops(ids, cuts)
        for i, j in zip(cuts[:-1], cuts[1:], strict=True):
            line = LineString([xy[r] for r in ids[i : j + 1]])
            pieces.append(dict(way=way.id, tags=way.tags, index=piece_no[way.id], u=ids[i], v=ids[j], geometry=line))
            piece_no[way.id] += 1

    graph = nx.Graph()
    graph.add_edges_from((p["u"], p["v"]) for p in pieces)
    comps = sorted(nx.connected_components(graph), key=lambda c: (-len(c), min(c)))
    main = comps[0]

    candidates = [p for p in pieces if p["tags"]["highway"] in PEDESTRIAN_ONLY]
    shares = _riverside_shares(candidates, streams)
    rows = []
    dropped_edges = 0
    for p in pieces:
        if p["geometry"].length <= 0.0:
            dropped["roads"]["zero-length pieces (end points merged)"] += 1
            continue
        if p["u"] not in main:
            dropped_edges += 1
            continue
        tags = p["tags"]
        highway = tags["highway"]
        rows.append(
            dict(
                edge_id=f"w{p['way']}-{p['index']}",
                kind=_road_kind(tags, shares.get(p["way"], 0.0) >= RIVERSIDE_SHARE),
                width_m=_parse_width(tags.get("width")) or _default_width(highway),
                name=tags.get("name"),
                name_en=tags.get("name:en"),
                highway=highway,
                osm_way_id=p["way"],
                geometry=p["geometry"],
            )
        )
    if dropped_edges:
        dropped["roads"]["not in the largest connected component"] += dropped_edges
    roads = _frame(rows, "roads")
    collapsed = collapsed_links(roads)
    if collapsed.any():
        dropped["roads"][SHORT_LINK_REASON] += int(collapsed.sum())
        roads = roads[~collapsed].reset_index(drop=True)
    return _Roads(roads, len(comps) - 1, dropped_edges)


def _split_loops(ids: list[int], cuts: list[int]) -> list[int]:
    """Add a cut in the middle of every piece that starts and ends at the same node (a closed
    footway touching the network once), so that it becomes two links rather than a loop."""
    out = [cuts[0]]
    for i, j in zip(cuts[:-1], cuts[1:], strict=True):
        if ids[i] == ids[j] and j - i >= 2:
            out.append((i + j) // 2)
        out.append(j)
    return out


def _buildings(data: _OsmData, dropped: dict[str, Counter]) -> gpd.GeoDataFrame:
    rows = []
    areas = sorted(data.building_areas, key=lambda a: _id_key(a.id))
    for area, poly in _areas_to_working(areas, "buildings", dropped):
        rows.append(
            dict(
                building_id=area.id,
                year_built=_year(area.tags),
                storeys=_storeys(area.tags),
                structure=_structure(area.tags),
                use=area.tags.get("building") or "yes",
                name=area.tags.get("name"),
                geometry=poly,
            )
        )
    return _frame(rows, "buildings")


def _facilities(
    data: _OsmData, tr: Transformer, roads: gpd.GeoDataFrame, dropped: dict[str, Counter]
) -> gpd.GeoDataFrame:
    """Facility nodes and areas (representative point), EPSG:5186; those out of reach of ``roads`` dropped."""
    items: list[tuple[str, str, dict[str, str], Point]] = []
    for fid, kind, tags, lon, lat in data.facility_nodes:
        x, y = tr.transform(lon, lat)
        items.append((fid, kind, tags, Point(x, y)))
    areas = [a for a, _ in data.facility_areas]
    kinds = {a.id: k for a, k in data.facility_areas}
    for area, poly in _areas_to_working(areas, "facilities", dropped):
        items.append((area.id, kinds[area.id], area.tags, poly.representative_point()))
    items.sort(key=lambda it: _id_key(it[0]))
    if items:
        far = out_of_reach(np.array([(p.x, p.y) for *_, p in items]), roads.geometry.values, REACH_LIMIT_M)
        if far.any():
            dropped["facilities"][f"more than {REACH_LIMIT_M:.0f} m from the walk network"] += int(far.sum())
        items = [it for it, f in zip(items, far.tolist(), strict=True) if not f]
    rows = [
        dict(facility_id=fid, kind=kind, name=tags.get("name") or kind, name_en=tags.get("name:en"), geometry=p)
        for fid, kind, tags, p in items
    ]
    return _frame(rows, "facilities")


def _devices(
    data: _OsmData, tr: Transformer, streams: gpd.GeoDataFrame, roads: gpd.GeoDataFrame, dropped: dict[str, Counter]
) -> gpd.GeoDataFrame:
    """Level and rain gauges from monitoring stations, EPSG:5186 (see the module docstring)."""
    rows: list[dict] = []
    used: set[str] = set()
    lines = streams.geometry.values if len(streams) else None
    for nid, kind, tags, lon, lat in sorted(data.stations, key=lambda s: _id_key(s[0])):
        x, y = tr.transform(lon, lat)
        p = Point(x, y)
        if out_of_reach(np.array([[x, y]]), roads.geometry.values, REACH_LIMIT_M)[0]:
            dropped["devices"][f"more than {REACH_LIMIT_M:.0f} m from the walk network"] += 1
            continue
        prefix = "LS" if kind == "level_sensor" else "RG"
        ref = re.sub(r"[^0-9A-Za-z_.-]+", "_", tags.get("ref", "")).strip("_")
        did = f"{prefix}-{ref}" if ref and f"{prefix}-{ref}" not in used else f"{prefix}-{nid}"
        row: dict[str, Any] = dict(device_id=did, kind=kind, name=tags.get("name"))
        if kind == "level_sensor":
            if lines is None:
                dropped["devices"]["water-level station without a waterway"] += 1
                continue
            d = shapely.distance(lines, p)
            i = int(np.argmin(d))
            if d[i] > GAUGE_SNAP_M:
                dropped["devices"][f"water-level station more than {GAUGE_SNAP_M:.0f} m from a waterway"] += 1
                continue
            row.update(stream=streams["name"].iloc[i], **placeholder_gauge())
        else:
            row["resolution_mm"] = RAIN_GAUGE_RESOLUTION_MM
        row.update(approximate=True, osm_node_id=int(nid[1:]), geometry=p)
        used.add(did)
        rows.append(row)
    keys = list(dict.fromkeys(k for r in rows for k in r if k != "geometry"))  # kinds have different columns
    return _frame([{**{k: r.get(k) for k in keys}, "geometry": r["geometry"]} for r in rows], "devices")


def _boundary_and_dongs(
    data: _OsmData,
    others: list[gpd.GeoDataFrame],
    name: str | None,
    stem: str,
    dropped: dict[str, Counter],
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, dict, dict]:
    """Boundary and dongs layers (EPSG:5186) and their manifest entries."""
    admin = _areas_to_working(sorted(data.admin_areas, key=lambda a: _id_key(a.id)), "boundary", dropped)
    if admin:
        area, poly = min(admin, key=lambda ap: (-ap[1].area, _id_key(ap[0].id)))
        bname = area.tags.get("name") or name or stem
        bname_en = area.tags.get("name:en") or name or bname
        bdesc = f"Largest boundary=administrative area of the extract ({area.id})."
        approx = False
    else:
        poly = hull_boundary(g for gdf in others for g in gdf.geometry.values)
        bname = name or stem
        bname_en = name or stem
        bdesc = (
            "No administrative area in the extract: convex hull of all imported features buffered "
            f"{BOUNDARY_BUFFER_M:.0f} m (not an official boundary)."
        )
        approx = True
    boundary = _frame([dict(city_code="osm", name=bname, name_en=bname_en, geometry=poly)], "boundary")
    level8 = [(a, p) for a, p in admin if a.tags.get("admin_level", "").strip() == "8"]
    if level8:
        rows = [
            dict(
                dong_code=f"osm-{a.id}",
                name=a.tags.get("name") or f"osm-{a.id}",
                name_en=a.tags.get("name:en") or a.tags.get("name") or f"osm-{a.id}",
                geometry=p,
            )
            for a, p in level8
        ]
        dongs = _frame(rows, "dongs")
        dmeta = {
            "approximate": False,
            "description": "boundary=administrative areas with admin_level=8 (dongs) of the extract.",
        }
    else:
        dongs = dongs_from_boundary(boundary, codes=["osm-1"])
        dmeta = {
            "approximate": True,
            "description": "No admin_level=8 areas in the extract: one dong equal to the boundary.",
        }
    return boundary, dongs, {"approximate": approx, "description": bdesc}, dmeta


# --------------------------------------------------------------------------- public API


def import_osm(
    src: str | Path,
    out: str | Path,
    *,
    name: str | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> dict:
    """Convert the OpenStreetMap extract ``src`` (``.osm`` XML or ``.osm.pbf``) into dataset ``out``.

    Works in EPSG:5186 (metres) and writes RFC 7946 GeoJSON (EPSG:4326) plus ``manifest.json``
    that :func:`twin.load_city` accepts: one connected walk network whose edges meet only at
    shared end points, every facility within reach of it. ``name`` names the dataset and, when
    the extract has no named administrative area, the boundary (default: the file stem).
    ``progress``, if given, is called with a short message (str) at each stage.

    Returns a report: ``{"src", "out", "name", "layers": {layer: feature count},
    "dropped_components": int, "dropped_edges": int, "dropped": {layer: {reason: count}}}``
    where ``dropped`` also counts OSM ways skipped on purpose (motorways, ``foot=no``, ...).

    Raises DataImportError for a missing, unreadable or corrupt file, one without walkable ways
    or without waterways (the dataset needs at least one stream), and FileExistsError when
    ``out`` exists, is not empty and ``overwrite`` is false. ``out`` is replaced atomically.
    """
    src = Path(src)
    out = Path(out)

    def say(msg: str) -> None:
        if progress is not None:
            progress(msg)

    if not src.exists():
        raise DataImportError(f"OSM file {src} not found")
    if not src.is_file():
        raise DataImportError(f"OSM file {src} is not a file")
    check_output_dir(out, overwrite=overwrite, inputs=[src])
    stem = src.name.split(".")[0] or src.name

    dropped: dict[str, Counter] = defaultdict(Counter)
    say(f"reading {src}")
    data = _read(src, dropped)
    if not data.walk_ways:
        raise DataImportError(f"OSM file {src} has no walkable ways (highway={'|'.join(sorted(WALKABLE_HIGHWAYS))})")
    tr = _transformer()
    say("building streams")
    streams = _streams(data, tr, dropped)
    if len(streams) == 0:  # allowed (a dataset without rivers), but the flood model will need some
        say("no waterway (waterway=river|stream|canal) in the extract: the streams layer is empty")
    say("building the walk network")
    try:
        net = _roads(data, streams, tr, dropped)
    except DataImportError as exc:
        raise DataImportError(f"OSM file {src}: {exc} with 2 or more nodes inside the extract") from exc
    if len(net.roads) == 0:
        raise DataImportError(f"OSM file {src}: every walkable way has zero length")
    say("building buildings and facilities")
    buildings = _buildings(data, dropped)
    facilities = _facilities(data, tr, net.roads, dropped)
    devices = _devices(data, tr, streams, net.roads, dropped)
    say("building boundary and dongs")
    boundary, dongs, bmeta, dmeta = _boundary_and_dongs(
        data, [net.roads, streams, buildings, facilities], name, stem, dropped
    )
    dataset_name = name or (f"OpenStreetMap extract {src.name}" if bmeta["approximate"] else boundary["name"].iloc[0])

    layers = {
        "boundary": boundary,
        "dongs": dongs,
        "streams": streams,
        "roads": net.roads,
        "buildings": buildings,
        "facilities": facilities,
        "devices": devices,
    }
    source = f"OpenStreetMap extract {src.name}"
    osm = {"source": source, "licence": LICENCE}
    sources = {
        "boundary": {**osm, **bmeta},
        "dongs": {**osm, **dmeta},
        "roads": {
            **osm,
            "approximate": False,
            "description": (
                "Walkable OSM highway ways split at shared nodes (edges meet only at shared end points), largest "
                "connected component only. kind from highway/bridge/ramp/incline/footway tags; riverside_path: "
                f"pedestrian ways with >= {RIVERSIDE_SHARE:.0%} of their length within {RIVERSIDE_DISTANCE_M:.0f} m "
                "of a waterway. width_m (m) from the width tag, else a default per highway class."
            ),
        },
        "streams": {
            **osm,
            "approximate": True,
            "description": (
                "OSM waterway=river|stream|canal centrelines, one reach per way. Channel values are placeholders, "
                "not measurements: width_m from the width tag else river 30 / canal 10 / stream 6 m, bank height "
                f"{BANK_HEIGHT_M} m, bed slope {BED_SLOPE}, bed elevations relative to 0 m at each outlet, "
                f"Manning n {MANNING_N}; downstream_reach_id from ways that start where another ends."
            ),
        },
        "buildings": {
            **osm,
            "approximate": False,
            "description": (
                "OSM building footprints; year_built from start_date, storeys from building:levels, structure "
                "from building:structure/building:material (unknown when untagged), use = the building tag."
            ),
        },
        "facilities": {
            **osm,
            "approximate": False,
            "description": (
                "OSM nodes and areas (representative point) with amenity/emergency/station tags; facilities more "
                f"than {REACH_LIMIT_M:.0f} m from the walk network are dropped."
            ),
        },
    }
    sources["devices"] = {
        **osm,
        "approximate": True,
        "description": (
            "Gauges from man_made=monitoring_station nodes (monitoring:water_level -> level_sensor on the nearest "
            f"waterway within {GAUGE_SNAP_M:.0f} m, monitoring:precipitation -> rain_gauge); alert stages and "
            "sensor heights are placeholders (thresholds_verified false)."
        ),
    }
    for lname in ("slopes", "access_points"):
        sources[lname] = {"source": "none", "licence": "n/a", "description": "Empty: not available from OpenStreetMap."}
    extra: dict[str, Any] = {"generated_by": "twin.importers.osm", "source_file": src.name}
    hydrology = gauge_hydrology(devices[devices["kind"] == "level_sensor"] if len(devices) else devices, streams)
    if hydrology is not None:
        extra["hydrology"] = hydrology
    if data.timestamp:
        extra["osm_replication_timestamp"] = data.timestamp

    say(f"writing {out}")
    with atomic_dir(out, overwrite=overwrite, inputs=[src]) as tmp:
        manifest = write_dataset(tmp, layers, name=dataset_name, sources=sources, extra_manifest=extra)
    return {
        "src": str(src),
        "out": str(out),
        "name": dataset_name,
        "layers": {k: int(v["features"]) for k, v in manifest["layers"].items()},
        "dropped_components": net.dropped_components,
        "dropped_edges": net.dropped_edges,
        "dropped": {k: dict(sorted(v.items())) for k, v in sorted(dropped.items()) if v},
    }
