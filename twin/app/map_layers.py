"""pydeck layers of a city model, in WGS84 (the edge of the system where maps live).

Everything is drawn from the project's own layers: no base-map tiles are needed, so the map
works offline. Colours are RGBA lists; widths and elevations are metres unless a name says px.

The whole city is drawn light (the first view a session gets): roads simplified to the main
ones, buildings as a flat 250 m grid of the share of old buildings. An *area* (a dong, or a
stream with its banks) is drawn in full, with the buildings inside it extruded by storeys.
Geometry is computed in EPSG:5186 (metres) and turned into lon/lat only for the map.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pydeck as pdk
import shapely

from ..city import CityModel
from ..dataset_schema import RIVERSIDE_PATH_KINDS
from . import legend as lg

if TYPE_CHECKING:
    from .names import Names

STREAM_RGB = list(lg.STREAM_RGB)
PATH_RGB = list(lg.PATH_RGB)
ROAD_RGB = list(lg.ROAD_RGB)
OLD_RGB = list(lg.OLD_RGB)
NEW_RGB = list(lg.NEW_RGB)
DEVICE_RGB = {k: list(v) for k, v in lg.DEVICE_RGB.items()}
STOREY_M = 3.0
DECIMALS = 5  # of a degree: about 1 m at 37.7 °N, enough for a city map and a sixth less to send
CITY_LAYERS = ("dongs", "streams", "roads", "paths", "buildings", "facilities", "devices")
GRID_M = 250.0  # building grid cell, m (EPSG:5186)
SIMPLIFY_M = 8.0  # tolerance of the city view's lines and outlines, m
STREAM_BUFFER_M = 300.0  # a stream's area: its reaches and this far on either bank, m
OLD_YEARS = 30  # a building this many years old or more counts as old
TILE_PX = 512  # deck.gl's web-mercator world is 512 px wide at zoom 0
DEVICE_PX = 14  # device symbol size on the whole city, px (an area's view: 22)
AREA_PITCH = 45.0  # degrees, the tilt of an area's view (buildings in 3-D)
MAP_W_PX, MAP_H_PX = 1000, 640  # the size the city map is fitted to, px
# pydeck's "no style given" value: Streamlit then draws no base map at all. ``map_style=None``
# would make Streamlit fetch a Carto base map (a failed request offline, a slower first view).
NO_TILES = "__MAP_STYLE__"


def _wgs(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gdf.to_crs("EPSG:4326")


def _paths(gdf: gpd.GeoDataFrame) -> list[list[list[float]]]:
    return [np.round(np.asarray(g.coords)[:, :2], DECIMALS).tolist() for g in _wgs(gdf).geometry]


def _lines(geom) -> list:
    """The LineStrings of a (Multi)LineString or collection."""
    if geom is None or geom.is_empty:
        return []
    return list(getattr(geom, "geoms", [geom]))


def literal(text: str) -> str:
    """``text`` as pydeck sends it, a plain string: pydeck turns an unquoted string argument into
    a data accessor ("@@=text") and strips the quote character of a quoted one (here a backtick,
    which ``text`` must not contain)."""
    if "`" in text:
        raise ValueError(f"a backtick in a pydeck literal: {text!r}")
    return f"`{text}`"


def path_layer(
    data: list[dict], layer_id: str, *, width: float | str, min_px: float, color="color", **extra
) -> pdk.Layer:
    """A pickable PathLayer of ``data`` rows with ``path`` (lon/lat) and ``label``; widths in metres
    (or, with ``width_units=literal("pixels")`` in ``extra``, px)."""
    return pdk.Layer(
        "PathLayer",
        data,
        get_path="path",
        get_color=color,
        get_width=width,
        width_min_pixels=min_px,
        cap_rounded=True,
        joint_rounded=True,
        id=layer_id,
        **({"pickable": True} | extra),
    )


def points_layer(data: list[dict], layer_id: str, *, radius: float, min_px: int, **extra) -> pdk.Layer:
    """A ScatterplotLayer of ``data`` rows with ``position`` (lon/lat) and ``color``; radius in metres."""
    return pdk.Layer(
        "ScatterplotLayer",
        data,
        get_position="position",
        get_fill_color="color",
        get_radius=radius,
        radius_min_pixels=min_px,
        id=layer_id,
        **({"pickable": True} | extra),
    )


def icon_layer(data: list[dict], layer_id: str, *, size_px: float = DEVICE_PX) -> pdk.Layer:
    """An IconLayer of ``data`` rows with ``position`` (lon/lat), ``icon`` (a key of the symbol
    atlas of :func:`twin.app.legend.icon_atlas`) and ``label``; ``size_px`` in px."""
    atlas, mapping = lg.icon_atlas()
    return pdk.Layer(
        "IconLayer",
        data,
        get_position="position",
        get_icon="icon",
        icon_atlas=literal(atlas),
        icon_mapping=mapping,
        get_size=size_px,
        size_units=literal("pixels"),
        pickable=True,
        id=layer_id,
    )


def text_layer(data: list[dict], layer_id: str, *, size_px: float, color: Sequence[int]) -> pdk.Layer:
    """A TextLayer of ``data`` rows with ``position`` and ``text`` (any language: the character
    set is the set of characters used), outlined in white so it reads over any colour; size px."""
    chars = sorted({ch for d in data for ch in d["text"]} - {"`"})
    return pdk.Layer(
        "TextLayer",
        data,
        get_position="position",
        get_text="text",
        get_size=size_px,
        get_color=list(color),
        character_set=literal("".join(chars)),
        font_family=literal("Noto Sans CJK KR, Noto Sans KR, Malgun Gothic, Apple SD Gothic Neo, sans-serif"),
        font_weight=600,
        font_settings={"sdf": True},
        outline_width=3,
        outline_color=[255, 255, 255, 230],
        get_text_anchor='"middle"',
        get_alignment_baseline='"center"',
        pickable=False,
        id=layer_id,
    )


def lonlat(point) -> list[float]:
    """A WGS84 point as [lon, lat], rounded to DECIMALS."""
    return [round(point.x, DECIMALS), round(point.y, DECIMALS)]


def _to_lonlat(geom5186) -> Any:
    """One EPSG:5186 geometry in WGS84."""
    return gpd.GeoSeries([geom5186], crs="EPSG:5186").to_crs("EPSG:4326").iloc[0]


def _names(city: CityModel, names: Names | None) -> Names:
    if names is not None:
        return names
    from .names import Names

    return Names.of(city)


# --- views -----------------------------------------------------------------------------------
def _merc(lon: float, lat: float) -> tuple[float, float]:
    """Web-mercator world coordinates at zoom 0 (0-512 px, y down) of a lon/lat point."""
    x = (lon + 180.0) / 360.0 * TILE_PX
    s = math.sin(math.radians(lat))
    y = (0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)) * TILE_PX
    return x, y


def _unmerc_lat(y: float) -> float:
    """Latitude (degrees) of a web-mercator world y at zoom 0."""
    n = math.pi - 2 * math.pi * y / TILE_PX
    return math.degrees(math.atan(math.sinh(n)))


def fit_view(
    bounds_lonlat: Sequence[float], width_px: float, height_px: float, pitch: float = 0.0, padding_px: float = 16.0
) -> pdk.ViewState:
    """A web-mercator view in which ``bounds_lonlat`` (min lon, min lat, max lon, max lat, WGS84)
    fits a map of ``width_px`` x ``height_px`` px with ``padding_px`` to spare on every side.

    With ``pitch`` (degrees) > 0 the far side of a tilted map is foreshortened; the zoom is
    lowered by log2(1 / cos(pitch)) so the bounds still fit (an estimate, exact at pitch 0)."""
    minx, miny, maxx, maxy = (float(v) for v in bounds_lonlat)
    x0, y1 = _merc(minx, miny)
    x1, y0 = _merc(maxx, maxy)
    dx, dy = max(x1 - x0, 1e-9), max(y1 - y0, 1e-9)
    w, h = max(width_px - 2 * padding_px, 1.0), max(height_px - 2 * padding_px, 1.0)
    zoom = math.log2(min(w / dx, h / dy))
    if pitch > 0:
        zoom -= math.log2(1.0 / math.cos(math.radians(min(pitch, 80.0))))
    return pdk.ViewState(
        longitude=round((minx + maxx) / 2, 6),
        latitude=round(_unmerc_lat((y0 + y1) / 2), 6),
        zoom=round(zoom, 3),
        pitch=pitch,
        bearing=0,
    )


def city_bounds(city: CityModel) -> tuple[float, float, float, float]:
    """(min lon, min lat, max lon, max lat) of the city boundary, WGS84."""
    minx, miny, maxx, maxy = _wgs(city.layer("boundary")).total_bounds
    return float(minx), float(miny), float(maxx), float(maxy)


def view_state(city: CityModel, width_px: float = MAP_W_PX, height_px: float = MAP_H_PX, pitch: float = 0.0):
    """A view of the whole city, south to north, on a map of ``width_px`` x ``height_px`` px."""
    return fit_view(city_bounds(city), width_px, height_px, pitch=pitch)


# --- areas of interest -------------------------------------------------------------------------
def area_options(city: CityModel) -> list[str]:
    """The areas a map can show: "city", "dong:<dong_code>" per dong, "stream:<name>" per stream."""
    dongs = [f"dong:{c}" for c in city.layer("dongs")["dong_code"].astype(str)]
    seen = dict.fromkeys(city.layer("streams")["name"].astype(str))
    return ["city", *dongs, *(f"stream:{s}" for s in seen)]


def area_label(city: CityModel, area: str, lang: str, names: Names | None = None) -> str:
    """The name of ``area`` in ``lang`` (the whole city's name for "city")."""
    kind, _, key = area.partition(":")
    if kind == "stream":
        return _names(city, names).stream(key, lang)
    if kind == "dong":
        return _names(city, names).entity(key, lang)
    b = city.layer("boundary").iloc[0]
    whole = {"ko": "시 전체", "en": "whole city"}[lang if lang in ("ko", "en") else "en"]
    name = b["name"] if lang == "ko" else b.get("name_en", b["name"])
    return f"{name} {whole}" if lang == "ko" else f"{name}, {whole}"


def area_shape(city: CityModel, area: str):
    """The polygon (EPSG:5186) of ``area``: a dong's outline, or a stream's reaches buffered by
    :data:`STREAM_BUFFER_M`; None for the whole city or an unknown area."""
    kind, _, key = area.partition(":")
    if kind == "dong":
        d = city.layer("dongs")
        sel = d[d["dong_code"].astype(str) == key]
        return shapely.union_all(sel.geometry.to_numpy()) if len(sel) else None
    if kind == "stream":
        s = city.layer("streams")
        sel = s[s["name"] == key]
        return shapely.union_all(sel.geometry.to_numpy()).buffer(STREAM_BUFFER_M) if len(sel) else None
    return None


def area_view(city: CityModel, area: str, width_px: float = MAP_W_PX, height_px: float = MAP_H_PX) -> pdk.ViewState:
    """The view that fits ``area`` (the whole city flat; an area tilted by :data:`AREA_PITCH`)."""
    shape = area_shape(city, area)
    if shape is None:
        return view_state(city, width_px, height_px)
    return fit_view(_to_lonlat(shape).bounds, width_px, height_px, pitch=AREA_PITCH)


# --- layers --------------------------------------------------------------------------------------
def _row_name(row: dict, lang: str) -> str:
    """A row's ``name`` (ko) or ``name_en`` (en), the other one when missing."""
    ko, en = row.get("name"), row.get("name_en")
    ko, en = (ko if isinstance(ko, str) else ""), (en if isinstance(en, str) else "")
    return (ko or en) if lang == "ko" else (en or ko)


def dong_layers(city: CityModel, lang: str, names: Names) -> list[pdk.Layer]:
    """Dong outlines (simplified lines, pickable by name) and their names at a point inside each.

    Outlines are a PathLayer, like the streams and roads: one kind of layer fewer for the browser
    to set up (without a GPU each kind of layer costs a noticeable part of a second)."""
    d = city.layer("dongs")
    simple = d.geometry.simplify(SIMPLIFY_M)
    polys = []
    for g in simple:
        parts = list(getattr(g, "geoms", [g]))
        polys.append(max(parts, key=lambda p: p.area))
    w = gpd.GeoSeries(polys, crs=d.crs).to_crs("EPSG:4326")
    inside = gpd.GeoSeries(d.geometry.representative_point(), crs=d.crs).to_crs("EPSG:4326")
    rows = d.to_dict("records")
    data = [
        {
            "path": np.round(np.asarray(g.exterior.coords), DECIMALS).tolist(),
            "label": names.entity(str(r["dong_code"]), lang),
        }
        for g, r in zip(w, rows, strict=True)
    ]
    outline = path_layer(
        data, "dongs", width=1.2, min_px=1, color=list(lg.DONG_LINE_RGB), width_units=literal("pixels")
    )
    labels = [
        {"position": lonlat(p), "text": names.entity(str(r["dong_code"]), lang)}
        for p, r in zip(inside, rows, strict=True)
    ]
    return [outline, text_layer(labels, "dong_labels", size_px=13, color=(70, 70, 70, 255))]


def stream_label_points(city: CityModel) -> list[tuple[str, Any]]:
    """(stream name in Korean, WGS84 point) per stream: the middle of its longest merged line."""
    s = city.layer("streams")
    out = []
    for name, grp in s.groupby("name", sort=False):
        merged = shapely.line_merge(shapely.union_all(grp.geometry.to_numpy()))
        line = max(_lines(merged), key=lambda x: x.length)
        out.append((str(name), _to_lonlat(line.interpolate(0.5, normalized=True))))
    return out


def stream_layers(city: CityModel, lang: str, names: Names, *, labels: bool = True) -> list[pdk.Layer]:
    """Stream reaches (width from the data, at least 3 px; tooltip: stream name and reach id) and
    one name label per stream."""
    s = city.layer("streams")
    data = [
        {"path": p, "label": f"{names.stream(row['name'], lang)} ({row['reach_id']})", "width": float(row["width_m"])}
        for p, row in zip(_paths(s), s.to_dict("records"), strict=True)
    ]
    layers = [path_layer(data, "streams", width="width", min_px=4, color=STREAM_RGB)]
    if labels:
        pts = [{"position": lonlat(p), "text": names.stream(n, lang)} for n, p in stream_label_points(city)]
        layers.append(text_layer(pts, "stream_labels", size_px=15, color=(20, 80, 160, 255)))
    return layers


def main_road_layer(city: CityModel, *, layer_id: str = "roads", color=ROAD_RGB, named_only: bool = False) -> pdk.Layer:
    """The city's main and named roads (``named_only``: the named ones), merged by name and
    simplified by :data:`SIMPLIFY_M`."""
    r = city.layer("roads")
    keep = r["name"].notna() if named_only else (r["road_class"].isin(("main", "named")) | r["name"].notna())
    r = r[r["kind"].isin(("road", "bridge")) & keep]
    data = []
    for name, grp in r.groupby(r["name"].fillna(""), sort=True):
        merged = shapely.line_merge(shapely.union_all(grp.geometry.to_numpy())).simplify(SIMPLIFY_M)
        lines = _lines(merged)
        if not lines:
            continue
        w = gpd.GeoSeries(lines, crs=r.crs).to_crs("EPSG:4326")
        data += [{"path": np.round(np.asarray(g.coords), DECIMALS).tolist(), "label": str(name)} for g in w]
    return path_layer(data, layer_id, width=4, min_px=1, color=color)


def area_road_layer(city: CityModel, shape, lang: str) -> pdk.Layer:
    """Every road link (road, sidewalk, bridge) that touches ``shape`` (EPSG:5186), in full."""
    r = city.layer("roads")
    r = r[r["kind"].isin(("road", "sidewalk", "bridge")) & r.intersects(shape)]
    data = [
        {"path": p, "label": n if isinstance(n, str) else lg.words(k, lang)}
        for p, n, k in zip(_paths(r), r["name"], r["kind"], strict=True)
    ]
    return path_layer(data, "roads", width=3, min_px=1, color=ROAD_RGB)


def riverside_path_layer(city: CityModel, lang: str, names: Names, shape=None) -> pdk.Layer:
    """Riverside paths, ramps and stairs (tooltip: the access point's name and id)."""
    r = city.layer("roads")
    r = r[r["kind"].isin(RIVERSIDE_PATH_KINDS)]
    if shape is not None:
        r = r[r.intersects(shape)]
    data = [
        {
            "path": p,
            "label": names.with_id(a, lang) if isinstance(a, str) else lg.words(k, lang),
        }
        for p, a, k in zip(_paths(r), r["access_id"], r["kind"], strict=True)
    ]
    return path_layer(data, "riverside_paths", width=3, min_px=1.5, color=PATH_RGB)


def building_grid(city: CityModel, lang: str, cell_m: float = GRID_M) -> list[dict[str, Any]]:
    """Buildings counted in square cells of ``cell_m`` m (EPSG:5186, by centroid): one row per
    non-empty cell with its corners (lon/lat), the count, the share >= :data:`OLD_YEARS` years old
    (0-1), its colour and a tooltip label."""
    b = city.layer("buildings")
    c = b.geometry.centroid
    ix = np.floor(c.x.to_numpy() / cell_m).astype(np.int64)
    iy = np.floor(c.y.to_numpy() / cell_m).astype(np.int64)
    old = (b["year_built"] <= city.reference_year - OLD_YEARS).fillna(False).to_numpy(bool)
    cells: dict[tuple[int, int], list[int]] = {}
    for x, y, o in zip(ix.tolist(), iy.tolist(), old.tolist(), strict=True):
        n = cells.setdefault((x, y), [0, 0])
        n[0] += 1
        n[1] += int(o)
    keys = sorted(cells)
    squares = [shapely.box(x * cell_m, y * cell_m, (x + 1) * cell_m, (y + 1) * cell_m) for x, y in keys]
    w = gpd.GeoSeries(squares, crs=b.crs).to_crs("EPSG:4326")
    text = {"ko": "건물 {n}동, 30년 이상 {p:.0%}", "en": "{n} buildings, {p:.0%} 30+ years old"}
    out = []
    for k, g in zip(keys, w, strict=True):
        count, n_old = cells[k]
        share = n_old / count
        out.append(
            {
                "polygon": np.round(np.asarray(g.exterior.coords)[:4], DECIMALS).tolist(),
                "count": count,
                "share": round(share, 3),
                "color": list(lg.grid_rgba(share)),
                "label": text["ko" if lang == "ko" else "en"].format(n=count, p=share),
            }
        )
    return out


def building_grid_layer(city: CityModel, lang: str) -> pdk.Layer:
    """The buildings of the whole city as a flat grid (see :func:`building_grid`)."""
    return pdk.Layer(
        "PolygonLayer",
        building_grid(city, lang),
        get_polygon="polygon",
        filled=True,
        stroked=False,
        extruded=False,
        get_fill_color="color",
        pickable=True,
        id="building_grid",
    )


def building_layer(city: CityModel, shape, lang: str, names: Names) -> pdk.Layer:
    """The buildings whose footprint touches ``shape`` (EPSG:5186), extruded by storeys
    (:data:`STOREY_M` m each), those >= :data:`OLD_YEARS` years old in orange."""
    b = city.layer("buildings")
    b = b[b.intersects(shape)]
    old = (b["year_built"] <= city.reference_year - OLD_YEARS).fillna(False).to_numpy(bool)
    floors = {"ko": "{y}년, {s}층", "en": "built {y}, {s} storeys"}["ko" if lang == "ko" else "en"]
    data = [
        {
            "polygon": np.round(np.asarray(g.exterior.coords)[:, :2], DECIMALS).tolist(),
            "height": float(st if st == st else 1) * STOREY_M,
            "color": OLD_RGB if o else NEW_RGB,
            "label": f"{names.with_id(str(bid), lang)}: "
            + floors.format(y=int(y) if y == y else "?", s=int(st) if st == st else "?"),
        }
        for g, st, o, bid, y in zip(
            _wgs(b).geometry,
            b["storeys"].astype(float),
            old,
            b["building_id"],
            b["year_built"].astype(float),
            strict=True,
        )
    ]
    return pdk.Layer(
        "PolygonLayer",
        data,
        get_polygon="polygon",
        extruded=True,
        get_elevation="height",
        get_fill_color="color",
        pickable=True,
        id="buildings",
    )


def facility_layer(city: CityModel, lang: str, shape=None) -> pdk.Layer:
    """Shelters (green dots) and schools, stations, the city hall and hospitals (yellow dots), by
    name; drawn by the icon layer the devices use (one kind of layer fewer to set up)."""
    f = city.layer("facilities")
    f = f[f["kind"].isin(["shelter", "school", "city_hall", "railway_station", "lrt_station", "hospital"])]
    if shape is not None:
        f = f[f.intersects(shape)]
    data = [
        {
            "position": lonlat(g),
            "label": _row_name(row, lang) or str(row["facility_id"]),
            "icon": "shelter" if row["kind"] == "shelter" else "facility",
        }
        for g, row in zip(_wgs(f).geometry, f.to_dict("records"), strict=True)
    ]
    return icon_layer(data, "facilities", size_px=9 if shape is None else 13)


def device_layer(city: CityModel, lang: str, names: Names, shape=None) -> pdk.Layer:
    """Every device as its kind's symbol (:mod:`twin.app.legend`), tooltip: name (id) and kind."""
    dv = city.layer("devices")
    if shape is not None:
        dv = dv[dv.intersects(shape)]
    data = [
        {
            "position": lonlat(g),
            "icon": k if k in lg.DEVICE_RGB else "unknown",
            "label": f"{names.with_id(str(i), lang)} · {lg.enum_word('device_kind', k, lang)}",
        }
        for g, i, k in zip(_wgs(dv).geometry, dv["device_id"], dv["kind"].astype(str), strict=True)
    ]
    return icon_layer(data, "devices", size_px=DEVICE_PX if shape is None else DEVICE_PX + 8)


def city_layers(
    city: CityModel, *, lang: str = "ko", show: set[str] | None = None, area: str = "city", names: Names | None = None
) -> list[pdk.Layer]:
    """The map layers of ``city`` (those in ``show``, all by default), bottom to top: dongs,
    buildings, roads, streams, riverside paths, facilities, devices, then the place names.

    ``area`` "city": main roads only and the building grid; an area of :func:`area_options`: the
    roads, paths, facilities and devices in it in full, and its buildings extruded."""
    show = set(CITY_LAYERS) if show is None else show
    nm = _names(city, names)
    shape = area_shape(city, area)
    layers: list[pdk.Layer] = []
    labels: list[pdk.Layer] = []
    if "dongs" in show:
        outline, dong_names = dong_layers(city, lang, nm)
        layers.append(outline)
        labels.append(dong_names)
    if "buildings" in show:
        layers.append(building_grid_layer(city, lang) if shape is None else building_layer(city, shape, lang, nm))
    if "roads" in show:
        layers.append(main_road_layer(city) if shape is None else area_road_layer(city, shape, lang))
    if "streams" in show:
        streams, *stream_names = stream_layers(city, lang, nm)
        layers.append(streams)
        labels += stream_names
    if "paths" in show:
        layers.append(riverside_path_layer(city, lang, nm, shape))
    if "facilities" in show:
        layers.append(facility_layer(city, lang, shape))
    if "devices" in show:
        layers.append(device_layer(city, lang, nm, shape))
    return layers + labels


def device_kinds(city: CityModel, area: str = "city") -> list[str]:
    """The device kinds on the map of ``area``, in the legend's order."""
    dv = city.layer("devices")
    shape = area_shape(city, area)
    if shape is not None:
        dv = dv[dv.intersects(shape)]
    present = set(dv["kind"].astype(str))
    return [k for k in lg.DEVICE_RGB if k in present] + sorted(present - set(lg.DEVICE_RGB))


class CompactDeck(pdk.Deck):
    """A pydeck Deck whose JSON has no indentation: pydeck indents by two spaces per level, which
    puts every coordinate on a line of its own and makes the city map about three times larger. Korean
    text is sent as UTF-8 (3 bytes a syllable), not as ``\\uXXXX`` escapes (6 bytes)."""

    def to_json(self) -> str:
        from pydeck.bindings.json_tools import default_serialize

        return json.dumps(self, sort_keys=True, default=default_serialize, separators=(",", ":"), ensure_ascii=False)


def deck(
    city: CityModel,
    *,
    lang: str = "ko",
    show: set[str] | None = None,
    tiles: str | None = None,
    area: str = "city",
    names: Names | None = None,
    width_px: float = MAP_W_PX,
    height_px: float = MAP_H_PX,
) -> pdk.Deck:
    """The city map of ``area`` fitted to ``width_px`` x ``height_px`` px; ``tiles`` is an
    optional base-map style URL for those online."""
    return CompactDeck(
        layers=city_layers(city, lang=lang, show=show, area=area, names=names),
        initial_view_state=area_view(city, area, width_px, height_px),
        map_style=tiles or NO_TILES,
        map_provider="carto" if tiles else None,  # no base map at all unless asked
        tooltip={"text": "{label}"},
    )
